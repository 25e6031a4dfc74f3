/**
 * Configuration from the environment (every `DEVSHELL_VM_*` variable, parsed one way), flags
 * and settings files, with where each setting came from.
 *
 * @module
 */

import { GammaError } from "./errors.ts";
import { normalizeAbsolutePath } from "./guest_path.ts";
import { validateInstanceName } from "./instance_name.ts";

/**
 * Which backend runs commands: `lima` always uses Lima, `host` runs on the host, `auto` uses
 * Lima when `limactl` is found and otherwise the host, with one notice.
 *
 * @example Usage
 * ```ts
 * import type { Backend } from "@devshell/gamma/config";
 *
 * const backend: Backend = "lima";
 * ```
 */
export type Backend = "auto" | "lima" | "host";

/**
 * How the project reaches the guest: `sync` copies a project that no mount covers into the
 * mounted workspace around each command; `guest` treats the guest tree as the source of truth.
 *
 * @example Usage
 * ```ts
 * import type { WorkspaceMode } from "@devshell/gamma/config";
 *
 * const mode: WorkspaceMode = "sync";
 * ```
 */
export type WorkspaceMode = "sync" | "guest";

/**
 * Environment for guest commands from a settings file: names whose host value is passed
 * through, and fixed values.
 *
 * @example Usage
 * ```ts
 * import type { GuestEnv } from "@devshell/gamma/config";
 *
 * const env: GuestEnv = { pass: ["RUST_LOG"], set: { RUST_BACKTRACE: "1" } };
 * ```
 */
export interface GuestEnv {
  /** Variables passed through from the host environment when set there. */
  readonly pass: readonly string[];
  /** Variables set to fixed values. */
  readonly set: Readonly<Record<string, string>>;
}

/**
 * One value from a settings file and the line it is on (1-based).
 *
 * @example Usage
 * ```ts
 * import type { FileSetting } from "@devshell/gamma/config";
 *
 * const setting: FileSetting<string> = { value: "dev", line: 3 };
 * ```
 */
export interface FileSetting<T> {
  /** The checked value. */
  readonly value: T;
  /** The line of its key. */
  readonly line: number;
}

/**
 * A parsed and checked settings file.
 *
 * @example Usage
 * ```ts
 * import { parseConfigFile } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * const file = parseConfigFile("instance: dev\n", {
 *   path: "/home/me/app/.gamma.yaml",
 *   kind: "project",
 *   home: "/home/me",
 *   tempDir: "/tmp",
 * });
 * assert.deepEqual(file.settings.instance, { value: "dev", line: 1 });
 * ```
 */
export interface ConfigFile {
  /** The file's absolute path. */
  readonly path: string;
  /** `project` (`.gamma.yaml`, untrusted) or `user` (`$XDG_CONFIG_HOME/gamma/config.yaml`). */
  readonly kind: "project" | "user";
  /** The settings it holds. */
  readonly settings: {
    readonly instance?: FileSetting<string>;
    readonly mode?: FileSetting<WorkspaceMode>;
    readonly workspaceParent?: FileSetting<string>;
    readonly guestWorkspace?: FileSetting<string>;
    readonly env?: FileSetting<GuestEnv>;
    readonly syncIgnore?: FileSetting<readonly string[]>;
    readonly tools?: FileSetting<readonly string[]>;
    readonly stopOnExit?: FileSetting<boolean>;
    readonly template?: FileSetting<string>;
  };
}

/**
 * The resolved, frozen configuration. Each field names the variable it comes from.
 *
 * @example Usage
 * ```ts
 * import { resolveConfig } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * const config = resolveConfig({ HOME: "/home/me" });
 * assert.equal(config.instance, "devshell-rust");
 * assert.equal(config.guestWorkspace, "/workspace");
 * ```
 */
