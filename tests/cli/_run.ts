/**
 * Black-box runner for the `gamma` CLI: spawns `deno run -A cli.ts …` in a clean environment
 * and returns stdout, stderr and the exit code together.
 *
 * @module
 */

import { GammaSession } from "../../lib/session/session.ts";
// Library-level sessions read settings files as through mod.ts: the reader installs itself.
import "../../lib/session/config_files.ts";
import { createLimaHome, type LimaHome } from "../support/lima_home.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** What one gamma run produced. */
export interface GammaRun {
  /** Exit code. */
  code: number;
  /** Signal that ended gamma itself, if any. */
  signal: Deno.Signal | null;
  /** stdout as text. */
  stdout: string;
  /** stdout bytes. */
  stdoutBytes: Uint8Array;
  /** stderr as text. */
  stderr: string;
}

/** Options of {@linkcode runGamma}. */
export interface RunOptions {
  /** Variables added to the clean base environment (PATH without limactl, temp HOME). */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** Bytes or text for stdin; stdin is closed when omitted. */
  stdin?: Uint8Array | string;
  /** Flags for `deno run` (default `-A`); `[]` runs with no permissions. */
  denoFlags?: string[];
  /** The script to run instead of cli.ts (e.g. the bundle). */
  script?: string;
  /**
   * Send a signal to gamma once `after` resolves (wait for a readiness marker there, never a
   * fixed delay), then call `then` (e.g. to release the command).
   */
  signal?: { sig: Deno.Signal; after: () => Promise<void>; then?: () => void };
  /**
   * `null`: stdout and stderr go nowhere and only gamma's exit is awaited (a guest command that
   * outlives gamma keeps its end of a pipe open: ssh's ControlMaster holds it).
   */
  output?: "piped" | "null";
}

let home: string | undefined;

/**
 * What a child Deno needs from this process's environment: the module cache (the children get
 * their own HOME) and the network settings that reach the npm registry.
 */
export function denoEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  const parent = Deno.env.toObject();
  env["DENO_DIR"] = parent["DENO_DIR"] ?? `${parent["HOME"]}/.cache/deno`;
  for (const [k, v] of Object.entries(parent)) {
    if (
      /^(SSL_CERT_(FILE|DIR)|DENO_CERT|DENO_TLS_CA_STORE|NPM_CONFIG_REGISTRY|(HTTPS?|NO|ALL)_PROXY)$/i
        .test(k)
    ) {
      env[k] = v;
    }
  }
  return env;
}

/**
 * Wait until a file exists (a readiness marker written by a command or the stand-in), polling;
 * fails after two minutes so a broken test ends instead of hanging.
 */
