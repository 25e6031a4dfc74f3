/**
 * The option and result types of {@linkcode GammaSession}, in a module of their own so that the
 * modules the session uses can name them without importing the session.
 *
 * @module
 */

import type { ConfigFile, Env } from "../config.ts";
import type { Mount } from "../guest_path.ts";

/**
 * Options of {@linkcode GammaSession}. Everything defaults to the real process.
 *
 * @example Usage
 * ```ts
 * import { GammaSession, type GammaSessionOptions } from "@devshell/gamma";
 *
 * const options: GammaSessionOptions = { env: { DEVSHELL_VM: "off" }, cwd: "/tmp" };
 * const session = new GammaSession(options);
 * ```
 */
export interface GammaSessionOptions {
  /** The environment to read configuration from; also the environment `limactl` runs with. */
  env?: Env | undefined;
  /** The host working directory; default `Deno.cwd()`. */
  cwd?: string | undefined;
  /** Instance name, overriding `DEVSHELL_VM_LIMA_INSTANCE` and the settings files. */
  instance?: string | undefined;
  /** Lima template for creating the instance, overriding the settings files' `template`. */
  template?: string | undefined;
  /** `limactl` path, overriding `DEVSHELL_VM_LIMACTL` (must exist and be executable). */
  limactl?: string | undefined;
  /**
   * Settings files: default, the project's `.gamma.yaml` and the user's `config.yaml` as
   * `loadConfigFiles` finds them for `cwd`; `false` reads none; or parsed files to use.
   */
  configFiles?: readonly ConfigFile[] | false | undefined;
  /** Called with every `limactl` argv before it runs (`gamma --debug`). */
  onLimactl?: ((argv: readonly string[]) => void) | undefined;
  /**
   * Called before every guest command with the transport chosen and the argv spawned
   * (`gamma --debug`): `ssh …` on the ssh path, `limactl shell …` otherwise.
   */
  onGuestCommand?:
    | ((transport: GuestTransport, argv: readonly string[]) => void)
    | undefined;
  /** Where gamma's own notices go, one line each; default stderr. */
  notice?: ((line: string) => void) | undefined;
  /**
   * Where Lima's own output (`limactl start`'s progress, `limactl stop`'s messages) and gamma's
   * progress displays go: `inherit` shows them on the process's stderr; `null` keeps them off it
   * (they are still read to explain a failure). Default: `inherit`, or `null` when a `notice` is
   * given, so that a script with its own `notice` gets nothing on its stderr from gamma or Lima.
   * (A command's own stderr is {@linkcode ExecOptions.stderr}.)
   */
  stderr?: "inherit" | "null" | undefined;
}

/**
 * Options of {@linkcode GammaSession.exec}.
 *
 * @example Usage
 * ```ts
 * import type { ExecOptions } from "@devshell/gamma";
 *
 * const options: ExecOptions = { env: { RUST_LOG: "debug" }, stdin: "null", stdout: "piped" };
 * ```
 */
export interface ExecOptions {
  /** Environment for the command (passed to Lima as leading `K=V` argv elements). */
  env?: Readonly<Record<string, string>> | undefined;
  /** `inherit` (default), `null` (closed) or the bytes to feed. */
  stdin?: "inherit" | "null" | Uint8Array | undefined;
  /** `inherit` (default) or `piped` (returned in the result). */
  stdout?: "inherit" | "piped" | undefined;
  /** `inherit` (default) or `piped` (returned in the result). */
  stderr?: "inherit" | "piped" | undefined;
  /** Working directory: a guest path (Lima) or host path (host backend). Default: the mapped cwd. */
  workdir?: string | undefined;
  /**
   * In sync mode, keep the copy live while the command runs (see `LiveSync` in `@devshell/gamma/sync`): changes
   * on either side reach the other within about a second, not only before and after.
   */
  live?: boolean | undefined;
  /** With `live`: one notice line per batch that changed something (conflicts are always told). */
  verbose?: boolean | undefined;
  /**
   * Stop the command when this signal is aborted: SIGTERM to the guest command's process group,
   * SIGKILL 5 s later if it is still running; then the call rejects with a
   * `CommandAbortedError`. A signal aborted before the call rejects before anything runs.
   */
  signal?: AbortSignal | undefined;
  /**
   * Stop the command after this many milliseconds, the same way, and reject with a
   * `CommandTimeoutError`. Default: no limit.
   */
  timeout?: number | undefined;
}

