import assert from "node:assert/strict";
import { MemoryTree } from "../../lib/sync/memory_tree.ts";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

Deno.test("MemoryTree.setFile() creates parents and always moves the time forward", () => {
  let clock = 100;
  const tree = new MemoryTree({ now: () => clock });
  tree.setFile("a/b/c.txt", "one");
  assert.deepEqual(tree.get("a"), { type: "dir", mode: 0o755 });
  assert.deepEqual(tree.get("a/b/c.txt"), { type: "file", size: 3, mtimeMs: 100, mode: 0o644 });
  tree.setFile("a/b/c.txt", "two"); // same clock: the next millisecond
  assert.deepEqual(tree.get("a/b/c.txt"), { type: "file", size: 3, mtimeMs: 101, mode: 0o644 });
  clock = 50; // a clock going back still moves the time forward
  tree.setFile("a/b/c.txt", "three", { mode: 0o600 });
  assert.deepEqual(tree.get("a/b/c.txt"), { type: "file", size: 5, mtimeMs: 102, mode: 0o600 });
  tree.setFile("a/b/c.txt", "four", { mtimeMs: 7 }); // an explicit time is kept as given
  assert.deepEqual(tree.get("a/b/c.txt"), { type: "file", size: 4, mtimeMs: 7, mode: 0o600 });
  assert.equal(tree.getText("a/b/c.txt"), "four");
});

Deno.test("MemoryTree never writes through a link or a file", () => {
  const tree = new MemoryTree();
  tree.setSymlink("link", "/etc");
  tree.setFile("file", "x");
  const cases: [() => unknown, string][] = [
    [
      () => tree.setFile("link/passwd", "x"),
      'Cannot write "link/passwd": "link" is a symbolic link',
    ],
    [() => tree.setDir("link/d"), 'Cannot create directory "link/d": "link" is a symbolic link'],
    [
      () => tree.setSymlink("file/l", "x"),
      'Cannot create link "file/l": "file" is not a directory',
    ],
    [() => tree.setDir("file"), 'Cannot create directory "file": something else is there'],
  ];
  for (const [fn, message] of cases) assert.throws(fn, { name: "TreeError", message });
});

Deno.test("MemoryTree Tree operations check parents and preconditions", async () => {
  const tree = new MemoryTree();
  tree.setFile("d/f", "x", { mtimeMs: 1 });
  tree.setSymlink("l", "d");
  const f = { mode: 0o644, mtimeMs: 2 };
  const rejects: [Promise<unknown>, string, string][] = [
    [
      tree.writeFile("missing/f", bytes("x"), f),
      "NotFound",
      'Cannot write "missing/f": "missing" does not exist',
    ],
    [
      tree.writeFile("l/f", bytes("x"), f),
      "SymlinkParent",
      'Cannot write "l/f": "l" is a symbolic link',
    ],
    [tree.writeFile("d", bytes("x"), f), "IsDirectory", 'Cannot write "d": it is a directory'],
    [
      tree.writeFile("d/f", bytes("y"), { ...f, expect: null }),
      "Changed",
      'Cannot write "d/f": it changed during the sync',
    ],
    [
      tree.mkdir("l/x", { mode: 0o755 }),
      "SymlinkParent",
      'Cannot create directory "l/x": "l" is a symbolic link',
    ],
    [tree.symlink("d", "x"), "IsDirectory", 'Cannot create link "d": it is a directory'],
    [tree.remove("d"), "NotEmpty", 'Cannot remove "d": the directory is not empty'],
    [tree.remove("nothing"), "NotFound", 'Cannot remove "nothing": it does not exist'],
    [
      tree.remove("d/f", { expect: { type: "file", size: 1, mtimeMs: 9, mode: 0o644 } }),
      "Changed",
      'Cannot remove "d/f": it changed during the sync',
    ],
    [tree.chmod("l", 0o700), "Exists", 'Cannot change mode of "l": something else is there'],
    [tree.readFile("l"), "Exists", 'Cannot read "l": something else is there'],
    [tree.readFile("d"), "IsDirectory", 'Cannot read "d": it is a directory'],
  ];
  for (const [promise, kind, message] of rejects) {
    await assert.rejects(promise, { name: "TreeError", kind, message });
  }
  await assert.rejects(
    tree.writeFile("../x", bytes(""), f),
    new RangeError('Cannot use path "../x": it has a ".." component'),
  );
  // Nothing above changed the tree.
  assert.deepEqual([...(await tree.scan()).entries], [
    ["d", { type: "dir", mode: 0o755 }],
    ["d/f", { type: "file", size: 1, mtimeMs: 1, mode: 0o644 }],
    ["l", { type: "symlink", target: "d" }],
  ]);
});

Deno.test("MemoryTree.writeFile() reads a stream whole and replaces a link", async () => {
  const tree = new MemoryTree();
  tree.setSymlink("a", "elsewhere");
  const stream = ReadableStream.from([bytes("he"), bytes("llo")]);
  await tree.writeFile("a", stream, {
    mode: 0o1755,
    mtimeMs: 3,
    expect: { type: "symlink", target: "elsewhere" },
  });
  assert.deepEqual(tree.get("a"), { type: "file", size: 5, mtimeMs: 3, mode: 0o1755 });
  assert.equal(tree.getText("a"), "hello");
  assert.deepEqual(await tree.readFile("a"), bytes("hello"));
});

Deno.test("MemoryTree.rename() and delete() move and remove whole subtrees", () => {
  const tree = new MemoryTree();
  tree.setFile("a/b/c", "1", { mtimeMs: 5 });
  tree.setFile("x", "2");
  tree.rename("a", "x"); // replaces the file x
  assert.deepEqual(tree.get("x/b/c"), { type: "file", size: 1, mtimeMs: 5, mode: 0o644 });
  assert.equal(tree.get("a"), undefined);
  assert.throws(
    () => tree.rename("x", "x/y"),
    new RangeError('Cannot rename "x" to "x/y": it lies under itself'),
  );
  assert.throws(() => tree.rename("nope", "y"), {
    name: "TreeError",
    message: 'Cannot rename "nope": it does not exist',
  });
  assert.equal(tree.delete("x"), true);
  assert.deepEqual(tree.get("x/b"), undefined);
});

Deno.test("MemoryTree.scan() lists in path order and leaves ignored directories out whole", async () => {
  const tree = new MemoryTree({ now: () => 1 });
  for (const path of ["b", "a.txt", "a/z", "target/x/y", "c.log"]) tree.setFile(path, "");
  const scan = await tree.scan({
    ignore: (path, isDir) => (isDir && path === "target") || path.endsWith(".log"),
  });
  assert.deepEqual([...scan.entries.keys()], ["a", "a/z", "a.txt", "b"]);
});
