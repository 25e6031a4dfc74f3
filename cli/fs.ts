/**
 * `gamma fs`: list, read, write and remove guest files without a shell.
 *
 * @module
 */

import { GuestFsError } from "../lib/guest_fs.ts";
import { GuestFs } from "../lib/session/guest_fs.ts";
import { bashSingleQuoted } from "../lib/shell_quote.ts";
import { type CommandSpec, LIMA_PERMISSIONS, type Parsed, suggest, UsageError } from "./_spec.ts";
import { printJson } from "./_json.ts";
import { finish, sessionFor } from "./_session.ts";

const VERBS = ["ls", "cat", "put", "rm"] as const;
type Verb = typeof VERBS[number];

/** Which verb each verb-specific option belongs to. */
const OPTION_VERBS: Record<string, Verb> = {
  null: "ls",
  json: "ls",
  parents: "put",
  mode: "put",
  recursive: "rm",
};

async function writeAll(bytes: Uint8Array): Promise<void> {
  let rest = bytes;
  while (rest.length > 0) rest = rest.subarray(await Deno.stdout.write(rest));
}

function verbOf(spec: CommandSpec, parsed: Parsed): { verb: Verb; path: string | undefined } {
  const [word, path, ...extra] = parsed.positionals;
  if (word === undefined) {
    throw new UsageError(`gamma fs: missing action (one of ${VERBS.join(", ")})`, spec);
  }
  if (!(VERBS as readonly string[]).includes(word)) {
    const hint = suggest(word, [...VERBS]);
    throw new UsageError(
      `gamma fs: unknown action ${JSON.stringify(word)}${
        hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ""
      }; use one of ${VERBS.join(", ")}`,
      spec,
    );
  }
  const verb = word as Verb;
  if (extra.length > 0) {
    throw new UsageError(
      `gamma fs ${verb}: expected one GUEST_PATH, got ${parsed.positionals.length - 1}`,
      spec,
    );
  }
  if (path === undefined && verb !== "ls") {
    throw new UsageError(`gamma fs ${verb}: missing GUEST_PATH`, spec);
  }
  for (const [option, owner] of Object.entries(OPTION_VERBS)) {
    if (parsed.values[option] !== undefined && owner !== verb) {
      throw new UsageError(`gamma fs ${verb}: --${option} applies only to gamma fs ${owner}`, spec);
    }
  }
  if (parsed.values["null"] === true && parsed.values["json"] === true) {
    throw new UsageError("gamma fs ls: use either -0 or --json, not both", spec);
  }
  return { verb, path };
}

function modeOf(spec: CommandSpec, parsed: Parsed): number | undefined {
  const mode = parsed.values["mode"];
  if (typeof mode !== "string") return undefined;
  if (!/^[0-7]{1,4}$/.test(mode)) {
    throw new UsageError(
      `gamma fs put: --mode takes octal permission bits such as 644 or 0755, not ${
        JSON.stringify(mode)
      }`,
      spec,
    );
  }
  return Number.parseInt(mode, 8);
}