/**
 * What {@linkcode GammaSession.exec} returns.
 *
 * @example Usage
 * ```ts
 * import type { ExecResult } from "@devshell/gamma";
 *
 * function succeeded(result: ExecResult): boolean {
 *   return result.code === 0;
 * }
 * ```
 */
export interface ExecResult {
  /** The exit code: the command's own; 128+N when it was ended by signal N; 255 ssh failure. */
  code: number;
  /** The working directory it ran in. */
  workdir: string;
  /** Captured stdout when `stdout: "piped"`. */
  stdout?: Uint8Array;
  /** Captured stderr when `stderr: "piped"`. */
  stderr?: Uint8Array;
}

/**
 * What {@linkcode GammaSession.status} reports.
 *
 * @example Usage
 * ```ts
 * import type { GammaStatus } from "@devshell/gamma";
 *
 * function describe(s: GammaStatus): string {
 *   return `${s.instance} is ${s.limaStatus}`;
 * }
 * ```
 */
export interface GammaStatus {
  /** `lima` or `host`. */
  backend: "lima" | "host";
  /** The instance name. */
  instance: string;
  /** Lima's status (`Running`, `Stopped`, `Broken`, …), `Missing`, or `""` on the host backend. */
  limaStatus: string;
  /** The `limactl` in use. */
  limactl: string | undefined;
  /** `limactl --version`'s version number. */
  limactlVersion: string | undefined;
  /** The real `$LIMA_HOME`. */
  limaHome: string | undefined;
  /** The instance's mounts. */
  mounts: Mount[];
  /** The host workspace parent. */
  workspaceParent: string;
  /** Which rule chose it: `override`, `cargo` or `cache`. */
  workspaceParentSource: string;
  /** Its guest path (`DEVSHELL_VM_GUEST_WORKSPACE`). */
  guestWorkspace: string;
  /** `DEVSHELL_VM_WORKSPACE_MODE`. */
  mode: string;
  /** The canonical host working directory. */
  cwd: string;
  /** Its guest path, `undefined` when unmapped. */
  guestCwd: string | undefined;
  /**
   * Where `guestCwd` comes from: `mount HOST -> GUEST`, `sync copy STAGING (mount HOST ->
   * GUEST)` in Mode S, or why there is none.
   */
  guestCwdSource: string;
  /** The project's `.gamma.yaml` in use, `undefined` when there is none. */
  projectFile: string | undefined;
}

/**
 * Where Mode S copies a project that no mount shows: the staging directory under the workspace
 * parent, its guest path, and gamma's state for it (manifest, lock) in gamma's cache directory,
 * outside anything the guest can write.
 *
 * @example Usage
 * ```ts
 * import type { SyncTarget } from "@devshell/gamma";
 *
 * const target: SyncTarget = {
 *   project: "/home/me/app",
 *   staging: "/home/me/.cache/cargo-devshell-exports/vm-workspace/dev/app",
 *   guestStaging: "/workspace/app",
 *   stateDir: "/home/me/.cache/gamma/sync/app-0123456789ab",
 * };
 * ```
 */
export interface SyncTarget {
  /** The host project (nearest ancestor of the cwd with .git, Cargo.toml, deno.json, package.json). */
  project: string;
  /** `<workspace parent>/<project leaf>`: the copy the guest sees. */
  staging: string;
  /** The guest path of `staging`. */
  guestStaging: string;
  /**
   * gamma's state for this copy (see `SyncTreesOptions.stateDir`):
   * `<gamma cache>/sync/<leaf>-<hash of staging>`, outside the project and the workspace parent.
   */
  stateDir: string;
}

/**
 * Which transport runs guest commands: `ssh` straight through the instance's `ssh.config`, or
 * `limactl shell`, with the reason for the choice (shown by `gamma --debug`).
 *
 * @example Usage
 * ```ts
 * import type { GuestTransport } from "@devshell/gamma";
 *
 * const t: GuestTransport = { kind: "limactl", reason: "DEVSHELL_VM_SSH=off" };
 * ```
 */
