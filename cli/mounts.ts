// deno-lint-ignore-file no-console
/**
 * `gamma mounts`.
 *
 * @module
 */

import { planMounts, writeMounts } from "../lib/session/provision.ts";
import type { MountsPlan } from "../lib/session/provision.ts";
import { type CommandSpec, LIMA_PERMISSIONS, rejectPositionals, UsageError } from "./_spec.ts";
import { sessionFor } from "./_session.ts";

/** `gamma mounts`. */
export const mountsCommand: CommandSpec = {
  name: "mounts",
  summary: "print (or merge into lima.yaml) the mounts entry that maps this project into the guest",
  usage: [
    "mounts [-i NAME] [--writable] [--guest-path P] [--add HOST:GUEST[:ro]]... [--path-prepend GUEST_DIR]... [--write [--restart]]",
  ],
  description: [
    "Prints the lima.yaml mounts: entry for the project of the current directory: the workspace",
    "parent when DEVSHELL_VM_WORKSPACE_PARENT is set (at the guest workspace, default /workspace)",
    "or when it is the Cargo workspace root, else the nearest ancestor holding .git, Cargo.toml,",
    "deno.json or package.json (else the directory itself), at the same path in the guest.",
    "The entry is read-only unless --writable (Lima's default); --add entries are writable",
    "unless :ro. --path-prepend puts guest directories first on env.PATH (Lima writes env: into",
    "/etc/environment as it is, so the whole PATH is spelled out), e.g. a read-only host",
    "target/release: --add target/release:/host-bin:ro --path-prepend /host-bin.",
    "--write merges the entries into $LIMA_HOME/NAME/lima.yaml keeping its comments and",
    "formatting, saves lima.yaml.bak first, never adds a duplicate (an entry at the same guest",
    "path, also one written as a YAML alias or with a merge key, is reused; a read-only one",
    "becomes writable with --writable), and writes nothing when everything is there. Lima reads",
    "lima.yaml only at start: --write refuses while the instance runs, unless --restart, which",
    "then stops and starts it.",
  ],
  permissions: LIMA_PERMISSIONS,
  options: [
    { name: "writable", help: "make the project's mount writable" },
    {
      name: "guest-path",
      value: "P",
      help: "where the guest sees the project",
      default: "the same path, or the guest workspace for DEVSHELL_VM_WORKSPACE_PARENT",
    },
    {
      name: "add",
      value: "HOST:GUEST[:ro]",
      multiple: true,
      help: "another mount (repeatable; relative HOST is taken from the current directory)",
    },
    {
      name: "path-prepend",
      value: "GUEST_DIR",
      multiple: true,
      help: "put a guest directory first on env.PATH (repeatable)",
    },
    { name: "write", help: "merge the entries into $LIMA_HOME/NAME/lima.yaml (backup: .bak)" },
    { name: "restart", help: "with --write: stop and start a running instance" },
  ],
  examples: [
    "gamma mounts                             # print the entry for this project",
    "gamma mounts --writable --write --restart # add it writable and restart the VM",
    "gamma mounts --add target/release:/host-bin:ro --path-prepend /host-bin --write",
  ],
  exitCodes: [
    "0     printed (and written, or nothing to write)",
    "1     lima.yaml could not be changed (missing instance, running without --restart, conflict)",
    "2     usage error",
  ],
  async run(parsed, context) {
    rejectPositionals(this, parsed);
    const write = parsed.values["write"] === true;
    const restart = parsed.values["restart"] === true;
    if (restart && !write) {
      throw new UsageError("gamma mounts: --restart only goes with --write", this);
    }
    const session = await sessionFor(parsed, context);
    let plan: MountsPlan;
    try {
      plan = await planMounts(session, {
        writable: parsed.values["writable"] === true,
        guestPath: parsed.values["guest-path"] as string | undefined,
        add: parsed.values["add"] as string[] | undefined,
        pathPrepend: parsed.values["path-prepend"] as string[] | undefined,
      });
    } catch (e) {
      if (e instanceof RangeError || e instanceof TypeError) {
        throw new UsageError(`gamma mounts: ${e.message}`, this);
      }
      throw e;
    }
    console.log(`# ${plan.yamlPath}\n${plan.fragment.replace(/\n$/, "")}`);
    const cover = plan.coveredBy;
    if (cover) {
      context.notice(
        `gamma: note: instance ${session.instance} already shows ${plan.target.path} through its mount ${cover.location} -> ${cover.mountPoint} (${
          cover.writable ? "writable" : "read-only"
        })`,
      );
    }
    if (!write) {
      context.notice(
        `gamma: to merge this into ${plan.yamlPath}, run it again with --write (and --restart while the instance runs)`,
      );
      return 0;
    }
    const result = await writeMounts(session, plan, { restart, notice: context.notice });
    if (!result.changed) {
      context.notice(`gamma: ${plan.yamlPath} already has these entries; nothing written`);
      return 0;
    }
    for (const change of result.changes) context.notice(`gamma: ${change}`);
    context.notice(`gamma: wrote ${plan.yamlPath} (the previous version is ${result.backup})`);
    if (!result.restarted && session.isRunning() === false) {
      context.notice(`gamma: Lima reads it when instance ${session.instance} next starts`);
    }
    return 0;
  },
};
