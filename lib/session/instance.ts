/**
 * {@linkcode LimaInstance}: starting a Lima instance and the facts about it, for the session
 * module. It runs `limactl` (start, create, stop, list, `--version`), keeps `limactl list`'s
 * answer in gamma's cache directory, and never imports the session module.
 *
 * @module
 */

import type { CommandBuilder, KillController } from "dax";
import { posix } from "node:path";
import type { Env, GammaConfig } from "../config.ts";
import {
  HostBackendError,
  LimactlError,
  LimactlTimeoutError,
  MissingInstanceError,
  StartError,
} from "../errors.ts";
import { sanitizeInstanceSegment } from "../instance_name.ts";
import { type InstanceInfo, parseLimaList } from "../lima_list.ts";
import { limactlArgs } from "../limactl_args.ts";
import { type LimactlCall, limactlTimeoutHint, limactlTimeoutMs } from "../limactl_timeout.ts";
import { fileStamp, shortHash } from "./_files.ts";

/** What a captured `limactl` call gave. */
export interface Captured {
  code: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  stderrText: string;
}

let daxModule: typeof import("dax") | undefined;

/** dax, loaded on first use (about 90 ms of start-up that a warm exec over ssh never needs). */
export async function dax(): Promise<typeof import("dax")> {
  return daxModule ??= await import("dax");
}

/**
 * Whether a process exists, as Lima checks `ha.pid` (kill with signal 0). `Deno.kill` takes 0
 * at run time though its type lists only signal names; this avoids node:process (about 17 ms of
 * start-up) and /proc (which Deno opens only with --allow-all).
 */
export function processExists(pid: number): boolean {
  try {
    Deno.kill(pid, 0 as unknown as Deno.Signal);
    return true;
  } catch (e) {
    // ESRCH: gone. EPERM: exists but belongs to another user. Anything else: assume alive, as
    // Lima does while ha.pid is there.
    return !(e instanceof Deno.errors.NotFound);
  }
}

/**
 * gamma's cache directory: `$XDG_CACHE_HOME/gamma`, else `~/.cache/gamma`, else a per-user
 * directory under `$TMPDIR` or `/tmp`.
 *
 * @param env The environment.
 * @returns The directory (not created).
 */
export function gammaCacheDir(env: Env): string {
  const xdg = env["XDG_CACHE_HOME"]?.trim();
  if (xdg?.startsWith("/")) return posix.join(xdg, "gamma");
  const home = env["HOME"]?.trim();
  if (home?.startsWith("/")) return posix.join(home, ".cache", "gamma");
  const tmp = env["TMPDIR"]?.trim();
  let user = "user";
  try {
    user = String(Deno.uid() ?? user);
  } catch {
    // Deno.uid() needs --allow-sys, which gamma does not ask for: share the generic name.
  }
  return posix.join(tmp?.startsWith("/") ? tmp : "/tmp", `gamma-${user}`);
}

/** What a {@linkcode LimaInstance} is made from: the session's facts. */
export interface InstanceSetup {
  /** The instance name. */
  instance: string;
  /** The resolved configuration. */
  config: GammaConfig;
  /** `lima` or `host`. */
  backend: "lima" | "host";
  /** The `limactl` executable. */
  limactl: string | undefined;
  /** The environment gamma read. */
  env: Env;
  /** The environment `limactl` runs with; inherited when `undefined`. */
  childEnv: Record<string, string> | undefined;
  /** Where gamma's notices go. */
  notice: (line: string) => void;
  /** Called with every `limactl` argv. */
  onLimactl: ((argv: readonly string[]) => void) | undefined;
  /** Where Lima's own output goes. */
  limaOutput: "inherit" | "null";
}

/**
 * One Lima instance as the session sees it: its start, its facts, its `limactl` calls.
 *
 * @example Usage
 * ```ts
 * import { LimaInstance } from "./instance.ts";
 * import { resolveConfig } from "../config.ts";
 *
 * const config = resolveConfig({ HOME: "/home/me", LIMA_HOME: "/home/me/.lima" });
 * const lima = new LimaInstance({
 *   instance: "dev",
 *   config,
 *   backend: "lima",
 *   limactl: "/usr/bin/limactl",
 *   env: {},
 *   childEnv: undefined,
 *   notice: () => {},
 *   onLimactl: undefined,
 *   limaOutput: "null",
 * });
 * console.log(lima.instanceDir); // "/home/me/.lima/dev"
 * ```
 */
