/**
 * {@linkcode SessionView}: what the first-run probe, provisioning and the doctor read from a
 * session and ask it to do. They take this instead of `GammaSession`, so facts flow one way: the
 * session module imports them, and they never import it.
 *
 * @module
 */

import type { GammaConfig } from "../config.ts";
import type { InstanceInfo } from "../lima_list.ts";
import type { WorkspaceParent } from "../workspace_parent.ts";

/** Options of the guest calls below: where to run, and bytes for stdin. */
export interface GuestCallOptions {
  /** The guest directory to run in. */
  workdir: string;
  /** Bytes to feed on stdin (closed otherwise). */
  stdin?: Uint8Array;
  /** Whether the probe time-out applies (default `true`). */
  bounded?: boolean;
}

/**
 * The part of a session the lower session modules use. `GammaSession` fits it (checked where
 * the session passes itself to them).
 *
 * @example Usage
 * ```ts
 * import { GammaSession } from "@devshell/gamma";
 * import type { SessionView } from "./_session_view.ts";
 *
 * const view: SessionView = new GammaSession({ env: { DEVSHELL_VM: "off", PATH: "/usr/bin" } });
 * ```
 */
export interface SessionView {
  /** `lima` or `host`. */
  readonly backend: "lima" | "host";
  /** The resolved configuration. */
  readonly config: GammaConfig;
  /** The instance name. */
  readonly instance: string;
  /** The `limactl` executable, when one was found. */
  readonly limactl: string | undefined;
  /** `$LIMA_HOME/NAME`. */
  readonly instanceDir: string | undefined;
  /** The host working directory. */
  readonly cwd: string;
  /** A host path made absolute, links resolved in its longest existing prefix. */
  canonicalHostPath(path: string): string;
  /** The guest path of a host path (default the working directory), or `undefined`. */
  guestPathOf(hostPath?: string): Promise<string | undefined>;
  /** The instance as `limactl list` describes it. */
  instanceInfo(options?: { fresh?: boolean }): Promise<InstanceInfo | undefined>;
  /** The host workspace parent. */
  workspaceParent(): WorkspaceParent;
  /** A file in gamma's cache directory for this instance. */
  cacheFile(kind: string, ext: string): string;
  /** Whether the host agent is alive. */
  isRunning(): boolean;
  /** Start the VM unless it runs. */
  ensureRunning(): Promise<void>;
  /** Start the VM now. */
  start(): Promise<void>;
  /** Stop the VM. */
  stop(): Promise<void>;
  /** `limactl --version` and the guest path of the working directory, among others. */
  status(): Promise<{ limactlVersion: string | undefined; guestCwd: string | undefined }>;
  /** Run a command in the guest, output captured, no terminal. */
  capture(
    argv: readonly string[],
    options: GuestCallOptions,
  ): Promise<{ code: number; stdout: Uint8Array; stderr: string }>;
  /** Run a `/bin/sh -c` script in the guest, output captured as text. */
  output(
    script: string,
    options: GuestCallOptions,
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Run a command in the guest with the given stdio. */
  exec(argv: readonly string[], options: {
    workdir: string;
    stdin: "null";
    stdout: "piped";
    stderr: "piped" | "inherit";
  }): Promise<{ code: number; stdout?: Uint8Array; stderr?: Uint8Array }>;
}
