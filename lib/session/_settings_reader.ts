/**
 * Where {@linkcode GammaSession} finds its settings-file reader. The reader (config_files.ts)
 * needs the YAML parser and node:crypto, together several tens of milliseconds of start-up, so
 * session.ts does not import it: config_files.ts installs itself here when it is loaded (mod.ts
 * loads it; the CLI loads it only when a settings file exists).
 *
 * @module
 */

import { posix } from "node:path";
import type { ConfigFile, Env } from "../config.ts";
import { normalizeAbsolutePath } from "../guest_path.ts";

/** Reads the settings files that apply to `cwd`. */
export type SettingsReader = (
  cwd: string,
  env: Env,
  options: { cacheDir?: string | undefined },
) => ConfigFile[];

let installed: SettingsReader | undefined;

/**
 * Install the reader (called by config_files.ts when it loads).
 *
 * @param reader The reader.
 */
export function installSettingsReader(reader: SettingsReader): void {
  installed = reader;
}

/**
 * The installed reader.
 *
 * @returns The reader, or `undefined` when config_files.ts was not loaded.
 */
export function settingsReader(): SettingsReader | undefined {
  return installed;
}

/**
 * The user's settings file: `$XDG_CONFIG_HOME/gamma/config.yaml`, else
 * `~/.config/gamma/config.yaml`; `undefined` when neither variable is an absolute path.
 *
 * @param env The environment.
 * @returns The path (it may not exist).
 *
 * @example Usage
 * ```ts
 * import { userConfigPath } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * assert.equal(userConfigPath({ HOME: "/home/me" }), "/home/me/.config/gamma/config.yaml");
 * assert.equal(userConfigPath({ XDG_CONFIG_HOME: "/cfg", HOME: "/home/me" }), "/cfg/gamma/config.yaml");
 * ```
 */
export function userConfigPath(env: Env): string | undefined {
  const xdg = env["XDG_CONFIG_HOME"]?.trim();
  if (xdg?.startsWith("/")) return posix.join(normalizeAbsolutePath(xdg), "gamma", "config.yaml");
  const home = env["HOME"]?.trim();
  if (home?.startsWith("/")) {
    return posix.join(normalizeAbsolutePath(home), ".config", "gamma", "config.yaml");
  }
  return undefined;
}