export interface GammaConfig {
  /** `DEVSHELL_VM`: master switch; off runs everything on the host. Default on. */
  readonly enabled: boolean;
  /** `DEVSHELL_VM_BACKEND`: `auto` (default), `lima` or `host`. */
  readonly backend: Backend;
  /** `DEVSHELL_VM_LIMA_INSTANCE`: the Lima instance. Default `devshell-rust`. */
  readonly instance: string;
  /**
   * `DEVSHELL_VM_LIMACTL`: the `limactl` to run, read like `gamma --limactl`: an absolute path, a
   * path relative to the working directory (it contains `/`), or a command name looked up on
   * `PATH`; `undefined` searches `PATH` for `limactl`.
   */
  readonly limactl: string | undefined;
  /** `DEVSHELL_VM_WORKSPACE_PARENT`: host directory mounted as the guest workspace. */
  readonly workspaceParent: string | undefined;
  /** `DEVSHELL_VM_WORKSPACE_USE_CARGO_ROOT`: use the Cargo workspace root as the parent. Default on. */
  readonly workspaceUseCargoRoot: boolean;
  /** `DEVSHELL_EXPORT_BASE`: parent of the cache layout (`…/vm-workspace/<instance>`). */
  readonly exportBase: string | undefined;
  /** `DEVSHELL_VM_GUEST_WORKSPACE`: guest path of the workspace parent. Default `/workspace`. */
  readonly guestWorkspace: string;
  /** `DEVSHELL_VM_WORKSPACE_MODE`: `sync` (default) or `guest`. */
  readonly workspaceMode: WorkspaceMode;
  /**
   * `DEVSHELL_VM_SYNC_GITIGNORE`: sync mode leaves out what the project's `.gitignore` files
   * ignore (`.gammaignore` always counts). Default on.
   */
  readonly syncGitignore: boolean;
  /** `DEVSHELL_VM_STOP_ON_EXIT`: stop the VM when a session that started it ends. Default off. */
  readonly stopOnExit: boolean;
  /** `DEVSHELL_VM_AUTO_BUILD_ESSENTIAL`: install a C toolchain in the guest when missing. Default on. */
  readonly autoBuildEssential: boolean;
  /** `DEVSHELL_VM_AUTO_TODO_PATH`: put the project's release dir on the guest `PATH`. Default on. */
  readonly autoTodoPath: boolean;
  /** `DEVSHELL_VM_GUEST_TODO_HINT`: hint when the project binary is missing in the guest. Default on. */
  readonly guestTodoHint: boolean;
  /** `DEVSHELL_VM_AUTO_BUILD_TODO_GUEST`: build the project binary in the guest. Default off. */
  readonly autoBuildTodoGuest: boolean;
  /** `DEVSHELL_VM_GUEST_HOST_DIR`: name of the `~/<name>` link to the project; `undefined` = off. */
  readonly guestHostDir: string | undefined;
  /** `DEVSHELL_VM_LIMA_HINTS`: print diagnostic hints after failures. Default on. */
  readonly limaHints: boolean;
  /**
   * `DEVSHELL_VM_LIMACTL_TIMEOUT`: seconds every one of gamma's own `limactl` calls may take
   * (not `start`, never the user's command); `undefined`: each call's own default.
   */
  readonly limactlTimeout: number | undefined;
  /**
   * `DEVSHELL_VM_SSH`: run guest commands with `ssh -F <instance>/ssh.config` when the instance
   * has one and its ControlMaster socket; off always goes through `limactl shell`. Default on.
   */
  readonly ssh: boolean;
  /** `DEVSHELL_VM_EAGER`: start the VM before it is first needed. Default off. */
  readonly eager: boolean;
  /** `DEVSHELL_VM_INTERNAL_REPL`: accepted for compatibility; gamma has no REPL. Default off. */
  readonly internalRepl: boolean;
  /** `LIMA_HOME`, else `$HOME/.lima`; `undefined` when neither is set. */
  readonly limaHome: string | undefined;
  /** `env` of a settings file: variables for every guest command. Default none. */
  readonly guestEnv: GuestEnv;
  /** `sync.ignore` of a settings file: gitignore patterns added to `.gammaignore`'s. */
  readonly syncIgnore: readonly string[];
  /** `tools` of a settings file: what `gamma doctor` looks for; `undefined`: its defaults. */
  readonly tools: readonly string[] | undefined;
  /** `template` (flag or settings file): the Lima template to create the instance from. */
  readonly template: string | undefined;
  /** The project's `.gamma.yaml` in use, if any. */
  readonly projectFile: string | undefined;
  /** The user's `config.yaml` in use, if any. */
  readonly userFile: string | undefined;
  /** Where each file-settable setting came from. */
  readonly origins: Readonly<Record<SettingName, SettingOrigin>>;
}