export class LimaInstance {
  /** The instance name. */
  readonly instance: string;
  /** The resolved configuration. */
  readonly config: GammaConfig;
  /** `lima` or `host`. */
  readonly backend: "lima" | "host";
  /** The `limactl` executable. */
  readonly limactl: string | undefined;
  /** The environment gamma read. */
  readonly env: Env;
  /** The environment `limactl` runs with. */
  readonly childEnv: Record<string, string> | undefined;
  /** Where gamma's notices go. */
  readonly notice: (line: string) => void;
  /** Called with every `limactl` argv. */
  readonly onLimactl: ((argv: readonly string[]) => void) | undefined;
  /** Where Lima's own output goes. */
  readonly limaOutput: "inherit" | "null";
  /** `limactl list`'s answer for this process: `null` when the instance does not exist. */
  info: InstanceInfo | null | undefined;
  /** Whether this process started the VM (stop-on-exit stops only such a VM). */
  startedHere = false;

  /**
   * Keep the session's facts; no `limactl` call.
   *
   * @param setup The session's facts.
   */
  constructor(setup: InstanceSetup) {
    this.instance = setup.instance;
    this.config = setup.config;
    this.backend = setup.backend;
    this.limactl = setup.limactl;
    this.env = setup.env;
    this.childEnv = setup.childEnv;
    this.notice = setup.notice;
    this.onLimactl = setup.onLimactl;
    this.limaOutput = setup.limaOutput;
  }

  /** The instance directory, `$LIMA_HOME/NAME`. */
  get instanceDir(): string | undefined {
    return this.config.limaHome === undefined
      ? undefined
      : `${this.config.limaHome}/${this.instance}`;
  }