export async function waitForFile(path: string): Promise<void> {
  // A safety net, not a measurement: the signal only ends a test that would otherwise hang.
  const giveUp = AbortSignal.timeout(120_000);
  for (;;) {
    try {
      await Deno.lstat(path);
      return;
    } catch {
      if (giveUp.aborted) throw new Error(`timed out waiting for ${path}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/**
 * The pids of live `sleep` processes whose argv holds `marker` (a unique duration): how a test
 * sees that a guest command is still running, or is gone.
 *
 * @param marker The unique argument the test gave `sleep`.
 * @returns Their pids (none when all are gone).
 */
export function sleeping(marker: string): number[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0");
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (argv[0]?.endsWith("sleep") && argv.includes(marker) && !/\) [ZX] /.test(stat)) {
        pids.push(Number(e.name));
      }
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/**
 * The clean environment every gamma child of the tests gets: a plain PATH without limactl, the
 * shared temp HOME and its cache, no colour, what Deno needs, then `extra`.
 *
 * @param extra Variables added last.
 * @returns The environment.
 */
export function gammaEnv(extra: Record<string, string> = {}): Record<string, string> {
  const h = testHome();
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: h,
    XDG_CACHE_HOME: `${h}/.cache`,
    NO_COLOR: "1",
    ...denoEnv(),
    ...extra,
  };
}

/**
 * Five random digits, to make a guest command's argv unique (e.g. `sleep 41.DIGITS`) so a test
 * can find exactly its own processes.
 *
 * @returns The digits.
 */
export function uniqueDigits(): string {
  return String(crypto.getRandomValues(new Uint32Array(1))[0]! % 100000).padStart(5, "0");
}

/** A temp HOME shared by the test process, so no test touches the real one. */
export function testHome(): string {
  home ??= Deno.makeTempDirSync({ prefix: "gamma-home-" });
  return home;
}

/**
 * Run gamma with `args`.
 *
 * @param args Arguments after `gamma`.
 * @param options Environment, cwd, stdin, a signal to send.
 * @returns What it printed and its exit code.
 */
export async function runGamma(args: string[], options: RunOptions = {}): Promise<GammaRun> {
  const h = testHome();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...(options.denoFlags ?? ["-A"]), "--quiet", options.script ?? CLI, ...args],
    cwd: options.cwd ?? h,
    clearEnv: true,
    env: gammaEnv(options.env),
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: options.output ?? "piped",
    stderr: options.output ?? "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    const data = typeof options.stdin === "string"
      ? new TextEncoder().encode(options.stdin)
      : options.stdin;
    writer.write(data).then(() => writer.close()).catch(() => {});
  }
  if (options.signal) {
    const { sig, after, then } = options.signal;
    after().then(() => {
      child.kill(sig);
      then?.();
    }).catch(() => {});
  }
  if (options.output === "null") {
    const status = await child.status;
    const empty = new Uint8Array();
    return { code: status.code, signal: status.signal, stdout: "", stdoutBytes: empty, stderr: "" };
  }
  const out = await child.output();
  return {
    code: out.code,
    signal: out.signal,
    stdout: new TextDecoder().decode(out.stdout),
    stdoutBytes: out.stdout,
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** A project mounted in a stand-in instance, and what to dispose. */
export interface Fixture extends AsyncDisposable {
  /** The stand-in's Lima home. */
  lima: LimaHome;
  /** The host project directory (canonical), mounted at /work/p in instance `dev`. */
  project: string;
  /** Environment for gamma: the Lima home, DEVSHELL_VM_LIMACTL, instance `dev`. */
  env: Record<string, string>;
}

/**
 * How gamma reaches the guest in a test: `ssh` (the default: straight through the instance's
 * ssh.config) or `limactl` (`DEVSHELL_VM_SSH=off`: through `limactl shell`).
 */
export type Via = "ssh" | "limactl";

/**
 * Register a test that runs once per transport, both at once (each with its own fixtures): the
 * case gets `via` and passes it to {@linkcode setup}. A failure names the path it failed on.
 *
 * @param name The test name.
 * @param fn The case.
 */
export function testBothPaths(name: string, fn: (via: Via) => Promise<void>): void {
  Deno.test(name, async () => {
    const vias: Via[] = ["ssh", "limactl"];
    const results = await Promise.allSettled(vias.map((via) => fn(via)));
    results.forEach((r, i) => {
      if (r.status === "rejected") {
        const e = r.reason as Error;
        e.message = `on the ${vias[i]} path: ${e.message}`;
        throw e;
      }
    });
  });
}

/**
 * The limactl subcommands a run is expected to log: `expected` on the limactl path; on the ssh
 * path the same without `shell`, which ssh replaces.
 *
 * @param via The path.
 * @param expected The commands on the limactl path.
 * @returns The commands for `via`.
 */
export function onPath(via: Via, expected: string[]): string[] {
  return via === "ssh" ? expected.filter((c) => c !== "shell") : expected;
}

/** A LIMA_HOME with one instance `dev` mounting a project dir at another guest path. */
export async function setup(
  opts: {
    running?: boolean;
    fault?: string;
    projectName?: string;
    extraMounts?: boolean;
    via?: Via;
  } = {},
): Promise<Fixture> {
  const lima = await createLimaHome();
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-proj-" }));
  const project = `${root}/${opts.projectName ?? "proj"}`;
  await Deno.mkdir(`${project}/sub`, { recursive: true });
  await lima.addInstance("dev", {
    mounts: [{ location: project, mountPoint: "/work/p", writable: true }],
    running: opts.running ?? true,
    ...(opts.fault ? { fault: opts.fault } : {}),
  });
  const env: Record<string, string> = {
    ...lima.env,
    DEVSHELL_VM_LIMACTL: lima.limactl,
    DEVSHELL_VM_LIMA_INSTANCE: "dev",
  };
  if (opts.via === "limactl") env["DEVSHELL_VM_SSH"] = "off";
  return {
    lima,
    project,
    env,
    async [Symbol.asyncDispose]() {
      await lima[Symbol.asyncDispose]();
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** The limactl subcommand of every stand-in invocation so far. */
export async function commands(lima: { argvLog(): Promise<string[][]> }): Promise<string[]> {
  return (await lima.argvLog()).map((argv) => argv.find((a) => !a.startsWith("-")) ?? "");
}

/**
 * The environment a library-level session in a fixture gets: its own cache per Lima home, and
 * the `limactl shell` path (`DEVSHELL_VM_SSH=off`) so that tests see every guest call's limactl
 * argv; pass `DEVSHELL_VM_SSH: "on"` in `extra` for the ssh path.
 */
export function sessionEnv(
  t: { env: Record<string, string> },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...denoEnv(),
    DEVSHELL_VM_SSH: "off",
    ...t.env,
    PATH: "/usr/bin:/bin",
    HOME: testHome(),
    XDG_CACHE_HOME: `${t.env["LIMA_HOME"]}/_test-cache`,
    ...extra,
  };
}

/** A session in a fixture that records every limactl argv and every notice. */
export function testSession(
  t: Fixture,
  cwd: string = t.project,
  extra: Record<string, string> = {},
  options: { instance?: string } = {},
): {
  session: GammaSession;
  env: Record<string, string>;
  argvs: (readonly string[])[];
  notices: string[];
} {
  const argvs: (readonly string[])[] = [];
  const notices: string[] = [];
  const env = sessionEnv(t, extra);
  const session = new GammaSession({
    env,
    cwd,
    onLimactl: (argv) => argvs.push(argv),
    notice: (line) => notices.push(line),
    ...(options.instance ? { instance: options.instance } : {}),
  });
  return { session, env, argvs, notices };
}
