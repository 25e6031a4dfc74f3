import assert from "node:assert/strict";
import { diffListings, listingAfterWrites, recordsOf } from "../../lib/sync/listing.ts";

/** One `find -printf` record (see FIND_FORMAT). */
function rec(type: string, mode: string, size: number, mtime: string, path: string, target = "") {
  return `${type}\0${mode}\0${size}\0${mtime}\0${path}\0${target}\0`;
}

const a = rec("f", "644", 1, "1.0000000000", "a");
const b = rec("f", "644", 2, "2.5000000000", "d/b");
const d = rec("d", "755", 4096, "3.0000000000", "d");
const l = rec("l", "777", 3, "4.0000000000", "lnk", "d/b");

Deno.test("diffListings() names the paths whose records differ, in any order", () => {
  assert.deepEqual([...diffListings(a + d + b, a + d + b)], []);
  // Reordered (a directory listed in another order): nothing changed.
  assert.deepEqual([...diffListings(a + d + b + l, l + d + b + a)], []);
  const b2 = rec("f", "644", 2, "2.6000000000", "d/b");
  assert.deepEqual([...diffListings(a + d + b, a + d + b2)], ["d/b"]);
  assert.deepEqual([...diffListings(a + d + b, d + b + l)].sort(), ["a", "lnk"]);
  const l2 = rec("l", "777", 3, "4.0000000000", "lnk", "a");
  assert.deepEqual([...diffListings(l, l2)], ["lnk"]);
  assert.deepEqual([...diffListings("", a)], ["a"]);
});

Deno.test("recordsOf() reads the records of the wanted paths only", () => {
  const found = recordsOf(a + d + b + l, new Set(["d/b", "lnk", "gone"]));
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
  const written = new Map([
    ["d/c", { type: "file" as const, size: 5, mtimeMs: 9000, mode: 0o644 }],
    ["lnk", null],
  ]);
  const { listing, unconfirmed } = listingAfterWrites(a + d + b + l, a2 + d2 + b + c, written);
  // The write is confirmed; the removal too; the others keep their earlier records.
  assert.deepEqual([...diffListings(listing, a + d + b + c)], []);
  assert.deepEqual(unconfirmed, []);
  // A write the later listing does not show (overwritten meanwhile) stays unconfirmed.
  const c2 = rec("f", "644", 6, "9.5000000000", "d/c");
  const second = listingAfterWrites(a + d + b, a + d + b + c2, written);
  assert.deepEqual([...diffListings(second.listing, a + d + b)], []);
  assert.deepEqual(second.unconfirmed, ["d/c"]);
});
