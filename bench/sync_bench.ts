/**
 * Mode S sync against `rsync -a --delete`, on a generated tree (default 10,000 files, about
 * 200 MB, three levels of directories), in five scenarios: first sync, no-op, one file changed,
 * 100 files changed, 100 files deleted (`sync(1)` flushes dirty pages before each one). Each gamma
 * sync runs in a child Deno process, which
 * reports the time of the `syncTrees` call and its peak memory (VmHWM); the parent also times the
 * whole child process. rsync runs between the same source and its own destination, under GNU
 * `time` for its peak memory when available. Medians of `--rounds` rounds are printed as a
 * markdown table.
 *
 *     deno run -A bench/sync_bench.ts [--dir DIR] [--files N] [--rounds N] [--ignored N]
 *
 * `--ignored N` adds N files of build output under `target/`, which the tree's `.gitignore`
 * ignores: gamma leaves them out by default, and rsync gets `--filter=':- .gitignore'` to do the
 * same (issue 9: ignored output must cost a sync nothing).
 *
 * `--dir` chooses where the trees live (default: a new temporary directory); it is emptied.
 *
 * @module
 */
// deno-lint-ignore-file no-console

import { parseArgs } from "node:util";
import { pattern, SourceTree } from "./_tree.ts";
import { HostTree } from "../lib/session/host_tree.ts";
import { syncTrees } from "../lib/session/sync.ts";

interface ChildResult {
  ms: number;
  hwmKiB: number;
  copied: number;
  removed: number;
}

async function child(src: string, dst: string, stateDir: string): Promise<void> {
  const start = performance.now();
  const report = await syncTrees("push", new HostTree(src), new HostTree(dst), {
    stateDir,
    progress: false,
  });
  const ms = performance.now() - start;
  const status = await Deno.readTextFile("/proc/self/status");
  const hwmKiB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? "0");
  if (!report.ok) throw new Error(JSON.stringify(report.notDone.slice(0, 3)));
  const result: ChildResult = { ms, hwmKiB, copied: report.copied, removed: report.removed };
  console.log(JSON.stringify(result));
}

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    child: { type: "boolean" },
    dir: { type: "string" },
    files: { type: "string", default: "10000" },
    rounds: { type: "string", default: "3" },
    ignored: { type: "string", default: "0" },
  },
});

if (values.child) {
  const [src, dst, stateDir] = positionals as [string, string, string];
  await child(src, dst, stateDir);
  Deno.exit(0);
}

const FILES = Number(values.files);
const ROUNDS = Number(values.rounds);
const IGNORED = Number(values.ignored);
const root = values.dir ?? await Deno.makeTempDir({ prefix: "gamma-sync-bench-" });
await Deno.mkdir(root, { recursive: true });
for (const entry of Deno.readDirSync(root)) {
  await Deno.remove(`${root}/${entry.name}`, { recursive: true });
}
const SRC = `${root}/src`;
const GAMMA = `${root}/gamma`;
const RSYNC = `${root}/rsync`;
const STATE = `${root}/state`;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const SELF = new URL(import.meta.url).pathname;
const hasTime = (() => {
  try {
    return Deno.statSync("/usr/bin/time").isFile;
  } catch {
    return false;
  }
})();

// Three levels: 10 × 10 directories of FILES / 100 files, sizes spread over 0–40 kB.
const tree = new SourceTree(SRC, FILES);
function generate(): void {
  if (IGNORED > 0) {
    Deno.mkdirSync(SRC, { recursive: true });
    Deno.writeTextFileSync(`${SRC}/.gitignore`, "target/\n");
    for (let i = 0; i < IGNORED; i++) {
      const dir = `${SRC}/target/debug/deps${Math.floor(i / 300)}`;
      if (i % 300 === 0) Deno.mkdirSync(dir, { recursive: true });
      Deno.writeFileSync(`${dir}/o${i}.o`, pattern.slice(0, 100));
    }
  }
  tree.generate();
}

async function runGamma(): Promise<{ wall: number; result: ChildResult }> {
  const start = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", `--config=${CONFIG}`, SELF, "--child", SRC, GAMMA, STATE],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const wall = performance.now() - start;
  if (!out.success) throw new Error("gamma child failed");
  return { wall, result: JSON.parse(new TextDecoder().decode(out.stdout)) };
}

