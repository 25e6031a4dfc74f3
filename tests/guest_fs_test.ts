import assert from "node:assert/strict";
import { hostTool, needs } from "./support/host_tools.ts";
import fc from "fast-check";
import {
  confineGuestPath,
  guestFsArgs,
  GuestFsError,
  guestFsError,
  parseGuestEntries,
  parseLsMode,
} from "../lib/guest_fs.ts";
import { GammaError } from "../lib/errors.ts";

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

Deno.test("confineGuestPath() resolves against the root and keeps paths under it", () => {
  const ok: [string, string][] = [
    ["", "/workspace"],
    [".", "/workspace"],
    ["src/a.rs", "/workspace/src/a.rs"],
    ["src/../Cargo.toml", "/workspace/Cargo.toml"],
    ["/workspace", "/workspace"],
    ["/workspace/", "/workspace"],
    ["/workspace//a/./b/", "/workspace/a/b"],
    ["-rf", "/workspace/-rf"],
    ["a\nb/it's", "/workspace/a\nb/it's"],
    ["a\\..\\b", "/workspace/a\\..\\b"], // a backslash is a file name character, not a separator
  ];
  for (const [path, expected] of ok) {
    assert.equal(confineGuestPath(path, "/workspace/"), expected, JSON.stringify(path));
  }
  assert.equal(confineGuestPath("/etc/passwd", "/"), "/etc/passwd");
});

Deno.test("confineGuestPath() refuses paths that leave the root, naming the operation", () => {
  const refused: [string, string][] = [
    ["/workspace/../etc/passwd", "/etc/passwd"],
    ["..", "/"],
    ["../workspace2/x", "/workspace2/x"],
    ["/workspacex", "/workspacex"], // whole components only
    ["/etc/passwd", "/etc/passwd"],
    ["/", "/"],
  ];
  for (const [path, normal] of refused) {
    assert.throws(() => confineGuestPath(path, "/workspace", "write"), (e: unknown) => {
      assert.ok(e instanceof GuestFsError && e instanceof GammaError);
      assert.equal(e.name, "GuestFsError");
      assert.equal(e.kind, "OutsideRoot");
      assert.equal(e.path, normal);
      assert.equal(e.exitCode, undefined);
      assert.equal(e.stderr, "");
      assert.equal(
        e.message,
        `cannot write ${JSON.stringify(normal)}: it is outside the guest root "/workspace"`,
      );
      return true;
    });
  }
  assert.throws(() => confineGuestPath("a\0b", "/workspace"), {
    name: "TypeError",
    message: 'Guest path must not contain a NUL character: "a\\u0000b"',
  });
  assert.throws(() => confineGuestPath("a", "workspace"), {
    name: "TypeError",
    message: 'Guest root must be an absolute POSIX path: received "workspace"',
  });
});

Deno.test("confineGuestPath() never returns a path outside the root (property)", () => {
  const segment = fc.constantFrom("..", ".", "", "a", "workspace", "b c", "-x");
  fc.assert(
    fc.property(fc.boolean(), fc.array(segment, { maxLength: 8 }), (absolute, segments) => {
      const path = (absolute ? "/" : "") + segments.join("/");
      try {
        const p = confineGuestPath(path, "/workspace");
        return p === "/workspace" || p.startsWith("/workspace/");
      } catch (e) {
        return e instanceof GuestFsError && e.kind === "OutsideRoot" &&
          e.path !== "/workspace" && !e.path.startsWith("/workspace/");
      }
    }),
  );
});

Deno.test("guestFsError() maps the script's exit codes to kinds and messages", () => {
  const cases: [number, string, string][] = [
    [10, "NotFound", 'cannot read "/w/x": no such file or directory'],
    [11, "IsDirectory", 'cannot read "/w/x": it is a directory'],
    [12, "NotDirectory", 'cannot read "/w/x": a part of the path is not a directory'],
    [13, "PermissionDenied", 'cannot read "/w/x": permission denied'],
    [14, "AlreadyExists", 'cannot read "/w/x": it already exists'],
    [15, "OutsideRoot", 'cannot read "/w/x": a symbolic link leads outside the guest root "/w"'],
    [1, "Failed", 'cannot read "/w/x": the guest command failed with exit code 1: cat: boom'],
    [255, "Failed", 'cannot read "/w/x": the guest command failed with exit code 255: cat: boom'],
  ];
  for (const [code, kind, message] of cases) {
    const e = guestFsError("read", "/w/x", "/w", code, "cat: boom\n");
    assert.deepEqual([e.kind, e.message, e.exitCode, e.stderr, e.path], [
      kind,
      message,
      code,
      "cat: boom\n",
      "/w/x",
    ]);
  }
  assert.equal(
    guestFsError("list", "/w/f", "/w", 12, "").message,
    'cannot list "/w/f": not a directory',
  );
  assert.equal(
    guestFsError("mkdir", "/w/d", "/w", 2, " \n").message,
    'cannot create directory "/w/d": the guest command failed with exit code 2',
  );
});

