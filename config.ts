/**
 * How gamma decides its configuration, for programs that want the same answer without a
 * session: {@linkcode resolveConfig} merges `DEVSHELL_VM_*` variables with the settings files
 * (`.gamma.yaml` in the project, `~/.config/gamma/config.yaml`), flag > variable > project >
 * user > default, and records where each setting came from; {@linkcode loadConfigFiles} finds
 * and reads those files; {@linkcode parseConfigFile} checks one file's text;
 * {@linkcode initFileText} is what `gamma init` writes.
 *
 * @example Resolve the configuration from variables
 * ```ts
 * import { describeOrigin, resolveConfig } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * const config = resolveConfig({ DEVSHELL_VM_LIMA_INSTANCE: "dev", HOME: "/home/me" });
 * assert.equal(config.instance, "dev");
 * assert.equal(describeOrigin(config.origins.instance), "variable DEVSHELL_VM_LIMA_INSTANCE");
 * ```
 *
 * @module
 */

export {
  type Backend,
  type ConfigFile,
  type ConfigSources,
  DEFAULT_GUEST_WORKSPACE,
  DEFAULT_INSTANCE,
  describeOrigin,
  type FileSetting,
  type GuestEnv,
  resolveConfig,
  type SettingName,
  type SettingOrigin,
  type WorkspaceMode,
} from "./lib/config.ts";
export {
  FILE_KEYS,
  guestEnvNameProblem,
  type InitFacts,
  initFileText,
  parseConfigFile,
  type ParseConfigFileOptions,
  PROJECT_FILE,
  workspaceParentProblem,
} from "./lib/project_config.ts";
export { loadConfigFiles, userConfigPath } from "./lib/session/config_files.ts";
export { type WorkspaceParent, type WorkspaceParentSource } from "./lib/workspace_parent.ts";
