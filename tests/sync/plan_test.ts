import assert from "node:assert/strict";
import fc from "fast-check";
import { conflictStamp, planSync, type SyncDirection, type SyncPlan } from "../../lib/sync/plan.ts";
import { comparePaths, type SyncEntry } from "../../lib/sync/types.ts";

const NOW = new Date("2025-01-02T03:04:05.678Z");
const C = "gamma-conflict-guest-20250102T030405Z";

function F(size: number, mtimeMs: number, mode = 0o644): SyncEntry {
  return { type: "file", size, mtimeMs, mode };
}
function D(mode = 0o755): SyncEntry {
  return { type: "dir", mode };
}
function L(target: string): SyncEntry {
  return { type: "symlink", target };
}

type Tree = Record<string, SyncEntry>;

function plan(direction: SyncDirection, base: Tree, host: Tree, guest: Tree): SyncPlan {
  return planSync(
    direction,
    { version: 1, entries: base },
    new Map(Object.entries(host)),
    new Map(Object.entries(guest)),
    { now: NOW },
  );
}

/** One line per action: op, side, path, and the source when it is not the other side's path. */
function summary(p: SyncPlan): string[] {
  return p.actions.map((a) => {
    let line = `${a.op} ${a.side} ${a.path}`;
    if (a.op === "copy" && a.from.path !== a.path) line += ` <- ${a.from.side}:${a.from.path}`;
    if (a.op === "mkdir" || a.op === "chmod") line += ` ${a.mode.toString(8)}`;
    return line;
  });
}

const a1 = F(1, 1000);
const a2 = F(2, 2000);
const a3 = F(3, 3000);

