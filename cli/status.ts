// deno-lint-ignore-file no-console
/**
 * `gamma status`.
 *
 * @module
 */

import { type CommandSpec, LIMA_PERMISSIONS, rejectPositionals } from "./_spec.ts";
import { printJson } from "./_json.ts";
import { sessionFor } from "./_session.ts";

/** `gamma status`. */
export const statusCommand: CommandSpec = {
  name: "status",
  summary: "show the instance, its state, its mounts and where the current directory maps",
  usage: ["status [-i NAME] [--json]"],
  description: [
    "Asks limactl for the instance's state and configuration; does not start the VM.",
    "--json prints one object with the fields schema (1), backend, instance, limaStatus,",
    "limactl, limactlVersion, limaHome, mounts, workspaceParent, workspaceParentSource,",
    "guestWorkspace, mode, cwd, guestCwd (null when unknown or unmapped), guestCwdSource (the",
    "mount it comes through, the Mode S copy, or why there is none) and projectFile (the",
    ".gamma.yaml in use, or null).",
  ],
  permissions: LIMA_PERMISSIONS,
  options: [{ name: "json", help: "print JSON" }],
  examples: ["gamma status", "gamma status --json | jq .guestCwd"],
  exitCodes: ["0     printed", "1     limactl failed", "2     usage error"],
  async run(parsed, context) {
    rejectPositionals(this, parsed);
    const s = await (await sessionFor(parsed, context)).status();
    if (parsed.values["json"] === true) {
      printJson({ ...s });
      return 0;
    }
    const rows: [string, string][] = [
      ["instance", s.instance],
      ["backend", s.backend],
      ["lima status", s.backend === "host" ? "(host backend)" : s.limaStatus],
      [
        "limactl",
        s.limactl
          ? `${s.limactl}${s.limactlVersion ? ` (${s.limactlVersion})` : ""}`
          : "(not found)",
      ],
      ["LIMA_HOME", s.limaHome ?? "(unknown: set HOME or LIMA_HOME)"],
      ...(s.mounts.length
        ? s.mounts.map((m, i): [string, string] => [
          i === 0 ? "mounts" : "",
          `${m.location} -> ${m.mountPoint} (${m.writable ? "writable" : "read-only"})`,
        ])
        : [["mounts", "(none)"] as [string, string]]),
      ["workspace parent", `${s.workspaceParent} (${s.workspaceParentSource})`],
      ["guest workspace", s.guestWorkspace],
      ["mode", s.mode],
      ["cwd", s.cwd],
      ["guest cwd", s.guestCwd ?? (s.backend === "host" ? "(host backend)" : "(not mapped)")],
      ["guest cwd from", s.guestCwdSource],
      ["project file", s.projectFile ?? "(none)"],
    ];
    for (const [k, v] of rows) console.log(`${k ? `${k}:` : ""}`.padEnd(18) + v);
    return 0;
  },
};
