/**
 * The errors gamma throws for conditions callers are expected to handle: every one is a
 * {@linkcode GammaError} and carries the facts of the failure as fields (instance, exit code,
 * argv), so a script can branch on them without parsing the message.
 *
 * @module
 */

/**
 * Base class of gamma's own failures (not the guest command's): something had to be fixed before
 * a command could run. The message says what and how.
 *
 * @example Usage
 * ```ts
 * import { GammaError } from "@devshell/gamma";
 *
 * try {
 *   // await session.exec(["make"]);
 * } catch (e) {
 *   if (e instanceof GammaError) console.error(e.message);
 * }
 * ```
 */
export class GammaError extends Error {
  /**
   * Make the error.
   *
   * @param message What went wrong and the fix.
   * @param options The underlying cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GammaError";
  }
}

/**
 * No usable `limactl`: not on `PATH`, or `DEVSHELL_VM_LIMACTL` names a missing or
 * non-executable file.
 *
 * @example Usage
 * ```ts
 * import { LimactlNotFoundError } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * assert.match(new LimactlNotFoundError().message, /^limactl not found in PATH/);
 * ```
 */
export class LimactlNotFoundError extends GammaError {
  /**
   * Make the error.
   *
   * @param message The default names PATH, Lima's site and `DEVSHELL_VM_LIMACTL`.
   */
  constructor(
    message =
      "limactl not found in PATH; install Lima (https://lima-vm.io/) or set DEVSHELL_VM_LIMACTL",
  ) {
    super(message);
    this.name = "LimactlNotFoundError";
  }
}

/**
 * `limactl start` failed. `hints` and `logTail` explain why (see `diagnoseStart`).
 *
 * @example Usage
 * ```ts
 * import { StartError } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const e = new StartError("dev", 1, ["see /lima/dev/ha.stderr.log"], []);
 * assert.equal(e.message, "limactl start dev failed (exit code 1)\nhint: see /lima/dev/ha.stderr.log");
 * ```
 */
export class StartError extends GammaError {
  /** The instance. */
  readonly instance: string;
  /** `limactl start`'s exit code. */
  readonly exitCode: number;
  /** One-line hints. */
  readonly hints: readonly string[];
  /** The last lines of `ha.stderr.log` from this start. */
  readonly logTail: readonly string[];

  /**
   * Make the error; the message lists the hints and the log tail.
   *
   * @param instance The instance.
   * @param exitCode `limactl start`'s exit code.
   * @param hints One-line hints.
   * @param logTail The last lines of `ha.stderr.log`.
   */
  constructor(
    instance: string,
    exitCode: number,
    hints: readonly string[],
    logTail: readonly string[],
  ) {
    const lines = [`limactl start ${instance} failed (exit code ${exitCode})`];
    for (const hint of hints) lines.push(`hint: ${hint}`);
    if (logTail.length) lines.push("last lines of ha.stderr.log:", ...logTail.map((l) => `  ${l}`));
    super(lines.join("\n"));
    this.name = "StartError";
    this.instance = instance;
    this.exitCode = exitCode;
    this.hints = hints;
    this.logTail = logTail;
  }
}

/**
 * A host path that no mount of the instance shows in the guest.
 *
 * @example Usage
 * ```ts
 * import { UnmappedPathError } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const e = new UnmappedPathError("/tmp/x", "dev", "no mount covers it");
 * assert.equal(e.path, "/tmp/x");
 * ```
 */
export class UnmappedPathError extends GammaError {
  /** The host path. */
  readonly path: string;
  /** The instance. */
  readonly instance: string;

  /**
   * Make the error.
   *
   * @param path The host path.
   * @param instance The instance.
   * @param message The whole explanation, with the mounts and the fixes.
   */
  constructor(path: string, instance: string, message: string) {
    super(message);
    this.name = "UnmappedPathError";
    this.path = path;
    this.instance = instance;
  }
}

/**
 * A `limactl` command (other than the guest command itself) failed.
 *
 * @example Usage
 * ```ts
 * import { LimactlError } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const e = new LimactlError(["stop", "dev"], 1, "expected status `Running`\n");
 * assert.equal(e.message, "limactl stop dev failed with exit code 1: expected status `Running`");
 * ```
 */
export class LimactlError extends GammaError {
  /** The arguments given to `limactl`. */
  readonly args: readonly string[];
  /** Its exit code. */
  readonly exitCode: number;
  /** The end of what it printed on stderr. */
  readonly stderr: string;
  /** What to try, when gamma knows (for example that Lima's templates are missing). */
  readonly hint: string | undefined;