  #requireLima(what: string): Promise<void> {
    return this.backend === "lima" ? Promise.resolve() : Promise.reject(new HostBackendError(what));
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
    return posix.join(gammaCacheDir(this.env), kind, `${key}.${ext}`);
  }

  /** A dax builder for `limactl ARGV`, wrapped: a builder is a thenable, awaiting it runs it. */
  async command(argv: readonly string[]): Promise<{ builder: CommandBuilder }> {
    this.onLimactl?.(argv);
    let builder = new (await dax()).CommandBuilder().command([this.limactl!, ...argv]);
    if (this.childEnv !== undefined) builder = builder.clearEnv().env(this.childEnv);
    return { builder };
  }

  /**
   * Run one of gamma's own `limactl` calls with output captured. With `call`, it is bounded by
   * that call's time-out: when it expires, `limactl` is killed and a
   * {@linkcode LimactlTimeoutError} names the call.
   */
  async capture(
    argv: readonly string[],
    stdin: Uint8Array | "null" = "null",
    call?: LimactlCall,
  ): Promise<Captured> {
    const controller: KillController = new (await dax()).KillController();
    const running = (await this.command(argv)).builder.stdin(stdin).stdout("piped")
      .stderr("piped").signal(controller.signal).noThrow().then((r) => r);
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
    return pid > 0 && processExists(pid);
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

  /**
   * Whether the instance exists: Lima's own rule (store.Inspect) is that `NAME/lima.yaml` exists
   * under `$LIMA_HOME`; without a known Lima home, `limactl list` answers.
   */
  async exists(): Promise<boolean> {
    const dir = this.instanceDir;
    if (dir !== undefined) return fileStamp(`${dir}/lima.yaml`) !== "none";
    return await this.instanceInfo({ fresh: true }) !== undefined;
  }

  /**
   * Fail unless the instance exists, naming the closest existing names (`limactl list -q`) and
   * the command that creates it. gamma never lets `limactl start` create an instance as a side
   * effect (Lima 2.2 does, from its default template, for any unknown name).
   *
   * @throws {MissingInstanceError} When it does not exist.
   */
  async requireInstance(): Promise<void> {
    if (this.backend === "host" || this.isRunning() || await this.exists()) return;
    const r = await this.capture(limactlArgs.listNames(), "null", "list");
    const names = r.code === 0
      ? new TextDecoder().decode(r.stdout).split("\n").map((l) => l.trim()).filter(Boolean)
      : [];
    const { closestInstanceNames } = await import("../instance_suggest.ts");
    throw new MissingInstanceError(
      this.instance,
      closestInstanceNames(this.instance, names),
      names,
    );
  }

  /**
   * Create the instance with `limactl create --tty=false --name=NAME TEMPLATE` (Lima's progress
   * on stderr) unless it exists, then start it: `gamma start --create`.
   *
   * @param template A Lima template locator, file or URL; default the settings' `template`
   * (`.gamma.yaml` or the user file), then `template:default`.
   * @returns Whether it was created.
   * @throws {LimactlError} When `limactl create` fails.
   * @throws {StartError} When the start fails.
   */
  async create(template?: string): Promise<boolean> {
    await this.#requireLima("create");
    let created = false;
    if (!this.isRunning() && !(await this.exists())) {
      const argv = limactlArgs.create(this.instance, template ?? this.config.template);
      this.notice(`gamma: creating instance ${this.instance} from ${argv.at(-1)}…`);
      const shown = this.limaOutput === "inherit";
      const r = await (await this.command(argv)).builder.stdin("null")
        .stdout(shown ? Deno.stderr : "null").stderr(shown ? "inheritPiped" : "piped").noThrow();
      this.info = undefined;
      if (r.code !== 0) {
        // The same template hint as for a failed start (limactl create reads the same store).
        const { diagnoseStart } = await import("../start_diagnosis.ts");
        const hint = diagnoseStart({
          instance: this.instance,
          limaHome: this.config.limaHome ?? "~/.lima",
          exitCode: r.code,
          startStderr: r.stderr,
          existed: true,
        }).hints.find((h) => h.startsWith("Lima's templates"));
        throw new LimactlError(argv, r.code, r.stderr, hint);
      }
      created = true;
    }
    await this.ensureRunning();
    return created;
  }

  async #start(): Promise<void> {
    await this.requireInstance();
    this.notice(`gamma: starting instance ${this.instance}…`);
    const dir = this.instanceDir;
    const existed = dir !== undefined && fileStamp(`${dir}/lima.yaml`) !== "none";
    const before = dir === undefined
      ? []
      : [fileStamp(`${dir}/ha.stderr.log`), fileStamp(`${dir}/ha.stdout.log`)];
    const argv = limactlArgs.start(this.instance);
    // Lima's progress goes to our stderr; stdout stays the guest command's. On a terminal Lima
    // writes there itself, in its terminal format; the diagnosis then reads ha.stderr.log alone.
    // With stderr "null" Lima's lines are read for the diagnosis and not shown.
    const shown = this.limaOutput === "inherit";
    const direct = shown && Deno.stderr.isTerminal();
    const result = await (await this.command(argv)).builder.stdin("null")
      .stdout(shown ? Deno.stderr : "null")
      .stderr(direct ? "inherit" : shown ? "inheritPiped" : "piped").noThrow();
    this.info = undefined;
    if (result.code === 0) {
      this.startedHere = true;
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
    const { diagnoseStart } = await import("../start_diagnosis.ts");
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
      this.notice(`gamma: warning: ${diagnosis.hints[0]}`);
      this.startedHere = true;
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
    if (!options.fresh && this.info !== undefined) return this.info ?? undefined;
    const cacheFile = this.cacheFile("instances", "json");
    const key = this.#factsKey();
    if (!options.fresh) {
      try {
        const cached = JSON.parse(Deno.readTextFileSync(cacheFile));
        if (cached.key === key) return (this.info = cached.info as InstanceInfo);
      } catch {
        // No cache yet, or unreadable: ask limactl.
      }
    }
    const argv = limactlArgs.list(this.instance);
    const r = await this.capture(argv, "null", "list");
    if (r.code !== 0) {
      if (/No instance matching/.test(r.stderrText)) {
        this.info = null;
        return undefined;
      }
      throw new LimactlError(argv, r.code, r.stderrText);
    }
    const info = parseLimaList(new TextDecoder().decode(r.stdout))
      .find((i) => i.name === this.instance);
    this.info = info ?? null;
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
   * @throws {HostBackendError} On the host backend.
   * @throws {LimactlError} When `limactl list` fails.
   * @throws {LimactlTimeoutError} When it does not finish in time.
   */
  async listInstances(): Promise<InstanceInfo[]> {
    await this.#requireLima("listing instances");
    const argv = limactlArgs.list();
    const r = await this.capture(argv, "null", "list");
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
}
