import assert from "node:assert/strict";
import { GammaError } from "../../lib/errors.ts";
import { type GuestEntry, GuestFsError, type GuestFsErrorKind } from "../../lib/guest_fs.ts";
import { GuestFs } from "../../lib/session/guest_fs.ts";
import { type Fixture, setup, testSession } from "../cli/_run.ts";

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

function guestFs(t: Fixture, options: { instance?: string; root?: string } = {}): {
  fs: GuestFs;
  argvs: (readonly string[])[];
} {
  const { session, argvs } = testSession(t, t.project, {}, options);
  return { fs: new GuestFs(session, { root: options.root ?? "/work/p" }), argvs };
}

/** Assert that `promise` rejects with a GuestFsError of `kind`, `exitCode` and `message`. */
async function rejectsWith(
  promise: Promise<unknown>,
  kind: GuestFsErrorKind,
  exitCode: number | undefined,
  path: string,
  message: string,
): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof GuestFsError && e instanceof GammaError, String(e));
    assert.deepEqual([e.kind, e.exitCode, e.path, e.message], [kind, exitCode, path, message]);
    return true;
  });
}

async function hostMode(path: string): Promise<number> {
  return (await Deno.lstat(path)).mode! & 0o7777;
}

async function hostNames(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

const AWKWARD = ["line\nbreak", " two  spaces ", "-rf", "--help", "ünïcödé ✓", "it's", "$(x)`y`"];

Deno.test("GuestFs writes, lists, stats and reads awkward names exactly", async () => {
  await using t = await setup();
  const { fs, argvs } = guestFs(t);
  assert.equal(fs.root, "/work/p");
  for (const [i, name] of AWKWARD.entries()) {
    await fs.write(`sub/${name}`, encode(`#${i}`));
  }
  assert.equal(argvs.length, AWKWARD.length); // one limactl call per operation
  assert.ok(argvs.every((argv) => argv[0] === "shell" && argv.includes("--tty=false")));
  for (const name of AWKWARD) {
    assert.equal(await Deno.readTextFile(`${t.project}/sub/${name}`), `#${AWKWARD.indexOf(name)}`);
  }
  const mode = await hostMode(`${t.project}/sub/-rf`); // 0o666 less the umask
  const expected: GuestEntry[] = AWKWARD
    .map((name, i) => ({ name, type: "file" as const, size: `#${i}`.length, mode }))
    .sort((a, b) => a.name < b.name ? -1 : 1);
  assert.deepEqual(await fs.list("sub"), expected);
  assert.deepEqual(await fs.list("/work/p/sub/"), expected);
  for (const [i, name] of AWKWARD.entries()) {
    assert.deepEqual(await fs.read(`/work/p/sub/${name}`), encode(`#${i}`));
    assert.deepEqual(await fs.stat(`sub/${name}`), expected.find((e) => e.name === name));
  }
  assert.deepEqual(await fs.stat(""), {
    name: "p",
    type: "dir",
    size: 4096,
    mode: await hostMode(t.project),
  });
});

Deno.test("GuestFs round-trips 256 and 1 MiB of binary data byte-exact", async () => {
  await using t = await setup();
  const { fs } = guestFs(t);
  const all = new Uint8Array(256).map((_, i) => i);
  await fs.write("all.bin", all);
  assert.deepEqual(await Deno.readFile(`${t.project}/all.bin`), all);
  assert.deepEqual(await fs.read("all.bin"), all);

  const big = new Uint8Array(1 << 20);
  for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
  await fs.write("sub/big.bin", big);
  assert.deepEqual(await Deno.readFile(`${t.project}/sub/big.bin`), big);
  assert.deepEqual(await fs.read("sub/big.bin"), big);
  assert.deepEqual(await fs.stat("sub/big.bin"), {
    name: "big.bin",
    type: "file",
    size: 1 << 20,
    mode: await hostMode(`${t.project}/sub/big.bin`),
  });
  await fs.write("empty", new Uint8Array());
  assert.deepEqual(await fs.read("empty"), new Uint8Array());
});

Deno.test("GuestFs.write() is atomic, keeps modes, sets modes and creates parents", async () => {
  await using t = await setup();
  const { fs } = guestFs(t);
  await Deno.writeTextFile(`${t.project}/run.sh`, "old");
  await Deno.chmod(`${t.project}/run.sh`, 0o755);
  const inode = (await Deno.stat(`${t.project}/run.sh`)).ino;
  await fs.write("run.sh", encode("new"));
  const after = await Deno.stat(`${t.project}/run.sh`);
  assert.equal(await Deno.readTextFile(`${t.project}/run.sh`), "new");
  assert.equal(after.mode! & 0o7777, 0o755);
  assert.notEqual(after.ino, inode); // a new file renamed over the old one
  await fs.write("run.sh", encode("newer"), { mode: 0o600 });
  assert.equal((await Deno.stat(`${t.project}/run.sh`)).mode! & 0o7777, 0o600);

  await rejectsWith(
    fs.write("a/b/c.txt", encode("x")),
    "NotFound",
    10,
    "/work/p/a/b/c.txt",
    'cannot write "/work/p/a/b/c.txt": no such file or directory',
  );
  await fs.write("a/b/c.txt", encode("x"), { createParents: true });
  assert.equal(await Deno.readTextFile(`${t.project}/a/b/c.txt`), "x");
  assert.deepEqual(await hostNames(t.project), ["a", "run.sh", "sub"]); // no temporary files

  // A failed write leaves the directory as it was: no half file, no temporary file.
  await Deno.mkdir(`${t.project}/sub/dir`);
  const before = await hostNames(`${t.project}/sub`);
  await rejectsWith(
    fs.write("sub/dir", new Uint8Array(1 << 20)),
    "IsDirectory",
    11,
    "/work/p/sub/dir",
    'cannot write "/work/p/sub/dir": it is a directory',
  );
  assert.deepEqual(await hostNames(`${t.project}/sub`), before);
});

Deno.test("GuestFs mkdir and remove", async () => {
  await using t = await setup();
  const { fs } = guestFs(t);
  await fs.mkdir("d");
  await rejectsWith(
    fs.mkdir("d"),
    "AlreadyExists",
    14,
    "/work/p/d",
    'cannot create directory "/work/p/d": it already exists',
  );
  await fs.mkdir("d", { parents: true }); // mkdir -p accepts an existing directory
  await rejectsWith(
    fs.mkdir("x/y"),
    "NotFound",
    10,
    "/work/p/x/y",
    'cannot create directory "/work/p/x/y": no such file or directory',
  );
  await fs.mkdir("x/y", { parents: true });
  await fs.write("x/y/f", encode("f"));
  assert.deepEqual(await fs.list("x"), [{
    name: "y",
    type: "dir",
    size: 4096,
    mode: await hostMode(`${t.project}/x/y`),
  }]);
  await rejectsWith(
    fs.remove("x"),
    "IsDirectory",
    11,
    "/work/p/x",
    'cannot remove "/work/p/x": it is a directory',
  );
  await fs.remove("x", { recursive: true });
  await fs.remove("d", { recursive: true });
  await rejectsWith(
    fs.remove("d"),
    "NotFound",
    10,
    "/work/p/d",
    'cannot remove "/work/p/d": no such file or directory',
  );
  assert.deepEqual(await hostNames(t.project), ["sub"]);
  await assert.rejects(() => fs.remove("/work/p/sub/.."), {
    name: "TypeError",
    message: 'Refusing to remove the guest root "/work/p" itself; remove its entries instead',
  });
});

Deno.test("GuestFs reports each typed error from the script's exit code", async () => {
  await using t = await setup();
  const { fs } = guestFs(t);
  await Deno.writeTextFile(`${t.project}/file`, "f");
  const cases: [() => Promise<unknown>, GuestFsErrorKind, number, string, string][] = [
    [
      () => fs.read("nope"),
      "NotFound",
      10,
      "/work/p/nope",
      'cannot read "/work/p/nope": no such file or directory',
    ],
    [
      () => fs.list("nope"),
      "NotFound",
      10,
      "/work/p/nope",
      'cannot list "/work/p/nope": no such file or directory',
    ],
    [
      () => fs.stat("nope/deeper"),
      "NotFound",
      10,
      "/work/p/nope/deeper",
      'cannot stat "/work/p/nope/deeper": no such file or directory',
    ],
    [
      () => fs.read("sub"),
      "IsDirectory",
      11,
      "/work/p/sub",
      'cannot read "/work/p/sub": it is a directory',
    ],
    [
      () => fs.list("file"),
      "NotDirectory",
      12,
      "/work/p/file",
      'cannot list "/work/p/file": not a directory',
    ],
    [
      () => fs.read("file/x"),
      "NotDirectory",
      12,
      "/work/p/file/x",
      'cannot read "/work/p/file/x": a part of the path is not a directory',
    ],
    [
      () => fs.write("file/x", encode("x"), { createParents: true }),
      "NotDirectory",
      12,
      "/work/p/file/x",
      'cannot write "/work/p/file/x": a part of the path is not a directory',
    ],
  ];
  for (const [attempt, kind, code, path, message] of cases) {
    await rejectsWith(attempt(), kind, code, path, message);
  }
  const missingRoot = guestFs(t, { root: "/work/p/gone" }).fs;
  await rejectsWith(
    missingRoot.list(),
    "NotFound",
    10,
    "/work/p/gone",
    'cannot list "/work/p/gone": no such file or directory',
  );
});

Deno.test("GuestFs reports PermissionDenied on a read-only mount", async () => {
  await using t = await setup();
  const ro = `${t.project}/../ro`;
  await Deno.mkdir(`${ro}/d`, { recursive: true });
  await Deno.writeTextFile(`${ro}/d/f`, "kept");
  await t.lima.addInstance("rodev", {
    mounts: [{ location: ro, mountPoint: "/work/ro", writable: false }],
    running: true,
  });
  const { fs } = guestFs(t, { instance: "rodev", root: "/work/ro" });
  assert.deepEqual(await fs.read("d/f"), encode("kept"));
  const denied: [() => Promise<unknown>, string, string][] = [
    [() => fs.write("d/f", encode("x")), "/work/ro/d/f", "write"],
    [() => fs.write("d/new", encode("x")), "/work/ro/d/new", "write"],
    [() => fs.write("e/new", encode("x"), { createParents: true }), "/work/ro/e/new", "write"],
    [() => fs.mkdir("d/e"), "/work/ro/d/e", "create directory"],
    [() => fs.mkdir("e/f", { parents: true }), "/work/ro/e/f", "create directory"],
    [() => fs.remove("d/f"), "/work/ro/d/f", "remove"],
  ];
  for (const [attempt, path, verb] of denied) {
    await rejectsWith(
      attempt(),
      "PermissionDenied",
      13,
      path,
      `cannot ${verb} ${JSON.stringify(path)}: permission denied`,
    );
  }
  assert.deepEqual(await hostNames(ro), ["d"]);
  assert.deepEqual(await hostNames(`${ro}/d`), ["f"]);
  assert.equal(await Deno.readTextFile(`${ro}/d/f`), "kept");
});

Deno.test("GuestFs refuses lexical escapes before any limactl call", async () => {
  await using t = await setup();
  const { fs, argvs } = guestFs(t);
  const attempts: [() => Promise<unknown>, string, string][] = [
    [() => fs.read("/work/p/../../etc/passwd"), "/etc/passwd", "read"],
    [() => fs.read("../../etc/passwd"), "/etc/passwd", "read"],
    [() => fs.list("/"), "/", "list"],
    [() => fs.list("/work/pp"), "/work/pp", "list"],
    [() => fs.write("/tmp/x", encode("x")), "/tmp/x", "write"],
    [() => fs.mkdir("..", { parents: true }), "/work", "create directory"],
    [() => fs.remove("/etc", { recursive: true }), "/etc", "remove"],
    [() => fs.stat("sub/../../q"), "/work/q", "stat"],
  ];
  for (const [attempt, path, verb] of attempts) {
    await rejectsWith(
      attempt(),
      "OutsideRoot",
      undefined,
      path,
      `cannot ${verb} ${JSON.stringify(path)}: it is outside the guest root "/work/p"`,
    );
  }
  assert.deepEqual(argvs, []);
  assert.deepEqual(await t.lima.argvLog(), []);
});

Deno.test("GuestFs refuses symbolic links that lead outside the root, and follows inner ones", async () => {
  await using t = await setup();
  const { fs } = guestFs(t);
  await Deno.writeTextFile(`${t.project}/sub/real.txt`, "inside");
  await Deno.symlink("sub/real.txt", `${t.project}/inner`);
  await Deno.symlink("sub", `${t.project}/subdir`);
  await Deno.symlink("/etc", `${t.project}/etc`);
  await Deno.symlink("/etc/hostname", `${t.project}/hostname`);
  await Deno.symlink("../..", `${t.project}/sub/up`);

  assert.deepEqual(await fs.read("inner"), encode("inside"));
  assert.deepEqual(await fs.read("subdir/real.txt"), encode("inside"));
  assert.deepEqual((await fs.list("subdir")).map((e) => e.name), ["real.txt", "up"]);
  await fs.write("inner", encode("via link")); // writes the target, keeps the link
  assert.equal(await Deno.readTextFile(`${t.project}/sub/real.txt`), "via link");
  assert.equal((await Deno.lstat(`${t.project}/inner`)).isSymlink, true);

  const escape = (op: string, path: string): string =>
    `cannot ${op} ${JSON.stringify(path)}: a symbolic link leads outside the guest root "/work/p"`;
  const cases: [() => Promise<unknown>, string, string][] = [
    [() => fs.read("etc/passwd"), "/work/p/etc/passwd", "read"],
    [() => fs.read("hostname"), "/work/p/hostname", "read"],
    [() => fs.list("etc"), "/work/p/etc", "list"],
    [() => fs.list("sub/up"), "/work/p/sub/up", "list"],
    [() => fs.stat("etc/passwd"), "/work/p/etc/passwd", "stat"],
    [() => fs.write("hostname", encode("x")), "/work/p/hostname", "write"],
    [() => fs.write("etc/gamma-x", encode("x")), "/work/p/etc/gamma-x", "write"],
    [
      () => fs.write("sub/up/gamma-x", encode("x"), { createParents: true }),
      "/work/p/sub/up/gamma-x",
      "write",
    ],
    [() => fs.mkdir("etc/gamma-d", { parents: true }), "/work/p/etc/gamma-d", "create directory"],
    [() => fs.remove("etc/hostname"), "/work/p/etc/hostname", "remove"],
  ];
  for (const [attempt, path, op] of cases) {
    await rejectsWith(
      attempt(),
      "OutsideRoot",
      15,
      path,
      escape(op, path),
    );
  }
  // The link itself is inside the root: stat describes it and remove removes it (not /etc).
  assert.deepEqual(await fs.stat("etc"), { name: "etc", type: "symlink", size: 4, mode: 0o777 });
  await fs.remove("etc");
  assert.deepEqual(await hostNames(t.project), ["hostname", "inner", "sub", "subdir"]);
});
