import assert from "node:assert/strict";
import { HostTree, TEMP_PREFIX } from "../../lib/session/host_tree.ts";
import { MemoryTree } from "../../lib/sync/memory_tree.ts";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

async function withTree(fn: (dir: string, tree: HostTree) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gamma-host-tree-" });
  try {
    await Deno.mkdir(`${dir}/root`);
    await Deno.mkdir(`${dir}/outside`);
    await Deno.writeTextFile(`${dir}/outside/secret`, "secret");
    await fn(dir, new HostTree(`${dir}/root`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const e of [...Deno.readDirSync(abs)].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      out.push(path);
      if (e.isDirectory) walk(`${abs}/${e.name}`, path);
    }
  };
  walk(dir, "");
  return out;
}

Deno.test("HostTree refuses every write through a linked or non-directory parent", async () => {
  await withTree(async (dir, tree) => {
    await Deno.symlink(`${dir}/outside`, `${dir}/root/abs`);
    await Deno.symlink("../outside", `${dir}/root/rel`);
    await Deno.mkdir(`${dir}/root/real`);
    await Deno.symlink("../../outside", `${dir}/root/real/deep`);
    await Deno.writeTextFile(`${dir}/root/file`, "");
    const f = { mode: 0o644, mtimeMs: 1000 };
    const cases: [() => Promise<unknown>, string, string][] = [
      [
        () => tree.writeFile("abs/secret", bytes("pwned"), f),
        "SymlinkParent",
        'Cannot write "abs/secret": "abs" is a symbolic link',
      ],
      [
        () => tree.writeFile("rel/new", bytes("x"), f),
        "SymlinkParent",
        'Cannot write "rel/new": "rel" is a symbolic link',
      ],
      [
        () => tree.writeFile("real/deep/secret", bytes("x"), f),
        "SymlinkParent",
        'Cannot write "real/deep/secret": "real/deep" is a symbolic link',
      ],
      [
        () => tree.mkdir("abs/d", { mode: 0o755 }),
        "SymlinkParent",
        'Cannot create directory "abs/d": "abs" is a symbolic link',
      ],
      [
        () => tree.symlink("rel/l", "x"),
        "SymlinkParent",
        'Cannot create link "rel/l": "rel" is a symbolic link',
      ],
      [
        () => tree.remove("abs/secret"),
        "SymlinkParent",
        'Cannot remove "abs/secret": "abs" is a symbolic link',
      ],
      [
        () => tree.chmod("abs/secret", 0o777),
        "SymlinkParent",
        'Cannot change mode of "abs/secret": "abs" is a symbolic link',
      ],
      [
        () => tree.readFile("abs/secret"),
        "SymlinkParent",
        'Cannot read "abs/secret": "abs" is a symbolic link',
      ],
      [
        () => tree.writeFile("file/x", bytes("x"), f),
        "NotDirectory",
        'Cannot write "file/x": "file" is not a directory',
      ],
      [
        () => tree.writeFile("missing/x", bytes("x"), f),
        "NotFound",
        'Cannot write "missing/x": "missing" does not exist',
      ],
      [
        () => tree.copyFrom(tree, "abs/secret", "copied", f),
        "SymlinkParent",
        'Cannot read "abs/secret": "abs" is a symbolic link',
      ],
      // a link itself is never read as a file
      [
        () => tree.copyFrom(tree, "rel", "copied", f),
        "Changed",
        'Cannot read "rel": it changed during the sync',
      ],
    ];
    for (const [fn, kind, message] of cases) {
      await assert.rejects(fn(), { name: "TreeError", kind, message });
    }
    const names: [string, string][] = [
      ["../outside/secret", 'it has a ".." component'],
      [`${dir}/outside/secret`, "it is absolute"],
    ];
    for (const [path, reason] of names) {
      await assert.rejects(
        tree.writeFile(path, bytes("x"), f),
        new RangeError(`Cannot use path ${JSON.stringify(path)}: ${reason}`),
      );
    }
    assert.deepEqual(listing(`${dir}/outside`), ["secret"]);
    assert.equal(await Deno.readTextFile(`${dir}/outside/secret`), "secret");
    assert.deepEqual(listing(`${dir}/root`), ["abs", "file", "real", "real/deep", "rel"]);
  });
});

Deno.test("HostTree.remove() and writeFile() replace a link, never its target", async () => {
  await withTree(async (dir, tree) => {
    await Deno.symlink(`${dir}/outside/secret`, `${dir}/root/l`);
    await tree.writeFile("l", bytes("mine"), {
      mode: 0o600,
      mtimeMs: 2000,
      expect: { type: "symlink", target: `${dir}/outside/secret` },
    });
    assert.equal(await Deno.readTextFile(`${dir}/root/l`), "mine");
    assert.equal((await Deno.lstat(`${dir}/root/l`)).isFile, true);
    await Deno.remove(`${dir}/root/l`);
    await Deno.symlink(`${dir}/outside`, `${dir}/root/d`);
    await tree.remove("d");
    assert.deepEqual(listing(`${dir}/outside`), ["secret"]);
    assert.equal(await Deno.readTextFile(`${dir}/outside/secret`), "secret");
  });
});

Deno.test("HostTree.writeFile() is atomic: a failed stream leaves nothing behind", async () => {
  await withTree(async (dir, tree) => {
    await Deno.writeTextFile(`${dir}/root/a`, "old");
    const failing = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes("half of the new "));
        controller.error(new Error("connection lost"));
      },
    });
    await assert.rejects(tree.writeFile("a", failing, { mode: 0o644, mtimeMs: 1 }), {
      message: "connection lost",
    });
    assert.equal(await Deno.readTextFile(`${dir}/root/a`), "old");
    assert.deepEqual(listing(`${dir}/root`), ["a"]);
  });
});