Deno.test("guestFsArgs pass paths and options as arguments, never in the script", () => {
  const awkward = "/w/a'b\n$(rm -rf ~)/-x";
  const all = [
    guestFsArgs.list("/w", awkward),
    guestFsArgs.stat("/w", awkward),
    guestFsArgs.read("/w", awkward),
    guestFsArgs.write("/w", awkward),
    guestFsArgs.mkdir("/w", awkward),
    guestFsArgs.remove("/w", awkward),
  ];
  for (const argv of all) {
    assert.deepEqual(argv.slice(0, 2), ["/bin/sh", "-c"]);
    assert.ok(!argv[2]!.includes("a'b"));
    assert.deepEqual(argv.slice(3, 6), ["sh", "/w", awkward]);
  }
  assert.deepEqual(guestFsArgs.list("/w", "/w/x").slice(3), ["sh", "/w", "/w/x"]);
  assert.deepEqual(guestFsArgs.write("/w", "/w/x").slice(3), ["sh", "/w", "/w/x", "", ""]);
  assert.deepEqual(
    guestFsArgs.write("/w", "/w/x", { createParents: true, mode: 0o4755 }).slice(3),
    ["sh", "/w", "/w/x", "p", "4755"],
  );
  assert.deepEqual(guestFsArgs.write("/w", "/w/x", { mode: 0 }).slice(6), ["", "0"]);
  assert.deepEqual(guestFsArgs.mkdir("/w", "/w/x", { parents: true }).slice(6), ["p"]);
  assert.deepEqual(guestFsArgs.remove("/w", "/w/x", { recursive: true }).slice(6), ["r"]);
  assert.deepEqual(guestFsArgs.remove("/w", "/w/x").slice(6), [""]);
  for (const mode of [-1, 0o10000, 1.5, NaN]) {
    assert.throws(() => guestFsArgs.write("/w", "/w/x", { mode }), {
      name: "RangeError",
      message: `File mode must be an integer from 0 to 0o7777: received ${mode}`,
    });
  }
});

Deno.test("parseLsMode() reads types and every permission bit", () => {
  const cases: [string, string, number][] = [
    ["-rw-r--r--", "file", 0o644],
    ["drwxr-xr-x", "dir", 0o755],
    ["lrwxrwxrwx", "symlink", 0o777],
    ["-rwsr-xr-x", "file", 0o4755],
    ["-rwSr--r--", "file", 0o4644],
    ["drwxr-s---", "dir", 0o2750],
    ["drwxr-S---", "dir", 0o2740],
    ["drwxrwxrwt", "dir", 0o1777],
    ["drwxrwxrwT", "dir", 0o1776],
    ["----------", "file", 0],
    ["crw-rw-rw-", "other", 0o666],
    ["prw-------", "other", 0o600],
    ["srwxr-xr-x", "other", 0o755],
    ["-rw-r--r--+", "file", 0o644], // ACL mark
    ["drwxr-xr-x.", "dir", 0o755], // SELinux context mark
  ];
  for (const [text, type, mode] of cases) {
    assert.deepEqual(parseLsMode(text), { type, mode }, text);
  }
  for (const bad of ["", "rw-r--r--", "-rw-r--r--x!", "-rwxrwxrwz"]) {
    assert.throws(() => parseLsMode(bad), {
      name: "TypeError",
      message: `Not an ls -l mode string: ${JSON.stringify(bad)}`,
    });
  }
});