/**
 * The settings a settings file, a flag or a variable can give, as {@linkcode GammaConfig}
 * names them.
 *
 * @example Usage
 * ```ts
 * import type { SettingName } from "@devshell/gamma/config";
 *
 * const name: SettingName = "instance";
 * ```
 */
export type SettingName =
  | "instance"
  | "workspaceMode"
  | "workspaceParent"
  | "guestWorkspace"
  | "guestEnv"
  | "syncIgnore"
  | "tools"
  | "stopOnExit"
  | "template";

/**
 * Where a setting came from, highest precedence first: a flag, a variable, a settings file
 * (project, then user), or the built-in default.
 *
 * @example Usage
 * ```ts
 * import type { SettingOrigin } from "@devshell/gamma/config";
 *
 * const origin: SettingOrigin = { kind: "file", path: "/home/me/app/.gamma.yaml", line: 2 };
 * ```
 */
export type SettingOrigin =
  | { readonly kind: "flag"; readonly name: string }
  | { readonly kind: "variable"; readonly name: string }
  | { readonly kind: "file"; readonly path: string; readonly line: number }
  | { readonly kind: "default" };

/**
 * One origin as `gamma config` prints it: `flag --instance`, `variable NAME`, `FILE:LINE` or
 * `default`.
 *
 * @param origin The origin.
 * @returns The text.
 *
 * @example Usage
 * ```ts
 * import { describeOrigin } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * assert.equal(describeOrigin({ kind: "file", path: "/p/.gamma.yaml", line: 3 }), "/p/.gamma.yaml:3");
 * assert.equal(describeOrigin({ kind: "variable", name: "DEVSHELL_VM_LIMA_INSTANCE" }), "variable DEVSHELL_VM_LIMA_INSTANCE");
 * ```
 */
export function describeOrigin(origin: SettingOrigin): string {
  switch (origin.kind) {
    case "flag":
      return `flag ${origin.name}`;
    case "variable":
      return `variable ${origin.name}`;
    case "file":
      return `${origin.path}:${origin.line}`;
    default:
      return "default";
  }
}

/**
 * What {@linkcode resolveConfig} reads besides the environment: command-line flags and the
 * settings files (the project's `.gamma.yaml`, then the user's `config.yaml`).
 *
 * @example Usage
 * ```ts
 * import type { ConfigSources } from "@devshell/gamma/config";
 *
 * const sources: ConfigSources = { flags: { instance: "dev" }, files: [] };
 * ```
 */
export interface ConfigSources {
  /** Flags: `-i NAME`, `--template T`. */
  flags?: { instance?: string | undefined; template?: string | undefined } | undefined;
  /** Parsed settings files, highest precedence first (project, then user). */
  files?: readonly ConfigFile[] | undefined;
}

/**
 * One bad variable found by {@linkcode resolveConfig}.
 *
 * @example Usage
 * ```ts
 * import { ConfigError } from "@devshell/gamma";
 * import { resolveConfig } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * try {
 *   resolveConfig({ DEVSHELL_VM: "sure" });
 * } catch (e) {
 *   assert.ok(e instanceof ConfigError);
 *   assert.equal(e.issues[0]?.variable, "DEVSHELL_VM");
 * }
 * ```
 */
export interface ConfigIssue {
  /** The variable's name, or the settings file's key. */
  readonly variable: string;
  /** Its value as found in the environment or the file. */
  readonly value: string;
  /** The whole sentence: variable (or `file:line: key`), value, what is accepted. */
  readonly message: string;
  /** The settings file, for a problem in one. */
  readonly file?: string;
  /** Its line (1-based). */
  readonly line?: number;
}

/**
 * Thrown by {@linkcode resolveConfig} when one or more variables have values gamma does not
 * accept, and by `parseConfigFile` for a bad settings file. The message has one line per
 * problem; `issues` has them as data.
 *
 * @example Usage
 * ```ts
 * import { ConfigError } from "@devshell/gamma";
 * import { resolveConfig } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => resolveConfig({ DEVSHELL_VM_STOP_ON_EXIT: "maybe" }), ConfigError);
 * ```
 */
