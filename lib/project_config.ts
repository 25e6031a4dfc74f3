/**
 * Settings files: the project's `.gamma.yaml` and the user's `config.yaml`. Parsing and checking
 * only; the files are read by the session module.
 *
 * A project file arrives with a `git clone`, so it is untrusted: it can choose among the user's
 * own instances and settings, but never a program to run, a directory outside the user's home or
 * the system temp dir to write into, or a variable that changes which program runs.
 *
 * @module
 */

import { closest, distance } from "fastest-levenshtein";
import { posix } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import {
  ConfigError,
  type ConfigFile,
  type ConfigIssue,
  type FileSetting,
  type GuestEnv,
} from "./config.ts";
import { coveringMount, type Mount, normalizeAbsolutePath } from "./guest_path.ts";
import { validateInstanceName } from "./instance_name.ts";

/**
 * The name of the project settings file, looked for from the working directory up to the
 * repository root.
 *
 * @example Usage
 * ```ts
 * import { PROJECT_FILE } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * assert.equal(PROJECT_FILE, ".gamma.yaml");
 * ```
 */
export const PROJECT_FILE = ".gamma.yaml";

/**
 * The top-level keys a settings file may hold, in the order `gamma config` lists them.
 *
 * @example Usage
 * ```ts
 * import { FILE_KEYS } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * assert.ok(FILE_KEYS.includes("instance"));
 * ```
 */
export const FILE_KEYS: readonly string[] = [
  "instance",
  "mode",
  "workspaceParent",
  "guestWorkspace",
  "env",
  "sync",
  "tools",
  "stopOnExit",
  "template",
];

/**
 * Options of {@linkcode parseConfigFile}: which file it is and the directories a project file
 * may name.
 *
 * @example Usage
 * ```ts
 * import type { ParseConfigFileOptions } from "@devshell/gamma/config";
 *
 * const options: ParseConfigFileOptions = {
 *   path: "/home/me/app/.gamma.yaml",
 *   kind: "project",
 *   home: "/home/me",
 *   tempDir: "/tmp",
 * };
 * ```
 */