Deno.test("HostTree.writeFile() keeps a file changed meanwhile and leaves no temporary file", async () => {
  await withTree(async (dir, tree) => {
    await Deno.writeTextFile(`${dir}/root/a`, "edited in the guest");
    await assert.rejects(
      tree.writeFile("a", bytes("from the host"), { mode: 0o644, mtimeMs: 1, expect: null }),
      {
        name: "TreeError",
        kind: "Changed",
        message: 'Cannot write "a": it changed during the sync',
      },
    );
    await Deno.mkdir(`${dir}/root/d`);
    await assert.rejects(tree.writeFile("d", bytes("x"), { mode: 0o644, mtimeMs: 1 }), {
      name: "TreeError",
      kind: "IsDirectory",
      message: 'Cannot write "d": it is a directory',
    });
    assert.equal(await Deno.readTextFile(`${dir}/root/a`), "edited in the guest");
    assert.deepEqual(listing(`${dir}/root`), ["a", "d"]);
  });
});

Deno.test("HostTree writes exact modes and times, from bytes, streams and other trees, never set-id bits", async () => {
  await withTree(async (dir, tree) => {
    const memory = new MemoryTree();
    memory.setFile("m", "from memory", { mode: 0o755, mtimeMs: 3000 });
    await Deno.writeTextFile(`${dir}/outside/src`, "from a host tree");
    await Deno.chmod(`${dir}/outside/src`, 0o640);
    const other = new HostTree(`${dir}/outside`);
    await tree.writeFile("bytes", bytes("b"), { mode: 0o4755, mtimeMs: 1_000 });
    await tree.writeFile("stream", ReadableStream.from([bytes("s1"), bytes("s2")]), {
      mode: 0o600,
      mtimeMs: 1_700_000_000_123,
    });
    assert.equal(await tree.copyFrom(memory, "m", "nope", { mode: 0o644, mtimeMs: 1 }), false);
    assert.equal(
      await tree.copyFrom(other, "src", "copied", { mode: 0o644, mtimeMs: 5_000 }),
      true,
    );
    await tree.mkdir("d", { mode: 0o2750 });
    await tree.symlink("l", "bytes");
    await Deno.writeTextFile(`${dir}/outside/setid`, "");
    await Deno.chmod(`${dir}/outside/setid`, 0o6755);
    await tree.copyFrom(other, "setid", "setid", { mode: 0o6755, mtimeMs: 1_000 });
    await Deno.writeTextFile(`${dir}/root/chmodded`, "");
    await tree.chmod("chmodded", 0o7777);
    // Set-user-ID, set-group-ID and sticky bits never cross: at most 0o777 lands on disk.
    for (
      const [name, mode] of [["bytes", 0o755], ["d", 0o750], ["setid", 0o755], [
        "chmodded",
        0o777,
      ]] as const
    ) {
      assert.equal(Deno.lstatSync(`${dir}/root/${name}`).mode! & 0o7777, mode, name);
    }
    await Deno.remove(`${dir}/root/setid`);
    await Deno.remove(`${dir}/root/chmodded`);
    await Deno.chmod(`${dir}/root/bytes`, 0o4755); // and a scan reports them without those bits
    const scan = await tree.scan();
    assert.deepEqual([...scan.entries], [
      ["bytes", { type: "file", size: 1, mtimeMs: 1_000, mode: 0o755 }],
      ["copied", { type: "file", size: 16, mtimeMs: 5_000, mode: 0o644 }],
      ["d", { type: "dir", mode: 0o750 }],
      ["l", { type: "symlink", target: "bytes" }],
      ["stream", { type: "file", size: 4, mtimeMs: 1_700_000_000_123, mode: 0o600 }],
    ]);
    assert.equal(await Deno.readTextFile(`${dir}/root/stream`), "s1s2");
    assert.equal(await Deno.readTextFile(`${dir}/root/copied`), "from a host tree");
  });
});

