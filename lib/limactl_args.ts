/**
 * Exact `limactl` argument vectors for Lima 2.x, one pure builder per command gamma runs.
 *
 * @module
 */

import { normalizeAbsolutePath } from "./guest_path.ts";
import { validateInstanceName } from "./instance_name.ts";

/**
 * Options of {@linkcode limactlArgs}`.start`.
 *
 * @example Usage
 * ```ts
 * import { limactlArgs, type StartArgsOptions } from "@devshell/gamma/lima";
 *
 * const options: StartArgsOptions = { timeout: "20m" };
 * limactlArgs.start("dev", options);
 * ```
 */
export interface StartArgsOptions {
  /** Lima's `--timeout` (a Go duration such as `10m`); Lima's default when omitted. */
  timeout?: string | undefined;
}

/**
 * Options of {@linkcode limactlArgs}`.stop`.
 *
 * @example Usage
 * ```ts
 * import { limactlArgs, type StopArgsOptions } from "@devshell/gamma/lima";
 *
 * const options: StopArgsOptions = { force: true };
 * limactlArgs.stop("dev", options);
 * ```
 */
export interface StopArgsOptions {
  /** `-f`: kill the VM instead of shutting it down. */
  force?: boolean | undefined;
}

/**
 * Options of {@linkcode limactlArgs}`.shell`.
 *
 * @example Usage
 * ```ts
 * import { limactlArgs, type ShellArgsOptions } from "@devshell/gamma/lima";
 *
 * const options: ShellArgsOptions = { workdir: "/workspace", env: { RUST_LOG: "debug" } };
 * limactlArgs.shell("dev", ["cargo", "test"], options);
 * ```
 */
export interface ShellArgsOptions {
  /** Guest working directory; always passed, so Lima never guesses (lima-vm/lima#5520). */
  workdir: string;
  /** Environment for the command, passed as leading `K=V` elements that Lima quotes. */
  env?: Readonly<Record<string, string>> | undefined;
  /** `--tty=false`: no Lima prompts; use for captured, non-interactive calls. */
  noTty?: boolean | undefined;
  /** `--shell`: the guest shell Lima execs, instead of the user's login shell. */
  shell?: string | undefined;
}

/**
 * Options of {@linkcode limactlArgs}`.copy`.
 *
 * @example Usage
 * ```ts
 * import { type CopyArgsOptions, limactlArgs } from "@devshell/gamma/lima";
 *
 * const options: CopyArgsOptions = { recursive: true };
 * limactlArgs.copy(["dev:/var/log"], "/tmp/logs", options);
 * ```
 */
export interface CopyArgsOptions {
  /** `-r`: copy directories recursively. */
  recursive?: boolean | undefined;
  /** `--backend` (Lima 2.0+). */
  backend?: "auto" | "rsync" | "scp" | undefined;
}

/** Environment variable names Lima passes safely: it quotes the value but not the name. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function instance(name: string): string {
  return validateInstanceName(name);
}

/**
 * The guest argv `limactl shell` receives after `--`, shared by both transports (`limactl shell`
 * and gamma's direct ssh): the environment as leading `K=V` words (Lima quotes the value only),
 * then the command, every element checked.
 *
 * @param command The command and its arguments.
 * @param env Environment for the command.
 * @returns `[K=V…, ...command]`.
 * @throws {RangeError} For a bad variable name, or a first command word containing `=`.
 * @throws {TypeError} For an empty command or a NUL character.
 *
 * @example Usage
 * ```ts
 * import { guestArgv } from "./limactl_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(guestArgv(["ls"], { A: "1" }), ["A=1", "ls"]);
 * ```
 */
export function guestArgv(
  command: readonly string[],
  env: Readonly<Record<string, string>> = {},
): string[] {
  const argv: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_NAME.test(key)) {
      throw new RangeError(
        `Invalid environment variable name ${
          JSON.stringify(key)
        }: use letters, digits and "_", not starting with a digit`,
      );
    }
    if (value.includes("\0")) {
      throw new TypeError(`Environment variable ${key} must not contain a NUL character`);
    }
    argv.push(`${key}=${value}`);
  }
  const [program] = command;
  if (program === undefined || program === "") {
    throw new TypeError("Cannot build limactl shell arguments: the command is empty");
  }
  if (program.includes("=")) {
    // Lima reads every leading argument containing "=" as an assignment and leaves the part
    // before "=" unquoted (cmd/limactl/shell.go isEnv/quoteEnv).
    throw new RangeError(
      `Cannot run ${
        JSON.stringify(program)
      }: limactl reads a first command word containing "=" as an environment assignment; name the program by a path without "=", or run it through sh -c`,
    );
  }
  for (const arg of command) {
    if (arg.includes("\0")) {
      throw new TypeError(
        `Command argument ${JSON.stringify(arg)} must not contain a NUL character`,
      );
    }
  }
  argv.push(...command);
  return argv;
}