export interface ParseConfigFileOptions {
  /** The file's absolute path (for messages, and relative `workspaceParent` values). */
  path: string;
  /** `project` or `user`. */
  kind: "project" | "user";
  /** The user's home directory (`~` in paths). */
  home: string | undefined;
  /** The system temp dir (`TMPDIR`, else `/tmp`). */
  tempDir: string;
  /**
   * The canonical form of a path (symlinks resolved as far as it exists); used to check that a
   * project file's `workspaceParent` stays in the home or temp dir through symlinks too.
   */
  realPath?: ((path: string) => string) | undefined;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TOOL = /^[\w.+/][\w.+/-]*$/;
const TEMPLATE = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;
const TRUE_WORDS = ["1", "true", "yes", "on"];
const FALSE_WORDS = ["0", "false", "no", "off"];

/** Variables no settings file may set or pass: they pick programs or inject code. */
const REFUSED_NAMES = new Set([
  "PATH",
  "HOME",
  "SHELL",
  "USER",
  "LOGNAME",
  "PWD",
  "OLDPWD",
  "TMPDIR",
  "ENV",
  "BASH_ENV",
  "IFS",
  "CDPATH",
  "PS4",
  "PROMPT_COMMAND",
  "SHELLOPTS",
  "BASHOPTS",
  "GLOBIGNORE",
  "ZDOTDIR",
  "NODE_OPTIONS",
  "PYTHONSTARTUP",
  "PYTHONPATH",
  "PYTHONHOME",
  "PERL5OPT",
  "PERL5LIB",
  "RUBYOPT",
  "RUBYLIB",
  "JAVA_TOOL_OPTIONS",
  "RUSTC_WRAPPER",
  "GIT_SSH_COMMAND",
  "GIT_EXEC_PATH",
  "EDITOR",
  "VISUAL",
  "PAGER",
]);
const REFUSED_PREFIXES = ["LD_", "DYLD_", "BASH_FUNC_", "DEVSHELL_", "LIMA_", "GAMMA_", "SSH_"];

/**
 * Why a settings file may not name this environment variable, or `undefined` when it may. The
 * rule: a name of letters, digits and `_` not starting with a digit; not `PATH`, `HOME`, `SHELL`
 * and the other variables that say where programs and home are; not a variable a shell or an
 * interpreter reads to run code (`ENV`, `BASH_ENV`, `IFS`, `PROMPT_COMMAND`, `NODE_OPTIONS`,
 * `PYTHONSTARTUP`, …) or names a program (`EDITOR`, `GIT_SSH_COMMAND`, `RUSTC_WRAPPER`, …); and
 * nothing starting with `LD_`, `DYLD_` (the dynamic loader), `BASH_FUNC_` (exported functions),
 * `DEVSHELL_`, `LIMA_`, `GAMMA_` (gamma's and Lima's own) or `SSH_`.
 *
 * @param name The variable's name.
 * @returns The reason, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { guestEnvNameProblem } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * assert.equal(guestEnvNameProblem("RUST_LOG"), undefined);
 * assert.match(guestEnvNameProblem("LD_PRELOAD")!, /dynamic loader/);
 * ```
 */
export function guestEnvNameProblem(name: string): string | undefined {
  if (!ENV_NAME.test(name)) {
    return 'a variable name is letters, digits and "_", not starting with a digit';
  }
  if (REFUSED_NAMES.has(name)) {
    return `${name} decides which programs run or where the shell starts, so a settings file may not set or pass it`;
  }
  const prefix = REFUSED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix === "LD_" || prefix === "DYLD_") {
    return `${prefix}* variables steer the dynamic loader, so a settings file may not set or pass them`;
  }
  if (prefix !== undefined) {
    return `${prefix}* variables belong to ${
      prefix === "BASH_FUNC_"
        ? "bash's exported functions"
        : prefix === "SSH_"
        ? "ssh"
        : "gamma and Lima"
    }, so a settings file may not set or pass them`;
  }
  return undefined;
}

function under(path: string, dir: string): boolean {
  return path !== dir && path.startsWith(dir === "/" ? "/" : `${dir}/`);
}

/**
 * Why a project file may not use this host directory as the workspace parent, or `undefined`.
 * It must lie strictly inside the home directory or the system temp dir, also after symlinks
 * are resolved: gamma writes the project's sync copy there.
 *
 * @param path Absolute, normalised path.
 * @param options The home and temp dirs and a `realPath` function.
 * @returns The reason, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { workspaceParentProblem } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * const dirs = { home: "/home/me", tempDir: "/tmp" };
 * assert.equal(workspaceParentProblem("/home/me/vm-work", dirs), undefined);
 * assert.match(workspaceParentProblem("/", dirs)!, /inside your home/);
 * ```
 */
export function workspaceParentProblem(
  path: string,
  options: Pick<ParseConfigFileOptions, "home" | "tempDir" | "realPath">,
): string | undefined {
  const roots = [options.home, options.tempDir].filter((d): d is string => !!d?.startsWith("/"))
    .map((d) => normalizeAbsolutePath(d));
  const places = roots.join(" or ");
  const why =
    `a project file may only name a directory inside your home or the system temp dir (${places}), because gamma writes the project's sync copy there; set DEVSHELL_VM_WORKSPACE_PARENT or workspaceParent in your user file for another place`;
  if (!roots.some((r) => under(path, r))) return why;
  if (options.realPath !== undefined) {
    const real = options.realPath(path);
    const realRoots = roots.map((r) => options.realPath!(r));
    if (!realRoots.some((r) => under(real, r))) {
      return `it resolves through a symlink to ${real}; ${why}`;
    }
  }
  return undefined;
}

class FileReader {
  readonly issues: ConfigIssue[] = [];
  readonly lines = new LineCounter();
  constructor(readonly options: ParseConfigFileOptions) {}

  line(node: unknown): number {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? this.lines.linePos(range[0]).line : 1;
  }

