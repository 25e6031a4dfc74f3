// deno-lint-ignore-file no-console
/**
 * Benchmark of a warm `gamma exec -- true` (the bundled CLI, `dist/gamma.js`) against the
 * `limactl` stand-in's own `limactl shell`, plus the start-up costs gamma's overhead is made of.
 * Prints a markdown table on stdout (progress goes to stderr). See `bench/README.md`.
 *
 * ```sh
 * deno task bench                 # bundles, then runs this file
 * BENCH_RUNS=60 deno task bench   # more samples per figure (default 30)
 * ```
 *
 * Exits 1 on a correctness failure (a run that fails or prints something, or a warm exec that
 * spawns other than one `limactl`), 2 on a bad `BENCH_RUNS`; missing the speed target only
 * prints FAIL.
 *
 * @module
 */

import { denoEnv } from "../tests/cli/_run.ts";
import { createLimaHome } from "../tests/support/lima_home.ts";

const REPO = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
const BUNDLE = `${REPO}/dist/gamma.js`;
const CONFIG = `${REPO}/deno.json`;
const DENO = Deno.execPath();
const INSTANCE = "bench";
const GUEST_DIR = "/work/p";
const TARGET_MS = 100;
const WARMUP = 3;
const DEFAULT_RUNS = 30;

/** A run that did not do what it should: its timing would mean nothing. */
class CorrectnessError extends Error {}

/** One command line to time. */
interface Probe {
  /** Short name for progress and error messages. */
  name: string;
  program: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** What stdout must match; empty output when omitted. */
  stdout?: RegExp;
}

/** Median and the 10th and 90th percentiles of a sample, in ms. */
interface Stats {
  median: number;
  p10: number;
  p90: number;
}

function runsFromEnv(): number | undefined {
  const raw = Deno.env.get("BENCH_RUNS")?.trim();
  if (raw === undefined || raw === "") return DEFAULT_RUNS;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

const decoder = new TextDecoder();

/** Runs the probe once with stdin closed; returns the wall time from spawn to exit in ms. */
async function timeOnce(probe: Probe): Promise<number> {
  const command = new Deno.Command(probe.program, {
    args: probe.args,
    cwd: probe.cwd,
    clearEnv: true,
    env: probe.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const start = performance.now();
  const out = await command.output();
  const elapsed = performance.now() - start;
  const stdout = decoder.decode(out.stdout);
  const stderr = decoder.decode(out.stderr);
  const stdoutOk = probe.stdout ? probe.stdout.test(stdout) : stdout === "";
  if (out.code !== 0 || out.signal !== null || !stdoutOk || stderr !== "") {
    throw new CorrectnessError(
      [
        `${probe.name}: expected exit 0 and ${
          probe.stdout ? `stdout matching ${probe.stdout}` : "no output"
        }, got exit ${out.code}${out.signal ? ` (signal ${out.signal})` : ""}`,
        `  command: ${JSON.stringify([probe.program, ...probe.args])}`,
        `  cwd: ${probe.cwd}`,
        `  stdout: ${JSON.stringify(stdout)}`,
        `  stderr: ${JSON.stringify(stderr)}`,
      ].join("\n"),
    );
  }
  return elapsed;
}

/** Quantile `q` of ascending `sorted`, interpolating between the closest ranks. */
function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? NaN;
  const b = sorted[hi] ?? NaN;
  return a + (b - a) * (pos - lo);
}

function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((x, y) => x - y);
  return { median: quantile(sorted, 0.5), p10: quantile(sorted, 0.1), p90: quantile(sorted, 0.9) };
}

/**
 * Times `probes` in `runs` rounds, one run of each per round; the order rotates from round to
 * round so that no probe always runs first (or right after a particular other one).
 */
async function interleave(probes: readonly Probe[], runs: number): Promise<number[][]> {
  const samples = probes.map((): number[] => []);
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < probes.length; k++) {
      const i = (round + k) % probes.length;
      samples[i]!.push(await timeOnce(probes[i]!));
    }
    if ((round + 1) % 10 === 0 || round + 1 === runs) {
      console.error(`  ${round + 1}/${runs}`);
    }
  }
  return samples;
}

async function warmUp(probes: readonly Probe[]): Promise<void> {
  for (let i = 0; i < WARMUP; i++) {
    for (const probe of probes) await timeOnce(probe);
  }
}

