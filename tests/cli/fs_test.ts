import assert from "node:assert/strict";
import { commands, onPath, runGamma, setup, testBothPaths } from "./_run.ts";

type Fixture = Awaited<ReturnType<typeof setup>>;

/** gamma's environment for the fixture, with the guest workspace at the project's mount. */
function envOf(t: Fixture): Record<string, string> {
  return { ...t.env, DEVSHELL_VM_GUEST_WORKSPACE: "/work/p" };
}

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

testBothPaths("gamma fs ls prints names, -0 exact names, --json the entries", async (via) => {
  await using t = await setup({ via });
  for (const name of ["b", "a\nb", "-x", " sp"]) {
    await Deno.writeTextFile(`${t.project}/${name}`, "12");
  }
  const env = envOf(t);
  const plain = await runGamma(["fs", "ls"], { env });
  assert.deepEqual([plain.code, plain.stdout, plain.stderr], [0, " sp\n-x\na\nb\nb\nsub\n", ""]);
  const nul = await runGamma(["fs", "ls", "-0", "/work/p"], { env });
  assert.deepEqual([nul.code, nul.stdout, nul.stderr], [0, " sp\0-x\0a\nb\0b\0sub\0", ""]);
  const json = await runGamma(["fs", "ls", "--json", "sub"], { env });
  assert.deepEqual([json.code, json.stdout, json.stderr], [
    0,
    '{\n  "schema": 1,\n  "entries": []\n}\n',
    "",
  ]);
  await Deno.writeTextFile(`${t.project}/sub/f`, "123");
  await Deno.chmod(`${t.project}/sub/f`, 0o640);
  const one = await runGamma(["fs", "ls", "--json", "sub"], { env });
  assert.deepEqual(JSON.parse(one.stdout), {
    schema: 1,
    entries: [{ name: "f", type: "file", size: 3, mode: 0o640 }],
  });
  assert.deepEqual(await commands(t.lima), onPath(via, ["shell", "shell", "shell", "shell"]));
});

testBothPaths("gamma fs put, cat and rm carry binary data exactly", async (via) => {
  await using t = await setup({ via });
  const env = envOf(t);
  const data = new Uint8Array(256 * 64).map((_, i) => (i * 7) % 256);
  const put = await runGamma(["fs", "put", "-p", "--mode", "750", "new/dir/x.bin"], {
    env,
    stdin: data,
  });
  assert.deepEqual([put.code, put.stdout, put.stderr], [0, "", ""]);
  assert.deepEqual(await Deno.readFile(`${t.project}/new/dir/x.bin`), data);
  assert.equal((await Deno.stat(`${t.project}/new/dir/x.bin`)).mode! & 0o7777, 0o750);
  const cat = await runGamma(["fs", "cat", "/work/p/new/dir/x.bin"], { env });
  assert.deepEqual([cat.code, cat.stdoutBytes, cat.stderr], [0, data, ""]);
  const rm = await runGamma(["fs", "rm", "-r", "new"], { env });
  assert.deepEqual([rm.code, rm.stdout, rm.stderr], [0, "", ""]);
  assert.deepEqual((await Array.fromAsync(Deno.readDir(t.project))).map((e) => e.name), ["sub"]);
});

testBothPaths("gamma fs exits 1 with a message naming the path on typed errors", async (via) => {
  await using t = await setup({ via });
  const env = envOf(t);
  await Deno.symlink("/etc/hostname", `${t.project}/host`);
  const cases: [string[], string][] = [
    [
      ["fs", "cat", "nope"],
      'gamma fs cat: cannot read "/work/p/nope": no such file or directory\n',
    ],
    [["fs", "cat", "sub"], 'gamma fs cat: cannot read "/work/p/sub": it is a directory\n'],
    [["fs", "rm", "sub"], 'gamma fs rm: cannot remove "/work/p/sub": it is a directory\n'],
    [
      ["fs", "put", "a/b"],
      'gamma fs put: cannot write "/work/p/a/b": no such file or directory; to create the missing directories too, run it with --parents: gamma fs put -p a/b\n',
    ],
    [
      ["fs", "cat", "host"],
      'gamma fs cat: cannot read "/work/p/host": a symbolic link leads outside the guest root "/work/p"\n',
    ],
    [
      ["fs", "ls", "-0", "--root", "/work/p/sub", "../.."],
      'gamma fs ls: cannot list "/work": it is outside the guest root "/work/p/sub"\n',
    ],
    [["fs", "rm", "-r", "/work/p/"], 'gamma fs rm: refusing to remove the guest root "/work/p"\n'],
  ];
  for (const [args, stderr] of cases) {
    const r = await runGamma(args, { env, stdin: encode("data") });
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, "", stderr], args.join(" "));
  }
  // Without DEVSHELL_VM_GUEST_WORKSPACE the root is /workspace, and /work/p lies outside it.
  const outside = await runGamma(["fs", "cat", "/work/p/../../etc/passwd"], { env: t.env });
  assert.deepEqual([outside.code, outside.stdout, outside.stderr], [
    1,
    "",
    'gamma fs cat: cannot read "/etc/passwd": it is outside the guest root "/workspace"\n',
  ]);
  const host = await runGamma(["fs", "ls"], { env: { ...env, DEVSHELL_VM: "off" } });
  assert.deepEqual([host.code, host.stdout, host.stderr], [
    1,
    "",
    "gamma fs: needs the Lima backend, but gamma runs on the host (DEVSHELL_VM=off, DEVSHELL_VM_BACKEND=host, or no limactl)\n",
  ]);
  // Five guest calls: the lexical refusals and the host backend made none.
  assert.deepEqual(
    await commands(t.lima),
    onPath(via, ["shell", "shell", "shell", "shell", "shell"]),
  );
});

testBothPaths("gamma fs usage errors exit 2 before any guest call", async (via) => {
  await using t = await setup({ via });
  const env = envOf(t);
  const cases: [string[], string][] = [
    [["fs"], "gamma fs: missing action (one of ls, cat, put, rm)"],
    [
      ["fs", "lss", "x"],
      'gamma fs: unknown action "lss" (did you mean "ls"?); use one of ls, cat, put, rm',
    ],
    [["fs", "cat"], "gamma fs cat: missing GUEST_PATH"],
    [["fs", "cat", "a", "b"], "gamma fs cat: expected one GUEST_PATH, got 2"],
    [["fs", "cat", "-r", "a"], "gamma fs cat: --recursive applies only to gamma fs rm"],
    [["fs", "rm", "-0", "a"], "gamma fs rm: --null applies only to gamma fs ls"],
    [["fs", "ls", "-0", "--json"], "gamma fs ls: use either -0 or --json, not both"],
    [
      ["fs", "put", "--mode", "rwx", "a"],
      'gamma fs put: --mode takes octal permission bits such as 644 or 0755, not "rwx"',
    ],
    [["fs", "ls", "--root", "work"], 'gamma fs: --root must be an absolute guest path, not "work"'],
  ];
  for (const [args, message] of cases) {
    const r = await runGamma(args, { env });
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stdout, "");
    const lines = r.stderr.split("\n");
    assert.equal(lines[0], message);
    assert.match(lines[1] ?? "", /^usage: gamma fs /);
    assert.equal(lines[2], "Run 'gamma help fs' for its options.");
    assert.equal(lines.length, 4, r.stderr); // three lines and the final newline
  }
  assert.deepEqual(await commands(t.lima), onPath(via, []));
});