Deno.test("planSync() decides each case of the three-way comparison", () => {
  // [why, direction, base, host, guest, actions, deferred paths, conflict paths]
  const cases: [string, SyncDirection, Tree, Tree, Tree, string[], string[], string[]][] = [
    ["new on the host", "push", {}, { a: a1 }, {}, ["copy guest a"], [], []],
    // pull does not carry host changes; they wait for the next push
    ["new on the host, pulled", "pull", {}, { a: a1 }, {}, [], ["a"], []],
    ["new on the guest", "pull", {}, {}, { a: a1 }, ["copy host a"], [], []],
    ["unchanged", "push", { a: a1 }, { a: a1 }, { a: a1 }, [], [], []],
    ["modified on the host", "push", { a: a1 }, { a: a2 }, { a: a1 }, ["copy guest a"], [], []],
    // same size and time: only the mode travels, the file is not copied
    [
      "mode changed on the host",
      "push",
      { a: a1 },
      { a: F(1, 1000, 0o755) },
      { a: a1 },
      [
        "chmod guest a 755",
      ],
      [],
      [],
    ],
    ["deleted on the host", "push", { a: a1 }, {}, { a: a1 }, ["remove guest a"], [], []],
    // delete vs modify keeps the modified file; only a pull may carry it to the host
    ["deleted on host, modified on guest, pushed", "push", { a: a1 }, {}, { a: a2 }, [], ["a"], []],
    [
      "deleted on host, modified on guest, pulled",
      "pull",
      { a: a1 },
      {},
      { a: a2 },
      [
        "copy host a",
      ],
      [],
      [],
    ],
    [
      "modified on host, deleted on guest, pushed",
      "push",
      { a: a1 },
      { a: a2 },
      {},
      [
        "copy guest a",
      ],
      [],
      [],
    ],
    ["modified the same way on both", "push", { a: a1 }, { a: a2 }, { a: a2 }, [], [], []],
    ["deleted on both", "pull", { a: a1 }, {}, {}, [], [], []],
    [
      "modified differently on both (push)",
      "push",
      { a: a1 },
      { a: a2 },
      { a: a3 },
      [
        `copy host a.${C} <- guest:a`,
        `copy guest a.${C} <- guest:a`,
        "copy guest a",
      ],
      [],
      ["a"],
    ],
    // conflicts are resolved in every direction, the same way
    [
      "modified differently on both (pull)",
      "pull",
      { a: a1 },
      { a: a2 },
      { a: a3 },
      [
        `copy host a.${C} <- guest:a`,
        `copy guest a.${C} <- guest:a`,
        "copy guest a",
      ],
      [],
      ["a"],
    ],
    [
      "created differently on both",
      "both",
      {},
      { a: a2 },
      { a: a3 },
      [
        `copy host a.${C} <- guest:a`,
        `copy guest a.${C} <- guest:a`,
        "copy guest a",
      ],
      [],
      ["a"],
    ],
    // a taken conflict name gets a counter
    [
      "conflict name taken",
      "push",
      { a: a1 },
      { a: a2, [`a.${C}`]: a1 },
      { a: a3, [`a.${C}`]: a1 },
      [
        `copy host a.${C}-2 <- guest:a`,
        `copy guest a.${C}-2 <- guest:a`,
        "copy guest a",
      ],
      [],
      ["a"],
    ],
    [
      "new directory with a file",
      "push",
      {},
      { d: D(), "d/f": a1 },
      {},
      [
        "mkdir guest d 755",
        "copy guest d/f",
      ],
      [],
      [],
    ],
    // removals run deepest first
    [
      "directory deleted on the host",
      "push",
      { d: D(), "d/f": a1 },
      {},
      { d: D(), "d/f": a1 },
      [
        "remove guest d/f",
        "remove guest d",
      ],
      [],
      [],
    ],
    // the directory stays because the guest added something in it, which waits for a pull
    [
      "directory deleted on host, added to on guest",
      "push",
      { d: D(), "d/f": a1 },
      {},
      {
        d: D(),
        "d/f": a1,
        "d/g": a2,
      },
      ["remove guest d/f"],
      ["d/g"],
      [],
    ],
    // ...and the pull brings the directory back to the host with the new file
    [
      "directory deleted on host, added to on guest, pulled",
      "pull",
      { d: D(), "d/f": a1 },
      {},
      {
        d: D(),
        "d/f": a1,
        "d/g": a2,
      },
      ["mkdir host d 755", "copy host d/g"],
      ["d", "d/f"],
      [],
    ],
    [
      "file replaced by a directory on the guest",
      "pull",
      { a: a1 },
      { a: a1 },
      {
        a: D(),
        "a/x": a2,
      },
      ["remove host a", "mkdir host a 755", "copy host a/x"],
      [],
      [],
    ],
    // the guest's directory moves beside the host's file, with everything in it
    [
      "file on host, directory on guest",
      "both",
      {},
      { a: a1 },
      { a: D(0o700), "a/x": a2 },
      [
        `mkdir host a.${C} 700`,
        `mkdir guest a.${C} 700`,
        `copy host a.${C}/x <- guest:a/x`,
        `copy guest a.${C}/x <- guest:a/x`,
        "remove guest a/x",
        "remove guest a",
        "copy guest a",
      ],
      [],
      ["a"],
    ],
    // the host's directory stays; the guest's file moves beside it
    [
      "directory on host, file on guest",
      "push",
      {},
      { a: D(), "a/x": a2 },
      { a: a1 },
      [
        `copy host a.${C} <- guest:a`,
        `copy guest a.${C} <- guest:a`,
        "remove guest a",
        "mkdir guest a 755",
        "copy guest a/x",
      ],
      [],
      ["a"],
    ],
    ["new link", "push", {}, { l: L("../x") }, {}, ["symlink guest l"], [], []],
    [
      "link retargeted on the guest",
      "pull",
      { l: L("a") },
      { l: L("a") },
      { l: L("b") },
      [
        "symlink host l",
      ],
      [],
      [],
    ],
    [
      "link replaced by a file on the host",
      "push",
      { l: L("a") },
      { l: a1 },
      { l: L("a") },
      [
        "copy guest l",
      ],
      [],
      [],
    ],
    // directory modes changed on both: the host's wins, on a push
    [
      "directory mode changed on both, pulled",
      "pull",
      { d: D() },
      { d: D(0o700) },
      {
        d: D(0o750),
      },
      [],
      ["d"],
      [],
    ],
    [
      "directory mode changed on both, pushed",
      "push",
      { d: D() },
      { d: D(0o700) },
      {
        d: D(0o750),
      },
      ["chmod guest d 700"],
      [],
      [],
    ],
    // a directory without owner write is made writable first and given its mode at the end
    [
      "read-only directory",
      "push",
      {},
      { d: D(0o555), "d/f": a1 },
      {},
      [
        "mkdir guest d 755",
        "copy guest d/f",
        "chmod guest d 555",
      ],
      [],
      [],
    ],
    [
      "both directions at once",
      "both",
      {},
      { a: a1 },
      { b: a2 },
      [
        "copy guest a",
        "copy host b",
      ],
      [],
      [],
    ],
  ];
  for (const [why, direction, base, host, guest, actions, deferred, conflicts] of cases) {
    const p = plan(direction, base, host, guest);
    assert.deepEqual(summary(p), actions, why);
    assert.deepEqual(p.deferred, deferred, why);
    assert.deepEqual(p.conflicts.map((c) => c.path), conflicts, why);
  }
});

