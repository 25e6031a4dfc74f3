import assert from "node:assert/strict";
import fc from "fast-check";
import {
  comparePaths,
  sameEntry,
  type SyncEntry,
  validateRelativePath,
} from "../../lib/sync/types.ts";

Deno.test("validateRelativePath() accepts relative POSIX paths and refuses the rest", () => {
  const good = ["a", "a/b", ".hidden", "a/.b/c", "...", "a b/ü", "..a", "a..", "-n"];
  for (const path of good) assert.equal(validateRelativePath(path), path);
  const bad: [string, string][] = [
    ["", "it is empty"],
    ["/etc", "it is absolute"],
    ["a/", "it ends with a slash"],
    ["a//b", "it has an empty component"],
    [".", 'it has a "." component'],
    ["a/./b", 'it has a "." component'],
    ["..", 'it has a ".." component'],
    ["a/../../b", 'it has a ".." component'],
    ["a\0b", "it contains a NUL character"],
  ];
  for (const [path, reason] of bad) {
    assert.throws(
      () => validateRelativePath(path),
      new RangeError(`Cannot use path ${JSON.stringify(path)}: ${reason}`),
    );
  }
});

Deno.test("sameEntry() compares what a sync compares", () => {
  const f: SyncEntry = { type: "file", size: 1, mtimeMs: 2, mode: 0o644 };
  const cases: [SyncEntry | undefined, SyncEntry | undefined, boolean][] = [
    [f, { ...f }, true],
    [f, { ...f, size: 2 }, false],
    [f, { ...f, mtimeMs: 3 }, false],
    [f, { ...f, mode: 0o755 }, false],
    [f, undefined, false],
    [undefined, undefined, true],
    [{ type: "dir", mode: 0o755 }, { type: "dir", mode: 0o755 }, true],
    [{ type: "dir", mode: 0o755 }, { type: "dir", mode: 0o700 }, false],
    [{ type: "symlink", target: "a" }, { type: "symlink", target: "a" }, true],
    [{ type: "symlink", target: "a" }, { type: "symlink", target: "b" }, false],
    [{ type: "dir", mode: 0o644 }, { ...f, mode: 0o644 }, false], // the type matters
  ];
  for (const [a, b, expected] of cases) {
    assert.equal(sameEntry(a, b), expected, JSON.stringify([a, b]));
    assert.equal(sameEntry(b, a), expected, JSON.stringify([b, a]));
  }
});

Deno.test("comparePaths() puts every directory right before its contents", () => {
  assert.deepEqual(
    ["a.txt", "a/b", "a", "a-b", "a/b/c", "B", "a b"].sort(comparePaths),
    ["B", "a", "a/b", "a/b/c", "a b", "a-b", "a.txt"],
  );
  // The order of a depth-first walk with names sorted by code unit, for any set of names.
  const name = fc.stringMatching(/^[a-c .\-_]{1,3}$/).filter((n) => n !== "." && n !== "..");
  fc.assert(
    fc.property(fc.uniqueArray(fc.array(name, { minLength: 1, maxLength: 3 })), (lists) => {
      const paths = new Set<string>();
      for (const parts of lists) {
        for (let i = 1; i <= parts.length; i++) paths.add(parts.slice(0, i).join("/"));
      }
      const walk = (prefix: string): string[] => {
        const children = [...paths].filter((p) =>
          prefix === "" ? !p.includes("/") : p.startsWith(`${prefix}/`) &&
            !p.slice(prefix.length + 1).includes("/")
        ).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        return children.flatMap((c) => [c, ...walk(c)]);
      };
      assert.deepEqual([...paths].sort(comparePaths), walk(""));
    }),
  );
});