  fail(key: string, node: unknown, value: unknown, problem: string): undefined {
    const line = this.line(node);
    this.issues.push({
      variable: key,
      value: typeof value === "string" ? value : JSON.stringify(value) ?? "",
      file: this.options.path,
      line,
      message: `${this.options.path}:${line}: ${key}: ${problem}`,
    });
    return undefined;
  }

  /** A string scalar, or an issue. */
  text(key: string, node: Node | null, what: string): string | undefined {
    if (isScalar(node) && typeof node.value === "string" && node.value !== "") {
      if (node.value.includes("\0")) return this.fail(key, node, node.value, "contains NUL");
      return node.value;
    }
    return this.fail(key, node, scalarValue(node), `expected ${what}`);
  }

  /** A list of non-empty strings, or an issue. */
  list(key: string, node: Node | null, what: string): string[] | undefined {
    if (!isSeq(node)) return this.fail(key, node, scalarValue(node), `expected a list of ${what}`);
    const out: string[] = [];
    for (const item of node.items) {
      const text = this.text(key, item as Node, what);
      if (text !== undefined) out.push(text);
    }
    return out;
  }
}

function scalarValue(node: unknown): unknown {
  if (isScalar(node)) return node.value;
  if (isSeq(node)) return "(a list)";
  if (isMap(node)) return "(a mapping)";
  return null;
}

