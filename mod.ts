/**
 * Run commands in a Lima VM from a Deno script as if the project were local: a
 * {@linkcode GammaSession} starts the instance on demand, runs each command at the guest path
 * that mirrors the host working directory, and passes stdio, exit codes and signals through.
 *
 * This module holds what a script needs for that: the session with its option and result
 * types, the configuration it reads (`DEVSHELL_VM_*` variables and settings files), the errors it throws (all
 * {@linkcode GammaError}s, with their facts as fields), and the path and quoting helpers
 * ({@linkcode toGuestPath}, {@linkcode toHostPath}, {@linkcode bashSingleQuoted}). The rest lives
 * in topic modules: `@devshell/gamma/sync` (the sync engine), `@devshell/gamma/guest-fs` (guest
 * files), `@devshell/gamma/doctor` (setup checks), `@devshell/gamma/config` (resolving the
 * configuration, settings files), `@devshell/gamma/lima` (`limactl` arguments, `lima.yaml`,
 * start diagnosis, ssh) and `@devshell/gamma/cli` (the `gamma` command).
 *
 * Run as a program (`deno run -A jsr:@devshell/gamma shell`) this module runs the CLI.
 *
 * @example Run a command and read its output
 * ```ts
 * import { GammaSession } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * // DEVSHELL_VM=off runs on the host, so this example needs no Lima; with Lima the call is the
 * // same and runs in the guest.
 * const session = new GammaSession({ env: { DEVSHELL_VM: "off", PATH: "/usr/bin:/bin" } });
 * const result = await session.exec(["echo", "hello"], { stdout: "piped" });
 * assert.equal(result.code, 0);
 * assert.equal(new TextDecoder().decode(result.stdout), "hello\n");
 * ```
 *
 * @example Map paths and quote script text
 * ```ts
 * import { bashSingleQuoted, toGuestPath } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const mounts = [{ location: "/home/me/src", mountPoint: "/workspace", writable: true }];
 * assert.equal(toGuestPath("/home/me/src/app", mounts), "/workspace/app");
 * assert.equal(bashSingleQuoted("a'b"), `'a'"'"'b'`);
 * ```
 *
 * @module
 */

export { ConfigError, type ConfigIssue, type Env, type GammaConfig } from "./lib/config.ts";
export {
  CommandAbortedError,
  CommandTimeoutError,
  GammaError,
  HostBackendError,
  InvalidInstanceNameError,
  LimactlError,
  LimactlNotFoundError,
  LimactlTimeoutError,
  MissingInstanceError,
  StartError,
  type StoppedCommand,
  SyncError,
  UnmappedPathError,
} from "./lib/errors.ts";
export { type Mount, toGuestPath, toHostPath } from "./lib/guest_path.ts";
export { ForeignCopyError, MassDeletionError, SyncStateError } from "./lib/session/sync.ts";
export {
  type CaptureOptions,
  type CaptureResult,
  type ExecOptions,
  type ExecResult,
  type GammaSessionOptions,
  type GammaStatus,
  type GuestTransport,
  type OutputResult,
  type ShellOptions,
  type SyncProjectOptions,
  type SyncTarget,
} from "./lib/session/types.ts";
export { GammaSession } from "./lib/session/session.ts";
// A session reads the settings files through this module; importing it installs the reader.
import "./lib/session/config_files.ts";
export { bashSingleQuoted } from "./lib/shell_quote.ts";
export { VERSION } from "./lib/version.ts";

if (import.meta.main) {
  const { runMain } = await import("./cli.ts");
  await runMain();
}