export interface GuestTransport {
  /** `ssh` or `limactl`. */
  kind: "ssh" | "limactl";
  /** Why this transport was chosen. */
  reason: string;
  /** For `ssh`: the ssh executable, the instance's ssh.config and its Host alias. */
  ssh?: { program: string; configFile: string; host: string };
}

/**
 * Options of {@linkcode GammaSession.syncProject}.
 *
 * @example Usage
 * ```ts
 * import type { SyncProjectOptions } from "@devshell/gamma";
 *
 * const options: SyncProjectOptions = { dryRun: true };
 * ```
 */
export interface SyncProjectOptions {
  /** Plan only. */
  dryRun?: boolean;
  /** A target already found by {@linkcode GammaSession.syncTarget}. */
  target?: SyncTarget;
  /** Carry out a plan that deletes most of the host tree. */
  force?: boolean;
  /** Take a guest copy without this project's identity as the copy. */
  adopt?: boolean;
  /** Honour `.gitignore` files; default `DEVSHELL_VM_SYNC_GITIGNORE`. */
  gitignore?: boolean;
}

/**
 * Options of {@linkcode GammaSession.capture} and {@linkcode GammaSession.output}.
 *
 * @example Usage
 * ```ts
 * import type { CaptureOptions } from "@devshell/gamma";
 *
 * const options: CaptureOptions = { workdir: "/", stdin: new TextEncoder().encode("input") };
 * ```
 */
export interface CaptureOptions {
  /** The guest directory to run in; default the guest path of the working directory. */
  workdir?: string;
  /** Bytes to feed on stdin; closed otherwise. */
  stdin?: Uint8Array;
  /** Whether gamma's probe time-out (60 s, `DEVSHELL_VM_LIMACTL_TIMEOUT`) applies; default `true`. */
  bounded?: boolean;
  /**
   * Stop the command when this signal is aborted: SIGTERM to the guest command's process group,
   * SIGKILL 5 s later if it is still running; then the call rejects with a
   * `CommandAbortedError`. A signal aborted before the call rejects before anything runs.
   */
  signal?: AbortSignal;
  /**
   * Stop the command after this many milliseconds, the same way, and reject with a
   * `CommandTimeoutError`. Default: no limit.
   */
  timeout?: number;
}

/**
 * What {@linkcode GammaSession.capture} returns.
 *
 * @example Usage
 * ```ts
 * import type { CaptureResult } from "@devshell/gamma";
 *
 * const result: CaptureResult = { code: 0, stdout: new Uint8Array(), stderr: "" };
 * ```
 */
export interface CaptureResult {
  /** The command's exit code. */
  code: number;
  /** Its stdout. */
  stdout: Uint8Array;
  /** Its stderr, as text. */
  stderr: string;
}

/**
 * What {@linkcode GammaSession.output} returns.
 *
 * @example Usage
 * ```ts
 * import type { OutputResult } from "@devshell/gamma";
 *
 * const result: OutputResult = { code: 0, stdout: "hello\n", stderr: "" };
 * ```
 */
export interface OutputResult {
  /** The script's exit code. */
  code: number;
  /** Its stdout, as text. */
  stdout: string;
  /** Its stderr, as text. */
  stderr: string;
}

/**
 * Options of {@linkcode GammaSession.shell}.
 *
 * @example Usage
 * ```ts
 * import type { ShellOptions } from "@devshell/gamma";
 *
 * const options: ShellOptions = { timeout: 3_600_000 };
 * ```
 */
export interface ShellOptions {
  /** In sync mode, keep the copy live while the shell runs; default `true`. */
  live?: boolean | undefined;
  /** With `live`: one notice line per batch that changed something. */
  verbose?: boolean | undefined;
  /**
   * Stop the command when this signal is aborted: SIGTERM to the guest command's process group,
   * SIGKILL 5 s later if it is still running; then the call rejects with a
   * `CommandAbortedError`. A signal aborted before the call rejects before anything runs.
   */
  signal?: AbortSignal | undefined;
  /**
   * Stop the command after this many milliseconds, the same way, and reject with a
   * `CommandTimeoutError`. Default: no limit.
   */
  timeout?: number | undefined;
}