Deno.test("HostTree.scan() lists without following links, skips special files, reports debris", async () => {
  await withTree(async (dir, tree) => {
    await Deno.mkdir(`${dir}/root/a/b`, { recursive: true });
    await Deno.writeTextFile(`${dir}/root/a/b/c`, "x");
    await Deno.writeTextFile(`${dir}/root/a.txt`, "y");
    await Deno.symlink(`${dir}/outside`, `${dir}/root/a/out`);
    const tag = "0f".repeat(16);
    await Deno.writeTextFile(`${dir}/root/a/${TEMP_PREFIX}${tag}-0f0f`, "half");
    await Deno.writeTextFile(`${dir}/root/a/${TEMP_PREFIX}0f0f`, "a user's file");
    const fifo = new Deno.Command("mkfifo", { args: [`${dir}/root/pipe`] }).outputSync();
    assert.equal(fifo.success, true);
    const scan = await tree.scan({ ignore: (path) => path === "a/b/c", debrisTags: [tag] });
    // Only the names of a recorded run are debris; the user's own .gamma-tmp-… file is kept.
    assert.deepEqual([...scan.entries.keys()], [
      "a",
      `a/${TEMP_PREFIX}0f0f`,
      "a/b",
      "a/out",
      "a.txt",
    ]);
    assert.deepEqual(scan.entries.get("a/out"), { type: "symlink", target: `${dir}/outside` });
    assert.deepEqual(scan.debris, [`a/${TEMP_PREFIX}${tag}-0f0f`]);
    assert.equal(await tree.stat("pipe"), undefined);
    await assert.rejects(new HostTree(`${dir}/missing`).scan(), Deno.errors.NotFound);
  });
});

Deno.test("HostTree.readFile() refuses what is not a regular file", async () => {
  await withTree(async (dir, tree) => {
    await Deno.mkdir(`${dir}/root/d`);
    await Deno.symlink(`${dir}/outside/secret`, `${dir}/root/l`);
    const cases: [string, string, string][] = [
      ["d", "IsDirectory", 'Cannot read "d": it is a directory'],
      ["l", "Changed", 'Cannot read "l": it changed during the sync'],
      ["none", "NotFound", 'Cannot read "none": it does not exist'],
    ];
    for (const [path, kind, message] of cases) {
      await assert.rejects(tree.readFile(path), { name: "TreeError", kind, message });
    }
  });
});

Deno.test("HostTree wants an absolute root", () => {
  assert.throws(
    () => new HostTree("relative/dir"),
    new TypeError('Tree root must be an absolute POSIX path: received "relative/dir"'),
  );
  assert.equal(new HostTree("/a/b/").root, "/a/b");
});

