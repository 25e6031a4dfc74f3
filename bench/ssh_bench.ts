// deno-lint-ignore-file no-console
/**
 * Benchmark of issue 10: a warm `gamma exec -- true` over the ssh path against the bare
 * `ssh -F <ssh.config> lima-NAME -- <same script>` and the stand-in's `limactl shell`, side by
 * side in one run, medians of wall time and host CPU (user+sys of the command and every process
 * it waited for, from getrusage; the persistent ControlMaster and the guest's sshd are not
 * counted, for any row),
 * plus `gamma --version`, `gamma path`, `gamma status`, and the same rows for earlier revisions
 * (`BENCH_REVS`, extracted with `git archive`) for the figures before each change. Prints a
 * markdown table on stdout; progress on stderr. See `bench/README.md`.
 *
 * ```sh
 * deno task bench:ssh                          # bundles, then runs this file
 * BENCH_RUNS=30 BENCH_REVS=1d9a9a4 deno task bench:ssh
 * ```
 *
 * Exits 1 on a correctness failure (a run that fails or prints something unexpected, or a warm
 * exec that spawns other than one process), 2 on bad settings; missing a target prints FAIL.
 *
 * @module
 */

import { denoEnv } from "../tests/cli/_run.ts";
import { createLimaHome } from "../tests/support/lima_home.ts";
import { limaShellScript } from "../lib/lima_ssh.ts";

const REPO = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
const DENO = Deno.execPath();
const INSTANCE = "bench";
const GUEST_DIR = "/work/p";
const TARGET_MS = 40;

interface Probe {
  name: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  stdout?: RegExp;
}

interface Sample {
  wall: number;
  cpu: number;
}

const decoder = new TextDecoder();

/**
 * Runs argv under a small Python parent that reports the wall time from spawn to exit and the
 * user+sys CPU of every process it waited for (getrusage(RUSAGE_CHILDREN), microseconds; GNU
 * time only has centiseconds). Python's own start-up is outside both figures.
 */
const TIMER = `
import os, resource, subprocess, sys, time
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.perf_counter()
p = subprocess.run(sys.argv[2:], stdin=subprocess.DEVNULL, capture_output=True)
wall = (time.perf_counter() - t0) * 1000
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) * 1000
open(sys.argv[1], "w").write(f"{wall} {cpu}")
sys.stdout.buffer.write(p.stdout); sys.stderr.buffer.write(p.stderr); sys.exit(p.returncode)
`;

