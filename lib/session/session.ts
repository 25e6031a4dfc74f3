/**
 * {@linkcode GammaSession}: the one module that touches processes. Every `limactl` call goes
 * through dax.
 *
 * @module
 */

import { CommandBuilder, KillController } from "dax";
import { createHash } from "node:crypto";
import { posix } from "node:path";
import process from "node:process";
import { findCargoWorkspaceRoot } from "../cargo_root.ts";
import { type Env, type GammaConfig, resolveConfig } from "../config.ts";
import type { ConfigFile } from "../project_config.ts";
import { loadConfigFiles } from "./config_files.ts";
import {
  GammaError,
  LimactlError,
  LimactlNotFoundError,
  LimactlTimeoutError,
  StartError,
  UnmappedPathError,
} from "../errors.ts";
import { type Mount, normalizeAbsolutePath, toGuestPath, toHostPath } from "../guest_path.ts";
import { sanitizeInstanceSegment, validateInstanceName } from "../instance_name.ts";
import { type InstanceInfo, parseLimaList } from "../lima_list.ts";
import { limactlArgs } from "../limactl_args.ts";
import { type LimactlCall, limactlTimeoutHint, limactlTimeoutMs } from "../limactl_timeout.ts";
import { findProjectRoot } from "../project_root.ts";
import { realPathOfPrefix } from "../real_prefix.ts";
import { interactiveShellPlan } from "../shell_plan.ts";
import { relayedCommand, relayFile, relaySignalCommand, terminalCommand } from "../signal_relay.ts";
import { fileStamp } from "./_files.ts";
import { HostTree } from "./host_tree.ts";
import { copyStateNote, ignoredDirectory, type SyncReport, syncTrees } from "./sync.ts";
import { liveLine, LiveSync } from "./live_sync.ts";
import { firstRunProbe } from "./probe.ts";
import { provisionGuest } from "./provision.ts";
import { type HostSignal, runRelayed } from "./relay.ts";
import { diagnoseStart } from "../start_diagnosis.ts";
import type { SyncDirection } from "../sync/plan.ts";
import { defaultWorkspaceParent, type WorkspaceParent } from "../workspace_parent.ts";

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
  /** Where gamma's own notices go, one line each; default stderr. */
  notice?: ((line: string) => void) | undefined;
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
   * In sync mode, keep the copy live while the command runs (see {@linkcode LiveSync}): changes
   * on either side reach the other within about a second, not only before and after.
   */
  live?: boolean | undefined;
  /** With `live`: one notice line per batch that changed something (conflicts are always told). */
  verbose?: boolean | undefined;
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

interface Captured {
  code: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  stderrText: string;
}

const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 12);
}

/**
 * A gamma session: one Lima instance (or the host), the configuration, and the host working
 * directory. Construction reads the configuration and finds `limactl`, and does no VM work; the
 * VM starts on demand whenever it is not running (a cheap `ha.pid` check before each guest call).
 *
 * @example Usage
 * ```ts
 * import { GammaSession } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * // DEVSHELL_VM=off runs on the host, so this example needs no Lima.
 * const session = new GammaSession({ env: { DEVSHELL_VM: "off", PATH: "/usr/bin:/bin" } });
 * const result = await session.exec(["echo", "hello"], { stdout: "piped" });
 * assert.equal(new TextDecoder().decode(result.stdout), "hello\n");
 * ```
 */
export class GammaSession {
  /** The resolved configuration. */
  readonly config: GammaConfig;
  /** Where commands run. */
  readonly backend: "lima" | "host";
  /** The `limactl` executable, when the backend is Lima (or when one was found). */
  readonly limactl: string | undefined;
  /** The instance name. */
  readonly instance: string;

  #env: Env;
  #childEnv: Record<string, string> | undefined;
  #cwd: string;
  #notice: (line: string) => void;
  #onLimactl: ((argv: readonly string[]) => void) | undefined;
  #hostNotice: string | undefined;
  #info: InstanceInfo | null | undefined;
  #startedHere = false;
  #workspace: WorkspaceParent | undefined;

  /**
   * Read the configuration and find `limactl`. No VM work.
   *
   * @param options Overrides for tests and embedding programs.
   * @throws {ConfigError} For bad `DEVSHELL_VM_*` values.
   * @throws {LimactlNotFoundError} When the Lima backend is required and there is no `limactl`.
   * @throws {RangeError} For an invalid instance name.
   */
  constructor(options: GammaSessionOptions = {}) {
    this.#env = options.env ?? Deno.env.toObject();
    this.#childEnv = options.env === undefined ? undefined : Object.fromEntries(
      Object.entries(options.env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    this.#cwd = normalizeAbsolutePath(options.cwd ?? Deno.cwd(), "Working directory");
    if (options.instance !== undefined) validateInstanceName(options.instance);
    const files = options.configFiles === false ? [] : options.configFiles ??
      loadConfigFiles(this.#cwd, this.#env, { cacheDir: this.#cacheDir() });
    this.config = resolveConfig(this.#env, {
      flags: { instance: options.instance, template: options.template },
      files,
    });
    this.instance = this.config.instance;
    this.#notice = options.notice ??
      ((line) => Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`)));
    this.#onLimactl = options.onLimactl;

    const explicit = options.limactl ?? this.config.limactl;
    const source = options.limactl !== undefined ? "--limactl" : "DEVSHELL_VM_LIMACTL";
    if (explicit !== undefined) {
      const path = normalizeAbsolutePath(
        explicit.startsWith("/") ? explicit : posix.join(this.#cwd, explicit),
        source,
      );
      if (!isExecutableFile(path)) {
        throw new LimactlNotFoundError(
          `${source} names ${
            JSON.stringify(path)
          }, which is not an executable file; install Lima (https://lima-vm.io/) or point ${source} at limactl`,
        );
      }
      this.limactl = path;
    } else {
      this.limactl = (this.#env["PATH"] ?? "").split(":")
        .filter((dir) => dir.startsWith("/"))
        .map((dir) => posix.join(dir, "limactl"))
        .find(isExecutableFile);
    }

    if (!this.config.enabled || this.config.backend === "host") {
      this.backend = "host";
    } else if (this.limactl !== undefined) {
      this.backend = "lima";
    } else if (this.config.backend === "lima") {
      throw new LimactlNotFoundError();
    } else {
      this.backend = "host";
      this.#hostNotice =
        "gamma: limactl not found in PATH; VM unavailable, running on the host (install Lima from https://lima-vm.io/, set DEVSHELL_VM_LIMACTL, or set DEVSHELL_VM_BACKEND=host to run on the host without this notice)";
    }
  }

  /** The instance directory, `$LIMA_HOME/NAME`. */
  get instanceDir(): string | undefined {
    return this.config.limaHome === undefined
      ? undefined
      : `${this.config.limaHome}/${this.instance}`;
  }

  /** The host working directory this session maps. */
  get cwd(): string {
    return this.#cwd;
  }

  /**
   * The variables the settings files' `env` gives every command: the fixed values, and the
   * passed-through names that are set in this session's environment.
   *
   * @returns Name to value.
   */
  guestEnv(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of this.config.guestEnv.pass) {
      const value = this.#env[name];
      if (value !== undefined) out[name] = value;
    }
    return { ...out, ...this.config.guestEnv.set };
  }