Deno.test("parseGuestEntries() splits NUL records exactly", () => {
  const out = encode(
    "-rw-r--r--\x000\x00 lead and trail \x00" +
      "-rwxr-xr-x\x0012\x00a\nb\n\x00" +
      "lrwxrwxrwx\x004\x00-rf\x00" +
      "crw-rw-rw-\x001,\x00null\x00" +
      "drwxr-xr-x+\x004096\x00ü'\x00",
  );
  assert.deepEqual(parseGuestEntries(out), [
    { name: " lead and trail ", type: "file", size: 0, mode: 0o644 },
    { name: "a\nb\n", type: "file", size: 12, mode: 0o755 },
    { name: "-rf", type: "symlink", size: 4, mode: 0o777 },
    { name: "null", type: "other", size: 0, mode: 0o666 },
    { name: "ü'", type: "dir", size: 4096, mode: 0o755 },
  ]);
  assert.deepEqual(parseGuestEntries(new Uint8Array()), []);
  for (const bad of ["-rw-r--r--\x000\x00x", "-rw-r--r--\x000\x00", "welcome!\n"]) {
    assert.throws(() => parseGuestEntries(encode(bad)), {
      name: "TypeError",
      message: `Unexpected guest listing: ${JSON.stringify(bad)}`,
    });
  }
});

// ------------------------------------------------------------------ the scripts, run locally

interface Shell {
  label: string;
  sh: string;
  bin: string[];
}

/** Shells to run the scripts under: dash, bash --posix, and busybox with its own applets. */
async function shells(t: Deno.TestContext): Promise<{ list: Shell[] } & AsyncDisposable> {
  const list: Shell[] = [{ label: "bash --posix", sh: hostTool("bash") ?? "/bin/bash", bin: [] }];
  if (await needs(t, "dash")) list.unshift({ label: "dash", sh: hostTool("dash")!, bin: [] });
  let dir: string | undefined;
  if (await needs(t, "busybox")) {
    const busybox = hostTool("busybox")!;
    // busybox's own applets, not the GNU tools: a PATH of links to busybox.
    dir = await Deno.makeTempDir({ prefix: "gamma-busybox-" });
    for (const applet of ["sh", "ls", "cat", "mv", "rm", "mkdir", "chmod", "readlink"]) {
      await Deno.symlink(busybox, `${dir}/${applet}`);
    }
    list.push({ label: "busybox", sh: `${dir}/sh`, bin: [dir] });
  }
  return {
    list,
    async [Symbol.asyncDispose]() {
      if (dir !== undefined) await Deno.remove(dir, { recursive: true });
    },
  };
}

