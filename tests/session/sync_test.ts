import assert from "node:assert/strict";
import fc from "fast-check";
import { HostTree } from "../../lib/session/host_tree.ts";
import { type SyncReport, syncTrees } from "../../lib/session/sync.ts";
import { MemoryTree } from "../../lib/sync/memory_tree.ts";
import type { SyncDirection } from "../../lib/sync/plan.ts";
import { stringifyManifest } from "../../lib/sync/manifest.ts";

// ---------------------------------------------------------------------------------------------
// Snapshots of both kinds of tree, in one shape, for exact comparisons.

type Snap =
  | { type: "file"; content: string; mode: number; mtimeMs: number }
  | { type: "dir"; mode: number }
  | { type: "symlink"; target: string };

async function snapMemory(tree: MemoryTree): Promise<Map<string, Snap>> {
  const out = new Map<string, Snap>();
  for (const [path, entry] of (await tree.scan()).entries) {
    out.set(
      path,
      entry.type === "file"
        ? { type: "file", content: tree.getText(path)!, mode: entry.mode, mtimeMs: entry.mtimeMs }
        : entry,
    );
  }
  return out;
}

function snapDir(root: string): Map<string, Snap> {
  const out = new Map<string, Snap>();
  const walk = (abs: string, rel: string): void => {
    const names = [...Deno.readDirSync(abs)].map((e) => e.name).sort();
    for (const name of names) {
      const path = rel === "" ? name : `${rel}/${name}`;
      const full = `${abs}/${name}`;
      const info = Deno.lstatSync(full);
      const mode = info.mode! & 0o7777;
      if (info.isSymlink) out.set(path, { type: "symlink", target: Deno.readLinkSync(full) });
      else if (info.isDirectory) {
        out.set(path, { type: "dir", mode });
        walk(full, path);
      } else {
        out.set(path, {
          type: "file",
          content: Deno.readTextFileSync(full),
          mode,
          mtimeMs: info.mtime!.getTime(),
        });
      }
    }
  };
  walk(root, "");
  return out;
}

// ---------------------------------------------------------------------------------------------
// A side the model edits like a user (host) or a guest process would: never through a link.

interface Editable {
  snap(): Promise<Map<string, Snap>>;
  write(path: string, content: string, mode: number, mtimeMs: number): void;
  mkdir(path: string): void;
  remove(path: string): void;
  rename(from: string, to: string): void;
  chmod(path: string, mode: number): void;
  symlink(path: string, target: string): void;
}

function parentsOf(path: string): string[] {
  const parts = path.split("/");
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
}