/** A temporary directory (canonical path) removed on dispose. */
async function tempDir(prefix: string): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.realPath(await Deno.makeTempDir({ prefix }));
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

async function nproc(): Promise<string> {
  try {
    const out = await new Deno.Command("nproc", { stdout: "piped", stderr: "null" }).output();
    if (out.success) return decoder.decode(out.stdout).trim();
  } catch {
    // no coreutils: fall through
  }
  return String(navigator.hardwareConcurrency);
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(Deno.readTextFileSync("/proc/cpuinfo"));
    return m?.[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** The 1-minute load average: other work on the machine skews every figure. */
function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ")[0] ?? "?";
  } catch {
    return "?";
  }
}

const ms = (x: number): string => x.toFixed(1);
const signed = (x: number): string => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(1)}`;

async function main(): Promise<number> {
  const runs = runsFromEnv();
  if (runs === undefined) {
    console.error(`BENCH_RUNS must be a positive integer, not ${Deno.env.get("BENCH_RUNS")}`);
    return 2;
  }
  try {
    await Deno.stat(BUNDLE);
  } catch {
    throw new CorrectnessError(
      `${BUNDLE} is missing: run \`deno task bench\` (it bundles first) or \`deno task bundle\``,
    );
  }

  const loadBefore = loadAverage();
  await using lima = await createLimaHome();
  await using tmp = await tempDir("gamma-bench-");
  const project = `${tmp.path}/project`;
  const home = `${tmp.path}/home`;
  await Deno.mkdir(project);
  await Deno.mkdir(home);
  // Start-up probes live outside the repository: nothing is written there.
  const emptyScript = `${tmp.path}/empty.ts`;
  const daxScript = `${tmp.path}/import_dax.ts`;
  const nodeScript = `${tmp.path}/import_node.ts`;
  await Deno.writeTextFile(emptyScript, "");
  await Deno.writeTextFile(daxScript, 'await import("dax");\n');
  // The `node:` modules the bundle imports (dax's npm build runs on them), and nothing else.
  const nodeModules = [
    ...new Set((await Deno.readTextFile(BUNDLE)).match(/(?<=^import [^;]* from ")node:[\w/]+/gm)),
  ].sort();
  await Deno.writeTextFile(
    nodeScript,
    nodeModules.map((m) => `import ${JSON.stringify(m)};\n`).join(""),
  );

  console.error(`setting up instance ${INSTANCE} (${project} at ${GUEST_DIR}, writable)…`);
  await lima.addInstance(INSTANCE, {
    mounts: [{ location: project, mountPoint: GUEST_DIR, writable: true }],
    running: true,
  });

  // As the CLI tests run gamma: a clean environment with a temp HOME and cache, plus what a child
  // Deno needs to reach the module cache. Both sides of the comparison get the same one.
  const env: Record<string, string> = {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    XDG_CACHE_HOME: `${home}/.cache`,
    NO_COLOR: "1",
    ...denoEnv(),
    ...lima.env,
    DEVSHELL_VM_LIMACTL: lima.limactl,
    DEVSHELL_VM_LIMA_INSTANCE: INSTANCE,
    // this benchmark is about the limactl path; bench/ssh_bench.ts measures the ssh path
    DEVSHELL_VM_SSH: "off",
  };
  const at = { cwd: project, env };
  const gammaExec: Probe = {
    name: "gamma exec -- true",
    program: DENO,
    args: ["run", "-A", BUNDLE, "exec", "--", "true"],
    ...at,
  };
  const standin: Probe = {
    name: "limactl shell",
    program: lima.limactl,
    args: ["shell", "--workdir", GUEST_DIR, INSTANCE, "true"],
    ...at,
  };
  const empty: Probe = {
    name: "empty script",
    program: DENO,
    args: ["run", "-A", emptyScript],
    ...at,
  };
  const dax: Probe = {
    name: "import dax",
    program: DENO,
    // The repository's import map (and lock, read-only) resolve "dax" as gamma's sources do.
    args: ["run", "-A", "--frozen", "--config", CONFIG, daxScript],
    ...at,
  };
  const node: Probe = {
    name: "import node: built-ins",
    program: DENO,
    args: ["run", "-A", nodeScript],
    ...at,
  };
  const version: Probe = {
    name: "gamma --version",
    program: DENO,
    args: ["run", "-A", BUNDLE, "--version"],
    ...at,
    stdout: /^gamma \S+\n$/,
  };

  const spawnsDuring = async (probe: Probe): Promise<string[][]> => {
    const before = (await lima.argvLog()).length;
    await timeOnce(probe);
    return (await lima.argvLog()).slice(before);
  };

  console.error(`warming up (${WARMUP} runs each; the first gamma run fills its facts cache)…`);
  const cold = await spawnsDuring(gammaExec);
  for (let i = 1; i < WARMUP; i++) await timeOnce(gammaExec);
  await warmUp([standin]);
  await warmUp([empty, node, dax, version]);

  console.error(`timing gamma exec and limactl shell, ${runs} rounds…`);
  const [gammaSamples, standinSamples] = await interleave([gammaExec, standin], runs);
  console.error(`timing start-up costs, ${runs} rounds…`);
  const [emptySamples, nodeSamples, daxSamples, versionSamples] = await interleave(
    [empty, node, dax, version],
    runs,
  );

  console.error("counting limactl processes of one warm gamma exec…");
  const warm = await spawnsDuring(gammaExec);

  const g = stats(gammaSamples!);
  const s = stats(standinSamples!);
  const paired = stats(gammaSamples!.map((x, i) => x - standinSamples![i]!));
  const e = stats(emptySamples!);
  const n = stats(nodeSamples!);
  const d = stats(daxSamples!);
  const v = stats(versionSamples!);
  const overhead = g.median - s.median;
  const speedOk = overhead <= TARGET_MS;
  const spawnOk = warm.length === 1;
  const subcommands = (log: string[][]): string =>
    log.map((argv) => argv.find((a) => !a.startsWith("-")) ?? "?").join(", ");

  const row = (label: string, x: Stats): string =>
    `| ${label} | ${ms(x.median)} | ${ms(x.p10)} | ${ms(x.p90)} |`;
  const lines = [
    `### gamma exec benchmark (${runs} runs per figure, ms)`,
    "",
    "| Figure | median | p10 | p90 |",
    "| --- | ---: | ---: | ---: |",
    row("`gamma exec -- true` (`deno run -A dist/gamma.js`)", g),
    row(`stand-in \`limactl shell --workdir ${GUEST_DIR} ${INSTANCE} true\``, s),
    `| gamma's overhead: difference of the medians | **${signed(overhead)}** | | |`,
    `| gamma's overhead: paired differences | ${signed(paired.median)} | ${signed(paired.p10)} | ${
      signed(paired.p90)
    } |`,
    row("`deno run -A` of an empty script", e),
    row(
      `\`deno run -A\` of a script importing the ${nodeModules.length} \`node:\` modules the bundle imports`,
      n,
    ),
    row('`deno run -A` of `await import("dax")` (npm, via deno.json)', d),
    row("`deno run -A dist/gamma.js --version`", v),
    `| \`node:\` imports over an empty script | ${signed(n.median - e.median)} | | |`,
    `| dax import over an empty script | ${signed(d.median - e.median)} | | |`,
    `| bundle load (\`--version\`) over an empty script | ${signed(v.median - e.median)} | | |`,
    "",
    "| Check | Result |",
    "| --- | --- |",
    `| warm exec overhead ≤ ${TARGET_MS} ms | ${speedOk ? "PASS" : "FAIL"} (${
      signed(overhead)
    } ms) |`,
    `| \`limactl\` processes per warm exec | ${spawnOk ? "PASS" : "FAIL"}: ${warm.length} (${
      subcommands(warm)
    }) |`,
    `| \`limactl\` processes of the first exec (empty facts cache) | ${cold.length} (${
      subcommands(cold)
    }) |`,
    "",
    `Machine: ${await nproc()} CPUs (\`nproc\`), ${cpuModel()}; ${Deno.build.target}, Linux ${Deno.osRelease()}; Deno ${Deno.version.deno} (V8 ${Deno.version.v8}); load average ${loadBefore} before, ${loadAverage()} after; ${
      new Date().toISOString().slice(0, 10)
    }.`,
  ];
  console.log(lines.join("\n"));

  if (!spawnOk) {
    console.error(
      `FAIL: a warm gamma exec spawned ${warm.length} limactl processes, not 1: ${
        JSON.stringify(warm)
      }`,
    );
    return 1;
  }
  return 0;
}

let code: number;
try {
  code = await main();
} catch (e) {
  if (!(e instanceof CorrectnessError)) throw e;
  console.error(`FAIL: ${e.message}`);
  code = 1;
}
Deno.exit(code);