function shellArgs(name: string, command: readonly string[], options: ShellArgsOptions): string[] {
  const argv = ["shell", "--workdir", normalizeAbsolutePath(options.workdir, "Guest workdir")];
  if (options.noTty) argv.push("--tty=false");
  if (options.shell !== undefined) argv.push("--shell", options.shell);
  argv.push(instance(name), "--", ...guestArgv(command, options.env));
  return argv;
}

/**
 * Pure builders for every `limactl` command line gamma uses (Lima 2.x; lima-and-peers A and F).
 * Flags always come before the instance name (Lima stops reading flags there); `shell` always
 * gets `--workdir`; command arguments are passed as separate elements, never pre-quoted, because
 * Lima quotes each one; environment goes as leading `K=V` elements. Instance names are checked
 * with {@linkcode validateInstanceName}.
 *
 * @example Usage
 * ```ts
 * import { limactlArgs } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(limactlArgs.start("dev"), ["start", "--tty=false", "dev"]);
 * assert.deepEqual(
 *   limactlArgs.shell("dev", ["ls", "-l"], { workdir: "/workspace", env: { A: "1 2" } }),
 *   ["shell", "--workdir", "/workspace", "dev", "--", "A=1 2", "ls", "-l"],
 * );
 * ```
 */
export const limactlArgs: {
  /** `limactl start --tty=false [--timeout T] NAME`: start (or create) without prompts. */
  start(name: string, options?: StartArgsOptions): string[];
  /**
   * `limactl create --tty=false --name=NAME TEMPLATE`: the non-deprecated way to create (a bare
   * template word such as `docker` means `template:docker`).
   */
  create(name: string, template?: string): string[];
  /** `limactl stop [-f] NAME`. */
  stop(name: string, options?: StopArgsOptions): string[];
  /** `limactl list --json [NAME]`: NDJSON, one object per instance. */
  list(name?: string): string[];
  /** `limactl list -q`: instance names, one per line. */
  listNames(): string[];
  /** `limactl shell --workdir W [--tty=false] [--shell S] NAME -- [K=V…] CMD [ARG…]`. */
  shell(name: string, command: readonly string[], options: ShellArgsOptions): string[];
  /** `limactl copy [-r] [--backend B] SRC… TARGET`; guest paths are written `NAME:PATH`. */
  copy(sources: readonly string[], target: string, options?: CopyArgsOptions): string[];
  /** `limactl --version`. */
  version(): string[];
} = {
  start(name, options = {}) {
    const argv = ["start", "--tty=false"];
    if (options.timeout !== undefined) argv.push("--timeout", options.timeout);
    argv.push(instance(name));
    return argv;
  },
  create(name, template = "template:default") {
    if (template === "" || template.startsWith("-") || template.includes("\0")) {
      throw new RangeError(
        `Invalid template ${
          JSON.stringify(template)
        }: name a Lima template (template:default, docker), a .yaml file or a URL`,
      );
    }
    const locator = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(template) && !template.includes("/") &&
        !template.endsWith(".yaml") && !template.endsWith(".yml")
      ? `template:${template}`
      : template;
    return ["create", "--tty=false", `--name=${instance(name)}`, locator];
  },
  stop(name, options = {}) {
    return options.force ? ["stop", "-f", instance(name)] : ["stop", instance(name)];
  },
  list(name) {
    return name === undefined ? ["list", "--json"] : ["list", "--json", instance(name)];
  },
  listNames() {
    return ["list", "-q"];
  },
  shell: shellArgs,
  copy(sources, target, options = {}) {
    if (sources.length === 0) throw new TypeError("Cannot build limactl copy arguments: no source");
    const argv = ["copy"];
    if (options.recursive) argv.push("-r");
    if (options.backend !== undefined) argv.push(`--backend=${options.backend}`);
    argv.push(...sources, target);
    return argv;
  },
  version() {
    return ["--version"];
  },
};