  #cacheDir(): string {
    const xdg = this.#env["XDG_CACHE_HOME"]?.trim();
    if (xdg?.startsWith("/")) return posix.join(xdg, "gamma");
    const home = this.#env["HOME"]?.trim();
    if (home?.startsWith("/")) return posix.join(home, ".cache", "gamma");
    const tmp = this.#env["TMPDIR"]?.trim();
    let user = "user";
    try {
      user = String(Deno.uid() ?? user);
    } catch {
      // Deno.uid() needs --allow-sys, which gamma does not ask for: share the generic name.
    }
    return posix.join(tmp?.startsWith("/") ? tmp : "/tmp", `gamma-${user}`);
  }

  /**
   * A file in gamma's cache directory (`$XDG_CACHE_HOME/gamma`, else `~/.cache/gamma`) for this
   * instance and `LIMA_HOME`: `<cache>/<kind>/<instance>-<hash of LIMA_HOME>.<ext>`.
   *
   * @param kind The sub-directory, e.g. `locks`.
   * @param ext The file extension.
   * @returns The path (not created).
   */
  cacheFile(kind: string, ext: string): string {
    const key = `${sanitizeInstanceSegment(this.instance)}-${
      shortHash(this.config.limaHome ?? "")
    }`;
    return posix.join(this.#cacheDir(), kind, `${key}.${ext}`);
  }

  #command(argv: readonly string[]): CommandBuilder {
    this.#onLimactl?.(argv);
    let builder = new CommandBuilder().command([this.limactl!, ...argv]);
    if (this.#childEnv !== undefined) builder = builder.clearEnv().env(this.#childEnv);
    return builder;
  }

  /**
   * Run one of gamma's own `limactl` calls with output captured. With `call`, it is bounded by
   * that call's time-out: when it expires, `limactl` is killed and a
   * {@linkcode LimactlTimeoutError} names the call.
   */
  async #capture(
    argv: readonly string[],
    stdin: Uint8Array | "null" = "null",
    call?: LimactlCall,
  ): Promise<Captured> {
    const controller = new KillController();
    const running = this.#command(argv).stdin(stdin).stdout("piped").stderr("piped")
      .signal(controller.signal).noThrow().then((r) => r);
    let r: Awaited<typeof running>;
    if (call === undefined) {
      r = await running;
    } else {
      const ms = limactlTimeoutMs(call, this.config.limactlTimeout);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<"expired">((done) => timer = setTimeout(done, ms, "expired"));
      const first = await Promise.race([running, expired]).finally(() => clearTimeout(timer));
      if (first === "expired") {
        controller.kill("SIGKILL");
        // Wait a moment for it to go (a process stuck in the kernel may never), then report.
        let grace: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([running, new Promise((go) => grace = setTimeout(go, 2000))]);
        clearTimeout(grace);
        throw new LimactlTimeoutError(argv, call, ms, limactlTimeoutHint(call, this.instance));
      }
      r = first;
    }
    return { code: r.code, stdout: r.stdoutBytes, stderr: r.stderrBytes, stderrText: r.stderr };
  }

  /**
   * Lima's own Running rule, without running `limactl`: `ha.pid` names a live process.
   *
   * @returns Whether the instance's host agent is alive.
   */
  isRunning(): boolean {
    const dir = this.instanceDir;
    if (dir === undefined) return false;
    let pid: number;
    try {
      pid = Number.parseInt(Deno.readTextFileSync(`${dir}/ha.pid`).trim(), 10);
    } catch {
      return false;
    }
    if (!(pid > 0)) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as { code?: string }).code === "EPERM";
    }
  }

  /**
   * Make sure the VM is running: a cheap `ha.pid` check first, else `limactl start --tty=false
   * NAME` with stdin closed and Lima's progress on stderr. Two gamma processes never start the
   * same instance at once (a lock in the cache directory). A failed start is explained and
   * retried by the next call; a `degraded` start (exit 1, VM up) warns and goes on.
   *
   * @throws {StartError} When the start fails.
   */
  async ensureRunning(): Promise<void> {
    // Checked every time (it is one file read): a VM stopped meanwhile is started again.
    if (this.backend === "host" || this.isRunning()) return;
    const lockPath = this.cacheFile("locks", "lock");
    await Deno.mkdir(posix.dirname(lockPath), { recursive: true });
    const lock = await Deno.open(lockPath, { create: true, write: true });
    try {
      await lock.lock(true);
      // Another gamma may have started it while this one waited for the lock.
      if (this.isRunning()) return;
      await this.#start();
    } finally {
      lock.close();
    }
  }

  async #start(): Promise<void> {
    const dir = this.instanceDir;
    const existed = dir !== undefined && fileStamp(`${dir}/lima.yaml`) !== "none";
    const before = dir === undefined
      ? []
      : [fileStamp(`${dir}/ha.stderr.log`), fileStamp(`${dir}/ha.stdout.log`)];
    const argv = limactlArgs.start(this.instance);
    // Lima's progress goes to our stderr; stdout stays the guest command's. On a terminal Lima
    // writes there itself, in its terminal format; the diagnosis then reads ha.stderr.log alone.
    const direct = Deno.stderr.isTerminal();
    const result = await this.#command(argv).stdin("null").stdout(Deno.stderr)
      .stderr(direct ? "inherit" : "inheritPiped").noThrow();
    this.#info = undefined;
    if (result.code === 0) {
      this.#startedHere = true;
      return;
    }
    const fresh = (name: string, i: number): string | undefined => {
      if (dir === undefined) return undefined;
      const now = fileStamp(`${dir}/${name}`);
      if (now === "none" || now === before[i]) return undefined;
      try {
        return Deno.readTextFileSync(`${dir}/${name}`);
      } catch {
        return undefined;
      }
    };
    const diagnosis = diagnoseStart({
      instance: this.instance,
      limaHome: this.config.limaHome ?? "~/.lima",
      exitCode: result.code,
      startStderr: direct ? "" : result.stderr,
      haStderrLog: fresh("ha.stderr.log", 0),
      haStdoutLog: fresh("ha.stdout.log", 1),
      existed,
    });
    if (diagnosis.degraded && this.isRunning()) {
      this.#notice(`gamma: warning: ${diagnosis.hints[0]}`);
      this.#startedHere = true;
      return;
    }
    throw new StartError(
      this.instance,
      result.code,
      this.config.limaHints ? diagnosis.hints : [],
      diagnosis.logTail,
    );
  }

  /**
   * The instance as `limactl list --json NAME` describes it; `undefined` when it does not exist.
   * Kept for the process; mounts are also kept across runs in the cache directory, keyed by the
   * modification of `limactl` and the instance's YAML files, so a warm `exec` needs no `list`.
   *
   * @param options `fresh: true` always asks `limactl`.
   * @returns The instance facts.
   * @throws {LimactlError} When `limactl list` fails for another reason than a missing instance.
   */
  async instanceInfo(options: { fresh?: boolean } = {}): Promise<InstanceInfo | undefined> {
    if (this.backend === "host") return undefined;
    if (!options.fresh && this.#info !== undefined) return this.#info ?? undefined;
    const cacheFile = this.cacheFile("instances", "json");
    const key = this.#factsKey();
    if (!options.fresh) {
      try {
        const cached = JSON.parse(Deno.readTextFileSync(cacheFile));
        if (cached.key === key) return (this.#info = cached.info as InstanceInfo);
      } catch {
        // No cache yet, or unreadable: ask limactl.
      }
    }
    const argv = limactlArgs.list(this.instance);
    const r = await this.#capture(argv, "null", "list");
    if (r.code !== 0) {
      if (/No instance matching/.test(r.stderrText)) {
        this.#info = null;
        return undefined;
      }
      throw new LimactlError(argv, r.code, r.stderrText);
    }
    const info = parseLimaList(new TextDecoder().decode(r.stdout))
      .find((i) => i.name === this.instance);
    this.#info = info ?? null;
    if (info !== undefined) {
      try {
        await Deno.mkdir(posix.dirname(cacheFile), { recursive: true });
        await Deno.writeTextFile(cacheFile, JSON.stringify({ key, info }));
      } catch {
        // The cache only saves a limactl call; a read-only cache directory costs that call.
      }
    }
    return info;
  }

  /**
   * Every instance `limactl list --json` knows (for `gamma init`).
   *
   * @returns The instances, in Lima's order.
   * @throws {GammaError} On the host backend.
   * @throws {LimactlError} When `limactl list` fails.
   * @throws {LimactlTimeoutError} When it does not finish in time.
   */
  async listInstances(): Promise<InstanceInfo[]> {
    await this.#requireLima("listing instances");
    const argv = limactlArgs.list();
    const r = await this.#capture(argv, "null", "list");
    if (r.code !== 0) throw new LimactlError(argv, r.code, r.stderrText);
    return parseLimaList(new TextDecoder().decode(r.stdout));
  }

  #factsKey(): string {
    const home = this.config.limaHome ?? "";
    return [
      this.limactl ?? "",
      fileStamp(this.limactl ?? ""),
      fileStamp(`${home}/${this.instance}/lima.yaml`),
      fileStamp(`${home}/_config/default.yaml`),
      fileStamp(`${home}/_config/override.yaml`),
    ].join("|");
  }

  /**
   * The host workspace parent (gamma-behaviour §7.1), found once per session.
   *
   * @returns The directory and the rule that chose it.
   */
  workspaceParent(): WorkspaceParent {
    if (this.#workspace) return this.#workspace;
    const c = this.config;
    const cargo = c.workspaceParent === undefined && c.workspaceUseCargoRoot
      ? findCargoWorkspaceRoot(this.#cwd, (dir) => {
        try {
          return Deno.readTextFileSync(posix.join(dir, "Cargo.toml"));
        } catch {
          return undefined;
        }
      })
      : undefined;
    return (this.#workspace = defaultWorkspaceParent({
      override: c.workspaceParent,
      useCargoRoot: c.workspaceUseCargoRoot,
      cargoWorkspaceRoot: cargo,
      instance: this.instance,
      exportBase: c.exportBase,
      xdgCacheHome: this.#env["XDG_CACHE_HOME"],
      home: this.#env["HOME"],
      tempDir: this.#env["TMPDIR"]?.startsWith("/") ? this.#env["TMPDIR"] : "/tmp",
    }));
  }

  /**
   * The configured workspace parent → guest workspace pair, unless a real mount already sits at
   * the guest workspace. Found lazily: only paths no real mount maps pay for it.
   */
  #workspaceMount(real: Mount[]): Mount | undefined {
    const taken = real.some((m) =>
      normalizeAbsolutePath(m.mountPoint) === this.config.guestWorkspace
    );
    if (taken) return undefined;
    return {
      location: this.workspaceParent().path,
      mountPoint: this.config.guestWorkspace,
      writable: true,
    };
  }

  /**
   * A host path made absolute against the working directory, with symlinks resolved in its
   * longest existing prefix (the whole path when it exists).
   *
   * @param path Absolute or relative host path.
   * @returns The canonical path.
   */
  canonicalHostPath(path: string): string {
    return this.#canonical(path);
  }

  #canonical(path: string): string {
    // A path that does not exist yet maps like its longest existing prefix (a link's target).
    return realPathOfPrefix(path.startsWith("/") ? path : posix.join(this.#cwd, path), (p) => {
      try {
        return Deno.realPathSync(p);
      } catch {
        return undefined;
      }
    });
  }

  /**
   * The guest path of a host path (default: the working directory), symlinks resolved, through
   * the instance's real mounts and then the configured workspace parent → guest workspace.
   *
   * @param hostPath Host path, absolute or relative to the working directory.
   * @returns The guest path, or `undefined` when unmapped.
   */
  async guestPathOf(hostPath?: string): Promise<string | undefined> {
    const path = this.#canonical(hostPath ?? this.#cwd);
    const real = (await this.instanceInfo())?.mounts ?? [];
    const mapped = toGuestPath(path, real);
    if (mapped !== undefined) return mapped;
    const workspace = this.#workspaceMount(real);
    return workspace && toGuestPath(path, [workspace]);
  }

  /**
   * The host path a guest path shows, through the same mounts as {@linkcode guestPathOf}.
   *
   * @param guestPath Absolute guest path.
   * @returns The host path, or `undefined` when no mount covers it.
   */
  async hostPathOf(guestPath: string): Promise<string | undefined> {
    const real = (await this.instanceInfo())?.mounts ?? [];
    const workspace = this.#workspaceMount(real);
    return toHostPath(guestPath, workspace ? [...real, workspace] : real);
  }

  /** Why the working directory has no guest path: its mounts and the fixes. */
  async #unmappedError(): Promise<UnmappedPathError> {
    const path = this.#canonical(this.#cwd);
    const real = (await this.instanceInfo())?.mounts ?? [];
    const workspace = this.#workspaceMount(real);
    const describe = (m: Mount): string =>
      `    ${m.location} -> ${m.mountPoint} (${m.writable ? "writable" : "read-only"})`;
    const yaml = this.instanceDir ? `${this.instanceDir}/lima.yaml` : "lima.yaml";
    const lines = [
      `cannot run in instance ${this.instance}: the current directory ${path} is not under any of its mounts`,
      real.length ? `  mounts of ${this.instance}:` : `  instance ${this.instance} has no mounts`,
      ...real.map(describe),
    ];
    if (workspace) {
      lines.push(
        `  workspace parent (${this.workspaceParent().source}):`,
        describe(workspace),
      );
    }
    lines.push(
      "fix: run gamma from inside a mounted directory, or mount this one by adding to",
      `  ${yaml}:`,
      "    mounts:",
      `    - location: ${JSON.stringify(path)}`,
      "      writable: true",
      `  then restart the instance: limactl stop ${this.instance} && limactl start ${this.instance}`,
      "  or name a guest directory with -w GUEST_DIR",
    );
    return new UnmappedPathError(path, this.instance, lines.join("\n"));
  }

  /**
   * Run one command in the guest (or on the host) and wait for it. The working directory is the
   * guest path of the host working directory unless `workdir` is given; `--workdir` is always
   * passed. SIGINT, SIGTERM and SIGHUP that reach gamma meanwhile are passed to the command, and
   * gamma outlives it: without a terminal, to its whole process group in the guest through one
   * extra guest call ({@linkcode relayedCommand}); a second signal, or 5 s after SIGTERM or
   * SIGHUP, kills that group. The code is the command's own, or 128+N for signal N.
   *
   * @param argv The command and its arguments, each passed to the guest as it is.
   * @param options Environment, stdio and working directory.
   * @returns The exit code and captured output.
   * @throws {StartError} When the VM cannot be started.
   * @throws {UnmappedPathError} When no mount shows the working directory.
   */
  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0) throw new TypeError("Cannot run an empty command");
    let builder: CommandBuilder;
    let workdir: string;
    let synced: SyncTarget | undefined;
    if (this.backend === "host") {
      this.#hostNoticeOnce();
      workdir = options.workdir ?? this.#cwd;
      const env = { ...this.guestEnv(), ...options.env };
      builder = new CommandBuilder().command([...argv]).cwd(workdir).env(env);
      if (this.#childEnv !== undefined) {
        builder = builder.clearEnv().env({ ...this.#childEnv, ...env });
      }
    } else {
      await this.ensureRunning();
      const place = options.workdir === undefined
        ? await this.#placeCwd()
        : { workdir: options.workdir, synced: undefined };
      workdir = place.workdir;
      synced = place.synced;
      await firstRunProbe(this, { notice: this.#notice });
      if (!hasTerminal(options)) {
        // No pty, so ssh would pass no signal on: the guest command runs under the relay.
        const file = relayFile(crypto.randomUUID().replaceAll("-", ""));
        const env = { ...this.guestEnv(), ...options.env };
        return await this.#runRelayed(
          relayedCommand(argv, file),
          file,
          { ...options, env },
          workdir,
          synced,
        );
      }
      // A pty carries Ctrl-C; the wrapper only makes a death by signal N exit 128+N, not 255.
      builder = this.#command(
        limactlArgs.shell(this.instance, terminalCommand(argv), {
          workdir,
          env: { ...this.guestEnv(), ...options.env },
        }),
      );
    }
    const stdin = options.stdin ?? "inherit";
    builder = builder.stdin(stdin).stdout(options.stdout ?? "inherit")
      .stderr(options.stderr ?? "inherit");
    const live = synced && options.live ? this.#startLive(synced, options.verbose) : undefined;
    const { code, stdout, stderr } = await runForwarding(builder, ["SIGINT", "SIGTERM", "SIGHUP"]);
    if (live) await this.#stopLive(live);
    else if (synced) await this.#pullAfterRun(synced);
    const result: ExecResult = { code, workdir };
    if (options.stdout === "piped") result.stdout = stdout;
    if (options.stderr === "piped") result.stderr = stderr;
    return result;
  }

  /**
   * Run a relayed guest command ({@linkcode relayedCommand}) through `limactl shell` and wait
   * for it; signals that reach gamma go to its process group ({@linkcode runRelayed}). In sync
   * mode the pull runs afterwards, whatever ended the command, and the code is kept.
   */
  async #runRelayed(
    guestArgv: string[],
    file: string,
    options: ExecOptions & { ignore?: HostSignal[] },
    workdir: string,
    synced: SyncTarget | undefined,
  ): Promise<ExecResult> {
    const argv = limactlArgs.shell(this.instance, guestArgv, { workdir, env: options.env });
    this.#onLimactl?.(argv);
    const live = synced && options.live ? this.#startLive(synced, options.verbose) : undefined;
    const { code, stdout, stderr } = await runRelayed({
      command: this.limactl!,
      args: argv,
      env: this.#childEnv,
      stdin: options.stdin ?? "inherit",
      stdout: options.stdout ?? "inherit",
      stderr: options.stderr ?? "inherit",
      notice: this.#notice,
      ignore: options.ignore,
      signalGuest: async (signal, abort) => {
        const call = limactlArgs.shell(this.instance, relaySignalCommand(file, signal), {
          workdir: "/",
          noTty: true,
        });
        const controller = new KillController();
        abort.addEventListener("abort", () => controller.kill("SIGKILL"));
        const r = await this.#command(call).stdin("null").stdout("null").stderr("piped")
          .signal(controller.signal).noThrow();
        return r.code;
      },
    });
    if (live) await this.#stopLive(live);
    else if (synced) await this.#pullAfterRun(synced);
    const result: ExecResult = { code, workdir };
    if (options.stdout === "piped") result.stdout = stdout;
    if (options.stderr === "piped") result.stderr = stderr;
    return result;
  }

  /**
   * Where a command runs when no `workdir` is given: the guest path of the working directory;
   * or, in sync mode when no mount shows it, its place in the freshly pushed staging copy.
   */
  async #placeCwd(): Promise<{ workdir: string; synced: SyncTarget | undefined }> {
    const mapped = await this.guestPathOf();
    if (mapped !== undefined) return { workdir: mapped, synced: undefined };
    if (this.config.workspaceMode !== "sync") {
      throw await this.#unmappedError();
    }
    const target = await this.syncTarget();
    const rest = posix.relative(target.project, this.#canonical(this.#cwd));
    const ignored = ignoredDirectory(target.project, rest, {
      gitignore: this.config.syncGitignore,
      extraIgnore: this.config.syncIgnore,
    });
    if (ignored !== undefined) {
      const { file, pattern } = ignored.reason;
      throw new GammaError(
        `cannot run in instance ${this.instance}: the current directory ${
          this.#canonical(this.#cwd)
        } is not in sync mode's copy: ${ignored.path} is ignored by ${JSON.stringify(pattern)} in ${
          file.startsWith("(") ? "the settings' sync.ignore" : `${target.project}/${file}`
        }; run gamma from a directory that is synced, or change that rule${
          file.endsWith(".gitignore") ? " (or set DEVSHELL_VM_SYNC_GITIGNORE=0)" : ""
        }`,
      );
    }
    const report = await this.syncProject("push", { target });
    this.#reportSync(report, "push", target);
    if (!report.ok) {
      throw new GammaError(
        `cannot run in instance ${this.instance}: pushing ${target.project} to ${target.staging} failed:\n${
          report.notDone.filter((n) => n.failed).map((n) => `  ${n.action.path}: ${n.reason}`)
            .join("\n")
        }`,
      );
    }
    return {
      workdir: rest ? posix.join(target.guestStaging, rest) : target.guestStaging,
      synced: target,
    };
  }

  /** Live sync for the time a command or shell runs; batches are reported as notices. */
  #startLive(target: SyncTarget, verbose = false): LiveSync {
    let lastError: string | undefined;
    const live = new LiveSync(target.project, target.staging, {
      stateDir: target.stateDir,
      project: target.project,
      gitignore: this.config.syncGitignore,
      extraIgnore: this.config.syncIgnore,
      notice: this.#notice,
      onBatch: (batch) => {
        if (batch.error !== undefined) {
          // A refused batch (such as a mass deletion) changed nothing; say it once.
          if (batch.error.message !== lastError) {
            this.#notice(`gamma: sync: live: ${batch.error.message}`);
          }
          lastError = batch.error.message;
          return;
        }
        lastError = undefined;
        const report = batch.report!;
        this.#reportSync(report, "live", target);
        if (verbose && report.actions.length > 0) this.#notice(liveLine(report));
      },
    });
    try {
      live.start();
    } catch (e) {
      this.#notice(`gamma: sync: live sync could not start: ${(e as Error).message}`);
    }
    return live;
  }

  /** Stop live sync with a last batch both ways; problems are notices, never the exit code. */
  async #stopLive(live: LiveSync): Promise<void> {
    await live.stop();
  }

  /** Pull the guest's changes back after a command; problems are notices, never the exit code. */
  async #pullAfterRun(target: SyncTarget): Promise<void> {
    try {
      const report = await this.syncProject("pull", { target });
      this.#reportSync(report, "pull", target);
    } catch (e) {
      this.#notice(`gamma: sync: pulling the guest's changes back failed: ${(e as Error).message}`);
    }
  }

  #reportSync(report: SyncReport, what: string, target: SyncTarget): void {
    const note = copyStateNote(report, target.staging);
    if (note !== undefined) this.#notice(note);
    for (const s of report.skipped) {
      this.#notice(
        `gamma: sync: ${what} skipped ${s.path} (${s.side}): its name is not valid UTF-8, and gamma syncs only UTF-8 names; rename it to sync it`,
      );
    }
    for (const c of report.conflicts) {
      this.#notice(
        `gamma: sync: conflict at ${c.path}: both sides changed it; the host version stays, the guest's is kept as ${c.conflictPath}`,
      );
    }
    // One line per failed change: the steps skipped after its failure add nothing.
    const reported = new Set<string>();
    const first = report.notDone.filter((n) => !n.reason.startsWith("An earlier step"));
    for (const n of [...first, ...report.notDone.filter((n) => !first.includes(n))]) {
      if (reported.has(n.action.unit)) continue;
      reported.add(n.action.unit);
      this.#notice(
        `gamma: sync: ${what} ${n.failed ? "failed" : "skipped"} ${n.action.path}: ${n.reason}`,
      );
    }
  }

  /**
   * Where Mode S keeps the working directory's project: `<workspace parent>/<project leaf>`,
   * which must be visible in the guest, and the manifest beside it.
   *
   * @returns The target.
   * @throws {GammaError} When the staging copy would be inside the project, the workspace
   * parent is not in the guest, or the staging directory belongs to another project.
   */
  async syncTarget(): Promise<SyncTarget> {
    const cwd = this.#canonical(this.#cwd);
    const project = findProjectRoot(cwd, (path) => {
      try {
        Deno.lstatSync(path);
        return true;
      } catch {
        return false;
      }
    });
    const parent = this.workspaceParent();
    const staging = posix.join(parent.path, posix.basename(project));
    const under = (a: string, b: string): boolean =>
      a === b || a.startsWith(b === "/" ? "/" : `${b}/`);
    if (project === "/") {
      throw new UnmappedPathError(
        cwd,
        this.instance,
        `cannot run in instance ${this.instance}: the current directory ${cwd} is not under any of its mounts, and sync mode does not copy the whole file system; run gamma inside a project, mount the directory (gamma mounts --writable --write --restart), or name a guest directory with -w GUEST_DIR`,
      );
    }
    if (under(staging, project) || under(project, staging)) {
      throw new GammaError(
        `cannot sync ${project} into instance ${this.instance}: its staging copy ${staging} would overlap it; set DEVSHELL_VM_WORKSPACE_PARENT to a directory outside the project, or mount the project (gamma mounts --writable --write --restart)`,
      );
    }
    // Only a real mount will do: the copy must really be in the guest.
    const guestStaging = toGuestPath(staging, (await this.instanceInfo())?.mounts ?? []);
    if (guestStaging === undefined) {
      const yaml = this.instanceDir ? `${this.instanceDir}/lima.yaml` : "lima.yaml";
      throw new UnmappedPathError(
        cwd,
        this.instance,
        [
          `cannot run in instance ${this.instance}: ${cwd} is not under any of its mounts, and sync mode's copy ${staging} is not either`,
          `fix: mount the workspace parent (${parent.source}) by adding to ${yaml}:`,
          "    mounts:",
          `    - location: ${JSON.stringify(parent.path)}`,
          `      mountPoint: ${JSON.stringify(this.config.guestWorkspace)}`,
          "      writable: true",
          `  then restart the instance: limactl stop ${this.instance} && limactl start ${this.instance}`,
          "  or mount the project itself: gamma mounts --writable --write --restart",
          "  or name a guest directory with -w GUEST_DIR",
        ].join("\n"),
      );
    }
    const stateDir = posix.join(
      this.#cacheDir(),
      "sync",
      `${sanitizeInstanceSegment(posix.basename(staging))}-${shortHash(staging)}`,
    );
    if (under(stateDir, parent.path)) {
      throw new GammaError(
        `cannot sync ${project} into instance ${this.instance}: gamma's sync state ${stateDir} would lie inside the workspace parent ${parent.path}, which the guest can write; set XDG_CACHE_HOME or DEVSHELL_VM_WORKSPACE_PARENT so that they are apart`,
      );
    }
    return { project, staging, guestStaging, stateDir };
  }

  /**
   * Sync the working directory's project with its staging copy (Mode S): `push` carries host
   * changes to the guest's copy, `pull` the guest's changes back, `both` does both (with
   * `dryRun`: what `gamma sync status` shows). Deletions propagate, conflicts keep both versions.
   *
   * @param direction `push`, `pull` or `both`.
   * @param options `dryRun`: plan only; `target`: one {@linkcode syncTarget} already found;
   *   `force`, `adopt`, `gitignore` as in `SyncTreesOptions` (`gitignore` defaults to
   *   `DEVSHELL_VM_SYNC_GITIGNORE`).
   * @returns The report.
   */
  async syncProject(
    direction: SyncDirection,
    options: {
      dryRun?: boolean;
      target?: SyncTarget;
      force?: boolean;
      adopt?: boolean;
      gitignore?: boolean;
    } = {},
  ): Promise<SyncReport> {
    const target = options.target ?? await this.syncTarget();
    if (!options.dryRun) await Deno.mkdir(posix.dirname(target.staging), { recursive: true });
    return await syncTrees(direction, new HostTree(target.project), new HostTree(target.staging), {
      stateDir: target.stateDir,
      project: target.project,
      dryRun: options.dryRun ?? false,
      force: options.force ?? false,
      adopt: options.adopt ?? false,
      gitignore: options.gitignore ?? this.config.syncGitignore,
      extraIgnore: this.config.syncIgnore,
      notice: this.#notice,
    });
  }

  /**
   * Keep the working directory's project and its copy live until `signal` aborts (what
   * `gamma sync watch` does): a sync both ways first, then {@linkcode LiveSync}, then a last
   * batch. Conflicts and problems are notices; with `verbose` also one line per batch that
   * changed something.
   *
   * @param options `signal` ends it; `target` as for {@linkcode syncProject}; `verbose`;
   *   `onWatching` is called once the first sync is done and the trees are watched.
   * @returns The first sync's report (it throws as {@linkcode syncProject} does).
   */
  async watchProject(
    options: {
      signal: AbortSignal;
      target?: SyncTarget;
      verbose?: boolean;
      onWatching?: () => void;
    },
  ): Promise<SyncReport> {
    const target = options.target ?? await this.syncTarget();
    const first = await this.syncProject("both", { target });
    this.#reportSync(first, "sync", target);
    if (options.signal.aborted) return first;
    const live = this.#startLive(target, options.verbose);
    options.onWatching?.();
    await new Promise<void>((resolve) =>
      options.signal.addEventListener("abort", () => resolve(), { once: true })
    );
    await this.#stopLive(live);
    return first;
  }

  #hostNoticeOnce(): void {
    if (this.#hostNotice === undefined) return;
    this.#notice(this.#hostNotice);
    this.#hostNotice = undefined;
  }

  /**
   * Open an interactive login shell in the guest at the guest path of the working directory
   * ({@linkcode interactiveShellPlan}) and wait for it. Deno cannot replace its own process, so
   * gamma waits: it ignores SIGINT (the shell handles Ctrl-C) and passes SIGTERM and SIGHUP on.
   * In sync mode the copy is kept live meanwhile ({@linkcode LiveSync}) unless `live` is `false`.
   *
   * @param options `live` (default `true`): sync both ways while the shell runs; `verbose`: a
   *   notice line per batch that changed something.
   * @returns The shell's exit code.
   * @throws {StartError} When the VM cannot be started.
   * @throws {UnmappedPathError} When no mount shows the working directory.
   */
  async shell(options: { live?: boolean; verbose?: boolean } = {}): Promise<number> {
    let builder: CommandBuilder;
    let synced: SyncTarget | undefined;
    if (this.backend === "host") {
      this.#hostNoticeOnce();
      const shell = this.#env["SHELL"]?.startsWith("/") ? this.#env["SHELL"] : "/bin/sh";
      builder = new CommandBuilder().command([shell, "-l"]).cwd(this.#cwd).env(this.guestEnv());
    } else {
      await this.ensureRunning();
      const place = await this.#placeCwd();
      synced = place.synced;
      await firstRunProbe(this, { notice: this.#notice });
      await provisionGuest(this, { notice: this.#notice });
      const plan = interactiveShellPlan({
        workdir: place.workdir,
        hostDirLink: this.config.guestHostDir,
      });
      const script = ["/bin/sh", "-c", plan.script];
      if (!hasTerminal({})) {
        // A piped script: SIGTERM and SIGHUP reach the shell through the relay.
        const file = relayFile(crypto.randomUUID().replaceAll("-", ""));
        const relay = {
          ignore: ["SIGINT" as const],
          env: this.guestEnv(),
          live: options.live ?? true,
          verbose: options.verbose ?? false,
        };
        return (await this.#runRelayed(
          relayedCommand(script, file),
          file,
          relay,
          plan.workdir,
          synced,
        )).code;
      }
      builder = this.#command(
        limactlArgs.shell(this.instance, script, { workdir: plan.workdir, env: this.guestEnv() }),
      );
    }
    builder = builder.stdin("inherit").stdout("inherit").stderr("inherit");
    const live = synced && (options.live ?? true)
      ? this.#startLive(synced, options.verbose)
      : undefined;
    const { code } = await runForwarding(builder, ["SIGTERM", "SIGHUP"], ["SIGINT"]);
    if (live) await this.#stopLive(live);
    else if (synced) await this.#pullAfterRun(synced);
    return code;
  }

  /**
   * Run a command in the guest with output captured and no terminal (`--tty=false`): for probes
   * and file operations. stdin is closed unless bytes are given. Bounded by the `probe` time-out
   * unless `bounded: false` (file transfers, whose length has no fixed bound).
   *
   * @param argv The command and its arguments.
   * @param options `workdir` (default `/`), `stdin` bytes, and `bounded` (default `true`).
   * @returns Exit code, stdout bytes and stderr text.
   * @throws {GammaError} On the host backend.
   * @throws {StartError} When the VM cannot be started.
   * @throws {LimactlTimeoutError} When a bounded call does not finish in time.
   */
  async capture(
    argv: readonly string[],
    options: { workdir?: string; stdin?: Uint8Array; bounded?: boolean } = {},
  ): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
    await this.#requireLima("capture");
    await this.ensureRunning();
    const r = await this.#capture(
      limactlArgs.shell(this.instance, argv, { workdir: options.workdir ?? "/", noTty: true }),
      options.stdin ?? "null",
      options.bounded === false ? undefined : "probe",
    );
    return { code: r.code, stdout: r.stdout, stderr: r.stderrText };
  }

  /**
   * Run a `/bin/sh -c` script in the guest with stdin closed and output captured (for probes).
   *
   * @param script The script.
   * @param options `workdir` (default `/`).
   * @returns Exit code, stdout and stderr as text.
   */
  async output(
    script: string,
    options: { workdir?: string } = {},
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const r = await this.capture(["/bin/sh", "-c", script], options);
    return { code: r.code, stdout: new TextDecoder().decode(r.stdout), stderr: r.stderr };
  }

  /**
   * Write bytes to a guest file by piping them to `cat` in the guest.
   *
   * @param guestPath Absolute guest path.
   * @param data The bytes.
   * @throws {LimactlError} When the guest cannot write the file.
   */
  async writeFile(guestPath: string, data: Uint8Array): Promise<void> {
    const path = normalizeAbsolutePath(guestPath, "Guest path");
    const argv = ["/bin/sh", "-c", 'cat >"$1"', "sh", path];
    const r = await this.capture(argv, { stdin: data });
    if (r.code !== 0) throw new LimactlError(["shell", this.instance, ...argv], r.code, r.stderr);
  }

  #requireLima(what: string): Promise<void> {
    if (this.backend !== "lima") {
      return Promise.reject(
        new GammaError(`${what} needs the Lima backend, but gamma runs on the host`),
      );
    }
    return Promise.resolve();
  }

  /**
   * Start the VM now (`gamma start`).
   *
   * @throws {StartError} When the start fails.
   */
  async start(): Promise<void> {
    await this.#requireLima("start");
    await this.ensureRunning();
  }

  /**
   * Stop the VM with `limactl stop NAME`.
   *
   * @throws {LimactlError} When `limactl stop` fails (for example, the VM is not running).
   */
  async stop(): Promise<void> {
    await this.#requireLima("stop");
    const argv = limactlArgs.stop(this.instance);
    const r = await this.#command(argv).stdin("null").stdout(Deno.stderr).stderr("inheritPiped")
      .noThrow();
    if (r.code !== 0) throw new LimactlError(argv, r.code, r.stderr);
  }

  /**
   * End the session: with `DEVSHELL_VM_STOP_ON_EXIT`, stop the VM, but only when this session
   * started it (other terminals may be using a VM they found running).
   *
   * @returns Whether the VM was stopped.
   */
  async close(): Promise<boolean> {
    if (!this.config.stopOnExit || !this.#startedHere) return false;
    await this.stop();
    this.#startedHere = false;
    return true;
  }

  /**
   * Everything gamma knows about its setup (`gamma status`).
   *
   * @returns The status.
   */
  async status(): Promise<GammaStatus> {
    let limactlVersion: string | undefined;
    let info: InstanceInfo | undefined;
    if (this.limactl !== undefined && this.backend === "lima") {
      const v = await this.#capture(limactlArgs.version(), "null", "version");
      limactlVersion = new TextDecoder().decode(v.stdout).match(/(\d+\.\d+\.\d+\S*)/)?.[1];
      info = await this.instanceInfo({ fresh: true });
    }
    const workspace = this.workspaceParent();
    return {
      backend: this.backend,
      instance: this.instance,
      limaStatus: this.backend === "host" ? "" : info?.status ?? "Missing",
      limactl: this.limactl,
      limactlVersion,
      limaHome: this.config.limaHome,
      mounts: info?.mounts ?? [],
      workspaceParent: workspace.path,
      workspaceParentSource: workspace.source,
      guestWorkspace: this.config.guestWorkspace,
      mode: this.config.workspaceMode,
      cwd: this.#canonical(this.#cwd),
      guestCwd: this.backend === "host" ? undefined : await this.guestPathOf(),
      projectFile: this.config.projectFile,
    };
  }
}

