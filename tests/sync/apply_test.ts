import assert from "node:assert/strict";
import fc from "fast-check";
import { applyPlan } from "../../lib/sync/apply.ts";
import { emptyManifest } from "../../lib/sync/manifest.ts";
import { MemoryTree } from "../../lib/sync/memory_tree.ts";
import { planSync, type SyncDirection } from "../../lib/sync/plan.ts";
import { type Tree, TreeError } from "../../lib/sync/tree.ts";
import type { Manifest } from "../../lib/sync/types.ts";

async function sync(direction: SyncDirection, host: Tree, guest: Tree, base: Manifest) {
  const plan = planSync(
    direction,
    base,
    (await host.scan()).entries,
    (await guest.scan()).entries,
    {
      now: new Date("2025-01-02T03:04:05Z"),
    },
  );
  return { plan, result: await applyPlan(plan, { host, guest }, base, { concurrency: 3 }) };
}

/** A tree whose writes to some paths fail. */
function failingOn(tree: MemoryTree, paths: Set<string>, error: () => Error): Tree {
  return new Proxy(tree, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      if (!["writeFile", "mkdir", "symlink", "remove", "chmod"].includes(key as string)) {
        return value.bind(target);
      }
      return (path: string, ...rest: unknown[]) =>
        paths.has(path) ? Promise.reject(error()) : value.call(target, path, ...rest);
    },
  });
}

Deno.test("applyPlan() skips the rest of a failed unit and keeps its base in the manifest", async () => {
  const host = new MemoryTree();
  const guest = new MemoryTree();
  host.setFile("a", "host a", { mtimeMs: 2 });
  guest.setFile("a", "guest a", { mtimeMs: 3 });
  host.setFile("b", "b", { mtimeMs: 4 });
  // The conflict copy on the host fails: the guest's file must not be overwritten.
  const broken = failingOn(
    host,
    new Set(["a.gamma-conflict-guest-20250102T030405Z"]),
    () => new Error("disk full"),
  );
  const base = emptyManifest();
  const { plan, result } = await sync("push", broken, guest, base);
  assert.equal(plan.conflicts.length, 1);
  assert.deepEqual(
    result.notDone.map((o) => [o.action.op, o.action.side, o.action.path, o.failed, o.reason]),
    [
      ["copy", "host", "a.gamma-conflict-guest-20250102T030405Z", true, "disk full"],
      ["copy", "guest", "a", false, "An earlier step of the same change failed"],
    ],
  );
  assert.equal(guest.getText("a"), "guest a");
  assert.equal(guest.getText("b"), "b");
  // Only b is recorded; a and its conflict copy keep the (empty) base.
  assert.deepEqual(Object.keys(result.manifest.entries), ["b"]);
  assert.equal(result.manifestChanged, true);
  // The next sync, without the fault, resolves the conflict (the guest's copy made in the first
  // attempt is kept too: nothing is lost, at worst something is kept twice).
  const again = await sync("both", host, guest, result.manifest);
  assert.deepEqual(again.result.notDone, []);
  assert.equal(guest.getText("a"), "host a");
  assert.equal(host.getText("a.gamma-conflict-guest-20250102T030405Z"), "guest a");
  assert.equal(host.getText("a.gamma-conflict-guest-20250102T030405Z-2"), "guest a");
});

Deno.test("applyPlan() reports a change made meanwhile as skipped, not failed", async () => {
  const host = new MemoryTree();
  const guest = new MemoryTree();
  host.setFile("a", "new", { mtimeMs: 2 });
  const plan = planSync(
    "push",
    emptyManifest(),
    (await host.scan()).entries,
    (await guest.scan()).entries,
    {
      now: new Date(0),
    },
  );
  guest.setFile("a", "made meanwhile in the guest", { mtimeMs: 5 });
  const result = await applyPlan(plan, { host, guest }, emptyManifest());
  assert.deepEqual(result.notDone.map((o) => [o.failed, o.reason]), [
    [false, 'Cannot write "a": it changed during the sync'],
  ]);
  assert.equal(guest.getText("a"), "made meanwhile in the guest");
  assert.deepEqual(result.manifest, emptyManifest());
  assert.equal(result.manifestChanged, false);
  assert.ok(new TreeError("Changed", "a", "x") instanceof Error);
});

Deno.test("applyPlan() reports progress with byte counts", async () => {
  const host = new MemoryTree();
  host.setFile("d/a", "12", { mtimeMs: 1 });
  host.setFile("d/b", "345", { mtimeMs: 1 });
  const guest = new MemoryTree();
  const plan = planSync("push", emptyManifest(), (await host.scan()).entries, new Map(), {
    now: new Date(0),
  });
  const seen: string[] = [];
  await applyPlan(plan, { host, guest }, emptyManifest(), {
    concurrency: 1,
    onProgress: (p) => seen.push(`${p.done}/${p.total} ${p.bytesDone}/${p.bytesTotal}`),
  });
  assert.deepEqual(seen, ["1/3 0/5", "2/3 2/5", "3/3 5/5"]);
});

// Two memory trees built from random edits, synced both ways: they end identical.
const NAMES = ["a", "b", "a/x", "a/y", "b/x", "c"];
type Edit = { host: boolean; path: string; kind: "file" | "dir" | "link" | "rm"; n: number };
const editArb: fc.Arbitrary<Edit> = fc.record({
  host: fc.boolean(),
  path: fc.constantFrom(...NAMES),
  kind: fc.constantFrom("file", "file", "dir", "link", "rm"),
  n: fc.nat(5),
});

function edit(tree: MemoryTree, e: Edit, clock: number): void {
  try {
    if (e.kind === "rm") tree.delete(e.path);
    else if (e.kind === "dir") tree.setDir(e.path, e.n % 2 === 0 ? 0o755 : 0o700);
    else if (e.kind === "link") {
      tree.delete(e.path);
      tree.setSymlink(e.path, `t${e.n}`);
    } else {
      if (tree.get(e.path)?.type === "symlink") tree.delete(e.path);
      tree.setFile(e.path, `v${clock}`, { mtimeMs: clock, mode: e.n % 2 === 0 ? 0o644 : 0o755 });
    }
  } catch (error) {
    if (!(error instanceof TreeError)) throw error; // a parent is a file or link: no edit
  }
}

async function dump(tree: MemoryTree): Promise<unknown[]> {
  return [...(await tree.scan()).entries].map(([path, entry]) =>
    entry.type === "file" ? [path, entry, tree.getText(path)] : [path, entry]
  );
}

Deno.test("applyPlan() with planSync('both') makes two memory trees identical", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(editArb, { maxLength: 6 }), { minLength: 1, maxLength: 4 }),
      async (rounds) => {
        const host = new MemoryTree();
        const guest = new MemoryTree();
        let base = emptyManifest();
        let clock = 1000;
        for (const edits of rounds) {
          for (const e of edits) edit(e.host ? host : guest, e, clock++);
          const { result } = await sync("both", host, guest, base);
          assert.deepEqual(result.notDone, []);
          base = result.manifest;
          assert.deepEqual(await dump(host), await dump(guest));
        }
        const { plan } = await sync("both", host, guest, base);
        assert.deepEqual(plan.actions, []);
      },
    ),
    { numRuns: 300 },
  );
});