async function timeOnce(p: Probe, timeFile: string): Promise<Sample> {
  const out = await new Deno.Command("python3", {
    args: ["-c", TIMER, timeFile, ...p.argv],
    cwd: p.cwd,
    clearEnv: true,
    env: p.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = decoder.decode(out.stdout);
  const stderr = decoder.decode(out.stderr);
  if (out.code !== 0 || stderr !== "" || !(p.stdout ?? /^$/).test(stdout)) {
    throw new Error(
      `${p.name}: exit ${out.code}\n  argv: ${JSON.stringify(p.argv)}\n  stdout: ${
        JSON.stringify(stdout)
      }\n  stderr: ${JSON.stringify(stderr)}`,
    );
  }
  const [wall, cpu] = (await Deno.readTextFile(timeFile)).trim().split(/\s+/).map(Number);
  return { wall: wall ?? NaN, cpu: cpu ?? NaN };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs every probe once per round, the order rotating, so machine load hits all alike. */
async function interleave(probes: Probe[], runs: number, timeFile: string): Promise<Sample[][]> {
  const samples = probes.map((): Sample[] => []);
  for (const p of probes) for (let i = 0; i < 2; i++) await timeOnce(p, timeFile); // warm-up
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < probes.length; k++) {
      const i = (round + k) % probes.length;
      samples[i]!.push(await timeOnce(probes[i]!, timeFile));
    }
    Deno.stderr.writeSync(new TextEncoder().encode(`\rround ${round + 1}/${runs}`));
  }
  Deno.stderr.writeSync(new TextEncoder().encode("\n"));
  return samples;
}

/** The processes a warm `gamma exec -- true` spawns: ssh through a logging shim, limactl's log. */
async function spawnCount(
  probe: Probe,
  shimDir: string,
  limaLog: () => Promise<number>,
): Promise<{ ssh: number; limactl: number }> {
  const log = `${shimDir}/ssh.log`;
  await Deno.writeTextFile(log, "");
  await Deno.writeTextFile(
    `${shimDir}/ssh`,
    `#!/bin/sh\necho ssh >> '${log}'\nexec /usr/bin/ssh "$@"\n`,
    { mode: 0o755 },
  );
  const before = await limaLog();
  const env = { ...probe.env, PATH: `${shimDir}:${probe.env["PATH"]}` };
  const out = await new Deno.Command(probe.argv[0]!, {
    args: probe.argv.slice(1),
    cwd: probe.cwd,
    clearEnv: true,
    env,
    stdin: "null",
  }).output();
  if (out.code !== 0) throw new Error(`${probe.name} (spawn count): exit ${out.code}`);
  const ssh = (await Deno.readTextFile(log)).split("\n").filter((l) => l === "ssh").length;
  return { ssh, limactl: (await limaLog()) - before };
}

async function main(): Promise<number> {
  const runs = Number(Deno.env.get("BENCH_RUNS") ?? "20");
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`BENCH_RUNS must be a positive integer, got ${Deno.env.get("BENCH_RUNS")}`);
    return 2;
  }
  const revs = (Deno.env.get("BENCH_REVS") ?? "").split(",").map((r) => r.trim()).filter(
    (r) => r !== "",
  );
  const tmp = await Deno.makeTempDir({ prefix: "gamma-ssh-bench-" });
  await using lima = await createLimaHome();
  try {
    const project = `${tmp}/p`;
    const home = `${tmp}/home`;
    const shim = `${tmp}/shim`;
    await Promise.all([project, home, shim].map((d) => Deno.mkdir(d)));
    await lima.addInstance(INSTANCE, {
      mounts: [{ location: project, mountPoint: GUEST_DIR, writable: true }],
      running: true,
    });
    const env: Record<string, string> = {
      ...denoEnv(),
      ...lima.env,
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: home,
      XDG_CACHE_HOME: `${home}/.cache`,
      NO_COLOR: "1",
      DEVSHELL_VM_LIMACTL: lima.limactl,
      DEVSHELL_VM_LIMA_INSTANCE: INSTANCE,
      LIMACTL_STANDIN_NO_LOG: "1",
    };
    const gamma = (script: string, args: string[], extra: Record<string, string> = {}) => ({
      argv: [DENO, "run", "-A", "--quiet", script, ...args],
      env: { ...env, ...extra },
      cwd: project,
    });
    const cliSrc = `${REPO}/cli.ts`;
    const bundle = `${REPO}/dist/gamma.js`;
    const sshConfig = `${lima.dir}/${INSTANCE}/ssh.config`;
    const bare: Probe = {
      name: "bare ssh",
      argv: [
        "/usr/bin/ssh",
        "-F",
        sshConfig,
        `lima-${INSTANCE}`,
        "--",
        limaShellScript(["true"], GUEST_DIR),
      ],
      env,
      cwd: project,
    };
    const limactl: Probe = {
      name: "stand-in limactl shell",
      argv: [lima.limactl, "shell", "--workdir", GUEST_DIR, INSTANCE, "true"],
      env,
      cwd: project,
    };
    const execRows: Probe[] = [
      bare,
      limactl,
      { name: "gamma exec (source, ssh path)", ...gamma(cliSrc, ["exec", "--", "true"]) },
      { name: "gamma exec (bundle, ssh path)", ...gamma(bundle, ["exec", "--", "true"]) },
      {
        name: "gamma exec (source, DEVSHELL_VM_SSH=off)",
        ...gamma(cliSrc, ["exec", "--", "true"], { DEVSHELL_VM_SSH: "off" }),
      },
    ];
    const startRows: Probe[] = [
      { name: "empty deno run", ...gamma(`${tmp}/empty.ts`, []) },
      { name: "gamma --version (source)", ...gamma(cliSrc, ["--version"]), stdout: /^gamma / },
      { name: "gamma --version (bundle)", ...gamma(bundle, ["--version"]), stdout: /^gamma / },
      { name: "gamma path (source)", ...gamma(cliSrc, ["path"]), stdout: /\/work\/p/ },
      { name: "gamma status (source)", ...gamma(cliSrc, ["status"]), stdout: /bench/ },
    ];
    await Deno.writeTextFile(`${tmp}/empty.ts`, "");
    for (const rev of revs) {
      const dir = `${tmp}/rev-${rev}`;
      await Deno.mkdir(dir);
      const archive = new Deno.Command("sh", {
        args: ["-c", `git -C '${REPO}' archive '${rev}' | tar -x -C '${dir}'`],
      });
      if (!(await archive.output()).success) throw new Error(`git archive ${rev} failed`);
      execRows.push({
        name: `gamma exec at ${rev} (source)`,
        ...gamma(`${dir}/cli.ts`, ["exec", "--", "true"]),
      });
      startRows.push({
        name: `gamma --version at ${rev} (source)`,
        ...gamma(`${dir}/cli.ts`, ["--version"]),
        stdout: /^gamma /,
      });
    }
    const timeFile = `${tmp}/time.txt`;
    console.error(
      `exec rows: ${execRows.length}, start-up rows: ${startRows.length}, ${runs} rounds`,
    );
    const execSamples = await interleave(execRows, runs, timeFile);
    const startSamples = await interleave(startRows, runs, timeFile);
    const limaLog = async (): Promise<number> => (await lima.argvLog()).length;
    const counts = await spawnCount(
      { ...execRows[2]!, env: { ...execRows[2]!.env, LIMACTL_STANDIN_NO_LOG: "0" } },
      shim,
      limaLog,
    );

    const row = (p: Probe, s: Sample[]): [string, number, number] => [
      p.name,
      median(s.map((x) => x.wall)),
      median(s.map((x) => x.cpu)),
    ];
    const execTable = execRows.map((p, i) => row(p, execSamples[i]!));
    const startTable = startRows.map((p, i) => row(p, startSamples[i]!));
    const fmt = (n: number): string => n.toFixed(1);
    const [, bareWall, bareCpu] = execTable[0]!;
    const [, srcWall, srcCpu] = execTable[2]!;
    const [, bunWall, bunCpu] = execTable[3]!;
    const [, emptyWall] = startTable[0]!;
    const [, verWall] = startTable[1]!;
    const lines = [
      `${runs} rounds, medians; CPU = user+sys of the command and the processes it waited for.`,
      "",
      "| command | wall ms | CPU ms | wall − bare ssh | CPU − bare ssh |",
      "| --- | ---: | ---: | ---: | ---: |",
      ...execTable.map(([n, w, c]) =>
        `| ${n} | ${fmt(w)} | ${fmt(c)} | ${fmt(w - bareWall)} | ${fmt(c - bareCpu)} |`
      ),
      "",
      "| start-up | wall ms | CPU ms | wall ÷ empty deno run |",
      "| --- | ---: | ---: | ---: |",
      ...startTable.map(([n, w, c]) =>
        `| ${n} | ${fmt(w)} | ${fmt(c)} | ${(w / emptyWall).toFixed(2)} |`
      ),
      "",
      `Processes spawned by one warm \`gamma exec -- true\` (source): ssh ${counts.ssh}, limactl ${counts.limactl}.`,
      "",
      "| target | measured | verdict |",
      "| --- | --- | --- |",
      `| overhead over bare ssh ≤ ${TARGET_MS} ms CPU | source ${fmt(srcCpu - bareCpu)}, bundle ${
        fmt(bunCpu - bareCpu)
      } | ${Math.max(srcCpu, bunCpu) - bareCpu <= TARGET_MS ? "ok" : "FAIL"} |`,
      `| overhead over bare ssh ≤ ${TARGET_MS} ms wall | source ${
        fmt(srcWall - bareWall)
      }, bundle ${fmt(bunWall - bareWall)} | ${
        Math.max(srcWall, bunWall) - bareWall <= TARGET_MS ? "ok" : "FAIL"
      } |`,
      `| \`gamma --version\` ≤ 2× empty deno run | ${(verWall / emptyWall).toFixed(2)}× | ${
        verWall <= 2 * emptyWall ? "ok" : "FAIL"
      } |`,
      `| one process per warm exec | ${counts.ssh + counts.limactl} | ${
        counts.ssh + counts.limactl === 1 ? "ok" : "FAIL"
      } |`,
    ];
    console.log(lines.join("\n"));
    return counts.ssh + counts.limactl === 1 ? 0 : 1;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main());