  /**
   * Make the error.
   *
   * @param args The arguments given to `limactl`.
   * @param exitCode Its exit code.
   * @param stderr The end of its stderr.
   * @param hint What to try, added to the message as a `hint:` line.
   */
  constructor(args: readonly string[], exitCode: number, stderr: string, hint?: string) {
    const detail = stderr.trim() ? `: ${stderr.trim()}` : "";
    super(
      `limactl ${args.join(" ")} failed with exit code ${exitCode}${detail}${
        hint === undefined ? "" : `\nhint: ${hint}`
      }`,
    );
    this.hint = hint;
    this.name = "LimactlError";
    this.args = args;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/**
 * One of gamma's own `limactl` calls (not `start`, never the user's command) did not finish
 * within its bound and was stopped. The message names the call, the bound and what to try.
 *
 * @example Usage
 * ```ts
 * import { LimactlTimeoutError } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const e = new LimactlTimeoutError(["list", "--json", "dev"], "list", 30_000, "try limactl list dev");
 * assert.equal(
 *   e.message,
 *   "limactl list --json dev did not finish within 30 s and was stopped; try limactl list dev",
 * );
 * ```
 */
export class LimactlTimeoutError extends GammaError {
  /** The arguments given to `limactl`. */
  readonly args: readonly string[];
  /** The kind of call (`version`, `list` or `probe`). */
  readonly call: string;
  /** The bound it exceeded, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * Make the error.
   *
   * @param args The arguments given to `limactl`.
   * @param call The kind of call.
   * @param timeoutMs The bound, in milliseconds.
   * @param hint What to try next.
   */
  constructor(args: readonly string[], call: string, timeoutMs: number, hint: string) {
    const seconds = Number((timeoutMs / 1000).toFixed(3));
    // A guest script is long: name the call up to the command's first word.
    const cut = args.indexOf("--");
    const head = cut === -1 || args.length <= cut + 2 ? args : [...args.slice(0, cut + 2), "…"];
    const shown = head.map((a) => /^[\w./@%+=:,…-]+$/.test(a) ? a : JSON.stringify(a));
    super(
      `limactl ${shown.join(" ")} did not finish within ${seconds} s and was stopped; ${hint}`,
    );
    this.name = "LimactlTimeoutError";
    this.args = args;
    this.call = call;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The Lima instance gamma was asked to use does not exist. gamma never creates one on its own
 * (`limactl start NAME` would, from Lima's default template); `gamma start -i NAME --create` does.
 *
 * @example Usage
 * ```ts
 * import { MissingInstanceError } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const e = new MissingInstanceError("dve", ["dev"], ["dev", "web"]);
 * assert.equal(
 *   e.message,
 *   "instance dve does not exist\n  did you mean: dev\n  existing instances: dev, web\n  to create it: gamma start -i dve --create [--template template:default]",
 * );
 * ```
 */
export class MissingInstanceError extends GammaError {
  /** The instance name that does not exist. */
  readonly instance: string;
  /** The existing names close to it. */
  readonly closest: readonly string[];

  /**
   * Make the error.
   *
   * @param instance The missing name.
   * @param closest Existing names close to it, nearest first.
   * @param existing Every existing name.
   */
  constructor(instance: string, closest: readonly string[], existing: readonly string[]) {
    const lines = [`instance ${instance} does not exist`];
    if (closest.length > 0) lines.push(`  did you mean: ${closest.join(", ")}`);
    lines.push(
      existing.length > 0
        ? `  existing instances: ${existing.join(", ")}`
        : "  there are no Lima instances yet",
      `  to create it: gamma start -i ${instance} --create [--template template:default]`,
    );
    super(lines.join("\n"));
    this.name = "MissingInstanceError";
    this.instance = instance;
    this.closest = closest;
  }
}

/**
 * An instance name Lima would refuse (or read as a flag). Thrown before the name reaches any
 * `limactl` argv.
 *
 * @example Usage
 * ```ts
 * import { InvalidInstanceNameError } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const e = new InvalidInstanceNameError("a/b", 'it contains "/"');
 * assert.equal(e.instance, "a/b");
 * assert.equal(e.reason, 'it contains "/"');
 * assert.match(e.message, /^Invalid instance name "a\/b": it contains "\/"; /);
 * ```
 */
export class InvalidInstanceNameError extends GammaError {
  /** The refused name, as given. */
  readonly instance: string;
  /** Why Lima would refuse it, e.g. `it contains "/"`. */
  readonly reason: string;

  /**
   * Make the error.
   *
   * @param instance The refused name.
   * @param reason Why it is refused.
   */
  constructor(instance: string, reason: string) {
    super(
      `Invalid instance name ${
        JSON.stringify(instance)
      }: ${reason}; Lima instance names are letters and digits joined by single ".", "_" or "-", at most 76 characters`,
    );
    this.name = "InvalidInstanceNameError";
    this.instance = instance;
    this.reason = reason;
  }
}

/**
 * What a guest command had done when gamma stopped it: where and what it ran, and how it ended.
 * Shared by {@linkcode CommandTimeoutError} and {@linkcode CommandAbortedError}.
 *
 * @example Usage
 * ```ts
 * import { CommandTimeoutError, type StoppedCommand } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const stopped: StoppedCommand = {
 *   instance: "dev",
 *   argv: ["cargo", "test"],
 *   workdir: "/workspace/app",
 *   exitCode: 143,
 * };
 * assert.equal(new CommandTimeoutError(stopped, 60_000).exitCode, 143);
 * ```
 */
export interface StoppedCommand {
  /** The instance it ran in (`""` on the host backend). */
  instance: string;
  /** The command and its arguments, as given. */
  argv: readonly string[];
  /** The directory it ran in; `undefined` when it never started. */
  workdir: string | undefined;
  /** How it ended: 128+N after signal N (143 for SIGTERM, 137 for SIGKILL); `undefined` when it never started. */
  exitCode: number | undefined;
  /** What it wrote to stdout before it was stopped, when stdout was piped. */
  stdout?: Uint8Array | undefined;
  /** What it wrote to stderr before it was stopped, when stderr was piped. */
  stderr?: Uint8Array | undefined;
}

function describeRun(c: StoppedCommand): string {
  const words = c.argv.map((a) => /^[\w./@%+=:,-]+$/.test(a) ? a : JSON.stringify(a)).join(" ");
  const where = c.instance === "" ? "on the host" : `in instance ${c.instance}`;
  return c.workdir === undefined ? `${words} ${where}` : `${words} ${where} (in ${c.workdir})`;
}

function howItEnded(c: StoppedCommand): string {
  return c.exitCode === undefined ? "before it started" : `(exit code ${c.exitCode})`;
}

/**
 * A command run with a `timeout` did not finish in time: gamma stopped it in the guest (SIGTERM
 * to its process group, SIGKILL if it lingered) and waited for it to end.
 *
 * @example Usage
 * ```ts
 * import { CommandTimeoutError } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const e = new CommandTimeoutError(
 *   { instance: "dev", argv: ["sleep", "60"], workdir: "/workspace", exitCode: 143 },
 *   1500,
 * );
 * assert.equal(
 *   e.message,
 *   "sleep 60 in instance dev (in /workspace) did not finish within 1.5 s and was stopped (exit code 143)",
 * );
 * ```
 */
export class CommandTimeoutError extends GammaError {
  /** The instance it ran in (`""` on the host backend). */
  readonly instance: string;
  /** The command and its arguments. */
  readonly argv: readonly string[];
  /** The directory it ran in; `undefined` when it never started. */
  readonly workdir: string | undefined;
  /** How it ended (128+N after signal N); `undefined` when it never started. */
  readonly exitCode: number | undefined;
  /** The time-out, in milliseconds. */
  readonly timeoutMs: number;
  /** Its stdout up to the stop, when piped. */
  readonly stdout: Uint8Array | undefined;
  /** Its stderr up to the stop, when piped. */
  readonly stderr: Uint8Array | undefined;

  /**
   * Make the error.
   *
   * @param stopped The command and how it ended.
   * @param timeoutMs The time-out it exceeded, in milliseconds.
   */
  constructor(stopped: StoppedCommand, timeoutMs: number) {
    super(
      `${describeRun(stopped)} did not finish within ${
        Number((timeoutMs / 1000).toFixed(3))
      } s and was stopped ${howItEnded(stopped)}`,
    );
    this.name = "CommandTimeoutError";
    this.instance = stopped.instance;
    this.argv = stopped.argv;
    this.workdir = stopped.workdir;
    this.exitCode = stopped.exitCode;
    this.timeoutMs = timeoutMs;
    this.stdout = stopped.stdout;
    this.stderr = stopped.stderr;
  }
}

/**
 * A command was stopped because the `signal` given to it was aborted: gamma ended it in the guest
 * (SIGTERM to its process group, SIGKILL if it lingered). The abort reason is the `cause`.
 *
 * @example Usage
 * ```ts
 * import { CommandAbortedError } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const e = new CommandAbortedError(
 *   { instance: "dev", argv: ["make"], workdir: "/workspace", exitCode: 143 },
 *   "user pressed stop",
 * );
 * assert.equal(e.message, "make in instance dev (in /workspace) was aborted (exit code 143)");
 * assert.equal(e.cause, "user pressed stop");
 * ```
 */
export class CommandAbortedError extends GammaError {
  /** The instance it ran in (`""` on the host backend). */
  readonly instance: string;
  /** The command and its arguments. */
  readonly argv: readonly string[];
  /** The directory it ran in; `undefined` when it never started. */
  readonly workdir: string | undefined;
  /** How it ended (128+N after signal N); `undefined` when it never started. */
  readonly exitCode: number | undefined;
  /** Its stdout up to the stop, when piped. */
  readonly stdout: Uint8Array | undefined;
  /** Its stderr up to the stop, when piped. */
  readonly stderr: Uint8Array | undefined;

  /**
   * Make the error.
   *
   * @param stopped The command and how it ended.
   * @param reason The abort signal's reason, kept as `cause`.
   */
  constructor(stopped: StoppedCommand, reason?: unknown) {
    super(`${describeRun(stopped)} was aborted ${howItEnded(stopped)}`, {
      cause: reason,
    });
    this.name = "CommandAbortedError";
    this.instance = stopped.instance;
    this.argv = stopped.argv;
    this.workdir = stopped.workdir;
    this.exitCode = stopped.exitCode;
    this.stdout = stopped.stdout;
    this.stderr = stopped.stderr;
  }
}

/**
 * Mode S could not copy the project for a command or a sync: the copy would overlap the project,
 * the working directory is ignored, gamma's state would lie where the guest can write, or the
 * push failed. The message says which, and the fix.
 *
 * @example Usage
 * ```ts
 * import { SyncError } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const e = new SyncError("dev", "/src/app", "/src/app/ws/app", "its staging copy would overlap it");
 * assert.equal(e.staging, "/src/app/ws/app");
 * ```
 */
export class SyncError extends GammaError {
  /** The instance. */
  readonly instance: string;
  /** The host project. */
  readonly project: string;
  /** Its staging copy on the host. */
  readonly staging: string;

  /**
   * Make the error.
   *
   * @param instance The instance.
   * @param project The host project.
   * @param staging Its staging copy.
   * @param message What went wrong and the fix.
   */
  constructor(instance: string, project: string, staging: string, message: string) {
    super(message);
    this.name = "SyncError";
    this.instance = instance;
    this.project = project;
    this.staging = staging;
  }
}

/**
 * An operation that needs a Lima instance (starting it, `capture`, guest files) was asked of a
 * session that runs on the host (`DEVSHELL_VM=off`, `DEVSHELL_VM_BACKEND=host`, or no `limactl`).
 *
 * @example Usage
 * ```ts
 * import { HostBackendError } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const e = new HostBackendError("capture");
 * assert.equal(e.operation, "capture");
 * assert.equal(e.message, "capture needs the Lima backend, but gamma runs on the host");
 * ```
 */
export class HostBackendError extends GammaError {
  /** What was asked: `start`, `stop`, `capture`, … */
  readonly operation: string;

  /**
   * Make the error.
   *
   * @param operation What was asked.
   */
  constructor(operation: string) {
    super(`${operation} needs the Lima backend, but gamma runs on the host`);
    this.name = "HostBackendError";
    this.operation = operation;
  }
}