Deno.test("planSync() gives each action its source, metadata and precondition", () => {
  const p = plan("push", { a: a1 }, { a: a2 }, { a: a3 });
  assert.deepEqual(p.actions, [
    {
      op: "copy",
      side: "host",
      path: `a.${C}`,
      from: { side: "guest", path: "a" },
      entry: a3,
      expect: null,
      unit: "a",
    },
    {
      op: "copy",
      side: "guest",
      path: `a.${C}`,
      from: { side: "guest", path: "a" },
      entry: a3,
      expect: null,
      unit: "a",
    },
    {
      op: "copy",
      side: "guest",
      path: "a",
      from: { side: "host", path: "a" },
      entry: a2,
      expect: a3,
      unit: "a",
    },
  ]);
  assert.deepEqual(p.conflicts, [{ path: "a", conflictPath: `a.${C}`, host: a2, guest: a3 }]);
});

Deno.test("planSync() computes the next manifest: agreed entries, the base elsewhere", () => {
  // [why, direction, base, host, guest, next manifest, changed]
  const cases: [string, SyncDirection, Tree, Tree, Tree, Tree, boolean][] = [
    ["first push", "push", {}, { d: D(), "d/f": a1 }, {}, { d: D(), "d/f": a1 }, true],
    ["no-op", "push", { a: a1 }, { a: a1 }, { a: a1 }, { a: a1 }, false],
    // the deferred change keeps its base entry, so the pull still sees it
    ["deferred", "pull", { a: a1 }, { a: a2 }, { a: a1 }, { a: a1 }, false],
    ["same change on both", "pull", { a: a1 }, { a: a2 }, { a: a2 }, { a: a2 }, true],
    ["deleted on both", "pull", { a: a1 }, {}, {}, {}, true],
    ["conflict", "push", { a: a1 }, { a: a2 }, { a: a3 }, { a: a2, [`a.${C}`]: a3 }, true],
  ];
  for (const [why, direction, base, host, guest, next, changed] of cases) {
    const p = plan(direction, base, host, guest);
    assert.deepEqual(p.manifest, { version: 1, entries: next }, why);
    assert.equal(p.manifestChanged, changed, why);
  }
});

Deno.test("planSync() refuses invalid trees", () => {
  assert.throws(
    () => plan("push", {}, { "a/b": a1 }, {}),
    new RangeError('Cannot plan a sync: the host tree lists "a/b" without the directory "a"'),
  );
  assert.throws(
    () => plan("push", {}, {}, { a: a1, "a/b": a1 }),
    new RangeError('Cannot plan a sync: the guest tree lists "a/b" without the directory "a"'),
  );
  assert.throws(
    () => plan("push", { "/etc/passwd": a1 }, {}, {}),
    new RangeError('Cannot use path "/etc/passwd": it is absolute'),
  );
  assert.throws(
    () => plan("pull", {}, { "..": D() }, {}),
    new RangeError('Cannot use path "..": it has a ".." component'),
  );
});

Deno.test("conflictStamp() formats UTC time to the second", () => {
  const cases: [string, string][] = [
    ["2025-01-02T03:04:05.678Z", "20250102T030405Z"],
    ["1999-12-31T23:59:59.999Z", "19991231T235959Z"], // milliseconds are cut, not rounded
    ["2025-06-01T12:00:00+02:00", "20250601T100000Z"], // another zone becomes UTC
  ];
  for (const [input, expected] of cases) assert.equal(conflictStamp(new Date(input)), expected);
});