export class ConfigError extends GammaError {
  /** Every bad variable, in the order they were checked. */
  readonly issues: readonly ConfigIssue[];

  /**
   * Make the error from the bad variables.
   *
   * @param issues The bad variables; at least one.
   */
  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map((i) => i.message).join("\n"));
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/**
 * The environment as gamma reads it: a plain record of variables.
 *
 * @example Usage
 * ```ts
 * import type { Env } from "@devshell/gamma";
 *
 * const env: Env = { HOME: "/home/me", DEVSHELL_VM: "off" };
 * ```
 */
export type Env = Readonly<Record<string, string | undefined>>;

const TRUE_WORDS = ["1", "true", "yes", "on"];
const FALSE_WORDS = ["0", "false", "no", "off"];
const HOST_DIR_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * Default Lima instance name.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_INSTANCE } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_INSTANCE, "devshell-rust");
 * ```
 */
export const DEFAULT_INSTANCE = "devshell-rust";
/**
 * Default guest path of the workspace parent.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_GUEST_WORKSPACE } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_GUEST_WORKSPACE, "/workspace");
 * ```
 */
export const DEFAULT_GUEST_WORKSPACE = "/workspace";

class Reader {
  readonly issues: ConfigIssue[] = [];
  constructor(readonly env: Env) {}

  /** The trimmed value, `undefined` when unset or blank. */
  raw(variable: string): string | undefined {
    const value = this.env[variable]?.trim();
    return value ? value : undefined;
  }

  fail(variable: string, expected: string): undefined {
    const value = this.env[variable] ?? "";
    this.issues.push({
      variable,
      value,
      message: `Invalid ${variable} ${JSON.stringify(value)}: ${expected}`,
    });
    return undefined;
  }

  bool(variable: string, fallback: boolean): boolean {
    const value = this.raw(variable)?.toLowerCase();
    if (value === undefined) return fallback;
    if (TRUE_WORDS.includes(value)) return true;
    if (FALSE_WORDS.includes(value)) return false;
    this.fail(
      variable,
      `expected one of ${TRUE_WORDS.join(", ")} (on) or ${FALSE_WORDS.join(", ")} (off)`,
    );
    return fallback;
  }

  choice<T extends string>(variable: string, words: readonly T[], fallback: T): T {
    const value = this.raw(variable)?.toLowerCase();
    if (value === undefined) return fallback;
    if ((words as readonly string[]).includes(value)) return value as T;
    this.fail(variable, `expected one of ${words.join(", ")}`);
    return fallback;
  }

  command(variable: string): string | undefined {
    const value = this.raw(variable);
    if (value === undefined) return undefined;
    if (value.includes("\0")) return this.fail(variable, "a path or command name without NUL");
    return value.startsWith("/") ? normalizeAbsolutePath(value) : value;
  }

  seconds(variable: string): number | undefined {
    const value = this.raw(variable);
    if (value === undefined) return undefined;
    const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
    if (!(n > 0)) {
      return this.fail(variable, "expected a number of seconds greater than 0, e.g. 90");
    }
    return n;
  }

  absolutePath(variable: string): string | undefined {
    const value = this.raw(variable);
    if (value === undefined) return undefined;
    if (!value.startsWith("/") || value.includes("\0")) {
      return this.fail(variable, "an absolute path is required (it must start with /)");
    }
    return normalizeAbsolutePath(value);
  }
}

