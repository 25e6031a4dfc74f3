/**
 * Whole-process Mode S benchmark: `gamma sync push` as a user runs it (a fresh process, the
 * bundled CLI, project and stand-in instance as in the CLI tests) against `rsync -a --delete` on
 * the same source tree, alternating which goes first, each timed by a small Python parent for
 * wall time, CPU time (user + system, of every process the command waited for: `find`
 * included) and peak memory. Scenarios: first sync, no-op (after a sync that changed
 * something), no-op again (after one that found nothing to do), one file changed, 100 files
 * changed, 100 files deleted; plus the floor: `find -printf` over both trees (what any scan must
 * at least read). Medians of `--rounds` rounds as a markdown table.
 *
 *     deno run -A bench/sync_cli_bench.ts --cli dist/gamma.js [--baseline OLD.js] [--files N]
 *       [--small] [--rounds N] [--dir DIR]
 *
 * `--cli` is the gamma entry point run with `deno run -A`: `cli.ts` as `deno run -A
 * jsr:@devshell/gamma` runs it, or the bundle (`deno task bundle`, dist/gamma.js).
 * `--baseline` is another build (say, of the previous commit), run in the same rounds against
 * its own copy, for before/after figures measured side by side. `--small` makes
 * every file 200 bytes (the 100k-small-files case); otherwise sizes spread over 0–40 kB.
 *
 * @module
 */
// deno-lint-ignore-file no-console

import { parseArgs } from "node:util";
import { SourceTree } from "./_tree.ts";
import { createLimaHome } from "../tests/support/lima_home.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    cli: { type: "string" },
    baseline: { type: "string" },
    dir: { type: "string" },
    files: { type: "string", default: "10000" },
    rounds: { type: "string", default: "3" },
    small: { type: "boolean", default: false },
  },
});
if (values.cli === undefined) throw new Error("--cli PATH is required (deno task bundle)");
const CLI = await Deno.realPath(values.cli);
const BASELINE = values.baseline === undefined ? undefined : await Deno.realPath(values.baseline);
const FILES = Number(values.files);
const ROUNDS = Number(values.rounds);
const root = values.dir ?? await Deno.makeTempDir({ prefix: "gamma-sync-cli-bench-" });
await Deno.mkdir(root, { recursive: true });
for (const entry of Deno.readDirSync(root)) {
  await Deno.remove(`${root}/${entry.name}`, { recursive: true });
}
const SRC = `${root}/code/app`;
const WS = `${root}/ws`;
const GAMMA = `${WS}/app`;
const RSYNC = `${root}/rsync`;
const CACHE = `${root}/cache`;
// The baseline keeps its copy and state apart: another workspace parent under the same mount.
const WS_BASE = `${WS}/baseline`;
const CACHE_BASE = `${root}/cache-baseline`;

const lima = await createLimaHome();
await lima.addInstance("dev", {
  mounts: [{ location: WS, mountPoint: "/workspace", writable: true }],
  running: true,
});
const ENV = {
  ...lima.env,
  DEVSHELL_VM_LIMACTL: lima.limactl,
  DEVSHELL_VM_LIMA_INSTANCE: "dev",
  DEVSHELL_VM_WORKSPACE_PARENT: WS,
  XDG_CACHE_HOME: CACHE,
  NO_COLOR: "1",
};

const tree = new SourceTree(SRC, FILES, values.small);

function generate(): void {
  Deno.mkdirSync(`${SRC}/.git`, { recursive: true });
  Deno.mkdirSync(WS, { recursive: true });
  tree.generate();
}

interface Run {
  wall: number;
  cpu: number;
  kib: number;
}

/**
 * A small Python parent times one run: wall from spawn to exit, user+sys CPU of every process it
 * waited for (getrusage(RUSAGE_CHILDREN), microseconds; GNU time only has centiseconds) and the
 * peak RSS of the largest of them. Python's own start-up is outside all three.
 */
const TIMER = `
import resource, subprocess, sys, time
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = (time.perf_counter() - t0) * 1000
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) * 1000
sys.stderr.buffer.write(p.stderr)
sys.stderr.write(f"\\n{wall} {cpu} {r1.ru_maxrss}\\n")
sys.exit(p.returncode)
`;

