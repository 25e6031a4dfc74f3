/**
 * Live-sync delay: with a {@linkcode LiveSync} running between a generated project (default
 * 10,000 files, 100 directories) and its copy, as `gamma shell` runs it, how long from a write
 * on one side until the other side holds it: host → guest and guest → host, `--samples` each
 * (default 20), alternating. Each write replaces a file whole (written beside the tree, then
 * renamed in, as editors save); the other side is checked after every batch. Medians, quartiles
 * and maximum as a markdown table.
 *
 *     deno run -A bench/live_sync_bench.ts [--files N] [--samples N] [--dir DIR]
 *
 * @module
 */
// deno-lint-ignore-file no-console

import { parseArgs } from "node:util";
import { HostTree } from "../lib/session/host_tree.ts";
import { LiveSync } from "../lib/session/live_sync.ts";
import { syncTrees } from "../lib/session/sync.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    dir: { type: "string" },
    files: { type: "string", default: "10000" },
    samples: { type: "string", default: "20" },
  },
});
const FILES = Number(values.files);
const SAMPLES = Number(values.samples);
const root = values.dir ?? await Deno.makeTempDir({ prefix: "gamma-live-bench-" });
await Deno.mkdir(root, { recursive: true });
for (const entry of Deno.readDirSync(root)) {
  await Deno.remove(`${root}/${entry.name}`, { recursive: true });
}
const HOST = `${root}/host`;
const COPY = `${root}/copy`;
const perDir = Math.ceil(FILES / 100);
for (let i = 0; i < FILES; i++) {
  const dir = `${HOST}/d${Math.floor(i / perDir / 10)}/e${Math.floor(i / perDir) % 10}`;
  if (i % perDir === 0) Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(`${dir}/f${i}.txt`, `file ${i}\n`.repeat(20));
}
const options = { stateDir: `${root}/state`, progress: false as const, notice: () => {} };
await syncTrees("push", new HostTree(HOST), new HostTree(COPY), options);

const live = new LiveSync(HOST, COPY, options);
live.start();

/** Write `text` to `path` under `from` (whole, renamed in) and time until `to` holds it. */
async function delay(from: string, to: string, path: string, text: string): Promise<number> {
  const arrived = () => {
    try {
      return Deno.readTextFileSync(`${to}/${path}`) === text;
    } catch {
      return false;
    }
  };
  const done = live.waitFor(arrived);
  const start = performance.now();
  Deno.writeTextFileSync(`${root}/edit.tmp`, text);
  Deno.renameSync(`${root}/edit.tmp`, `${from}/${path}`);
  await done;
  return performance.now() - start;
}

const toGuest: number[] = [];
const toHost: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  // Straight after the previous edit: a batch that saw the last sync's own writes may still be
  // running, as it may be when a user saves.
  toGuest.push(await delay(HOST, COPY, "d0/e0/f0.txt", `host edit ${i}\n`));
  toHost.push(await delay(COPY, HOST, "d9/e9/guest.txt", `guest edit ${i}\n`));
}
await live.stop();

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (at - lo);
}
const ms = (x: number) => `${x.toFixed(0)} ms`;
console.log(`${FILES} files, ${SAMPLES} samples each way, batches: ${live.batches}; ${root}\n`);
console.log("| Direction | median | p25 | p75 | max |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const [name, xs] of [["host → guest", toGuest], ["guest → host", toHost]] as const) {
  console.log(
    `| ${name} | ${ms(quantile(xs, 0.5))} | ${ms(quantile(xs, 0.25))} | ${
      ms(quantile(xs, 0.75))
    } | ${ms(Math.max(...xs))} |`,
  );
}
if (values.dir === undefined) await Deno.remove(root, { recursive: true });