function quote(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * Parse and check a settings file. Every unknown key and bad value is reported at once, each
 * with the file, the line and what is allowed. A `project` file is checked as untrusted input:
 * see {@linkcode guestEnvNameProblem} and {@linkcode workspaceParentProblem}, and `template`
 * must name one of Lima's bundled templates (`template:NAME`, never a file or URL).
 *
 * Keys: `instance` (a Lima instance name), `mode` (`mounts` or `sync`; `guest` is another name
 * for `mounts`), `workspaceParent` (absolute, `~/…`, or relative to the file's directory),
 * `guestWorkspace` (absolute guest path, not `/`), `env` (a mapping of names to fixed values, a
 * name with no value passes the host's value through; or a list of names to pass through),
 * `sync.ignore` (gitignore patterns), `tools` (commands `gamma doctor` looks for), `stopOnExit`
 * (boolean), `template` (the Lima template to create the instance from).
 *
 * @param text The file's text.
 * @param options The file's path and kind, the home and temp dirs.
 * @returns The checked settings.
 * @throws {ConfigError} Naming every problem with `file:line`.
 *
 * @example Usage
 * ```ts
 * import { ConfigError } from "@devshell/gamma";
 * import { parseConfigFile } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * const options = {
 *   path: "/home/me/app/.gamma.yaml",
 *   kind: "project" as const,
 *   home: "/home/me",
 *   tempDir: "/tmp",
 * };
 * const file = parseConfigFile("mode: sync\nenv:\n  RUST_LOG:\n  RUST_BACKTRACE: 1\n", options);
 * assert.equal(file.settings.mode?.value, "sync");
 * assert.deepEqual(file.settings.env?.value, { pass: ["RUST_LOG"], set: { RUST_BACKTRACE: "1" } });
 * assert.throws(
 *   () => parseConfigFile("mode: fast\n", options),
 *   (e) => e instanceof ConfigError && e.message.startsWith("/home/me/app/.gamma.yaml:1: mode:"),
 * );
 * ```
 */
export function parseConfigFile(text: string, options: ParseConfigFileOptions): ConfigFile {
  const r = new FileReader(options);
  const doc = parseDocument(text, { lineCounter: r.lines, prettyErrors: false, uniqueKeys: true });
  const settings: Record<string, FileSetting<unknown>> = {};
  const done = (): ConfigFile => {
    if (r.issues.length > 0) throw new ConfigError(r.issues);
    return { path: options.path, kind: options.kind, settings };
  };
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const line = r.lines.linePos(e.pos[0]).line;
      const message = e.message.split("\n")[0]!.replace(/ at line \d+, column \d+.*$/, "");
      r.issues.push({
        variable: "",
        value: "",
        file: options.path,
        line,
        message: `${options.path}:${line}: not valid YAML: ${message}`,
      });
    }
    return done();
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return done();
  if (!isMap(root)) {
    r.fail("(top level)", root, scalarValue(root), `expected a mapping of ${FILE_KEYS.join(", ")}`);
    return done();
  }
  const home = options.home?.startsWith("/") ? normalizeAbsolutePath(options.home) : undefined;
  const untrusted = options.kind === "project";
  for (const pair of root.items) {
    const keyNode = pair.key as Node | null;
    const key = isScalar(keyNode) ? String(keyNode.value) : quote(scalarValue(keyNode));
    const node = pair.value as Node | null;
    const line = r.line(keyNode);
    const put = (name: string, value: unknown): void => {
      if (value !== undefined) settings[name] = { value, line };
    };
    switch (key) {
      case "instance": {
        const value = r.text(key, node, "a Lima instance name");
        if (value === undefined) break;
        try {
          put(key, validateInstanceName(value));
        } catch (e) {
          r.fail(key, node, value, (e as Error).message.replace(/^Invalid [^:]*: /, ""));
        }
        break;
      }
      case "mode": {
        const value = scalarValue(node);
        const word = typeof value === "string" ? value.toLowerCase() : undefined;
        if (word === "mounts" || word === "guest") put(key, "guest");
        else if (word === "sync") put(key, "sync");
        else {
          r.fail(
            key,
            node,
            value,
            `${
              quote(value)
            } is not allowed; allowed values: mounts (run only where a Lima mount shows the project), sync (copy a project no mount shows into the workspace parent)`,
          );
        }
        break;
      }
      case "workspaceParent": {
        const value = r.text(key, node, "a host directory");
        if (value === undefined) break;
        let path: string;
        if (value === "~" || value.startsWith("~/")) {
          if (home === undefined) {
            r.fail(key, node, value, "~ needs HOME to be set; give an absolute path");
            break;
          }
          path = normalizeAbsolutePath(home + value.slice(1));
        } else {
          path = normalizeAbsolutePath(
            value.startsWith("/") ? value : posix.join(posix.dirname(options.path), value),
          );
        }
        const problem = untrusted ? workspaceParentProblem(path, options) : undefined;
        if (problem !== undefined) {
          r.fail(key, node, value, `${quote(value)} is refused: ${problem}`);
        } else put(key, path);
        break;
      }
      case "guestWorkspace": {
        const value = r.text(key, node, "an absolute guest directory");
        if (value === undefined) break;
        const normal = value.startsWith("/") ? normalizeAbsolutePath(value) : undefined;
        if (normal === undefined || normal === "/") {
          r.fail(
            key,
            node,
            value,
            `${
              quote(value)
            } is not allowed; expected an absolute guest directory other than "/" (default /workspace)`,
          );
        } else put(key, normal);
        break;
      }
      case "env":
        put(key, readEnv(r, node));
        break;
      case "sync": {
        if (node === null || (isScalar(node) && node.value === null)) break; // all commented out
        if (!isMap(node)) {
          r.fail(key, node, scalarValue(node), "expected a mapping with the key ignore");
          break;
        }
        for (const sub of node.items) {
          const subKey = isScalar(sub.key) ? String(sub.key.value) : "";
          if (subKey !== "ignore") {
            r.fail(
              `sync.${subKey}`,
              sub.key,
              subKey,
              `unknown key ${quote(subKey)}; allowed keys under sync: ignore`,
            );
            continue;
          }
          const list = r.list("sync.ignore", sub.value as Node, "gitignore patterns");
          const bad = list?.find((p) => /[\r\n]/.test(p));
          if (bad !== undefined) {
            r.fail("sync.ignore", sub.value, bad, "a pattern must be one line");
          } else if (list !== undefined) {
            settings["syncIgnore"] = { value: list, line: r.line(sub.key) };
          }
        }
        break;
      }
      case "tools": {
        const list = r.list(key, node, "command names");
        const bad = list?.find((t) => !TOOL.test(t));
        if (bad !== undefined) {
          r.fail(
            key,
            node,
            bad,
            `${quote(bad)} is not a command name; use letters, digits, ".", "_", "+", "-", "/"`,
          );
        } else put(key, list);
        break;
      }
      case "stopOnExit": {
        const value = scalarValue(node);
        const word = typeof value === "string" ? value.trim().toLowerCase() : undefined;
        if (typeof value === "boolean") put(key, value);
        else if (word !== undefined && TRUE_WORDS.includes(word)) put(key, true);
        else if (word !== undefined && FALSE_WORDS.includes(word)) put(key, false);
        else {
          r.fail(
            key,
            node,
            value,
            `${quote(value)} is not allowed; allowed values: true, false (or ${
              TRUE_WORDS.join(", ")
            } / ${FALSE_WORDS.join(", ")})`,
          );
        }
        break;
      }
      case "template": {
        const value = r.text(key, node, "a Lima template name");
        if (value === undefined) break;
        const name = value.startsWith("template:") ? value.slice("template:".length) : value;
        if (!TEMPLATE.test(name) || name.split("/").includes("..")) {
          r.fail(
            key,
            node,
            value,
            `${
              quote(value)
            } is not allowed; name one of Lima's bundled templates, e.g. default, docker, ubuntu-24.04 or template:fedora (a file or URL template could run any provisioning script, so gamma does not take one from a settings file)`,
          );
        } else put(key, `template:${name}`);
        break;
      }
      default: {
        const hint = closest(key, [...FILE_KEYS]);
        const near = distance(key, hint) <= Math.max(2, Math.floor(key.length / 3));
        r.fail(
          key,
          keyNode,
          key,
          `unknown key${near ? ` (did you mean ${quote(hint)}?)` : ""}; allowed keys: ${
            FILE_KEYS.join(", ")
          }`,
        );
      }
    }
  }
  return done();
}

function readEnv(r: FileReader, node: Node | null): GuestEnv | undefined {
  const pass: string[] = [];
  const set: Record<string, string> = {};
  // `env:` with every entry commented out: none.
  if (node === null || (isScalar(node) && node.value === null)) return { pass, set };
  const name = (keyNode: unknown, text: string): boolean => {
    const problem = guestEnvNameProblem(text);
    if (problem === undefined) return true;
    r.fail(`env`, keyNode, text, `${quote(text)} is refused: ${problem}`);
    return false;
  };
  if (isSeq(node)) {
    for (const item of node.items) {
      const text = r.text("env", item as Node, "a variable name to pass through");
      if (text !== undefined && name(item, text)) pass.push(text);
    }
  } else if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      if (!name(pair.key, key)) continue;
      const value = pair.value as Node | null;
      if (value === null || (isScalar(value) && value.value === null)) {
        pass.push(key);
      } else if (isScalar(value) && ["string", "number", "boolean"].includes(typeof value.value)) {
        const text = String(value.value);
        if (text.includes("\0")) r.fail(`env.${key}`, value, text, "contains NUL");
        else set[key] = text;
      } else {
        r.fail(
          `env.${key}`,
          value,
          scalarValue(value),
          "expected a fixed value, or nothing to pass the host's value through",
        );
      }
    }
  } else {
    return r.fail(
      "env",
      node,
      scalarValue(node),
      "expected a mapping of NAME: value (NAME: with no value passes the host's value) or a list of names",
    );
  }
  return { pass, set };
}

