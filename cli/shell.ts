/**
 * `gamma shell`: an interactive login shell in the guest.
 *
 * @module
 */

import { type CommandSpec, LIMA_PERMISSIONS, rejectPositionals } from "./_spec.ts";
import { finish, sessionFor } from "./_session.ts";

/** `gamma shell`. */
export const shellCommand: CommandSpec = {
  name: "shell",
  summary:
    "open an interactive login shell in the guest at the guest path of the current directory",
  usage: ["shell [-i NAME]"],
  description: [
    "Starts the VM if needed and opens bash -l (the login shell when the guest has no bash) at the",
    "guest path of the host working directory. ~/host_dir in the guest points at the project",
    "(DEVSHELL_VM_GUEST_HOST_DIR). gamma waits for the shell and exits with its code; it passes",
    "SIGTERM and SIGHUP on. A pseudo-terminal exists only when stdout is a terminal (Lima's rule).",
  ],
  failureCode: 125,
  permissions: LIMA_PERMISSIONS,
  options: [],
  examples: [
    "gamma shell                 # a shell in the guest, in this project",
    "gamma shell -i other-vm     # the same in another instance",
  ],
  exitCodes: [
    "N     the shell's exit code",
    "125   gamma failed before the shell started",
    "255   ssh could not reach the instance",
    "2     usage error",
  ],
  async run(parsed, context) {
    rejectPositionals(this, parsed, "to run a command use gamma exec -- CMD");
    const session = await sessionFor(parsed, context);
    return await finish(session, await session.shell(), context);
  },
};
