// deno-lint-ignore-file no-console
/**
 * `gamma config`: the effective settings and where each came from.
 *
 * @module
 */

import { describeOrigin, type SettingName } from "../lib/config.ts";
import { printJson } from "./_json.ts";
import { type CommandSpec, LIMA_PERMISSIONS, rejectPositionals } from "./_spec.ts";
import { sessionFor } from "./_session.ts";

/** The rows of `gamma config`: the settings-file key and the config field behind it. */
const ROWS: [string, SettingName][] = [
  ["instance", "instance"],
  ["mode", "workspaceMode"],
  ["workspaceParent", "workspaceParent"],
  ["guestWorkspace", "guestWorkspace"],
  ["env", "guestEnv"],
  ["sync.ignore", "syncIgnore"],
  ["tools", "tools"],
  ["stopOnExit", "stopOnExit"],
  ["template", "template"],
];

/** `gamma config`. */
export const configCommand: CommandSpec = {
  name: "config",
  summary:
    "show the effective settings and where each came from (flag, variable, file:line, default)",
  usage: ["config [-i NAME] [--json]"],
  description: [
    "Each setting comes from the first of: a flag (-i), its DEVSHELL_VM_* variable, the project's",
    ".gamma.yaml (nearest from here up to the repository root), the user's",
    "$XDG_CONFIG_HOME/gamma/config.yaml (default ~/.config/gamma/config.yaml), the default.",
    "A bad setting is an error naming the file, the line and what is allowed (exit 2).",
    "--json prints one object: schema (1), projectFile, userFile and settings, where each",
    "setting is {value, origin} and origin is {kind: flag|variable|file|default, name, path, line}.",
    "Runs no limactl, except to show the automatic workspace parent (which reads only files).",
  ],
  permissions: LIMA_PERMISSIONS,
  options: [{ name: "json", help: "print JSON" }],
  examples: ["gamma config", "gamma config --json | jq .settings.instance"],
  exitCodes: ["0     printed", "2     usage error or a bad setting"],
  async run(parsed, context) {
    rejectPositionals(this, parsed);
    const session = await sessionFor(parsed, context);
    const c = session.config;
    const values: Record<SettingName, unknown> = {
      instance: c.instance,
      // The file's words: the variable's `guest` is `mounts` there.
      workspaceMode: c.workspaceMode === "guest" ? "mounts" : c.workspaceMode,
      workspaceParent: c.workspaceParent,
      guestWorkspace: c.guestWorkspace,
      guestEnv: c.guestEnv,
      syncIgnore: c.syncIgnore,
      tools: c.tools,
      stopOnExit: c.stopOnExit,
      template: c.template,
    };
    if (parsed.values["json"] === true) {
      const settings = Object.fromEntries(ROWS.map(([key, field]) => [key, {
        value: values[field] ?? null,
        origin: c.origins[field],
      }]));
      printJson({ projectFile: c.projectFile, userFile: c.userFile, settings });
      return 0;
    }
    const text = (field: SettingName): string => {
      const value = values[field];
      if (field === "workspaceParent" && value === undefined) {
        const auto = session.workspaceParent();
        return `${auto.path} (automatic: ${auto.source})`;
      }
      if (field === "tools" && value === undefined) return "(doctor's defaults)";
      if (field === "guestEnv") {
        const env = c.guestEnv;
        const parts = [
          ...env.pass.map((n) => `${n} (from the host)`),
          ...Object.entries(env.set).map(([k, v]) => `${k}=${v}`),
        ];
        return parts.length ? parts.join(", ") : "(none)";
      }
      if (Array.isArray(value)) return value.length ? value.join(", ") : "(none)";
      if (value === undefined) return "(none)";
      return String(value);
    };
    console.log(`project file:    ${c.projectFile ?? "(none)"}`);
    console.log(`user file:       ${c.userFile ?? "(none)"}`);
    for (const [key, field] of ROWS) {
      console.log(`${key.padEnd(17)}${text(field)}  (${describeOrigin(c.origins[field])})`);
    }
    return 0;
  },
};