class MemorySide implements Editable {
  constructor(readonly tree: MemoryTree) {}
  snap(): Promise<Map<string, Snap>> {
    return snapMemory(this.tree);
  }
  #parentsOk(path: string): boolean {
    return parentsOf(path).every((p) => {
      const e = this.tree.get(p);
      return e === undefined || e.type === "dir";
    });
  }
  write(path: string, content: string, mode: number, mtimeMs: number): void {
    if (!this.#parentsOk(path) || this.tree.get(path)?.type === "dir") return;
    if (this.tree.get(path)?.type === "symlink") this.tree.delete(path);
    this.tree.setFile(path, content, { mode, mtimeMs });
  }
  mkdir(path: string): void {
    if (!this.#parentsOk(path) || (this.tree.get(path) ?? { type: "dir" }).type !== "dir") return;
    this.tree.setDir(path);
  }
  remove(path: string): void {
    if (this.#parentsOk(path)) this.tree.delete(path);
  }
  rename(from: string, to: string): void {
    if (!this.#parentsOk(from) || !this.#parentsOk(to) || this.tree.get(from) === undefined) return;
    if (to === from || to.startsWith(`${from}/`) || from.startsWith(`${to}/`)) return;
    this.tree.rename(from, to);
  }
  chmod(path: string, mode: number): void {
    const e = this.#parentsOk(path) ? this.tree.get(path) : undefined;
    if (e?.type === "file") this.tree.setFile(path, this.tree.getFile(path)!, { ...e, mode });
    else if (e?.type === "dir") this.tree.setDir(path, mode === 0o644 ? 0o755 : 0o700);
  }
  symlink(path: string, target: string): void {
    if (!this.#parentsOk(path)) return;
    this.tree.delete(path);
    this.tree.setSymlink(path, target);
  }
}

class DirSide implements Editable {
  constructor(readonly root: string) {}
  snap(): Promise<Map<string, Snap>> {
    return Promise.resolve(snapDir(this.root));
  }
  #lstat(path: string): Deno.FileInfo | undefined {
    try {
      return Deno.lstatSync(`${this.root}/${path}`);
    } catch {
      return undefined;
    }
  }
  #parentsOk(path: string): boolean {
    return parentsOf(path).every((p) => {
      const info = this.#lstat(p);
      return info === undefined || info.isDirectory;
    });
  }
  #mkdirs(path: string): void {
    for (const p of parentsOf(path)) {
      if (this.#lstat(p) === undefined) Deno.mkdirSync(`${this.root}/${p}`);
    }
  }
  write(path: string, content: string, mode: number, mtimeMs: number): void {
    if (!this.#parentsOk(path) || this.#lstat(path)?.isDirectory) return;
    this.#mkdirs(path);
    const abs = `${this.root}/${path}`;
    if (this.#lstat(path)?.isSymlink) Deno.removeSync(abs);
    Deno.writeTextFileSync(abs, content);
    Deno.chmodSync(abs, mode);
    Deno.utimeSync(abs, mtimeMs / 1000, mtimeMs / 1000);
  }
  mkdir(path: string): void {
    const info = this.#lstat(path);
    if (!this.#parentsOk(path) || (info !== undefined && !info.isDirectory)) return;
    this.#mkdirs(path);
    if (info === undefined) Deno.mkdirSync(`${this.root}/${path}`);
  }
  remove(path: string): void {
    if (this.#parentsOk(path) && this.#lstat(path) !== undefined) {
      Deno.removeSync(`${this.root}/${path}`, { recursive: true });
    }
  }
  rename(from: string, to: string): void {
    if (!this.#parentsOk(from) || !this.#parentsOk(to) || this.#lstat(from) === undefined) return;
    if (to === from || to.startsWith(`${from}/`) || from.startsWith(`${to}/`)) return;
    this.remove(to);
    this.#mkdirs(to);
    Deno.renameSync(`${this.root}/${from}`, `${this.root}/${to}`);
  }
  chmod(path: string, mode: number): void {
    const info = this.#parentsOk(path) ? this.#lstat(path) : undefined;
    if (info?.isFile) Deno.chmodSync(`${this.root}/${path}`, mode);
    else if (info?.isDirectory) {
      Deno.chmodSync(`${this.root}/${path}`, mode === 0o644 ? 0o755 : 0o700);
    }
  }
  symlink(path: string, target: string): void {
    if (!this.#parentsOk(path)) return;
    this.remove(path);
    this.#mkdirs(path);
    Deno.symlinkSync(target, `${this.root}/${path}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The model-based test.

const PATHS = ["x", "y", "a", "a/x", "a/y", "a/b", "a/b/x", "c", "c/x"];
const MODES = [0o644, 0o755, 0o600];

type Cmd =
  | { k: "write"; host: boolean; path: string; mode: number; pad: number }
  | { k: "mkdir"; host: boolean; path: string }
  | { k: "remove"; host: boolean; path: string }
  | { k: "rename"; host: boolean; from: string; to: string }
  | { k: "chmod"; host: boolean; path: string; mode: number }
  | { k: "symlink"; host: boolean; path: string; target: number }
  | { k: "sync"; direction: SyncDirection };

const pathArb = fc.constantFrom(...PATHS);
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant("write" as const),
      host: fc.boolean(),
      path: pathArb,
      mode: fc.constantFrom(...MODES),
      pad: fc.nat(20),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant("mkdir" as const), host: fc.boolean(), path: pathArb }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant("remove" as const), host: fc.boolean(), path: pathArb }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant("rename" as const),
      host: fc.boolean(),
      from: pathArb,
      to: pathArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant("chmod" as const),
      host: fc.boolean(),
      path: pathArb,
      mode: fc.constantFrom(...MODES),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant("symlink" as const),
      host: fc.boolean(),
      path: pathArb,
      target: fc.nat(3),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant("sync" as const),
      direction: fc.constantFrom<SyncDirection>("push", "pull", "push", "pull", "both"),
    }),
  },
);

/** Every file's content on either side. */
function contents(...snaps: Map<string, Snap>[]): Set<string> {
  const out = new Set<string>();
  for (const snap of snaps) {
    for (const s of snap.values()) if (s.type === "file") out.add(s.content);
  }
  return out;
}

function noDebris(snap: Map<string, Snap>): void {
  for (const path of snap.keys()) {
    assert.ok(!path.split("/").some((p) => p.startsWith(".gamma-tmp-")), `debris ${path}`);
  }
}

async function runSequence(cmds: Cmd[], realHost: boolean): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gamma-sync-model-" });
  try {
    await Deno.mkdir(`${dir}/guest`);
    await Deno.mkdir(`${dir}/outside/inner`, { recursive: true });
    await Deno.writeTextFile(`${dir}/outside/sentinel`, "do not touch");
    const outsideBefore = snapDir(`${dir}/outside`);
    let clock = 1_600_000_000_000;
    let version = 0;
    let hostTree: MemoryTree | HostTree;
    let host: Editable;
    if (realHost) {
      await Deno.mkdir(`${dir}/host`);
      hostTree = new HostTree(`${dir}/host`);
      host = new DirSide(`${dir}/host`);
    } else {
      const memory = new MemoryTree({ now: () => clock });
      hostTree = memory;
      host = new MemorySide(memory);
    }
    const guestTree = new HostTree(`${dir}/guest`);
    const guest = new DirSide(`${dir}/guest`);
    const targets = ["x", "../outside", `${dir}/outside/inner`, "../../outside/sentinel"];
    const options = { manifestPath: `${dir}/state/manifest.json`, progress: false as const };
    // (path, content) pairs that were once the same on both sides: a sync may drop those.
    const synced = new Set<string>();

    const sync = async (direction: SyncDirection): Promise<SyncReport> => {
      const h0 = await host.snap();
      const g0 = await guest.snap();
      const report = await syncTrees(direction, hostTree, guestTree, {
        ...options,
        now: new Date(clock),
      });
      assert.deepEqual(report.notDone, []);
      const h1 = await host.snap();
      const g1 = await guest.snap();
      noDebris(h1);
      noDebris(g1);
      // No content is lost: every unsynced version is still somewhere.
      const after = contents(h1, g1);
      for (const snap of [h0, g0]) {
        for (const [path, s] of snap) {
          if (s.type !== "file" || synced.has(`${path}\0${s.content}`)) continue;
          assert.ok(after.has(s.content), `${direction} lost ${path}: ${s.content}`);
        }
      }
      for (const [path, s] of h1) {
        const t = g1.get(path);
        if (s.type === "file" && t?.type === "file" && t.content === s.content) {
          synced.add(`${path}\0${s.content}`);
        }
      }
      // Nothing outside the two roots changed.
      assert.deepEqual(snapDir(`${dir}/outside`), outsideBefore);
      const top = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      assert.deepEqual(
        top,
        realHost ? ["guest", "host", "outside", "state"] : ["guest", "outside", "state"],
      );
      const state = [...Deno.readDirSync(`${dir}/state`)].map((e) => e.name).sort();
      assert.ok(
        state.every((n) => n === "manifest.json" || n === "manifest.json.lock"),
        state.join(),
      );
      clock += 1000;
      return report;
    };

    let previous: SyncDirection | undefined;
    for (const cmd of cmds) {
      clock += 1000;
      const side = cmd.k === "sync" ? undefined : cmd.host ? host : guest;
      switch (cmd.k) {
        case "write":
          side!.write(cmd.path, `v${++version}${"-".repeat(cmd.pad)}`, cmd.mode, clock);
          break;
        case "mkdir":
          side!.mkdir(cmd.path);
          break;
        case "remove":
          side!.remove(cmd.path);
          break;
        case "rename":
          side!.rename(cmd.from, cmd.to);
          break;
        case "chmod":
          side!.chmod(cmd.path, cmd.mode);
          break;
        case "symlink":
          side!.symlink(cmd.path, targets[cmd.target]!);
          break;
        case "sync": {
          await sync(cmd.direction);
          if (previous === "push" && cmd.direction === "pull") {
            assert.deepEqual(await host.snap(), await guest.snap());
          }
          break;
        }
      }
      previous = cmd.k === "sync" ? cmd.direction : undefined;
    }
    // A push and a pull with no edits in between leave both sides identical...
    await sync("push");
    await sync("pull");
    assert.deepEqual(await host.snap(), await guest.snap());
    // ...and the next syncs have nothing to do.
    assert.deepEqual((await sync("push")).actions, []);
    assert.deepEqual((await sync("pull")).actions, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("syncTrees() keeps every version and converges, over random edit sequences", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(cmdArb, { minLength: 1, maxLength: 40, size: "large" }),
      fc.integer({ min: 0, max: 4 }),
      (cmds, kind) => runSequence(cmds, kind === 0),
    ),
    { numRuns: Number(Deno.env.get("SYNC_RUNS") ?? 250) },
  );
});

// ---------------------------------------------------------------------------------------------
// Interruption, lock, ignore rules, dry run, debris, manifest errors, progress.

const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const SYNC_MODULE = new URL("../../lib/session/sync.ts", import.meta.url).href;
const TREE_MODULE = new URL("../../lib/session/host_tree.ts", import.meta.url).href;

function fileBytes(i: number, size: number): Uint8Array {
  return new Uint8Array(size).fill(i % 251);
}

Deno.test("syncTrees() killed mid-push leaves no partial file, and a rerun converges", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gamma-sync-kill-" });
  try {
    await Deno.mkdir(`${dir}/host/data`, { recursive: true });
    await Deno.mkdir(`${dir}/guest`);
    const files = 600;
    for (let i = 0; i < files; i++) {
      // A few large files so that the kill is likely to land inside a copy.
      const size = i % 50 === 0 ? 8 << 20 : 128 << 10;
      await Deno.writeFile(`${dir}/host/data/f${String(i).padStart(4, "0")}`, fileBytes(i, size));
    }
    const script = `${dir}/child.ts`;
    await Deno.writeTextFile(
      script,
      `import { syncTrees } from ${JSON.stringify(SYNC_MODULE)};
import { HostTree } from ${JSON.stringify(TREE_MODULE)};
await syncTrees("push", new HostTree(${JSON.stringify(`${dir}/host`)}),
  new HostTree(${JSON.stringify(`${dir}/guest`)}),
  { manifestPath: ${
        JSON.stringify(`${dir}/state/manifest.json`)
      }, progress: false, concurrency: 2 });
`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", `--config=${CONFIG}`, script],
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Wait until it has started writing (a few files or temporary files in the staging tree).
    for (;;) {
      let seen = 0;
      try {
        for (const _ of Deno.readDirSync(`${dir}/guest/data`)) seen++;
      } catch {
        // not yet created
      }
      if (seen >= 4) break;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    child.kill("SIGKILL");
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL");
    // It did not finish: no manifest was stored.
    await assert.rejects(Deno.stat(`${dir}/state/manifest.json`), Deno.errors.NotFound);

    // Every file at its real name is complete, with its final mode and time.
    const host = snapDirBytes(`${dir}/host`);
    const partial = snapDirBytes(`${dir}/guest`);
    let complete = 0;
    for (const [path, entry] of partial) {
      if (path.split("/").at(-1)!.startsWith(".gamma-tmp-")) continue;
      assert.deepEqual(entry, host.get(path), path);
      if (entry.type === "file") complete++;
    }
    assert.ok(complete < files, `${complete} of ${files} files were copied before the kill`);

    const options = { manifestPath: `${dir}/state/manifest.json`, progress: false as const };
    const rerun = await syncTrees(
      "push",
      new HostTree(`${dir}/host`),
      new HostTree(`${dir}/guest`),
      options,
    );
    assert.equal(rerun.ok, true);
    assert.equal(rerun.copied, files - complete);
    assert.deepEqual(snapDirBytes(`${dir}/guest`), host);
    const again = await syncTrees(
      "push",
      new HostTree(`${dir}/host`),
      new HostTree(`${dir}/guest`),
      options,
    );
    assert.deepEqual(again.actions, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

type ByteSnap =
  | { type: "file"; bytes: Uint8Array; mode: number; mtimeMs: number }
  | { type: "dir"; mode: number };

function snapDirBytes(root: string): Map<string, ByteSnap> {
  const out = new Map<string, ByteSnap>();
  const walk = (abs: string, rel: string): void => {
    for (const name of [...Deno.readDirSync(abs)].map((e) => e.name).sort()) {
      const path = rel === "" ? name : `${rel}/${name}`;
      const info = Deno.lstatSync(`${abs}/${name}`);
      if (info.isDirectory) {
        out.set(path, { type: "dir", mode: info.mode! & 0o7777 });
        walk(`${abs}/${name}`, path);
      } else {
        out.set(path, {
          type: "file",
          bytes: Deno.readFileSync(`${abs}/${name}`),
          mode: info.mode! & 0o7777,
          mtimeMs: info.mtime!.getTime(),
        });
      }
    }
  };
  walk(root, "");
  return out;
}

async function withDirs(
  fn: (dir: string, host: HostTree, guest: HostTree, manifestPath: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gamma-sync-" });
  try {
    await Deno.mkdir(`${dir}/host`);
    await Deno.mkdir(`${dir}/guest`);
    await fn(dir, new HostTree(`${dir}/host`), new HostTree(`${dir}/guest`), `${dir}/m.json`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("syncTrees() runs one sync at a time per manifest", async () => {
  await withDirs(async (dir, host, guest, manifestPath) => {
    for (let i = 0; i < 50; i++) await Deno.writeTextFile(`${dir}/host/f${i}`, `${i}`);
    const options = { manifestPath, progress: false as const };
    const reports = await Promise.all([
      syncTrees("push", host, guest, options),
      syncTrees("push", host, guest, options),
    ]);
    // The second waited for the first and found nothing left to do.
    assert.deepEqual(reports.map((r) => r.actions.length).sort((a, b) => a - b), [0, 50]);
    assert.deepEqual(reports.map((r) => r.notDone), [[], []]);
  });
});

Deno.test("syncTrees() follows .gammaignore on both sides and never syncs its own manifest", async () => {
  await withDirs(async (dir, host, guest) => {
    await Deno.writeTextFile(`${dir}/host/.gammaignore`, "target/\n*.log\n");
    await Deno.mkdir(`${dir}/host/target`);
    await Deno.writeTextFile(`${dir}/host/target/out`, "host build");
    await Deno.writeTextFile(`${dir}/host/a.log`, "log");
    await Deno.writeTextFile(`${dir}/host/main.rs`, "fn main() {}");
    // The manifest lies inside the staging tree here: it must not travel.
    const options = { manifestPath: `${dir}/guest/.sync/m.json`, progress: false as const };
    const push = await syncTrees("push", host, guest, options);
    assert.deepEqual(push.actions.map((a) => `${a.op} ${a.side} ${a.path}`), [
      "copy guest .gammaignore",
      "copy guest main.rs",
    ]);
    await Deno.mkdir(`${dir}/guest/target`);
    await Deno.writeTextFile(`${dir}/guest/target/bin`, "guest build");
    await Deno.writeTextFile(`${dir}/guest/b.log`, "log");
    const pull = await syncTrees("pull", host, guest, options);
    // Only the manifest's directory shows up; its files (manifest, lock) stay out.
    assert.deepEqual(pull.actions.map((a) => `${a.op} ${a.side} ${a.path}`), ["mkdir host .sync"]);
    assert.deepEqual([...Deno.readDirSync(`${dir}/host/.sync`)], []);
    assert.equal(await Deno.readTextFile(`${dir}/host/target/out`), "host build");
    await assert.rejects(Deno.stat(`${dir}/host/target/bin`), Deno.errors.NotFound);
  });
});

Deno.test("syncTrees() adds the settings' sync.ignore patterns to .gammaignore's", async () => {
  await withDirs(async (dir, host, guest, manifestPath) => {
    await Deno.writeTextFile(`${dir}/host/.gammaignore`, "*.log\n");
    await Deno.mkdir(`${dir}/host/node_modules`);
    await Deno.writeTextFile(`${dir}/host/node_modules/x.js`, "x");
    await Deno.writeTextFile(`${dir}/host/a.log`, "log");
    await Deno.writeTextFile(`${dir}/host/keep.log`, "kept");
    await Deno.writeTextFile(`${dir}/host/main.ts`, "main");
    const push = await syncTrees("push", host, guest, {
      manifestPath,
      progress: false,
      extraIgnore: ["node_modules/", "!keep.log"],
    });
    assert.deepEqual(push.actions.map((a) => `${a.op} ${a.side} ${a.path}`), [
      "copy guest .gammaignore",
      "copy guest keep.log",
      "copy guest main.ts",
    ]);
  });
});

Deno.test("syncTrees() with dryRun reports the plan and changes nothing", async () => {
  await withDirs(async (dir, host, guest, manifestPath) => {
    await Deno.writeTextFile(`${dir}/host/a`, "abc");
    await Deno.writeTextFile(`${dir}/guest/.gamma-tmp-0011`, "half");
    const report = await syncTrees("both", host, guest, {
      manifestPath,
      dryRun: true,
      progress: false,
    });
    assert.equal(report.dryRun, true);
    assert.deepEqual(report.actions.map((a) => `${a.op} ${a.side} ${a.path}`), ["copy guest a"]);
    assert.equal(report.copied, 1);
    assert.equal(report.bytesCopied, 3);
    assert.deepEqual(report.debrisRemoved, [{ side: "guest", path: ".gamma-tmp-0011" }]);
    assert.deepEqual([...Deno.readDirSync(`${dir}/guest`)].map((e) => e.name), [".gamma-tmp-0011"]);
    await assert.rejects(Deno.stat(manifestPath), Deno.errors.NotFound);
  });
});

Deno.test("syncTrees() removes temporary files an interrupted sync left", async () => {
  await withDirs(async (dir, host, guest, manifestPath) => {
    await Deno.mkdir(`${dir}/host/d`);
    await Deno.writeTextFile(`${dir}/host/d/.gamma-tmp-aa`, "half");
    await Deno.writeTextFile(`${dir}/guest/.gamma-tmp-bb`, "half");
    const report = await syncTrees("push", host, guest, { manifestPath, progress: false });
    assert.deepEqual(report.debrisRemoved, [
      { side: "host", path: "d/.gamma-tmp-aa" },
      { side: "guest", path: ".gamma-tmp-bb" },
    ]);
    assert.deepEqual([...Deno.readDirSync(`${dir}/host/d`)], []);
    assert.deepEqual([...Deno.readDirSync(`${dir}/guest`)].map((e) => e.name), ["d"]);
  });
});

Deno.test("syncTrees() refuses a damaged manifest and says how to start over", async () => {
  await withDirs(async (_dir, host, guest, manifestPath) => {
    await Deno.writeTextFile(
      manifestPath,
      '{"version":1,"entries":{"../x":{"type":"dir","mode":493}}}',
    );
    await assert.rejects(
      syncTrees("push", host, guest, { manifestPath, progress: false }),
      new SyntaxError(
        `Cannot read the sync manifest: Cannot use path "../x": it has a ".." component (${manifestPath}; remove it to start over: the next sync then keeps both sides' differing files as conflicts)`,
      ),
    );
  });
});

Deno.test("syncTrees() reports progress after every action", async () => {
  await withDirs(async (dir, host, guest, manifestPath) => {
    await Deno.writeTextFile(`${dir}/host/a`, "12345");
    await Deno.mkdir(`${dir}/host/d`);
    const seen: string[] = [];
    await syncTrees("push", host, guest, {
      manifestPath,
      progress: false,
      onProgress: (p) => seen.push(`${p.done}/${p.total} ${p.bytesDone}/${p.bytesTotal}`),
    });
    assert.deepEqual(seen, ["1/2 0/5", "2/2 5/5"]);
  });
});

Deno.test("syncTrees() stores the manifest beside the staging tree, in path order", async () => {
  await withDirs(async (dir, host, guest, manifestPath) => {
    await Deno.mkdir(`${dir}/host/d`);
    await Deno.writeTextFile(`${dir}/host/d/f`, "x");
    await Deno.utime(`${dir}/host/d/f`, 1, 1);
    await syncTrees("push", host, guest, { manifestPath, progress: false });
    assert.equal(
      await Deno.readTextFile(manifestPath),
      stringifyManifest({
        version: 1,
        entries: {
          d: { type: "dir", mode: 0o755 },
          "d/f": { type: "file", size: 1, mtimeMs: 1000, mode: 0o644 },
        },
      }),
    );
  });
});