/**
 * Read every `DEVSHELL_VM_*` variable (and `LIMA_HOME`) into one typed, frozen configuration.
 *
 * One rule for every switch: `1`, `true`, `yes`, `on` mean on; `0`, `false`, `no`, `off` mean
 * off; case and surrounding spaces do not matter; unset or blank means the default. This
 * replaces the original devshell's five different rules (where, for example, `on` worked for
 * `DEVSHELL_VM` but not for `DEVSHELL_VM_STOP_ON_EXIT`, and unknown words silently meant off).
 * Paths must be absolute. The guest workspace must be absolute and not `/`. The instance name
 * must pass {@linkcode validateInstanceName}. `DEVSHELL_VM_GUEST_HOST_DIR` takes a name of
 * letters, digits, `_` and `-`, or blank/`0`/`false`/`no`/`off` to turn the link off.
 *
 * Settings that a flag or a settings file can also give are taken, highest first, from the
 * flag, the variable, the project file, the user file, else the default; `origins` says which.
 * The files come parsed (`parseConfigFile`); reading them is the session module's job.
 *
 * @param env The environment, e.g. `Deno.env.toObject()`.
 * @param sources Flags and parsed settings files.
 * @returns The frozen configuration.
 * @throws {ConfigError} Naming every bad variable, its value and what is accepted.
 *
 * @example Usage
 * ```ts
 * import { resolveConfig } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * const config = resolveConfig({ DEVSHELL_VM_STOP_ON_EXIT: " On ", LIMA_HOME: "/lima" });
 * assert.equal(config.stopOnExit, true);
 * assert.equal(config.limaHome, "/lima");
 * ```
 */