interface ScriptRun {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

async function runScript(
  shell: Shell,
  argv: string[],
  options: { stdin?: Uint8Array; bin?: string[] } = {},
): Promise<ScriptRun> {
  const args = shell.sh.endsWith("bash") ? ["--posix", ...argv.slice(1)] : argv.slice(1);
  const child = new Deno.Command(shell.sh, {
    args,
    clearEnv: true,
    env: { PATH: [...(options.bin ?? []), ...shell.bin, "/usr/bin", "/bin"].join(":") },
    cwd: "/",
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin) {
    // A script that fails early never reads its stdin: ignore the broken pipe.
    const writer = child.stdin.getWriter();
    writer.write(options.stdin).then(() => writer.close()).catch(() => {});
  }
  const out = await child.output();
  return { code: out.code, stdout: out.stdout, stderr: decode(out.stderr) };
}

async function tree(): Promise<{ dir: string; root: string; outside: string }> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-guestfs-" }));
  const root = `${dir}/root`;
  const outside = `${dir}/outside`;
  await Deno.mkdir(`${root}/sub/deep`, { recursive: true });
  await Deno.mkdir(outside);
  await Deno.writeTextFile(`${outside}/secret`, "secret");
  await Deno.writeTextFile(`${root}/file`, "12345");
  await Deno.chmod(`${root}/file`, 0o750);
  for (const name of ["a\nb", " sp ", "-n", "it's", "ünï", ".hid", "..dd"]) {
    await Deno.writeTextFile(`${root}/${name}`, name);
    await Deno.chmod(`${root}/${name}`, 0o640);
  }
  await Deno.chmod(`${root}/sub`, 0o2755);
  await Deno.symlink("file", `${root}/lnk`);
  await Deno.symlink("sub", `${root}/sublnk`);
  await Deno.symlink("../outside", `${root}/out`);
  await Deno.symlink(`${outside}/secret`, `${root}/pw`);
  await Deno.symlink("nowhere", `${root}/dangle`);
  return { dir, root, outside };
}

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("the guest scripts behave the same under dash, bash --posix and busybox", async (t) => {
  await using all = await shells(t);
  for (const shell of all.list) {
    await t.step(shell.label, async () => {
      const { dir, root, outside } = await tree();
      try {
        const run = (argv: string[], stdin?: Uint8Array): Promise<ScriptRun> =>
          runScript(shell, argv, stdin ? { stdin } : {});
        const code = async (argv: string[], stdin?: Uint8Array): Promise<number> =>
          (await run(argv, stdin)).code;
        const at = (p: string): string => p ? `${root}/${p}` : root;

        const list = await run(guestFsArgs.list(root, root));
        assert.equal(list.code, 0);
        const entries = parseGuestEntries(list.stdout).sort((a, b) => a.name < b.name ? -1 : 1);
        assert.deepEqual(entries.map((e) => [e.name, e.type, e.mode]), [
          [" sp ", "file", 0o640],
          ["-n", "file", 0o640],
          ["..dd", "file", 0o640],
          [".hid", "file", 0o640],
          ["a\nb", "file", 0o640],
          ["dangle", "symlink", 0o777],
          ["file", "file", 0o750],
          ["it's", "file", 0o640],
          ["lnk", "symlink", 0o777],
          ["out", "symlink", 0o777],
          ["pw", "symlink", 0o777],
          ["sub", "dir", 0o2755],
          ["sublnk", "symlink", 0o777],
          ["ünï", "file", 0o640],
        ]);
        assert.deepEqual(entries.find((e) => e.name === "a\nb")?.size, 3);
        assert.deepEqual(entries.find((e) => e.name === "lnk")?.size, 4);

        const stat = async (p: string): Promise<unknown> =>
          parseGuestEntries((await run(guestFsArgs.stat(root, at(p)))).stdout);
        assert.deepEqual(await stat("pw"), [{
          name: "pw",
          type: "symlink",
          size: outside.length + 7,
          mode: 0o777,
        }]);
        assert.deepEqual(await stat("file"), [{
          name: "file",
          type: "file",
          size: 5,
          mode: 0o750,
        }]);
        assert.equal(((await stat("")) as { type: string }[])[0]?.type, "dir");

        // read: links inside the root are followed, links out are refused
        assert.equal(decode((await run(guestFsArgs.read(root, at("lnk")))).stdout), "12345");
        assert.equal(decode((await run(guestFsArgs.read(root, at("a\nb")))).stdout), "a\nb");
        assert.equal(decode((await run(guestFsArgs.read(root, at("-n")))).stdout), "-n");
        const codes: [string, string[], number][] = [
          ["read link out", guestFsArgs.read(root, at("pw")), 15],
          ["read through dir link out", guestFsArgs.read(root, at("out/secret")), 15],
          ["read dir", guestFsArgs.read(root, at("sub")), 11],
          ["read missing", guestFsArgs.read(root, at("nope")), 10],
          ["read dangling", guestFsArgs.read(root, at("dangle")), 10],
          ["read under file", guestFsArgs.read(root, at("file/x")), 12],
          ["list file", guestFsArgs.list(root, at("file")), 12],
          ["list link out", guestFsArgs.list(root, at("out")), 15],
          ["list missing", guestFsArgs.list(root, at("nope/deeper")), 10],
          ["list missing root", guestFsArgs.list(`${dir}/nope`, `${dir}/nope`), 10],
          ["stat missing", guestFsArgs.stat(root, at("nope")), 10],
          ["mkdir existing", guestFsArgs.mkdir(root, at("sub")), 14],
          ["mkdir -p existing", guestFsArgs.mkdir(root, at("sublnk"), { parents: true }), 0],
          ["mkdir -p over file", guestFsArgs.mkdir(root, at("file"), { parents: true }), 14],
          ["mkdir missing parent", guestFsArgs.mkdir(root, at("m1/m2")), 10],
          ["mkdir through link out", guestFsArgs.mkdir(root, at("out/new")), 15],
          [
            "mkdir -p through link out",
            guestFsArgs.mkdir(root, at("out/a/b"), { parents: true }),
            15,
          ],
          ["mkdir -p", guestFsArgs.mkdir(root, at("m1/m2"), { parents: true }), 0],
          ["remove dir", guestFsArgs.remove(root, at("m1")), 11],
          ["remove -r dir", guestFsArgs.remove(root, at("m1"), { recursive: true }), 0],
          ["remove missing", guestFsArgs.remove(root, at("m1"), { recursive: true }), 10],
          ["remove through link out", guestFsArgs.remove(root, at("out/secret")), 15],
          ["remove the link out itself", guestFsArgs.remove(root, at("out")), 0],
          ["remove the root", guestFsArgs.remove(root, root, { recursive: true }), 1],
        ];
        for (const [label, argv, expected] of codes) {
          assert.equal(await code(argv), expected, label);
        }
        assert.equal(await Deno.readTextFile(`${outside}/secret`), "secret");

        // write: atomic, follows links inside the root, keeps or sets the mode
        const data = encode("new\ncontent\0");
        assert.equal(await code(guestFsArgs.write(root, at("lnk")), data), 0);
        assert.deepEqual(await Deno.readFile(`${root}/file`), data);
        assert.equal((await Deno.lstat(`${root}/lnk`)).isSymlink, true);
        assert.equal((await Deno.stat(`${root}/file`)).mode! & 0o7777, 0o750);
        assert.equal(await code(guestFsArgs.write(root, at("file"), { mode: 0o4711 }), data), 0);
        assert.equal((await Deno.stat(`${root}/file`)).mode! & 0o7777, 0o4711);
        assert.equal(await code(guestFsArgs.write(root, at("dangle")), data), 0); // creates nowhere
        assert.deepEqual(await Deno.readFile(`${root}/nowhere`), data);
        assert.equal(await code(guestFsArgs.write(root, at("n1/n2/f")), data), 10);
        const parents = { createParents: true };
        assert.equal(await code(guestFsArgs.write(root, at("n1/n2/f"), parents), data), 0);
        assert.deepEqual(await Deno.readFile(`${root}/n1/n2/f`), data);
        assert.equal(await code(guestFsArgs.write(root, at("sub"), parents), data), 11);
        assert.equal(await code(guestFsArgs.write(root, at("file/x"), parents), data), 12);
        assert.equal(await code(guestFsArgs.write(root, at("pw")), data), 15);
        await Deno.symlink("../outside", `${root}/out`);
        assert.equal(await code(guestFsArgs.write(root, at("out/y/z"), parents), data), 15);
        assert.deepEqual(await names(outside), ["secret"]);
        assert.equal(await Deno.readTextFile(`${outside}/secret`), "secret");
        assert.deepEqual((await names(root)).filter((n) => n.startsWith(".gamma-fs")), []);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
});

Deno.test("a failed write leaves the old file and no temporary file", async (t) => {
  await using all = await shells(t);
  for (const shell of all.list) {
    await t.step(shell.label, async () => {
      const { dir, root } = await tree();
      const shim = `${dir}/shim`;
      try {
        await Deno.mkdir(shim);
        await Deno.writeTextFile(
          shim + "/mv",
          "#!/bin/sh\necho 'mv: simulated failure' >&2\nexit 1\n",
        );
        await Deno.chmod(shim + "/mv", 0o755);
        const before = await names(root);
        const r = await runScript(shell, guestFsArgs.write(root, `${root}/file`), {
          stdin: encode("half"),
          bin: [shim],
        });
        assert.deepEqual([r.code, r.stderr], [1, "mv: simulated failure\n"]);
        assert.equal(
          guestFsError("write", `${root}/file`, root, r.code, r.stderr).message,
          `cannot write "${root}/file": the guest command failed with exit code 1: mv: simulated failure`,
        );
        assert.deepEqual(await names(root), before);
        assert.equal(await Deno.readTextFile(`${root}/file`), "12345");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
});

Deno.test("a write ended by SIGTERM mid-stream removes its temporary file", async (t) => {
  await using all = await shells(t);
  for (const shell of all.list) {
    await t.step(shell.label, async () => {
      const { dir, root } = await tree();
      try {
        const before = await names(root);
        const argv = guestFsArgs.write(root, `${root}/file`);
        const child = new Deno.Command(shell.sh, {
          args: shell.sh.endsWith("bash") ? ["--posix", ...argv.slice(1)] : argv.slice(1),
          clearEnv: true,
          env: { PATH: [...shell.bin, "/usr/bin", "/bin"].join(":") },
          stdin: "piped",
          stdout: "null",
          stderr: "piped",
        }).spawn();
        const writer = child.stdin.getWriter();
        await writer.write(encode("partial"));
        // Wait until the script has made its temporary file and is copying stdin into it.
        while ((await names(root)).length === before.length) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        child.kill("SIGTERM");
        await writer.close(); // cat sees the end of its input; the shell then runs its trap
        const out = await child.output();
        assert.deepEqual([out.code, decode(out.stderr)], [143, ""]);
        assert.deepEqual(await names(root), before);
        assert.equal(await Deno.readTextFile(`${root}/file`), "12345");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
});