Deno.test("planSync() never makes a conflict copy of empty directories (issue 9 item 6)", () => {
  // Host: d became a file. Guest: deleted d/a, leaving d empty (its ignored files unseen).
  const leftover = plan("both", { d: D(), "d/a": a1 }, { d: a2 }, { d: D() });
  assert.deepEqual(leftover.conflicts, []);
  assert.deepEqual(summary(leftover), ["remove guest d", "copy guest d"]);
  // Guest: d became a file. Host: deleted d/a, leaving the old d empty.
  const hostLeft = plan("both", { d: D(), "d/a": a1 }, { d: D() }, { d: a2 });
  assert.deepEqual(hostLeft.conflicts, []);
  assert.deepEqual(summary(hostLeft), ["remove host d", "copy host d"]);
  // A directory the host made since is not a leftover: it stays, the guest's file is kept beside.
  const made = plan("both", {}, { d: D() }, { d: a2 });
  assert.deepEqual(made.conflicts.map((c) => c.conflictPath), [`d.${C}`]);
  assert.deepEqual(summary(made), [
    `copy host d.${C} <- guest:d`,
    `copy guest d.${C} <- guest:d`,
    "remove guest d",
    "mkdir guest d 755",
  ]);
});

Deno.test("planSync() plans a first sync into an empty guest as the three-way comparison does", () => {
  // Random host trees (parents listed, modes with and without the owner's rwx, links). The
  // first sync of a sorted tree takes the short way; the same tree listed out of order takes
  // the three-way comparison (which sorts it): both plans must be the same.
  const entryArb: fc.Arbitrary<SyncEntry> = fc.oneof(
    fc.record({
      type: fc.constant("file" as const),
      size: fc.nat({ max: 100 }),
      mtimeMs: fc.nat(),
      mode: fc.constantFrom(0o644, 0o755, 0o400),
    }, { noNullPrototype: true }),
    fc.record({ type: fc.constant("dir" as const), mode: fc.constantFrom(0o755, 0o500, 0o700) }, {
      noNullPrototype: true,
    }),
    fc.record({ type: fc.constant("symlink" as const), target: fc.constantFrom("a", "../x") }, {
      noNullPrototype: true,
    }),
  );
  const treeArb = fc.array(
    fc.tuple(
      fc.array(fc.constantFrom("a", "b", "a.b", "10", "__proto__"), { minLength: 1, maxLength: 3 }),
      entryArb,
    ),
    { minLength: 1, maxLength: 12 },
  ).map((items) => {
    const tree = new Map<string, SyncEntry>();
    for (const [parts, entry] of items) {
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join("/");
        if (tree.get(dir)?.type !== "dir") tree.set(dir, D(0o755));
      }
      const path = parts.join("/");
      if (!tree.has(path) || entry.type === "dir") tree.set(path, tree.get(path) ?? entry);
    }
    // A file or link with something listed under it is a directory after all.
    for (const path of tree.keys()) {
      const slash = path.lastIndexOf("/");
      if (slash !== -1) tree.set(path.slice(0, slash), D(0o755));
    }
    return tree;
  });
  fc.assert(
    fc.property(treeArb, fc.constantFrom<SyncDirection>("push", "both"), (tree, direction) => {
      const sorted = new Map([...tree].sort(([a], [b]) => comparePaths(a, b)));
      const unsorted = new Map([...sorted].reverse());
      const base = { version: 1 as const, entries: {} };
      const short = planSync(direction, base, sorted, new Map(), { now: NOW, validated: true });
      const full = planSync(direction, base, unsorted, new Map(), { now: NOW });
      assert.deepEqual(short, full);
      assert.deepEqual(Object.keys(short.manifest.entries), Object.keys(full.manifest.entries));
      assert.equal(short.actions.length > 0, true);
    }),
  );
  // Pulling into an empty host defers everything, as before.
  const pulled = planSync(
    "pull",
    { version: 1, entries: {} },
    new Map([["a", F(1, 1)]]),
    new Map(),
    { now: NOW },
  );
  assert.deepEqual(pulled.actions, []);
  assert.deepEqual(pulled.deferred, ["a"]);
});
