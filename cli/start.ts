/**
 * `gamma start` and `gamma stop`.
 *
 * @module
 */

import { type CommandSpec, LIMA_PERMISSIONS, rejectPositionals, UsageError } from "./_spec.ts";
import { sessionFor } from "./_session.ts";

/** `gamma start`. */
export const startCommand: CommandSpec = {
  name: "start",
  summary: "start the Lima instance (--create makes it first when it does not exist)",
  usage: ["start [-i NAME] [--create [--template T]]"],
  description: [
    "Runs limactl start --tty=false NAME unless the instance is already running. Lima's progress",
    "goes to stderr. A start that ends degraded (the VM is up, file sharing may not work) warns.",
    "gamma never creates an instance unless asked: with --create, a missing instance is made by",
    "limactl create --tty=false --name=NAME T (T defaults to template:default) and then started.",
  ],
  permissions: LIMA_PERMISSIONS,
  options: [
    { name: "create", help: "create the instance first when it does not exist" },
    {
      name: "template",
      value: "T",
      help: "Lima template for --create: template:NAME, a bare NAME, a .yaml file or a URL",
      default: "template:default",
    },
  ],
  examples: [
    "gamma start",
    "gamma start -i other-vm",
    "gamma start -i rust-dev --create --template docker   # limactl create, then start",
  ],
  exitCodes: [
    "0     running",
    "1     the start failed",
    "125   the instance does not exist (and no --create)",
    "2     usage error",
  ],
  async run(parsed, context) {
    rejectPositionals(this, parsed, "name the instance with -i NAME");
    const template = parsed.values["template"] as string | undefined;
    const create = parsed.values["create"] === true;
    if (template !== undefined && !create) {
      throw new UsageError("gamma start: --template needs --create", this);
    }
    const session = await sessionFor(parsed, context);
    if (create) await session.create(template);
    else await session.start();
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