/** Run under the timer; its last stderr line is "wall cpu maxKiB". */
async function timed(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = ENV,
): Promise<Run> {
  const out = await new Deno.Command("python3", {
    args: ["-c", TIMER, cmd, ...args],
    cwd,
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr).trim().split("\n");
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${err.join("\n")}`);
  const [wall, cpu, kib] = err.at(-1)!.split(" ").map(Number) as [number, number, number];
  return { wall, cpu, kib };
}

const gamma = () => timed(Deno.execPath(), ["run", "-A", "--quiet", CLI, "sync", "push"], SRC);
const ENV_BASE = { ...ENV, DEVSHELL_VM_WORKSPACE_PARENT: WS_BASE, XDG_CACHE_HOME: CACHE_BASE };
const baseline = () =>
  timed(Deno.execPath(), ["run", "-A", "--quiet", BASELINE!, "sync", "push"], SRC, ENV_BASE);
const rsync = () => timed("rsync", ["-a", "--delete", `${SRC}/`, `${RSYNC}/`], root);
const find = () =>
  timed("find", [SRC, GAMMA, "-mindepth", "1", "-printf", "%y\\0%m\\0%s\\0%T@\\0%P\\0%l\\0"], root);
const EMPTY = `${root}/empty.ts`;
Deno.writeTextFileSync(EMPTY, "// nothing: Deno's own start-up\n");
const empty = () => timed(Deno.execPath(), ["run", "-A", "--quiet", EMPTY], root);
const start: Run[] = [];

// "no-op" follows a sync that changed something; "no-op again" follows a sync that found
// nothing to do (the steady state of repeated `gamma exec` runs and live-sync batches).
const SCENARIOS = [
  "first sync",
  "no-op",
  "no-op again",
  "1 file changed",
  "no-op after 1 change",
  "100 files changed",
  "100 deleted",
];
const samples = new Map<string, { g: Run; r: Run; b?: Run }[]>(SCENARIOS.map((s) => [s, []]));
const floor: Run[] = [];

console.error(`Generating ${FILES} files under ${SRC}…`);
generate();
// One run so the stand-in's instance facts are cached, as after a user's first command.
await timed(Deno.execPath(), ["run", "-A", "--quiet", CLI, "sync", "status"], SRC);
if (BASELINE !== undefined) {
  Deno.mkdirSync(WS_BASE, { recursive: true });
  await timed(Deno.execPath(), ["run", "-A", "--quiet", BASELINE, "sync", "status"], SRC, ENV_BASE);
}

for (let round = 0; round < ROUNDS; round++) {
  await Deno.remove(GAMMA, { recursive: true }).catch(() => {});
  await Deno.remove(RSYNC, { recursive: true }).catch(() => {});
  await Deno.remove(`${CACHE}/gamma/sync`, { recursive: true }).catch(() => {});
  await Deno.remove(`${WS_BASE}/app`, { recursive: true }).catch(() => {});
  await Deno.remove(`${CACHE_BASE}/gamma/sync`, { recursive: true }).catch(() => {});
  tree.restore();
  for (const scenario of SCENARIOS) {
    tree.prepare(scenario, round);
    await new Deno.Command("sync").output();
    // Which goes first rotates by round.
    const runs: (() => Promise<Run>)[] = [gamma, rsync];
    if (BASELINE !== undefined) runs.push(baseline);
    const order = runs.map((_, k) => (k + round) % runs.length);
    const got: Run[] = [];
    for (const k of order) got[k] = await runs[k]!();
    const [g, r, b] = got as [Run, Run, Run | undefined];
    samples.get(scenario)!.push(b === undefined ? { g, r } : { g, r, b });
    console.error(
      `round ${round + 1} ${scenario}: gamma ${g.wall} ms wall ${g.cpu} ms cpu ${
        (g.kib / 1024).toFixed(0)
      } MB; rsync ${r.wall} ms wall ${r.cpu} ms cpu`,
    );
    if (scenario === "no-op") {
      floor.push(await find());
      start.push(await empty());
    }
  }
}
await lima[Symbol.asyncDispose]();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const ms = (x: number) => `${x.toFixed(x < 1000 ? 1 : 0)} ms`;
console.log(
  `${FILES} ${
    values.small ? "200-byte" : "0–40 kB"
  } files, ${ROUNDS} rounds, medians; ${CLI}; ${root}\n`,
);
if (BASELINE !== undefined) {
  console.log(`Baseline: ${BASELINE}\n`);
  console.log(
    "| Scenario | baseline wall | baseline CPU | baseline CPU / rsync | baseline peak RSS |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const scenario of SCENARIOS) {
    const s = samples.get(scenario)!;
    const bc = median(s.map((x) => x.b!.cpu));
    const rc = median(s.map((x) => x.r.cpu));
    console.log(
      `| ${scenario} | ${ms(median(s.map((x) => x.b!.wall)))} | ${ms(bc)} | ${
        (bc / Math.max(rc, 1)).toFixed(2)
      } | ${(Math.max(...s.map((x) => x.b!.kib)) / 1024).toFixed(0)} MB |`,
    );
  }
  console.log("");
}
console.log(
  "| Scenario | gamma wall | rsync wall | wall ratio | gamma CPU | rsync CPU | CPU ratio | gamma peak RSS | rsync peak RSS |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const scenario of SCENARIOS) {
  const s = samples.get(scenario)!;
  const gw = median(s.map((x) => x.g.wall));
  const rw = median(s.map((x) => x.r.wall));
  const gc = median(s.map((x) => x.g.cpu));
  const rc = median(s.map((x) => x.r.cpu));
  const gk = Math.max(...s.map((x) => x.g.kib));
  const rk = Math.max(...s.map((x) => x.r.kib));
  console.log(
    `| ${scenario} | ${ms(gw)} | ${ms(rw)} | ${(gw / rw).toFixed(2)} | ${ms(gc)} | ${ms(rc)} | ${
      (gc / Math.max(rc, 1)).toFixed(2)
    } | ${(gk / 1024).toFixed(0)} MB | ${(rk / 1024).toFixed(0)} MB |`,
  );
}
console.log(
  `| floor: find -printf over both trees | ${ms(median(floor.map((x) => x.wall)))} | | | ${
    ms(median(floor.map((x) => x.cpu)))
  } | | | | |`,
);
console.log(
  `| floor: an empty \`deno run\` | ${ms(median(start.map((x) => x.wall)))} | | | ${
    ms(median(start.map((x) => x.cpu)))
  } | | | ${(Math.max(...start.map((x) => x.kib)) / 1024).toFixed(0)} MB | |`,
);
if (values.dir === undefined) await Deno.remove(root, { recursive: true });
