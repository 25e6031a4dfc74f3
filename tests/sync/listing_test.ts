import assert from "node:assert/strict";
import fc from "fast-check";
import { diffListings, listingAfterWrites, recordsOf } from "../../lib/sync/listing.ts";

/** One `find -printf` record (see FIND_FORMAT). */
function rec(type: string, mode: string, size: number, mtime: string, path: string, target = "") {
  return `${type}\0${mode}\0${size}\0${mtime}\0${path}\0${target}\0`;
}

/** A listing of these records, as `find` writes it. */
const bytes = (...records: string[]) => new TextEncoder().encode(records.join(""));

const a = rec("f", "644", 1, "1.0000000000", "a");
const b = rec("f", "644", 2, "2.5000000000", "d/b");
const d = rec("d", "755", 4096, "3.0000000000", "d");
const l = rec("l", "777", 3, "4.0000000000", "lnk", "d/b");

Deno.test("diffListings() names the paths whose records differ, in any order", () => {
  assert.deepEqual([...diffListings(bytes(a, d, b), bytes(a, d, b))], []);
  // Reordered (a directory listed in another order): nothing changed.
  assert.deepEqual([...diffListings(bytes(a, d, b, l), bytes(l, d, b, a))], []);
  const b2 = rec("f", "644", 2, "2.6000000000", "d/b");
  assert.deepEqual([...diffListings(bytes(a, d, b), bytes(a, d, b2))], ["d/b"]);
  assert.deepEqual([...diffListings(bytes(a, d, b), bytes(d, b, l))].sort(), ["a", "lnk"]);
  const l2 = rec("l", "777", 3, "4.0000000000", "lnk", "a");
  assert.deepEqual([...diffListings(bytes(l), bytes(l2))], ["lnk"]);
  assert.deepEqual([...diffListings(bytes(), bytes(a))], ["a"]);
});

Deno.test("recordsOf() reads the records of the wanted paths only", () => {
  const found = recordsOf(bytes(a, d, b, l), new Set(["d/b", "lnk", "gone"]));
  assert.deepEqual([...found.keys()], ["d/b", "lnk"]);
  assert.deepEqual(found.get("d/b"), {
    type: "f",
    mode: 0o644,
    size: 2,
    mtimeMs: 2500,
    path: "d/b",
    target: "",
  });
  assert.equal(found.get("lnk")!.target, "d/b");
});

Deno.test("listingAfterWrites() takes what a sync wrote from the later listing, and nothing else", () => {
  const c = rec("f", "644", 5, "9.0000000000", "d/c"); // written by the sync
  const d2 = rec("d", "755", 4096, "9.0000000000", "d"); // its directory's time moved
  const a2 = rec("f", "644", 7, "9.0000000000", "a"); // changed by someone else meanwhile
  const written = () =>
    new Map([
      ["d/c", { type: "file" as const, size: 5, mtimeMs: 9000, mode: 0o644 }],
      ["lnk", null],
    ]);
  const { listing, unconfirmed } = listingAfterWrites(
    bytes(a, d, b, l),
    bytes(a2, d2, b, c),
    written(),
  );
  // The write is confirmed; the removal too; the others keep their earlier records.
  assert.deepEqual([...diffListings(listing, bytes(a, d, b, c))], []);
  assert.deepEqual(unconfirmed, []);
  // A write the later listing does not show (overwritten meanwhile) stays unconfirmed.
  const c2 = rec("f", "644", 6, "9.5000000000", "d/c");
  const second = listingAfterWrites(bytes(a, d, b), bytes(a, d, b, c2), written());
  assert.deepEqual([...diffListings(second.listing, bytes(a, d, b))], []);
  assert.deepEqual(second.unconfirmed, ["d/c"]);
});

Deno.test("listingAfterWrites() after a first sync keeps the records the sync wrote, in find's order", () => {
  const written = new Map([
    ["d", { type: "dir" as const, mode: 0o755 }],
    ["d/b", { type: "file" as const, size: 2, mtimeMs: 2500, mode: 0o644 }],
    ["a", { type: "file" as const, size: 9, mtimeMs: 1000, mode: 0o644 }], // overwritten meanwhile
  ]);
  const id = rec("f", "644", 40, "5.0000000000", ".gamma-copy-id"); // not written by the plan
  const { listing, unconfirmed } = listingAfterWrites(bytes(), bytes(d, id, b, a), written);
  assert.equal(new TextDecoder().decode(listing), d + b);
  assert.deepEqual(unconfirmed, ["a"]);
});

Deno.test("diffListings() agrees with a comparison by path, over random edits and reorderings", () => {
  const record = (i: number, version: number) =>
    rec("f", "644", i * 10 + version, `${1000 + version}.0000000000`, `d/f${i}`);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 60 }),
      fc.array(fc.tuple(fc.nat(80), fc.constantFrom("drop", "add", "edit", "move")), {
        maxLength: 30,
      }),
      (n, edits) => {
        const before = Array.from({ length: n }, (_, i) => ({ i, v: 0 }));
        const after = before.map((r) => ({ ...r }));
        let next = n;
        for (const [k, op] of edits) {
          const at = after.length === 0 ? 0 : k % after.length;
          if (op === "drop" && after.length > 0) after.splice(at, 1);
          else if (op === "add") after.splice(at, 0, { i: next++, v: 0 });
          else if (op === "edit" && after.length > 0) after[at]!.v++;
          else if (op === "move" && after.length > 1) after.push(...after.splice(at, 1));
        }
        const text = (list: { i: number; v: number }[]) => list.map((r) => record(r.i, r.v));
        const expected = new Set<string>();
        const was = new Map(before.map((r) => [`d/f${r.i}`, r.v]));
        const now = new Map(after.map((r) => [`d/f${r.i}`, r.v]));
        for (const [path, v] of was) if (now.get(path) !== v) expected.add(path);
        for (const path of now.keys()) if (!was.has(path)) expected.add(path);
        const got = diffListings(bytes(...text(before)), bytes(...text(after)));
        assert.deepEqual([...got].sort(), [...expected].sort());
      },
    ),
    { numRuns: 300 },
  );
});
