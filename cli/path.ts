// deno-lint-ignore-file no-console
/**
 * `gamma path`.
 *
 * @module
 */

import { type CommandSpec, LIMA_PERMISSIONS, UsageError } from "./_spec.ts";
import { printJson } from "./_json.ts";
import { sessionFor } from "./_session.ts";

/** `gamma path`. */
export const pathCommand: CommandSpec = {
  name: "path",
  summary:
    "print the guest path of a host path (or, with --reverse, the host path of a guest path)",
  usage: ["path [-i NAME] [--reverse] [--json] [PATH]"],
  description: [
    "Maps through the instance's mounts, then the workspace parent -> guest workspace. PATH",
    "defaults to the current directory; host paths are made absolute and symlinks resolved.",
    "Does not start the VM.",
  ],
  permissions: LIMA_PERMISSIONS,
  options: [
    { name: "reverse", short: "r", help: "map a guest path to its host path" },
    {
      name: "json",
      help:
        'print {"schema": 1, "hostPath": …, "guestPath": …} (null when unmapped; exit code as without)',
    },
  ],
  examples: [
    "gamma path                 # where am I in the guest?",
    "gamma path --reverse /workspace/app",
  ],
  exitCodes: ["0     printed", "1     no mount covers the path", "2     usage error"],
  async run(parsed, context) {
    if (parsed.positionals.length > 1) {
      throw new UsageError(
        `gamma path: expected at most one PATH, got ${parsed.positionals.length}`,
        this,
      );
    }
    const [path] = parsed.positionals;
    const reverse = parsed.values["reverse"] === true;
    if (reverse && (path === undefined || !path.startsWith("/"))) {
      throw new UsageError("gamma path --reverse: give an absolute guest PATH", this);
    }
    const session = await sessionFor(parsed, context);
    if (!reverse && session.backend === "host") {
      context.error(
        "gamma: the host backend has no guest paths (DEVSHELL_VM=off, DEVSHELL_VM_BACKEND=host, or no limactl)",
      );
      return 1;
    }
    const hostPath = reverse
      ? await session.hostPathOf(path!)
      : session.canonicalHostPath(path ?? ".");
    const guestPath = reverse ? path! : await session.guestPathOf(hostPath!);
    const mapped = reverse ? hostPath : guestPath;
    if (parsed.values["json"] === true) {
      printJson({ hostPath, guestPath });
    } else if (mapped !== undefined) {
      console.log(mapped);
    }
    if (mapped === undefined) {
      context.error(
        `gamma: ${
          reverse ? path : hostPath
        } is not under any mount of instance ${session.instance}`,
      );
      return 1;
    }
    return 0;
  },
};
