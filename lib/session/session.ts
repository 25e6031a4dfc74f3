/**
 * {@linkcode GammaSession}, the object scripts hold: it reads the configuration, finds `limactl`,
 * and runs commands (placing each one, the signal relay, live sync, stop signals and time-outs).
 * The rest lives beside it, each in a module that never imports this one: starting the instance
 * and its facts (`instance.ts`), how guest commands reach it (`transport.ts`), placing the working
 * directory (`placement.ts`), Mode S's copy (`mode_s.ts`), the first-run probe and provisioning
 * (`probe.ts`, `provision.ts`), and the option and result types (`types.ts`).
 *
 * @module
 */

// dax, node:crypto and node:process are not imported here: loading them costs more than a warm
// `gamma exec` over ssh does in all (bench/README.md). dax loads on the first limactl call.
import { posix } from "node:path";
import { type ConfigFile, type Env, type GammaConfig, resolveConfig } from "../config.ts";
import { settingsReader } from "./_settings_reader.ts";
import {
  CommandAbortedError,
  CommandTimeoutError,
  HostBackendError,
  LimactlError,
  LimactlNotFoundError,
  type UnmappedPathError,
} from "../errors.ts";
import { coveringMount, normalizeAbsolutePath } from "../guest_path.ts";
import { validateInstanceName } from "../instance_name.ts";
import type { InstanceInfo } from "../lima_list.ts";
import { guestArgv, limactlArgs } from "../limactl_args.ts";
import { relayedCommand, relayFile, relaySignalCommand, terminalCommand } from "../signal_relay.ts";
import { fileStamp, isExecutableFile } from "./_files.ts";
import { runHostProgram } from "./host_run.ts";
import type { LiveSync } from "./live_sync.ts";
import { type HostSignal, runRelayed } from "./relay.ts";
import type { SyncReport } from "./sync.ts";
import type { SyncDirection } from "../sync/plan.ts";
import type { WorkspaceParent } from "../workspace_parent.ts";
import {
  canonicalPath,
  findWorkspaceParent,
  guestPathThrough,
  hostPathThrough,
  type PlacementContext,
  unmappedCwdError,
} from "./placement.ts";
import { gammaCacheDir, LimaInstance } from "./instance.ts";
import { hasTerminal, Transport } from "./transport.ts";
// Mode S (and with it the sync engine) loads on first use: a warm exec in a mounted project
// never needs it.
import type { ModeSContext } from "./mode_s.ts";
import type {
  CaptureOptions,
  CaptureResult,
  ExecOptions,
  ExecResult,
  GammaSessionOptions,
  GammaStatus,
  GuestTransport,
  OutputResult,
  ShellOptions,
  SyncProjectOptions,
  SyncTarget,
} from "./types.ts";

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
  #limaOutput: "inherit" | "null";
  #onLimactl: ((argv: readonly string[]) => void) | undefined;
  #onGuestCommand: ((transport: GuestTransport, argv: readonly string[]) => void) | undefined;
  #hostNotice: string | undefined;
  /** Starting the instance and its facts (lib/session/instance.ts). */
  #lima: LimaInstance;
  /** How guest commands reach the instance (lib/session/transport.ts). */
  #transport: Transport;
  #workspace: WorkspaceParent | undefined;

  /**
   * Read the configuration and find `limactl`. No VM work.
   *
   * @param options Overrides for tests and embedding programs.
   * @throws {ConfigError} For bad `DEVSHELL_VM_*` values.
   * @throws {LimactlNotFoundError} When the Lima backend is required and there is no `limactl`.
   * @throws {InvalidInstanceNameError} For an invalid instance name.
   */
  constructor(options: GammaSessionOptions = {}) {
    this.#env = options.env ?? Deno.env.toObject();
    this.#childEnv = options.env === undefined ? undefined : Object.fromEntries(
      Object.entries(options.env).filter((e): e is [string, string] => e[1] !== undefined),
    );
    this.#cwd = normalizeAbsolutePath(options.cwd ?? Deno.cwd(), "Working directory");
    if (options.instance !== undefined) validateInstanceName(options.instance);
    const files = options.configFiles === false ? [] : options.configFiles ?? this.#readSettings();
    this.config = resolveConfig(this.#env, {
      flags: { instance: options.instance, template: options.template },
      files,
    });
    this.instance = this.config.instance;
    this.#notice = options.notice ??
      ((line) => Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`)));
    this.#limaOutput = options.stderr ?? (options.notice === undefined ? "inherit" : "null");
    this.#onLimactl = options.onLimactl;
    this.#onGuestCommand = options.onGuestCommand;

    const explicit = options.limactl ?? this.config.limactl;
    const source = options.limactl !== undefined ? "--limactl" : "DEVSHELL_VM_LIMACTL";
    const onPath = (name: string): string | undefined =>
      (this.#env["PATH"] ?? "").split(":")
        .filter((dir) => dir.startsWith("/"))
        .map((dir) => posix.join(dir, name))
        .find(isExecutableFile);
    if (explicit !== undefined) {
      // One rule for --limactl and DEVSHELL_VM_LIMACTL, as a shell reads a command: a name
      // without "/" is looked up on PATH, anything else is a path (relative to the cwd).
      const path = explicit.includes("/")
        ? normalizeAbsolutePath(
          explicit.startsWith("/") ? explicit : posix.join(this.#cwd, explicit),
          source,
        )
        : onPath(explicit);
      if (path === undefined || !isExecutableFile(path)) {
        throw new LimactlNotFoundError(
          `${source} names ${JSON.stringify(path ?? explicit)}, which is not an executable file${
            path === undefined ? " on PATH" : ""
          }; install Lima (https://lima-vm.io/) or point ${source} at limactl`,
        );
      }
      this.limactl = path;
    } else {
      this.limactl = onPath("limactl");
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
    this.#lima = new LimaInstance({
      instance: this.instance,
      config: this.config,
      backend: this.backend,
      limactl: this.limactl,
      env: this.#env,
      childEnv: this.#childEnv,
      notice: this.#notice,
      onLimactl: this.#onLimactl,
      limaOutput: this.#limaOutput,
    });
    this.#transport = new Transport({
      instance: this.instance,
      instanceDir: this.instanceDir,
      config: this.config,
      env: this.#env,
      childEnv: this.#childEnv,
      limactl: this.limactl,
      onGuestCommand: this.#onGuestCommand,
      onLimactl: this.#onLimactl,
      lima: this.#lima,
    });
  }

  /**
   * The settings files for the working directory, through the reader config_files.ts installs
   * (mod.ts loads it; a program importing session.ts alone passes `configFiles` or imports it).
   */
  #readSettings(): ConfigFile[] {
    const read = settingsReader();
    if (read === undefined) {
      throw new TypeError(
        "Cannot read gamma's settings files: lib/session/config_files.ts is not loaded; import @devshell/gamma (mod.ts), or pass configFiles",
      );
    }
    return read(this.#cwd, this.#env, { cacheDir: gammaCacheDir(this.#env) });
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

  /**
   * A file in gamma's cache directory (`$XDG_CACHE_HOME/gamma`, else `~/.cache/gamma`) for this
   * instance and `LIMA_HOME`: `<cache>/<kind>/<instance>-<hash of LIMA_HOME>.<ext>`.
   *
   * @param kind The sub-directory, e.g. `locks`.
   * @param ext The file extension.
   * @returns The path (not created).
   */
  cacheFile(kind: string, ext: string): string {
    return this.#lima.cacheFile(kind, ext);
  }

  /**
   * Lima's own Running rule, without running `limactl`: `ha.pid` names a live process.
   *
   * @returns Whether the instance's host agent is alive.
   */
  isRunning(): boolean {
    return this.#lima.isRunning();
  }

  /**
   * Make sure the VM is running: a cheap `ha.pid` check first, else `limactl start`; two gamma
   * processes never start the same instance at once. A failed start is explained and retried by
   * the next call; a `degraded` start (exit 1, VM up) warns and goes on. An instance that does
   * not exist is never created here.
   *
   * @throws {MissingInstanceError} When the instance does not exist.
   * @throws {StartError} When the start fails.
   */
  async ensureRunning(): Promise<void> {
    await this.#lima.ensureRunning();
  }

  /**
   * Fail unless the instance exists, naming the closest existing names and the command that
   * creates it.
   *
   * @throws {MissingInstanceError} When it does not exist.
   */
  async requireInstance(): Promise<void> {
    await this.#lima.requireInstance();
  }

  /**
   * Create the instance with `limactl create` unless it exists, then start it
   * (`gamma start --create`).
   *
   * @param template A Lima template locator, file or URL; default the settings' `template`,
   * then `template:default`.
   * @returns Whether it was created.
   * @throws {HostBackendError} On the host backend.
   * @throws {LimactlError} When `limactl create` fails.
   * @throws {StartError} When the start fails.
   */
  async create(template?: string): Promise<boolean> {
    return await this.#lima.create(template);
  }

  /**
   * The instance as `limactl list --json NAME` describes it; `undefined` when it does not exist.
   * Kept for the process, and across runs in the cache directory.
   *
   * @param options `fresh: true` always asks `limactl`.
   * @returns The instance facts.
   * @throws {LimactlError} When `limactl list` fails for another reason than a missing instance.
   */
  async instanceInfo(options: { fresh?: boolean } = {}): Promise<InstanceInfo | undefined> {
    return await this.#lima.instanceInfo(options);
  }

  /**
   * Every Lima instance (`limactl list --json`).
   *
   * @returns The instances.
   * @throws {HostBackendError} On the host backend.
   */
  async listInstances(): Promise<InstanceInfo[]> {
    return await this.#lima.listInstances();
  }

  /**
   * The host workspace parent (gamma-behaviour §7.1), found once per session.
   *
   * @returns The directory and the rule that chose it.
   */
  workspaceParent(): WorkspaceParent {
    return this.#workspace ??= findWorkspaceParent(this.#placement());
  }

  /** The facts placing reads (lib/session/placement.ts). */
  #placement(): PlacementContext {
    return {
      instance: this.instance,
      config: this.config,
      env: this.#env,
      cwd: this.#cwd,
      instanceDir: this.instanceDir,
      mounts: async () => (await this.instanceInfo())?.mounts ?? [],
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
    return canonicalPath(this.#cwd, path);
  }

  /**
   * The guest path of a host path (default: the working directory), symlinks resolved, through
   * the instance's real mounts only: a path no mount shows has no guest path (the workspace
   * parent is never assumed to be mounted; Mode S copies such a project instead).
   *
   * @param hostPath Host path, absolute or relative to the working directory.
   * @returns The guest path, or `undefined` when unmapped.
   */
  async guestPathOf(hostPath?: string): Promise<string | undefined> {
    return await guestPathThrough(this.#placement(), hostPath ?? this.#cwd);
  }

  /**
   * The host path a guest path shows, through the same mounts as {@linkcode guestPathOf}.
   *
   * @param guestPath Absolute guest path.
   * @returns The host path, or `undefined` when no mount covers it.
   */
  async hostPathOf(guestPath: string): Promise<string | undefined> {
    return await hostPathThrough(this.#placement(), guestPath);
  }

  /** Why the working directory has no guest path: its mounts and the fixes. */
  async #unmappedError(): Promise<UnmappedPathError> {
    return await unmappedCwdError(this.#placement(), this.workspaceParent());
  }

  /**
   * Run one command in the guest (or on the host) and wait for it. The working directory is the
   * guest path of the host working directory unless `workdir` is given; `--workdir` is always
   * passed. SIGINT, SIGTERM and SIGHUP that reach gamma meanwhile are passed to the command, and
   * gamma outlives it: without a terminal, to its whole process group in the guest through one
   * extra guest call ({@linkcode relayedCommand}); a second signal, or 5 s after SIGTERM or
   * SIGHUP, kills that group. The code is the command's own, or 128+N for signal N.
   *
   * With `signal` or `timeout`, the command runs under the signal relay even on a terminal
   * (no pty), so that gamma can stop it in the guest: SIGTERM to its process group, SIGKILL 5 s
   * later, and the call rejects once it has ended (after the Mode S pull, if any).
   *
   * @param argv The command and its arguments, each passed to the guest as it is.
   * @param options Environment, stdio, working directory, `signal` and `timeout`.
   * @returns The exit code and captured output.
   * @throws {StartError} When the VM cannot be started.
   * @throws {UnmappedPathError} When no mount shows the working directory.
   * @throws {CommandTimeoutError} When `timeout` expired and the command was stopped.
   * @throws {CommandAbortedError} When `signal` was aborted (before or during the run).
   */
  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0) throw new TypeError("Cannot run an empty command");
    return await this.#asUser(() => this.#execStoppable(argv, options));
  }

  async #execStoppable(argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
    const control = this.#runControl(argv, options);
    try {
      const result = await this.#exec(argv, options, control.stop);
      control.check(result, options);
      return result;
    } finally {
      control.dispose();
    }
  }

  /**
   * The stop signal of one run (its `signal` and `timeout`, whichever comes first) and how to
   * report it: `check` throws the {@linkcode CommandTimeoutError} or
   * {@linkcode CommandAbortedError} once the stopped command has ended.
   */
  #runControl(
    argv: readonly string[],
    options: { signal?: AbortSignal | undefined; timeout?: number | undefined },
  ): {
    stop: AbortSignal | undefined;
    check(
      result: { code: number; workdir?: string; stdout?: Uint8Array; stderr?: Uint8Array },
      piped: {
        stdout?: "inherit" | "piped" | undefined;
        stderr?: "inherit" | "piped" | undefined;
      },
    ): void;
    dispose(): void;
  } {
    const { signal, timeout } = options;
    if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
      throw new RangeError(
        `Invalid timeout ${timeout}: use a positive number of milliseconds, or leave it out`,
      );
    }
    const instance = this.backend === "host" ? "" : this.instance;
    if (signal?.aborted) {
      throw new CommandAbortedError(
        { instance, argv, workdir: undefined, exitCode: undefined },
        signal.reason,
      );
    }
    if (signal === undefined && timeout === undefined) {
      return { stop: undefined, check: () => {}, dispose: () => {} };
    }
    const controller = new AbortController();
    let timedOut = false;
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer = timeout === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeout);
    return {
      stop: controller.signal,
      check: (result, piped) => {
        if (!controller.signal.aborted) return;
        const stopped = {
          instance,
          argv,
          workdir: result.workdir,
          exitCode: result.code,
          stdout: piped.stdout === "piped" ? result.stdout : undefined,
          stderr: piped.stderr === "piped" ? result.stderr : undefined,
        };
        throw timedOut
          ? new CommandTimeoutError(stopped, timeout!)
          : new CommandAbortedError(stopped, signal?.reason);
      },
      dispose: () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      },
    };
  }

  async #exec(
    argv: readonly string[],
    options: ExecOptions,
    stop: AbortSignal | undefined,
  ): Promise<ExecResult> {
    let workdir: string;
    let synced: SyncTarget | undefined;
    let ran: { code: number; stdout: Uint8Array; stderr: Uint8Array };
    let live: LiveSync | undefined;
    const stdio = {
      stdin: options.stdin ?? "inherit",
      stdout: options.stdout ?? "inherit",
      stderr: options.stderr ?? "inherit",
    } as const;
    if (this.backend === "host") {
      this.#hostNoticeOnce();
      workdir = options.workdir ?? this.#cwd;
      // The program itself, as a shell would run it (no dax shell, so no built-ins).
      ran = await runHostProgram(argv, {
        cwd: workdir,
        env: this.#childEnv,
        extraEnv: { ...this.guestEnv(), ...options.env },
        ...stdio,
        forward: ["SIGINT", "SIGTERM", "SIGHUP"],
        ignore: [],
        notice: this.#notice,
        stop,
      });
    } else {
      await this.ensureRunning();
      const place = options.workdir === undefined
        ? await this.#placeCwd()
        : { workdir: options.workdir, synced: undefined };
      workdir = place.workdir;
      synced = place.synced;
      await this.#firstRunProbe();
      const env = { ...this.guestEnv(), ...options.env };
      if (!hasTerminal(options) || stop !== undefined) {
        // No pty, so ssh would pass no signal on (or a script may stop the command): the guest
        // command runs under the relay.
        const file = relayFile(crypto.randomUUID().replaceAll("-", ""));
        return await this.#runRelayed(
          relayedCommand(argv, file),
          file,
          { ...options, env, stop },
          workdir,
          synced,
        );
      }
      // A pty carries Ctrl-C; the wrapper only makes a death by signal N exit 128+N, not 255.
      live = synced && options.live ? await this.#startLive(synced, options.verbose) : undefined;
      ran = await this.#transport.run(guestArgv(terminalCommand(argv), env), {
        workdir,
        ...stdio,
        forward: ["SIGINT", "SIGTERM", "SIGHUP"],
      });
    }
    return await this.#finishRun(ran, options, workdir, synced, live);
  }

  /**
   * Run a relayed guest command ({@linkcode relayedCommand}) through `limactl shell` and wait
   * for it; signals that reach gamma go to its process group ({@linkcode runRelayed}). In sync
   * mode the pull runs afterwards, whatever ended the command, and the code is kept.
   */
  async #runRelayed(
    relayed: string[],
    file: string,
    options: ExecOptions & {
      ignore?: HostSignal[];
      stop?: AbortSignal | undefined;
      noTty?: boolean;
    },
    workdir: string,
    synced: SyncTarget | undefined,
  ): Promise<ExecResult> {
    // The relayed argv goes through the transport like any other guest argv.
    const run = this.#transport.command(guestArgv(relayed, options.env), workdir, {
      tty: !options.noTty && (options.stdout ?? "inherit") === "inherit",
      ...(options.noTty ? { noTty: true } : {}),
    });
    const live = synced && options.live
      ? await this.#startLive(synced, options.verbose)
      : undefined;
    const { code, stdout, stderr } = await runRelayed({
      command: run.program,
      args: run.args,
      env: this.#childEnv,
      stdin: options.stdin ?? "inherit",
      stdout: options.stdout ?? "inherit",
      stderr: options.stderr ?? "inherit",
      notice: this.#notice,
      ignore: options.ignore,
      stop: options.stop,
      signalGuest: async (signal, abort) => {
        const call = this.#transport.command(guestArgv(relaySignalCommand(file, signal)), "/", {
          tty: false,
          noTty: true,
        });
        const child = new Deno.Command(call.program, {
          args: call.args,
          ...(this.#childEnv === undefined ? {} : { clearEnv: true, env: this.#childEnv }),
          stdin: "null",
          stdout: "null",
          stderr: "piped",
        }).spawn();
        const kill = (): void => {
          try {
            child.kill("SIGKILL");
          } catch {
            // already gone
          }
        };
        abort.addEventListener("abort", kill);
        return (await child.output()).code;
      },
    });
    return await this.#finishRun({ code, stdout, stderr }, options, workdir, synced, live);
  }

  /**
   * After a guest command: `#afterRun` (whatever ended the command), then
   * its result, with the output that was piped.
   */
  async #finishRun(
    ran: { code: number; stdout: Uint8Array; stderr: Uint8Array },
    options: ExecOptions,
    workdir: string,
    synced: SyncTarget | undefined,
    live: LiveSync | undefined,
  ): Promise<ExecResult> {
    await this.#afterRun(synced, live);
    const result: ExecResult = { code: ran.code, workdir };
    if (options.stdout === "piped") result.stdout = ran.stdout;
    if (options.stderr === "piped") result.stderr = ran.stderr;
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
    await this.requireInstance();
    const { pushForRun } = await import("./mode_s.ts");
    return await pushForRun(this.#modeS());
  }

  /** Live sync for the time a command or shell runs; batches are reported as notices. */
  async #startLive(target: SyncTarget, verbose = false): Promise<LiveSync> {
    const { LiveSync, liveLine } = await import("./live_sync.ts");
    const { reportSync } = await import("./mode_s.ts");
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
        reportSync(this.#modeS(), report, "live", target);
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

  /** The guest path of the working directory, or why there is none. */
  async #mappedCwd(): Promise<string> {
    const mapped = await this.guestPathOf();
    if (mapped === undefined) throw await this.#unmappedError();
    return mapped;
  }

  /** Pull the guest's changes back after a command; problems are notices, never the exit code. */
  async #pullAfterRun(target: SyncTarget): Promise<void> {
    const { pullAfterRun } = await import("./mode_s.ts");
    await pullAfterRun(this.#modeS(), target);
  }

  /** The facts Mode S reads (lib/session/mode_s.ts). */
  #modeS(): ModeSContext {
    return {
      instance: this.instance,
      config: this.config,
      instanceDir: this.instanceDir,
      cwd: this.#canonical(this.#cwd),
      cacheDir: gammaCacheDir(this.#env),
      notice: this.#notice,
      progress: this.#limaOutput === "inherit" ? "auto" : false,
      workspaceParent: () => this.workspaceParent(),
      mounts: async () => (await this.instanceInfo())?.mounts ?? [],
    };
  }

  /**
   * Where Mode S keeps the working directory's project: `<workspace parent>/<project leaf>`,
   * which must be visible in the guest, and its sync state in gamma's cache directory.
   *
   * @returns The target.
   * @throws {UnmappedPathError} When the copy would not be in the guest.
   * @throws {SyncError} When the staging copy would overlap the project, or gamma's state would
   * lie where the guest can write.
   */
  async syncTarget(): Promise<SyncTarget> {
    await this.requireInstance();
    const { findSyncTarget } = await import("./mode_s.ts");
    return await findSyncTarget(this.#modeS());
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
    options: SyncProjectOptions = {},
  ): Promise<SyncReport> {
    const { syncProjectWith } = await import("./mode_s.ts");
    return await syncProjectWith(this.#modeS(), direction, options);
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
    (await import("./mode_s.ts")).reportSync(this.#modeS(), first, "sync", target);
    if (options.signal.aborted) return first;
    const live = await this.#startLive(target, options.verbose);
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
   * (`interactiveShellPlan`) and wait for it. Deno cannot replace its own process, so
   * gamma waits: it ignores SIGINT (the shell handles Ctrl-C) and passes SIGTERM and SIGHUP on.
   * In sync mode the copy is kept live meanwhile ({@linkcode LiveSync}) unless `live` is `false`.
   *
   * @param options `live` (default `true`): sync both ways while the shell runs; `verbose`: a
   *   notice line per batch that changed something; `signal` and `timeout`, as for
   *   {@linkcode exec} (the shell then has no pty).
   * @returns The shell's exit code.
   * @throws {CommandTimeoutError} When `timeout` expired and the shell was stopped.
   * @throws {CommandAbortedError} When `signal` was aborted.
   * @throws {StartError} When the VM cannot be started.
   * @throws {UnmappedPathError} When no mount shows the working directory.
   */
  async shell(options: ShellOptions = {}): Promise<number> {
    return await this.#asUser(() => this.#shellStoppable(options));
  }

  async #shellStoppable(options: ShellOptions): Promise<number> {
    const control = this.#runControl(["shell"], options);
    try {
      const code = await this.#shell(options, control.stop);
      control.check({ code }, {});
      return code;
    } finally {
      control.dispose();
    }
  }

  async #shell(options: ShellOptions, stop: AbortSignal | undefined): Promise<number> {
    const stdio = { stdin: "inherit", stdout: "inherit", stderr: "inherit" } as const;
    if (this.backend === "host") {
      this.#hostNoticeOnce();
      const shell = this.#env["SHELL"]?.startsWith("/") ? this.#env["SHELL"] : "/bin/sh";
      // Like the Lima path: the shell handles Ctrl-C itself; SIGTERM and SIGHUP are passed on.
      const ran = await runHostProgram([shell, "-l"], {
        cwd: this.#cwd,
        env: this.#childEnv,
        extraEnv: this.guestEnv(),
        ...stdio,
        forward: ["SIGTERM", "SIGHUP"],
        ignore: ["SIGINT"],
        notice: this.#notice,
        stop,
      });
      return ran.code;
    }
    await this.ensureRunning();
    const place = await this.#placeCwd();
    await this.#firstRunProbe();
    const { provisionGuest } = await import("./provision.ts");
    await provisionGuest(this, {
      notice: this.#notice,
      output: this.#limaOutput === "inherit" ? "inherit" : "piped",
    });
    const { interactiveShellPlan } = await import("../shell_plan.ts");
    const plan = interactiveShellPlan({
      workdir: place.workdir,
      hostDirLink: this.config.guestHostDir,
    });
    const script = ["/bin/sh", "-c", plan.script];
    if (!hasTerminal({}) || stop !== undefined) {
      // A piped script (or one a script may stop): SIGTERM and SIGHUP reach the shell through
      // the relay.
      const file = relayFile(crypto.randomUUID().replaceAll("-", ""));
      const relay = {
        ignore: ["SIGINT" as const],
        env: this.guestEnv(),
        live: options.live ?? true,
        verbose: options.verbose ?? false,
        stop,
      };
      return (await this.#runRelayed(
        relayedCommand(script, file),
        file,
        relay,
        plan.workdir,
        place.synced,
      )).code;
    }
    const live = place.synced && (options.live ?? true)
      ? await this.#startLive(place.synced, options.verbose)
      : undefined;
    const { code } = await this.#transport.run(guestArgv(script, this.guestEnv()), {
      workdir: plan.workdir,
      ...stdio,
      forward: ["SIGTERM", "SIGHUP"],
      ignore: ["SIGINT"],
    });
    await this.#afterRun(place.synced, live);
    return code;
  }

  /** After a guest command in sync mode: the last live batch, or else the pull. */
  async #afterRun(synced: SyncTarget | undefined, live: LiveSync | undefined): Promise<void> {
    if (live) await this.#stopLive(live);
    else if (synced) await this.#pullAfterRun(synced);
  }

  /**
   * How guest commands reach the instance now: `ssh -F <dir>/ssh.config` when the instance has
   * an `ssh.config` naming a `Host` and a `ControlPath` whose socket exists (the ControlMaster
   * Lima keeps from boot), `ssh` is on `PATH` and `DEVSHELL_VM_SSH` is not off; `limactl shell`
   * otherwise (which also brings a lost ControlMaster back, as Lima's `--reconnect` does). Reads
   * two small files and runs nothing.
   *
   * @returns The transport and why.
   */
  guestTransport(): GuestTransport {
    return this.#transport.choose();
  }

  /** The first-run probe, loaded only when its cache says this `lima.yaml` was not probed yet. */
  async #firstRunProbe(): Promise<void> {
    if (this.backend !== "lima" || !this.config.limaHints || this.instanceDir === undefined) return;
    try {
      const cached = JSON.parse(Deno.readTextFileSync(this.cacheFile("probes", "json")));
      if (cached?.key === fileStamp(`${this.instanceDir}/lima.yaml`)) return;
    } catch {
      // not probed yet
    }
    const { firstRunProbe } = await import("./probe.ts");
    await firstRunProbe(this, { notice: this.#notice });
  }

  /**
   * Run a command in the guest with output captured and no terminal (`--tty=false`), at the
   * guest path of the working directory unless `workdir` is given (Mode S does not copy the
   * project for it: use {@linkcode exec} for that). stdin is closed unless bytes are given.
   * Bounded by the `probe` time-out unless `bounded: false` (file transfers, whose length has no
   * fixed bound).
   *
   * @param argv The command and its arguments.
   * @param options `workdir`, `stdin` bytes, and `bounded` (default `true`).
   * @returns Exit code, stdout bytes and stderr text.
   * @throws {HostBackendError} On the host backend.
   * @throws {StartError} When the VM cannot be started.
   * @throws {UnmappedPathError} Without `workdir`, when no mount shows the working directory.
   * @throws {LimactlTimeoutError} When a bounded call does not finish in time.
   * @throws {CommandTimeoutError} When `timeout` expired and the command was stopped in the guest.
   * @throws {CommandAbortedError} When `signal` was aborted.
   */
  async capture(
    argv: readonly string[],
    options: CaptureOptions = {},
  ): Promise<CaptureResult> {
    await this.#requireLima("capture");
    const control = this.#runControl(argv, options);
    try {
      await this.ensureRunning();
      const workdir = options.workdir ?? await this.#mappedCwd();
      if (control.stop !== undefined) {
        // A command a script may stop runs under the relay, which can reach it in the guest.
        const file = relayFile(crypto.randomUUID().replaceAll("-", ""));
        const r = await this.#runRelayed(
          relayedCommand(argv, file),
          file,
          {
            stdin: options.stdin ?? "null",
            stdout: "piped",
            stderr: "piped",
            noTty: true,
            stop: control.stop,
          },
          workdir,
          undefined,
        );
        control.check(r, { stdout: "piped", stderr: "piped" });
        return {
          code: r.code,
          stdout: r.stdout ?? new Uint8Array(),
          stderr: new TextDecoder().decode(r.stderr),
        };
      }
      const r = await this.#transport.run(guestArgv(argv), {
        workdir,
        stdin: options.stdin ?? "null",
        stdout: "piped",
        stderr: "piped",
        noTty: true,
        forward: [],
        call: options.bounded === false ? undefined : "probe",
      });
      return { code: r.code, stdout: r.stdout, stderr: new TextDecoder().decode(r.stderr) };
    } finally {
      control.dispose();
    }
  }

  /**
   * Run a `/bin/sh -c` script in the guest with output captured as text, at the guest path of
   * the working directory unless `workdir` is given; as {@linkcode capture}.
   *
   * @param script The script.
   * @param options As for {@linkcode capture}.
   * @returns Exit code, stdout and stderr as text.
   * @throws {UnmappedPathError} Without `workdir`, when no mount shows the working directory.
   */
  async output(script: string, options: CaptureOptions = {}): Promise<OutputResult> {
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
    const r = await this.capture(argv, { workdir: "/", stdin: data });
    if (r.code !== 0) throw new LimactlError(["shell", this.instance, ...argv], r.code, r.stderr);
  }

  #requireLima(what: string): Promise<void> {
    if (this.backend !== "lima") {
      return Promise.reject(
        new HostBackendError(what),
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
    const shown = this.#limaOutput === "inherit";
    const r = await (await this.#lima.command(argv)).builder.stdin("null")
      .stdout(shown ? Deno.stderr : "null").stderr(shown ? "inheritPiped" : "piped").noThrow();
    if (r.code !== 0) throw new LimactlError(argv, r.code, r.stderr);
  }

  /**
   * End the session: with `DEVSHELL_VM_STOP_ON_EXIT`, stop the VM when this session started it
   * (or another gamma that started it left the stop to the last user) and no other gamma
   * process is running a command in it (user files in the cache directory; those of processes
   * that died are stale and ignored). Otherwise the stop is left to the last one to leave.
   *
   * @returns Whether the VM was stopped.
   */
  async close(): Promise<boolean> {
    if (!this.config.stopOnExit || this.backend === "host") return false;
    const dir = this.#usersDir();
    const requested = posix.join(dir, "stop-requested");
    const handedOver = fileStamp(requested) !== "none";
    if (!this.#lima.startedHere && !handedOver) return false;
    const others = this.#liveUsers();
    if (others > 0) {
      // The last gamma to leave stops it, if it runs with DEVSHELL_VM_STOP_ON_EXIT too.
      try {
        Deno.writeTextFileSync(requested, `${Deno.pid}\n`);
      } catch {
        // Best effort: without the marker the VM just keeps running.
      }
      this.#notice(
        `gamma: not stopping instance ${this.instance}: ${others} other gamma process${
          others === 1 ? " is" : "es are"
        } using it`,
      );
      this.#lima.startedHere = false;
      return false;
    }
    await this.stop();
    this.#lima.startedHere = false;
    try {
      Deno.removeSync(requested);
    } catch {
      // Not there.
    }
    return true;
  }

  /** The directory of user files: one per gamma command running in this instance. */
  #usersDir(): string {
    return this.cacheFile("users", "d");
  }

  /**
   * Mark this process as a user of the instance while `run` runs (a file named after the pid in
   * the cache directory), so that another gamma's stop-on-exit leaves the VM alone meanwhile.
   */
  async #asUser<T>(run: () => Promise<T>): Promise<T> {
    if (this.backend === "host") return await run();
    const file = posix.join(
      this.#usersDir(),
      `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}.user`,
    );
    try {
      Deno.mkdirSync(posix.dirname(file), { recursive: true });
      Deno.writeTextFileSync(file, `${Deno.pid}\n`);
    } catch {
      // A read-only cache: this run is not counted, which only matters with stop-on-exit.
    }
    try {
      return await run();
    } finally {
      try {
        Deno.removeSync(file);
      } catch {
        // Already gone.
      }
    }
  }

  /** How many gamma runs use the instance now; files of processes that died are removed. */
  #liveUsers(): number {
    let count = 0;
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(this.#usersDir())];
    } catch {
      return 0;
    }
    for (const entry of entries) {
      const pid = Number.parseInt(entry.name, 10);
      if (!entry.isFile || !entry.name.endsWith(".user") || !(pid > 0)) continue;
      let alive: boolean;
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (e) {
        alive = (e as { code?: string }).code === "EPERM";
      }
      if (alive) count++;
      else {
        try {
          Deno.removeSync(posix.join(this.#usersDir(), entry.name)); // a crashed run's file
        } catch {
          // Someone else removed it.
        }
      }
    }
    return count;
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
      const v = await this.#lima.capture(limactlArgs.version(), "null", "version");
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
      ...(await this.#guestCwdOrigin(info)),
      projectFile: this.config.projectFile,
    };
  }

  /** The guest path of the working directory for `status`, and where it comes from. */
  async #guestCwdOrigin(
    info: InstanceInfo | undefined,
  ): Promise<{ guestCwd: string | undefined; guestCwdSource: string }> {
    if (this.backend === "host") return { guestCwd: undefined, guestCwdSource: "host backend" };
    if (info === undefined) {
      return { guestCwd: undefined, guestCwdSource: `instance ${this.instance} does not exist` };
    }
    const cwd = this.#canonical(this.#cwd);
    const cover = coveringMount(cwd, info.mounts);
    if (cover !== undefined) {
      return {
        guestCwd: cover.guestPath,
        guestCwdSource: `mount ${cover.mount.location} -> ${cover.mount.mountPoint}`,
      };
    }
    if (this.config.workspaceMode !== "sync") {
      return { guestCwd: undefined, guestCwdSource: "not under any mount (guest mode)" };
    }
    try {
      const target = await this.syncTarget();
      const rest = posix.relative(target.project, cwd);
      const via = coveringMount(target.staging, info.mounts)!;
      return {
        guestCwd: rest ? posix.join(target.guestStaging, rest) : target.guestStaging,
        guestCwdSource:
          `sync copy ${target.staging} (mount ${via.mount.location} -> ${via.mount.mountPoint})`,
      };
    } catch (e) {
      return {
        guestCwd: undefined,
        guestCwdSource: `not under any mount, and no sync copy: ${
          (e as Error).message.split("\n")[0]
        }`,
      };
    }
  }
}
