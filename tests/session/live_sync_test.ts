import assert from "node:assert/strict";
import { HostTree } from "../../lib/session/host_tree.ts";
import { type LiveBatch, liveLine, LiveSync } from "../../lib/session/live_sync.ts";
import { syncTrees } from "../../lib/session/sync.ts";

/** A host project and its copy after a first push, and a started live sync between them. */
async function liveSetup(options: { onBatch?: (batch: LiveBatch) => void } = {}) {
  const dir = await Deno.makeTempDir({ prefix: "gamma-live-" });
  const host = `${dir}/host`;
  const copy = `${dir}/copy`;
  await Deno.mkdir(`${host}/src`, { recursive: true });
  await Deno.writeTextFile(`${host}/src/main.rs`, "fn main() {}\n");
  const sync = { stateDir: `${dir}/state`, progress: false as const, notice: () => {} };
  await syncTrees("push", new HostTree(host), new HostTree(copy), sync);
  const live = new LiveSync(host, copy, { ...sync, debounceMs: 20, ...options });
  live.start();
  return {
    dir,
    host,
    copy,
    live,
    async [Symbol.asyncDispose]() {
      await live.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Every file and link below `root` with its content or target (gamma's identity file left out). */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (abs: string, rel: string): void => {
    for (const e of [...Deno.readDirSync(abs)].sort((a, b) => a.name < b.name ? -1 : 1)) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (path === ".gamma-copy-id") continue;
      const full = `${abs}/${e.name}`;
      if (e.isSymlink) out[path] = `-> ${Deno.readLinkSync(full)}`;
      else if (e.isDirectory) {
        out[`${path}/`] = "";
        walk(full, path);
      } else out[path] = Deno.readTextFileSync(full);
    }
  };
  walk(root, "");
  return out;
}

/** A batch test: true once `path` under `root` holds `text` (`undefined`: once it is gone). */
const holds = (root: string, path: string, text: string | undefined) => (): boolean => {
  try {
    return Deno.readTextFileSync(`${root}/${path}`) === text;
  } catch {
    return text === undefined;
  }
};

Deno.test("LiveSync carries edits both ways while it runs, each in a batch of its own", async () => {
  await using t = await liveSetup();
  // Host to guest: an editor saving a file, without any sync call.
  const toGuest = t.live.waitFor(
    holds(t.copy, "src/main.rs", 'fn main() { println!("hi"); }\n'),
  );
  await Deno.writeTextFile(`${t.host}/src/main.rs`, 'fn main() { println!("hi"); }\n');
  const pushed = await toGuest;
  assert.equal(pushed.error, undefined);
  assert.equal(
    await Deno.readTextFile(`${t.copy}/src/main.rs`),
    'fn main() { println!("hi"); }\n',
  );
  // Guest to host: the guest's build writes a new file and a directory.
  const toHost = t.live.waitFor(holds(t.host, "out/report.txt", "made in the guest\n"));
  await Deno.mkdir(`${t.copy}/out`);
  await Deno.writeTextFile(`${t.copy}/out/report.txt`, "made in the guest\n");
  await toHost;
  assert.equal(await Deno.readTextFile(`${t.host}/out/report.txt`), "made in the guest\n");
  // A deletion travels too.
  const removed = t.live.waitFor(holds(t.host, "out/report.txt", undefined));
  await Deno.remove(`${t.copy}/out/report.txt`);
  await removed;
  assert.deepEqual(tree(t.host), tree(t.copy));
});

Deno.test("LiveSync reports a conflict made during a live session and keeps both versions", async () => {
  const batches: LiveBatch[] = [];
  await using t = await liveSetup({ onBatch: (b) => batches.push(b) });
  // Both sides change the same file before a batch runs (held, so the two edits meet).
  await t.live.hold();
  await Deno.writeTextFile(`${t.host}/src/main.rs`, "host edit\n");
  await Deno.writeTextFile(`${t.copy}/src/main.rs`, "guest edit\n");
  const batch = await t.live.runNow();
  const [conflict] = batch.report!.conflicts;
  assert.equal(conflict!.path, "src/main.rs");
  assert.match(conflict!.conflictPath, /^src\/main\.rs\.gamma-conflict-guest-/);
  assert.match(liveLine(batch.report!), /, 1 conflict$/);
  // Both versions are kept on both sides: the host's at the path, the guest's beside it.
  for (const root of [t.host, t.copy]) {
    assert.equal(await Deno.readTextFile(`${root}/src/main.rs`), "host edit\n");
    assert.equal(await Deno.readTextFile(`${root}/${conflict!.conflictPath}`), "guest edit\n");
  }
  // Reported once: later batches find nothing new.
  const again = await t.live.runNow();
  assert.deepEqual([again.report!.conflicts, again.report!.actions], [[], []]);
  assert.ok(batches.every((b) => b.error === undefined));
});

Deno.test("LiveSync.stop() runs a last batch: both sides are equal afterwards", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gamma-live-stop-" });
  try {
    const host = `${dir}/host`;
    const copy = `${dir}/copy`;
    await Deno.mkdir(host);
    const sync = { stateDir: `${dir}/state`, progress: false as const, notice: () => {} };
    await syncTrees("push", new HostTree(host), new HostTree(copy), sync);
    // A long debounce: the edits are still waiting when the session ends.
    const live = new LiveSync(host, copy, { ...sync, debounceMs: 60_000, maxDelayMs: 60_000 });
    live.start();
    await Deno.writeTextFile(`${host}/late-host.txt`, "saved just before exit\n");
    await Deno.mkdir(`${copy}/d`);
    await Deno.writeTextFile(`${copy}/d/late-guest.txt`, "written just before exit\n");
    const last = await live.stop();
    assert.equal(last.error, undefined);
    assert.deepEqual(tree(host), tree(copy));
    assert.deepEqual(tree(host), {
      "d/": "",
      "d/late-guest.txt": "written just before exit\n",
      "late-host.txt": "saved just before exit\n",
    });
    // Stopped: later edits stay where they are.
    const batches = live.batches;
    await Deno.writeTextFile(`${host}/after.txt`, "x");
    assert.equal(live.batches, batches);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LiveSync keeps the safety stop: a batch that would empty the host changes nothing", async () => {
  const batches: LiveBatch[] = [];
  await using t = await liveSetup({ onBatch: (b) => batches.push(b) });
  for (let i = 0; i < 60; i++) await Deno.writeTextFile(`${t.host}/f${i}`, `${i}`);
  await t.live.hold();
  await t.live.runNow();
  const before = tree(t.host);
  // The guest deletes everything.
  for (const e of [...Deno.readDirSync(t.copy)]) {
    if (e.name !== ".gamma-copy-id") await Deno.remove(`${t.copy}/${e.name}`, { recursive: true });
  }
  const batch = await t.live.runNow();
  assert.equal(batch.error?.name, "MassDeletionError");
  assert.deepEqual(tree(t.host), before);
});

Deno.test("LiveSync starts no batch for changes in ignored directories, and one for the rest", async () => {
  const batches: LiveBatch[] = [];
  await using t = await liveSetup({ onBatch: (b) => batches.push(b) });
  await Deno.writeTextFile(`${t.host}/.gitignore`, "target/\n");
  await Deno.mkdir(`${t.copy}/target/debug`, { recursive: true });
  await t.live.hold();
  await t.live.runNow(); // .gitignore and the ignored directory are known from here on
  // The guest's build writes only ignored output, then one file that is synced: the first
  // change noted is that file's (the watcher reports a tree's changes in order).
  const noted = t.live.nextChange();
  for (let i = 0; i < 20; i++) await Deno.writeTextFile(`${t.copy}/target/debug/o${i}`, "obj");
  await Deno.writeTextFile(`${t.copy}/src/lib.rs`, "// new\n");
  assert.deepEqual(await noted, [`${t.copy}/src/lib.rs`]);
  const batch = await t.live.runNow();
  assert.deepEqual(batch.report!.actions.map((a) => `${a.side}:${a.path}`), ["host:src/lib.rs"]);
  assert.equal(await Deno.readTextFile(`${t.host}/src/lib.rs`), "// new\n");
  assert.equal(batches.every((b) => b.error === undefined), true);
});