/**
 * Whether the transport would get a pty: Lima asks ssh for one (`-t`) when stdout is a terminal,
 * and ssh allocates it only when stdin is one too. Then the terminal carries Ctrl-C itself.
 */
function hasTerminal(options: Pick<ExecOptions, "stdin" | "stdout">): boolean {
  return (options.stdin ?? "inherit") === "inherit" && Deno.stdin.isTerminal() &&
    (options.stdout ?? "inherit") === "inherit" && Deno.stdout.isTerminal();
}

/**
 * Run a command while gamma holds SIGINT/SIGTERM/SIGHUP: `forward` ones go to the child, `ignore`
 * ones are swallowed, so gamma never dies before its child.
 */
async function runForwarding(
  builder: CommandBuilder,
  forward: Deno.Signal[],
  ignore: Deno.Signal[] = [],
): Promise<{ code: number; stdout: Uint8Array; stderr: Uint8Array }> {
  const controller = new KillController();
  let forwarded: Deno.Signal | undefined;
  const listeners: [Deno.Signal, () => void][] = [
    ...forward.map((sig): [Deno.Signal, () => void] => [sig, () => {
      forwarded = sig;
      controller.kill(sig as NonNullable<Parameters<KillController["kill"]>[0]>);
    }]),
    ...ignore.map((sig): [Deno.Signal, () => void] => [sig, () => {}]),
  ];
  for (const [sig, fn] of listeners) Deno.addSignalListener(sig, fn);
  try {
    const r = await builder.signal(controller.signal).noThrow();
    let code = r.code;
    // dax maps a child it killed with SIGHUP to exit code 1; report it the shell's way.
    if (forwarded === "SIGHUP" && code === 1) code = 128 + SIGNAL_NUMBERS.SIGHUP!;
    const piped = (get: () => Uint8Array): Uint8Array => {
      try {
        return get();
      } catch {
        return new Uint8Array();
      }
    };
    return { code, stdout: piped(() => r.stdoutBytes), stderr: piped(() => r.stderrBytes) };
  } finally {
    for (const [sig, fn] of listeners) Deno.removeSignalListener(sig, fn);
  }
}
