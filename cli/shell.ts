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
  usage: ["shell [-i NAME] [--no-live] [--verbose]"],
  description: [
    "Starts the VM if needed and opens bash -l (the login shell when the guest has no bash) at the",
    "guest path of the host working directory. ~/host_dir in the guest points at the project",
    "(DEVSHELL_VM_GUEST_HOST_DIR). gamma waits for the shell and exits with its code; it passes",
    "SIGTERM and SIGHUP on. A pseudo-terminal exists only when stdout is a terminal (Lima's rule).",
    "In sync mode (a project no mount shows) the copy is kept live both ways while the shell runs:",
    "an edit on either side reaches the other within about a second; conflicts are told as they",
    "happen, both versions kept. When the shell ends, a last sync leaves both sides equal.",
  ],
  failureCode: 125,
  permissions: LIMA_PERMISSIONS,
  options: [
    { name: "no-live", help: "sync mode: push before and pull after only, no live sync" },
    { name: "verbose", help: "sync mode: one line per live sync batch that changed something" },
  ],
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
    const code = await session.shell({
      live: parsed.values["no-live"] !== true,
      verbose: parsed.values["verbose"] === true,
    });
    return await finish(session, code, context);
  },
};