/**
 * What `gamma init` found: the project, the instances `limactl list` knows and the instance
 * configured now (flag or variable).
 *
 * @example Usage
 * ```ts
 * import type { InitFacts } from "@devshell/gamma/config";
 *
 * const facts: InitFacts = { project: "/home/me/app", instances: [], preferred: undefined };
 * ```
 */
export interface InitFacts {
  /** The project root. */
  project: string;
  /** Every instance: name, Lima status and mounts. */
  instances: readonly { name: string; status: string; mounts: readonly Mount[] }[];
  /** An instance named by `-i` or `DEVSHELL_VM_LIMA_INSTANCE`, preferred when it exists. */
  preferred: string | undefined;
  /** Why the instances are unknown (no `limactl`, `limactl list` failed). */
  listProblem?: string | undefined;
}

/**
 * The commented `.gamma.yaml` that `gamma init` writes. It picks the instance (the preferred
 * one when it exists, else the first whose mount covers the project, else the first listed)
 * and the mode (`mounts` when that instance's mount covers the project, else `sync`), and says
 * why in comments. Every other key is shown commented out with its default.
 *
 * @param facts What was found.
 * @returns The file's text; {@linkcode parseConfigFile} accepts it.
 *
 * @example Usage
 * ```ts
 * import { initFileText } from "@devshell/gamma/config";
 * import assert from "node:assert/strict";
 *
 * const text = initFileText({
 *   project: "/home/me/app",
 *   instances: [{ name: "dev", status: "Running", mounts: [{ location: "/home/me", mountPoint: "/home/me", writable: true }] }],
 *   preferred: undefined,
 * });
 * assert.match(text, /^instance: dev$/m);
 * assert.match(text, /^mode: mounts$/m);
 * ```
 */