Deno.test("HostTree refuses a root that is a link, or that was replaced meanwhile (issue 9 item 2)", async () => {
  await withTree(async (dir) => {
    await Deno.symlink(`${dir}/outside`, `${dir}/link`);
    const linked = new HostTree(`${dir}/link`);
    const message =
      `Cannot sync ${dir}/link: it is a symbolic link (to ${dir}/outside), and gamma never follows a link at a tree's root; remove the link`;
    await assert.rejects(linked.scan(), { name: "TreeError", kind: "SymlinkRoot", message });
    await assert.rejects(linked.writeFile("x", bytes("x"), { mode: 0o644, mtimeMs: 0 }), {
      kind: "SymlinkRoot",
    });
    await assert.rejects(linked.stat("secret"), { kind: "SymlinkRoot" });
    // A tree whose root is swapped for a link after its first use writes nothing more.
    const tree = new HostTree(`${dir}/root`);
    await tree.scan();
    await Deno.rename(`${dir}/root`, `${dir}/root.aside`);
    await Deno.symlink(`${dir}/outside`, `${dir}/root`);
    await assert.rejects(tree.writeFile("secret", bytes("pwned"), { mode: 0o644, mtimeMs: 0 }), {
      kind: "SymlinkRoot",
      message:
        `Cannot sync ${dir}/root: it was replaced during the sync; nothing more is written there`,
    });
    await assert.rejects(tree.remove("secret"), { kind: "SymlinkRoot" });
    assert.deepEqual(listing(`${dir}/outside`), ["secret"]);
    assert.equal(await Deno.readTextFile(`${dir}/outside/secret`), "secret");
    await Deno.remove(`${dir}/root`);
    await Deno.rename(`${dir}/root.aside`, `${dir}/root`);
  });
});

Deno.test("HostTree.remove() takes only ignored leftovers with a directory, never through a link", async () => {
  await withTree(async (dir, tree) => {
    await Deno.mkdir(`${dir}/root/d/cache`, { recursive: true });
    await Deno.writeTextFile(`${dir}/root/d/build.log`, "");
    await Deno.writeTextFile(`${dir}/root/d/cache/x`, "");
    await Deno.symlink(`${dir}/outside`, `${dir}/root/d/cache/out.log`);
    const expendable = (path: string, isDir: boolean) =>
      path.endsWith(".log") || (isDir && path.endsWith("/cache"));
    await tree.remove("d", { expendable });
    assert.deepEqual(listing(`${dir}/root`), []);
    assert.deepEqual(listing(`${dir}/outside`), ["secret"]);
    await Deno.mkdir(`${dir}/root/e`);
    await Deno.writeTextFile(`${dir}/root/e/build.log`, "");
    await Deno.writeTextFile(`${dir}/root/e/keep.txt`, "");
    await assert.rejects(tree.remove("e", { expendable }), {
      kind: "NotEmpty",
      message: 'Cannot remove "e": the directory is not empty',
    });
    assert.deepEqual(listing(`${dir}/root`), ["e", "e/build.log", "e/keep.txt"]);
  });
});

Deno.test("HostTree.scan() of a prefetched listing agrees with stat() on every entry, to the millisecond", async () => {
  await withTree(async (dir, tree) => {
    const root = `${dir}/root`;
    await Deno.mkdir(`${root}/d/e`, { recursive: true });
    await Deno.writeTextFile(`${root}/d/e/f.txt`, "f");
    await Deno.writeTextFile(`${root}/a-b`, "ab");
    await Deno.writeTextFile(`${root}/a.txt`, "a");
    await Deno.writeTextFile(`${root}/d/e/tab\tand\nnewline`, "x");
    await Deno.symlink("../outside/secret", `${root}/d/link`);
    await Deno.chmod(`${root}/a.txt`, 0o4755); // set-id bits never show
    await Deno.chmod(`${root}/d/e`, 0o750);
    // Times with every sub-millisecond fraction Deno truncates, one before 1970.
    await Deno.utime(`${root}/a-b`, 0, 1_700_000_000.9999);
    await Deno.utime(`${root}/d/e/f.txt`, 0, 1_700_000_000.0005);
    await Deno.utime(`${root}/a.txt`, 0, -5.5);
    tree.prefetch();
    const scan = await tree.scan();
    assert.deepEqual([...scan.entries.keys()], [
      "a-b",
      "a.txt",
      "d",
      "d/e",
      "d/e/f.txt",
      "d/e/tab\tand\nnewline",
      "d/link",
    ]);
    for (const [path, entry] of scan.entries) {
      assert.deepEqual(entry, await tree.stat(path), path);
    }
    assert.deepEqual(scan.entries.get("a.txt"), {
      type: "file",
      size: 1,
      mtimeMs: -5_500,
      mode: 0o755,
    });
    assert.deepEqual(scan.entries.get("a-b"), {
      type: "file",
      size: 2,
      mtimeMs: 1_700_000_000_999,
      mode: (await Deno.lstat(`${root}/a-b`)).mode! & 0o777,
    });
    assert.deepEqual(scan.entries.get("d/link"), { type: "symlink", target: "../outside/secret" });
  });
});