async function runRsync(): Promise<{ wall: number; maxKiB: number | undefined }> {
  const args = [
    "-a",
    "--delete",
    ...(IGNORED > 0 ? ["--filter=:- .gitignore"] : []),
    `${SRC}/`,
    `${RSYNC}/`,
  ];
  const start = performance.now();
  const out = await new Deno.Command(hasTime ? "/usr/bin/time" : "rsync", {
    args: hasTime ? ["-f", "%M", "rsync", ...args] : args,
    stdout: "null",
    stderr: "piped",
  }).output();
  const wall = performance.now() - start;
  if (!out.success) throw new Error(`rsync failed: ${new TextDecoder().decode(out.stderr)}`);
  const maxKiB = hasTime
    ? Number(new TextDecoder().decode(out.stderr).trim().split("\n").at(-1))
    : undefined;
  return { wall, maxKiB };
}

const SCENARIOS = ["first sync", "no-op", "1 file changed", "100 files changed", "100 deleted"];
interface Sample {
  gammaCall: number;
  gammaProcess: number;
  gammaKiB: number;
  rsync: number;
  rsyncKiB: number | undefined;
  work: string;
}
const samples = new Map<string, Sample[]>(SCENARIOS.map((s) => [s, []]));

console.error(`Generating ${FILES} files under ${SRC}…`);
generate();

for (let round = 0; round < ROUNDS; round++) {
  await Deno.remove(GAMMA, { recursive: true }).catch(() => {});
  await Deno.remove(RSYNC, { recursive: true }).catch(() => {});
  await Deno.remove(`${root}/state`, { recursive: true }).catch(() => {});
  await Deno.mkdir(GAMMA);
  // Put back what the previous round deleted.
  tree.restore();
  for (const scenario of SCENARIOS) {
    tree.prepare(scenario, round);
    // Flush dirty pages first, so neither tool pays for the writes before it.
    await new Deno.Command("sync").output();
    const gammaFirst = round % 2 === 0;
    let g: Awaited<ReturnType<typeof runGamma>>;
    let r: Awaited<ReturnType<typeof runRsync>>;
    if (gammaFirst) {
      g = await runGamma();
      r = await runRsync();
    } else {
      r = await runRsync();
      g = await runGamma();
    }
    samples.get(scenario)!.push({
      gammaCall: g.result.ms,
      gammaProcess: g.wall,
      gammaKiB: g.result.hwmKiB,
      rsync: r.wall,
      rsyncKiB: r.maxKiB,
      work: `${g.result.copied} copied, ${g.result.removed} removed`,
    });
    console.error(
      `round ${round + 1} ${scenario}: gamma ${g.result.ms.toFixed(0)} ms (process ${
        g.wall.toFixed(0)
      } ms, ${(g.result.hwmKiB / 1024).toFixed(0)} MB), rsync ${r.wall.toFixed(0)} ms`,
    );
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

let du = "";
try {
  const out = new Deno.Command("du", { args: ["-sh", SRC], stdout: "piped" }).outputSync();
  du = new TextDecoder().decode(out.stdout).split("\t")[0] ?? "";
} catch {
  // no du
}
console.log(
  `${FILES} files${
    IGNORED > 0 ? ` + ${IGNORED} ignored under target/` : ""
  }, ${du} (du), ${ROUNDS} rounds, medians; ${root}; ${Deno.build.os} ${Deno.version.deno}\n`,
);
console.log(
  "| Scenario | gamma sync call | gamma process (incl. Deno start) | rsync -a --delete | call / rsync | gamma peak RSS | rsync peak RSS | gamma did |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
for (const scenario of SCENARIOS) {
  const s = samples.get(scenario)!;
  const call = median(s.map((x) => x.gammaCall));
  const proc = median(s.map((x) => x.gammaProcess));
  const rsync = median(s.map((x) => x.rsync));
  const kib = Math.max(...s.map((x) => x.gammaKiB));
  const rkib = s[0]!.rsyncKiB === undefined
    ? "n/a"
    : `${(Math.max(...s.map((x) => x.rsyncKiB!)) / 1024).toFixed(0)} MB`;
  console.log(
    `| ${scenario} | ${call.toFixed(0)} ms | ${proc.toFixed(0)} ms | ${rsync.toFixed(0)} ms | ${
      (call / rsync).toFixed(2)
    } | ${(kib / 1024).toFixed(0)} MB | ${rkib} | ${s[0]!.work} |`,
  );
}
if (values.dir === undefined) await Deno.remove(root, { recursive: true });