export function initFileText(facts: InitFacts): string {
  const covering = (i: InitFacts["instances"][number]): Mount | undefined =>
    coveringMount(facts.project, i.mounts)?.mount;
  const chosen = facts.instances.find((i) => i.name === facts.preferred) ??
    facts.instances.find((i) => covering(i) !== undefined) ?? facts.instances[0];
  const mount = chosen && covering(chosen);
  const lines = [
    "# gamma project settings (gamma init). Commit this file with the project.",
    "# Precedence: flag > DEVSHELL_VM_* variable > this file > ~/.config/gamma/config.yaml > default.",
    '# See the README of @devshell/gamma, "Project settings". Check with: gamma config',
    "",
  ];
  if (facts.listProblem !== undefined) {
    lines.push(`# Instances: unknown (${facts.listProblem.replaceAll("\n", " ")}).`);
  } else if (facts.instances.length === 0) {
    lines.push("# Instances: limactl list shows none; create one, then name it here.");
  } else {
    lines.push(
      `# Instances found by limactl list: ${
        facts.instances.map((i) => `${i.name} (${i.status || "unknown"})`).join(", ")
      }`,
    );
  }
  if (chosen) lines.push(`instance: ${chosen.name}`);
  else lines.push("# instance: devshell-rust");
  lines.push("");
  if (chosen && mount) {
    lines.push(
      `# ${facts.project} is under the mount ${mount.location} -> ${mount.mountPoint} (${
        mount.writable ? "writable" : "read-only"
      }) of ${chosen.name}: commands run there directly.`,
      "mode: mounts",
    );
  } else {
    lines.push(
      chosen
        ? `# No mount of ${chosen.name} covers ${facts.project}: gamma copies the project into the workspace parent around each command.`
        : "# mounts: run where a Lima mount shows the project; sync: copy it into the workspace parent.",
      "mode: sync",
    );
  }
  lines.push(
    "",
    "# Host directory mounted at guestWorkspace, for sync mode (a project file may only name one",
    "# inside your home or the temp dir). Default: the Cargo workspace root, else a cache directory.",
    "# workspaceParent: ~/.cache/gamma-workspace",
    "# guestWorkspace: /workspace",
    "",
    "# Variables for every guest command: NAME: value sets it, NAME: with no value passes the",
    "# host's value. PATH, LD_*, shell start-up and gamma's own variables are refused.",
    "# env:",
    "#   RUST_LOG:",
    '#   RUST_BACKTRACE: "1"',
    "",
    "# sync:",
    "#   ignore: [target/, node_modules/]   # added to .gitignore/.gammaignore rules",
    "# tools: [cc, cargo]                    # what gamma doctor looks for on the guest PATH",
    "# stopOnExit: false                     # stop the VM when the gamma run that started it ends",
    "# template: default                     # Lima template to create the instance from",
    "",
  );
  return lines.join("\n");
}