Deno.test("HostTree.copyFrom() copies small and large files exactly, and never over what appeared meanwhile", async () => {
  await withTree(async (dir, tree) => {
    const other = new HostTree(`${dir}/outside`);
    // Empty, small, exactly the in-process copy's buffer, one byte more (the kernel's copy).
    const sizes: [string, number][] = [
      ["empty", 0],
      ["small", 200],
      ["edge", 256 * 1024],
      ["large", 256 * 1024 + 1],
    ];
    const content = (size: number): Uint8Array =>
      Uint8Array.from({ length: size }, (_, i) => (i * 31 + 7) & 0xff);
    for (const [name, size] of sizes) {
      await Deno.writeFile(`${dir}/outside/${name}`, content(size));
      assert.equal(
        await tree.copyFrom(other, name, name, {
          mode: 0o775,
          mtimeMs: 1_700_000_000_123,
          expect: null,
        }),
        true,
      );
      assert.deepEqual(await Deno.readFile(`${dir}/root/${name}`), content(size), name);
      const info = Deno.lstatSync(`${dir}/root/${name}`);
      assert.equal(info.mode! & 0o7777, 0o775, name);
      assert.equal(info.mtime?.getTime(), 1_700_000_000_123, name);
      assert.equal(info.nlink, 1, name); // the temporary name is gone
    }
    // Something appeared at the path since the scan (expect: null): it stays, and so does a
    // link's target; nothing is written through the link.
    await Deno.writeTextFile(`${dir}/root/taken`, "the guest's");
    await Deno.symlink(`${dir}/outside/new`, `${dir}/root/linked`);
    for (const [path, source] of [["taken", "small"], ["linked", "small"], ["linked", "large"]]) {
      await assert.rejects(
        tree.copyFrom(other, source!, path!, { mode: 0o644, mtimeMs: 1, expect: null }),
        {
          name: "TreeError",
          kind: "Changed",
          message: `Cannot write "${path}": it changed during the sync`,
        },
      );
    }
    assert.equal(await Deno.readTextFile(`${dir}/root/taken`), "the guest's");
    assert.equal(await Deno.readLink(`${dir}/root/linked`), `${dir}/outside/new`);
    assert.deepEqual(listing(`${dir}/outside`), ["edge", "empty", "large", "secret", "small"]);
    // A copy over a file the plan knows replaces it in place.
    await tree.copyFrom(other, "small", "taken", {
      mode: 0o600,
      mtimeMs: 2_000,
      expect: {
        type: "file",
        size: 11,
        mtimeMs: Deno.lstatSync(`${dir}/root/taken`).mtime!.getTime(),
        mode: 0o644,
      },
    });
    assert.deepEqual(await Deno.readFile(`${dir}/root/taken`), content(200));
    assert.deepEqual(listing(`${dir}/root`), [
      "edge",
      "empty",
      "large",
      "linked",
      "small",
      "taken",
    ]);
  });
});

Deno.test("HostTree.copyFrom() refuses a source that is not a regular file, and leaves nothing behind", async () => {
  await withTree(async (dir, tree) => {
    const other = new HostTree(`${dir}/outside`);
    await Deno.symlink(`${dir}/outside/secret`, `${dir}/outside/link`);
    await Deno.mkdir(`${dir}/outside/d`);
    const f = { mode: 0o644, mtimeMs: 1, expect: null };
    await assert.rejects(tree.copyFrom(other, "link", "a", f), {
      name: "TreeError",
      kind: "Changed",
      message: 'Cannot read "link": it changed during the sync',
    });
    await assert.rejects(tree.copyFrom(other, "d", "a", f), {
      name: "TreeError",
      kind: "IsDirectory",
    });
    await assert.rejects(tree.copyFrom(other, "missing", "a", f), {
      name: "TreeError",
      kind: "NotFound",
    });
    assert.deepEqual(listing(`${dir}/root`), []);
  });
});