/** `gamma fs`. */
export const fsCommand: CommandSpec = {
  name: "fs",
  summary: "list, read, write and remove guest files under the guest workspace",
  actions: VERBS,
  usage: [
    "fs ls [-0 | --json] [--root GUEST_DIR] [GUEST_PATH]",
    "fs cat [--root GUEST_DIR] GUEST_PATH",
    "fs put [-p] [--mode MODE] [--root GUEST_DIR] GUEST_PATH < FILE",
    "fs rm [-r] [--root GUEST_DIR] GUEST_PATH",
  ],
  description: [
    "Each action is one limactl shell call running a small POSIX sh script in the guest.",
    "GUEST_PATH is absolute or relative to the root (DEVSHELL_VM_GUEST_WORKSPACE unless --root)",
    "and must stay under it: .. that leaves the root and symbolic links whose target is outside",
    "it are refused. ls prints names one per line (-0: NUL-terminated, exact for any name;",
    '--json: {"schema": 1, "entries": [{name, type, size, mode}]}); cat writes the file\'s bytes to stdout; put',
    "replaces the file with stdin atomically (a temporary file renamed over it); rm removes a",
    "file or link, or with -r a directory tree. Starts the VM if needed.",
  ],
  permissions: LIMA_PERMISSIONS,
  options: [
    { name: "null", short: "0", help: "ls: end each name with NUL instead of a newline" },
    { name: "json", help: "ls: print the entries as JSON" },
    { name: "parents", short: "p", help: "put: create missing parent directories" },
    {
      name: "mode",
      value: "MODE",
      help: "put: octal permission bits of the file",
      default: "the replaced file's, else the guest umask's",
    },
    { name: "recursive", short: "r", help: "rm: remove a directory and its contents" },
    {
      name: "root",
      value: "GUEST_DIR",
      help: "absolute guest directory paths are confined to",
      default: "/workspace",
      env: "DEVSHELL_VM_GUEST_WORKSPACE",
    },
  ],
  examples: [
    "gamma fs ls app/src                  # names under /workspace/app/src",
    "gamma fs ls -0 app | xargs -0 -n1    # exact names, even with newlines",
    "gamma fs cat app/Cargo.toml",
    "gamma fs put -p app/notes/todo.txt < todo.txt",
    "gamma fs rm -r app/target",
  ],
  exitCodes: [
    "0     done",
    "1     the guest path is missing, of the wrong type, not permitted or outside the root;",
    "      or gamma could not reach the guest",
    "2     usage error",
  ],
  async run(parsed, context) {
    const { verb, path } = verbOf(this, parsed);
    const mode = modeOf(this, parsed);
    const root = parsed.values["root"];
    if (typeof root === "string" && !root.startsWith("/")) {
      throw new UsageError(
        `gamma fs: --root must be an absolute guest path, not ${JSON.stringify(root)}`,
        this,
      );
    }
    const session = await sessionFor(parsed, context);
    if (session.backend !== "lima") {
      context.error(
        "gamma fs: needs the Lima backend, but gamma runs on the host (DEVSHELL_VM=off, DEVSHELL_VM_BACKEND=host, or no limactl)",
      );
      return 1;
    }
    const fs = new GuestFs(session, typeof root === "string" ? { root } : {});
    try {
      if (verb === "ls") {
        const entries = await fs.list(path ?? "");
        if (parsed.values["json"] === true) {
          printJson({ entries });
        } else {
          const end = parsed.values["null"] === true ? "\0" : "\n";
          await writeAll(new TextEncoder().encode(entries.map((e) => e.name + end).join("")));
        }
      } else if (verb === "cat") {
        await writeAll(await fs.read(path!));
      } else if (verb === "put") {
        const data = await new Response(Deno.stdin.readable).bytes();
        await fs.write(path!, data, { createParents: parsed.values["parents"] === true, mode });
      } else {
        if (fs.resolve(path!, "remove") === fs.root) {
          context.error(
            `gamma fs rm: refusing to remove the guest root ${JSON.stringify(fs.root)}`,
          );
          return await finish(session, 1, context);
        }
        await fs.remove(path!, { recursive: parsed.values["recursive"] === true });
      }
    } catch (e) {
      if (!(e instanceof GuestFsError)) throw e;
      // put writes a file, never a directory: "not found" means a missing parent directory.
      const hint = verb === "put" && e.kind === "NotFound"
        ? `; to create the missing directories too, run it with --parents: gamma fs put -p ${
          /^[\w./@%+=:,-]+$/.test(path!) ? path : bashSingleQuoted(path!)
        }`
        : "";
      context.error(`gamma fs ${verb}: ${e.message}${hint}`);
      return await finish(session, 1, context);
    }
    return await finish(session, 0, context);
  },
};
