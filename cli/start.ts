/**
 * `gamma start` and `gamma stop`.
 *
 * @module
 */

import { type CommandSpec, LIMA_PERMISSIONS, rejectPositionals } from "./_spec.ts";
import { sessionFor } from "./_session.ts";

/** `gamma start`. */
export const startCommand: CommandSpec = {
  name: "start",
  summary: "start the Lima instance (creating it from Lima's default template if it is missing)",
  usage: ["start [-i NAME]"],
  description: [
    "Runs limactl start --tty=false NAME unless the instance is already running. Lima's progress",
    "goes to stderr. A start that ends degraded (the VM is up, file sharing may not work) warns.",
  ],
  permissions: LIMA_PERMISSIONS,
  options: [],
  examples: ["gamma start", "gamma start -i other-vm"],
  exitCodes: [
    "0     running",
    "1     the start failed (the reason and hints are printed)",
    "2     usage error",
  ],
  async run(parsed, context) {
    rejectPositionals(this, parsed, "name the instance with -i NAME");
    const session = await sessionFor(parsed, context);
    await session.start();
    return 0;
  },
};

/** `gamma stop`. */
export const stopCommand: CommandSpec = {
  name: "stop",
  summary: "stop the Lima instance",
  usage: ["stop [-i NAME]"],
  description: [
    "Runs limactl stop NAME. Stopping an instance that is not running is not an error.",
  ],
  permissions: LIMA_PERMISSIONS,
  options: [],
  examples: ["gamma stop"],
  exitCodes: [
    "0     stopped, or was not running",
    "1     limactl stop failed",
    "2     usage error",
  ],
  async run(parsed, context) {
    rejectPositionals(this, parsed, "name the instance with -i NAME");
    const session = await sessionFor(parsed, context);
    if (session.backend === "lima" && !session.isRunning()) {
      context.notice(`gamma: instance ${session.instance} is not running`);
      return 0;
    }
    await session.stop();
    return 0;
  },
};