export function resolveConfig(env: Env, sources: ConfigSources = {}): GammaConfig {
  const r = new Reader(env);
  const files = sources.files ?? [];
  const origins = {} as Record<SettingName, SettingOrigin>;
  /** The first file that sets `key`, else the default; records the origin. */
  const fromFiles = <K extends keyof ConfigFile["settings"], T>(
    name: SettingName,
    key: K,
    fallback: T,
  ): NonNullable<ConfigFile["settings"][K]> extends FileSetting<infer V> ? V | T : never => {
    for (const file of files) {
      const setting = file.settings[key] as FileSetting<unknown> | undefined;
      if (setting !== undefined) {
        origins[name] = { kind: "file", path: file.path, line: setting.line };
        return setting.value as never;
      }
    }
    origins[name] = { kind: "default" };
    return fallback as never;
  };
  /** Whether `variable` is set (not blank); records it as the origin. */
  const fromVariable = (name: SettingName, variable: string): boolean => {
    if (r.raw(variable) === undefined) return false;
    origins[name] = { kind: "variable", name: variable };
    return true;
  };

  const enabled = r.bool("DEVSHELL_VM", true);
  let backend: Backend = "auto";
  const backendRaw = r.raw("DEVSHELL_VM_BACKEND")?.toLowerCase();
  if (backendRaw === "beta") {
    r.fail(
      "DEVSHELL_VM_BACKEND",
      "expected one of auto, lima, host (the beta sidecar backend is not part of gamma)",
    );
  } else {
    backend = r.choice("DEVSHELL_VM_BACKEND", ["auto", "lima", "host"], "auto");
  }

  let instance: string = DEFAULT_INSTANCE;
  const instanceFlag = sources.flags?.instance;
  if (instanceFlag !== undefined) {
    instance = validateInstanceName(instanceFlag);
    origins.instance = { kind: "flag", name: "--instance" };
  } else if (fromVariable("instance", "DEVSHELL_VM_LIMA_INSTANCE")) {
    try {
      instance = validateInstanceName(r.raw("DEVSHELL_VM_LIMA_INSTANCE")!);
    } catch (e) {
      r.fail("DEVSHELL_VM_LIMA_INSTANCE", (e as Error).message.replace(/^Invalid [^:]*: /, ""));
    }
  } else {
    instance = fromFiles("instance", "instance", DEFAULT_INSTANCE);
  }

  let guestWorkspace: string = DEFAULT_GUEST_WORKSPACE;
  if (fromVariable("guestWorkspace", "DEVSHELL_VM_GUEST_WORKSPACE")) {
    const guestRaw = r.raw("DEVSHELL_VM_GUEST_WORKSPACE")!;
    const normal = guestRaw.startsWith("/") && !guestRaw.includes("\0")
      ? normalizeAbsolutePath(guestRaw)
      : undefined;
    if (normal === undefined || normal === "/") {
      r.fail(
        "DEVSHELL_VM_GUEST_WORKSPACE",
        'the guest workspace must be an absolute guest directory other than "/" (default /workspace)',
      );
    } else {
      guestWorkspace = normal;
    }
  } else {
    guestWorkspace = fromFiles("guestWorkspace", "guestWorkspace", DEFAULT_GUEST_WORKSPACE);
  }

  let guestHostDir: string | undefined = "host_dir";
  const hostDirRaw = env["DEVSHELL_VM_GUEST_HOST_DIR"];
  if (hostDirRaw !== undefined) {
    const value = hostDirRaw.trim();
    if (value === "" || FALSE_WORDS.includes(value.toLowerCase())) {
      guestHostDir = undefined;
    } else if (HOST_DIR_NAME.test(value)) {
      guestHostDir = value;
    } else {
      r.fail(
        "DEVSHELL_VM_GUEST_HOST_DIR",
        'expected a link name of letters, digits, "_" and "-" (default host_dir), or 0, false, no, off or blank to turn the link off',
      );
    }
  }

  const limaHomeRaw = r.absolutePath("LIMA_HOME");
  const home = env["HOME"]?.trim();
  const limaHome = limaHomeRaw ??
    (r.raw("LIMA_HOME") === undefined && home?.startsWith("/")
      ? normalizeAbsolutePath(`${home}/.lima`)
      : undefined);

  const workspaceParent = fromVariable("workspaceParent", "DEVSHELL_VM_WORKSPACE_PARENT")
    ? r.absolutePath("DEVSHELL_VM_WORKSPACE_PARENT")
    : fromFiles("workspaceParent", "workspaceParent", undefined);
  const workspaceMode = fromVariable("workspaceMode", "DEVSHELL_VM_WORKSPACE_MODE")
    ? r.choice<WorkspaceMode>("DEVSHELL_VM_WORKSPACE_MODE", ["sync", "guest"], "sync")
    : fromFiles("workspaceMode", "mode", "sync" as WorkspaceMode);
  const stopOnExit = fromVariable("stopOnExit", "DEVSHELL_VM_STOP_ON_EXIT")
    ? r.bool("DEVSHELL_VM_STOP_ON_EXIT", false)
    : fromFiles("stopOnExit", "stopOnExit", false);
  let template: string | undefined;
  const templateFlag = sources.flags?.template;
  if (templateFlag !== undefined) {
    template = templateFlag;
    origins.template = { kind: "flag", name: "--template" };
  } else {
    template = fromFiles("template", "template", undefined);
  }

  const config: GammaConfig = {
    enabled,
    backend,
    instance,
    limactl: r.command("DEVSHELL_VM_LIMACTL"),
    workspaceParent,
    workspaceUseCargoRoot: r.bool("DEVSHELL_VM_WORKSPACE_USE_CARGO_ROOT", true),
    exportBase: r.absolutePath("DEVSHELL_EXPORT_BASE"),
    guestWorkspace,
    workspaceMode,
    syncGitignore: r.bool("DEVSHELL_VM_SYNC_GITIGNORE", true),
    stopOnExit,
    autoBuildEssential: r.bool("DEVSHELL_VM_AUTO_BUILD_ESSENTIAL", true),
    autoTodoPath: r.bool("DEVSHELL_VM_AUTO_TODO_PATH", true),
    guestTodoHint: r.bool("DEVSHELL_VM_GUEST_TODO_HINT", true),
    autoBuildTodoGuest: r.bool("DEVSHELL_VM_AUTO_BUILD_TODO_GUEST", false),
    guestHostDir,
    limaHints: r.bool("DEVSHELL_VM_LIMA_HINTS", true),
    limactlTimeout: r.seconds("DEVSHELL_VM_LIMACTL_TIMEOUT"),
    ssh: r.bool("DEVSHELL_VM_SSH", true),
    eager: r.bool("DEVSHELL_VM_EAGER", false),
    internalRepl: r.bool("DEVSHELL_VM_INTERNAL_REPL", false),
    limaHome,
    guestEnv: fromFiles("guestEnv", "env", { pass: [], set: {} } as GuestEnv),
    syncIgnore: fromFiles("syncIgnore", "syncIgnore", [] as readonly string[]),
    tools: fromFiles("tools", "tools", undefined),
    template,
    projectFile: files.find((f) => f.kind === "project")?.path,
    userFile: files.find((f) => f.kind === "user")?.path,
    origins: Object.freeze(origins),
  };
  if (r.issues.length > 0) throw new ConfigError(r.issues);
  return Object.freeze(config);
}
