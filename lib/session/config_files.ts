/**
 * Reading the settings files: the project's `.gamma.yaml` and the user's `config.yaml`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { posix } from "node:path";
import { ConfigError, type Env } from "../config.ts";
import { normalizeAbsolutePath } from "../guest_path.ts";
import type { ConfigFile } from "../config.ts";
import {
  parseConfigFile,
  type ParseConfigFileOptions,
  workspaceParentProblem,
} from "../project_config.ts";
import { findProjectFile } from "../project_root.ts";
import { installSettingsReader, userConfigPath } from "./_settings_reader.ts";

export { userConfigPath };

/** Settings files larger than this are refused unread. */
const MAX_BYTES = 64 * 1024;

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The canonical path of `path`, or of its deepest existing ancestor joined with the rest. */
function realPathFar(path: string): string {
  let rest = "";
  for (let dir = path;; dir = posix.dirname(dir)) {
    try {
      const real = Deno.realPathSync(dir);
      return rest ? posix.join(real, rest) : real;
    } catch {
      if (dir === "/") return path;
      rest = rest ? posix.join(posix.basename(dir), rest) : posix.basename(dir);
    }
  }
}

/** Bumped whenever the parsed form changes, so old cache entries are not used. */
const CACHE_FORMAT = 1;

/**
 * The parsed file from the cache when its text and the directories it was checked against are
 * unchanged (a warm `gamma exec` then skips the YAML parser, a few milliseconds of start-up);
 * else parse it and remember the result. A project file's workspace parent is checked again
 * through symlinks every time.
 */
function parseCached(
  text: string,
  options: ParseConfigFileOptions,
  cacheDir: string | undefined,
): ConfigFile {
  if (cacheDir === undefined) return parseConfigFile(text, options);
  const key = createHash("sha256").update(
    JSON.stringify([CACHE_FORMAT, options.path, options.kind, options.home, options.tempDir, text]),
  ).digest("hex");
  // One entry per file: a new text replaces the old entry.
  const name = createHash("sha256").update(`${options.kind}:${options.path}`).digest("hex");
  const cacheFile = posix.join(cacheDir, "settings", `${name.slice(0, 32)}.json`);
  try {
    const cached = JSON.parse(Deno.readTextFileSync(cacheFile)) as {
      key: string;
      file: ConfigFile;
    };
    const parent = cached.file.settings.workspaceParent?.value;
    const stillInside = cached.file.kind !== "project" || parent === undefined ||
      workspaceParentProblem(parent, options) === undefined;
    if (cached.key === key && stillInside) return cached.file;
  } catch {
    // No entry yet, or unreadable: parse.
  }
  const file = parseConfigFile(text, options);
  try {
    Deno.mkdirSync(posix.dirname(cacheFile), { recursive: true });
    Deno.writeTextFileSync(cacheFile, JSON.stringify({ key, file }));
  } catch {
    // The cache only saves a parse.
  }
  return file;
}

function readOne(
  path: string,
  kind: "project" | "user",
  env: Env,
  cacheDir: string | undefined,
): ConfigFile | undefined {
  let text: string;
  try {
    const info = Deno.statSync(path);
    if (!info.isFile) throw new Error("it is not a regular file");
    if (info.size > MAX_BYTES) throw new Error(`it is larger than ${MAX_BYTES} bytes`);
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof Deno.errors.NotCapable) throw e; // the CLI names the missing permission
    const reason = (e as Error).message;
    throw new ConfigError([{
      variable: "",
      value: "",
      file: path,
      line: 1,
      message: `${path}:1: cannot read this settings file: ${reason}`,
    }]);
  }
  const tmp = env["TMPDIR"]?.trim();
  return parseCached(text, {
    path,
    kind,
    home: env["HOME"]?.trim(),
    tempDir: tmp?.startsWith("/") ? tmp : "/tmp",
    realPath: realPathFar,
  }, cacheDir);
}

/**
 * Read and check the settings files that apply to a directory: the project's `.gamma.yaml`
 * (found by {@linkcode findProjectFile}) and the user's file ({@linkcode userConfigPath}), in
 * that order (the order of precedence). Missing files are skipped.
 *
 * @param cwd The working directory (absolute).
 * @param env The environment (`HOME`, `XDG_CONFIG_HOME`, `TMPDIR`).
 * @param options `cacheDir`: where to keep parsed files, keyed by their text (gamma's cache
 * directory); none by default.
 * @returns The parsed files, project first.
 * @throws {ConfigError} For a file that cannot be read or has bad settings.
 *
 * @example Usage
 * ```ts
 * import { loadConfigFiles } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/.gamma.yaml`, "instance: dev\n");
 * const [project] = loadConfigFiles(dir, { TMPDIR: dir });
 * assert.equal(project?.settings.instance?.value, "dev");
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function loadConfigFiles(
  cwd: string,
  env: Env,
  options: { cacheDir?: string | undefined } = {},
): ConfigFile[] {
  const files: ConfigFile[] = [];
  const projectPath = findProjectFile(normalizeAbsolutePath(cwd), exists);
  const project = projectPath === undefined
    ? undefined
    : readOne(projectPath, "project", env, options.cacheDir);
  if (project) files.push(project);
  const userPath = userConfigPath(env);
  const user = userPath === undefined
    ? undefined
    : readOne(userPath, "user", env, options.cacheDir);
  if (user) files.push(user);
  return files;
}

// GammaSession reads settings through this reader; see _settings_reader.ts.
installSettingsReader(loadConfigFiles);
