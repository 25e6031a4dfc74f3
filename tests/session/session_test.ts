import assert from "node:assert/strict";
import { relayedCommand } from "../../lib/signal_relay.ts";
import { LimactlError, LimactlNotFoundError, UnmappedPathError } from "../../lib/errors.ts";
import { gatherDoctorFacts } from "../../lib/session/doctor.ts";
import { GammaSession } from "../../lib/session/session.ts";
import { commands, denoEnv, setup, testHome, testSession } from "../cli/_run.ts";

const sessionIn = testSession;

Deno.test("GammaSession construction does no VM work", async () => {
  await using t = await setup({ running: false });
  const { session, argvs } = sessionIn(t);
  assert.equal(session.backend, "lima");
  assert.equal(session.instance, "dev");
  assert.equal(session.limactl, t.lima.limactl);
  assert.equal(session.isRunning(), false);
  assert.deepEqual(argvs, []);
  assert.deepEqual(await t.lima.argvLog(), []);
});

Deno.test("GammaSession.exec() feeds stdin bytes, passes env and captures output", async () => {
  await using t = await setup();
  const { session, argvs } = sessionIn(t, `${t.project}/sub`);
  const result = await session.exec(["sh", "-c", 'cat; printf "|%s" "$X"; echo oops >&2; exit 7'], {
    stdin: new TextEncoder().encode("in\0put"),
    stdout: "piped",
    stderr: "piped",
    env: { X: "a 'b' $c" },
  });
  assert.equal(result.code, 7);
  assert.equal(result.workdir, "/work/p/sub");
  assert.equal(new TextDecoder().decode(result.stdout), "in\0put|a 'b' $c");
  assert.equal(new TextDecoder().decode(result.stderr), "oops\n");
  // No terminal: the command runs under the signal relay (lib/signal_relay.ts).
  const command = ["sh", "-c", 'cat; printf "|%s" "$X"; echo oops >&2; exit 7'];
  const file = argvs.at(-1)!.at(-2)!;
  assert.match(file, /^\/tmp\/gamma-relay\.[0-9a-f]{32}$/);
  assert.deepEqual(argvs.at(-1), [
    "shell",
    "--workdir",
    "/work/p/sub",
    "dev",
    "--",
    "X=a 'b' $c",
    ...relayedCommand(command, file),
  ]);
  await assert.rejects(() => session.exec([]), {
    name: "TypeError",
    message: "Cannot run an empty command",
  });
});

Deno.test("GammaSession.output() and capture() run at the mapped working directory; writeFile() works", async () => {
  await using t = await setup();
  const { session } = sessionIn(t);
  assert.deepEqual(await session.output("pwd; echo err >&2; exit 2"), {
    code: 2,
    stdout: "/work/p\n",
    stderr: "err\n",
  });
  assert.deepEqual(await session.output("pwd", { workdir: "/" }), {
    code: 0,
    stdout: "/\n",
    stderr: "",
  });
  const sub = sessionIn(t, `${t.project}/sub`).session;
  const captured = await sub.capture(["pwd"]);
  assert.deepEqual([captured.code, new TextDecoder().decode(captured.stdout)], [
    0,
    "/work/p/sub\n",
  ]);
  const bytes = new Uint8Array(256).map((_, i) => i);
  await session.writeFile("/work/p/sub/all-bytes.bin", bytes);
  assert.deepEqual(await Deno.readFile(`${t.project}/sub/all-bytes.bin`), bytes);
  await assert.rejects(() => session.writeFile("/proc/nope/x", bytes), LimactlError);
});

Deno.test("GammaSession maps paths both ways and names unmapped ones", async () => {
  await using t = await setup();
  const { session } = sessionIn(t, "/");
  assert.equal(await session.guestPathOf(`${t.project}/x/../y`), "/work/p/y");
  assert.equal(await session.hostPathOf("/work/p/z"), `${t.project}/z`);
  assert.equal(await session.guestPathOf("/etc"), undefined);
  await assert.rejects(() => session.exec(["true"]), (e: Error) => {
    assert.ok(e instanceof UnmappedPathError);
    assert.equal(e.path, "/");
    assert.equal(e.instance, "dev");
    return true;
  });
  // output() and capture() without a workdir need a mapped working directory too.
  await assert.rejects(() => session.output("pwd"), { name: "UnmappedPathError", path: "/" });
  await assert.rejects(() => session.capture(["pwd"]), UnmappedPathError);
});

Deno.test("GammaSession.close() stops only a VM this session started", async () => {
  await using t = await setup({ running: false });
  const first = sessionIn(t, t.project, { DEVSHELL_VM_STOP_ON_EXIT: "on" }).session;
  await first.ensureRunning();
  await first.ensureRunning(); // at most one start per session
  assert.equal(first.isRunning(), true);
  const second = sessionIn(t, t.project, { DEVSHELL_VM_STOP_ON_EXIT: "on" }).session;
  await second.ensureRunning();
  assert.equal(await second.close(), false); // found it running
  assert.equal(await first.close(), true);
  assert.equal(first.isRunning(), false);
  assert.deepEqual(await commands(t.lima), ["start", "stop"]);
});

Deno.test("GammaSession needs limactl for the lima backend and falls back otherwise", () => {
  const env = { PATH: "/nonexistent", HOME: testHome() };
  assert.throws(() => new GammaSession({ env: { ...env, DEVSHELL_VM_BACKEND: "lima" } }), {
    name: "LimactlNotFoundError",
    message:
      "limactl not found in PATH; install Lima (https://lima-vm.io/) or set DEVSHELL_VM_LIMACTL",
  });
  assert.throws(
    () => new GammaSession({ env, limactl: "/etc/passwd" }),
    (e: Error) =>
      e instanceof LimactlNotFoundError &&
      e.message.startsWith('--limactl names "/etc/passwd", which is not an executable file'),
  );
  assert.equal(new GammaSession({ env }).backend, "host");
});

Deno.test("GammaSession notices a VM stopped behind its back and starts it again", async () => {
  await using t = await setup({ running: false });
  const { session } = sessionIn(t);
  await session.ensureRunning();
  await new Deno.Command(t.lima.limactl, {
    args: ["stop", "dev"],
    env: { ...denoEnv(), ...t.env, LIMACTL_STANDIN_NO_LOG: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  assert.equal(session.isRunning(), false);
  const result = await session.exec(["echo", "again"], { stdout: "piped" });
  assert.equal(new TextDecoder().decode(result.stdout), "again\n");
  assert.deepEqual((await commands(t.lima)).filter((c) => c === "start").length, 2);
});

Deno.test("GammaSession reads .gamma.yaml: env for every command, tools for doctor, errors with file:line", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-settings-" }));
  try {
    await Deno.mkdir(`${dir}/.git`);
    await Deno.mkdir(`${dir}/src`);
    await Deno.writeTextFile(
      `${dir}/.gamma.yaml`,
      "env:\n  GREETING: hi\n  FROM_HOST:\n  UNSET_ON_HOST:\ntools: [make]\n",
    );
    const env = { DEVSHELL_VM: "off", PATH: "/usr/bin:/bin", HOME: dir, FROM_HOST: "x" };
    const session = new GammaSession({ env, cwd: `${dir}/src` });
    assert.equal(session.config.projectFile, `${dir}/.gamma.yaml`);
    assert.deepEqual(session.guestEnv(), { GREETING: "hi", FROM_HOST: "x" });
    const script = 'echo "$GREETING $FROM_HOST ${UNSET_ON_HOST-unset}"';
    const r = await session.exec(["sh", "-c", script], { stdout: "piped" });
    assert.equal(new TextDecoder().decode(r.stdout), "hi x unset\n");
    // The caller's own env wins over the file's.
    const own = await session.exec(["sh", "-c", script], {
      stdout: "piped",
      env: { GREETING: "hello" },
    });
    assert.equal(new TextDecoder().decode(own.stdout), "hello x unset\n");
    const facts = await gatherDoctorFacts(session, { env });
    assert.deepEqual([facts.tools, facts.toolsExplicit], [["make"], true]);
    const flagged = await gatherDoctorFacts(session, { env, tools: ["cc"] });
    assert.deepEqual([flagged.tools, flagged.toolsExplicit], [["cc"], true]);
    // configFiles: false reads none.
    const bare = new GammaSession({ env, cwd: dir, configFiles: false });
    assert.deepEqual([bare.config.projectFile, bare.guestEnv()], [undefined, {}]);

    await Deno.writeTextFile(`${dir}/.gamma.yaml`, "env:\n  LD_PRELOAD: /x.so\n");
    assert.throws(() => new GammaSession({ env, cwd: dir }), {
      name: "ConfigError",
      message:
        `${dir}/.gamma.yaml:2: env: "LD_PRELOAD" is refused: LD_* variables steer the dynamic loader, so a settings file may not set or pass them`,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GammaSession keeps parsed settings in the cache, keyed by the text, and rechecks symlinks", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-settings-" }));
  try {
    const home = `${dir}/home`;
    const project = `${home}/app`;
    await Deno.mkdir(`${project}/.git`, { recursive: true });
    await Deno.mkdir(`${home}/real`);
    await Deno.mkdir(`${dir}/outside`);
    await Deno.mkdir(`${dir}/tmp`);
    await Deno.symlink(`${home}/real`, `${home}/link`);
    const file = `${project}/.gamma.yaml`;
    await Deno.writeTextFile(file, "instance: one\nworkspaceParent: ~/link/w\n");
    const env = {
      DEVSHELL_VM: "off",
      PATH: "/usr/bin:/bin",
      HOME: home,
      TMPDIR: `${dir}/tmp`,
      XDG_CACHE_HOME: `${dir}/cache`,
    };
    const first = new GammaSession({ env, cwd: project });
    assert.deepEqual([first.instance, first.config.workspaceParent], ["one", `${home}/link/w`]);
    assert.equal([...Deno.readDirSync(`${dir}/cache/gamma/settings`)].length, 1);
    // Same size, new text: the cache is keyed by the text, not the file's size or time.
    await Deno.writeTextFile(file, "instance: two\nworkspaceParent: ~/link/w\n");
    assert.equal(new GammaSession({ env, cwd: project }).instance, "two");
    assert.equal([...Deno.readDirSync(`${dir}/cache/gamma/settings`)].length, 1);
    // The link now leads outside the home: refused, although the text is cached.
    await Deno.remove(`${home}/link`);
    await Deno.symlink(`${dir}/outside`, `${home}/link`);
    assert.throws(() => new GammaSession({ env, cwd: project }), {
      name: "ConfigError",
      message:
        `${file}:2: workspaceParent: "~/link/w" is refused: it resolves through a symlink to ${dir}/outside/w; a project file may only name a directory inside your home or the system temp dir (${home} or ${dir}/tmp), because gamma writes the project's sync copy there; set DEVSHELL_VM_WORKSPACE_PARENT or workspaceParent in your user file for another place`,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GammaSession.guestTransport() takes ssh only with ssh.config, its socket and ssh", async () => {
  await using t = await setup();
  const dir = `${t.lima.dir}/dev`;
  const on = (extra: Record<string, string> = {}) =>
    sessionIn(t, t.project, { DEVSHELL_VM_SSH: "on", ...extra }).session;
  assert.deepEqual(on().guestTransport(), {
    kind: "ssh",
    reason: `${dir}/ssh.config and ${dir}/ssh.sock`,
    ssh: { program: "/usr/bin/ssh", configFile: `${dir}/ssh.config`, host: "lima-dev" },
  });
  assert.deepEqual(sessionIn(t).session.guestTransport(), {
    kind: "limactl",
    reason: "DEVSHELL_VM_SSH=off",
  });
  assert.deepEqual(on({ PATH: "/nonexistent" }).guestTransport(), {
    kind: "limactl",
    reason: "no ssh on PATH",
  });
  // The same argv and script either way, captured through ssh:
  const session = on();
  const r = await session.exec(["sh", "-c", 'cat; printf "|%s" "$X"; exit 7'], {
    stdin: new TextEncoder().encode("in\0put"),
    stdout: "piped",
    stderr: "piped",
    env: { X: "a 'b' $c" },
  });
  assert.deepEqual([r.code, new TextDecoder().decode(r.stdout)], [7, "in\0put|a 'b' $c"]);
  const config = await Deno.readTextFile(`${dir}/ssh.config`);
  await Deno.remove(`${dir}/ssh.config`);
  assert.deepEqual(on().guestTransport(), { kind: "limactl", reason: `no ${dir}/ssh.config` });
  await Deno.writeTextFile(`${dir}/ssh.config`, config.replace(/^\s*ControlPath .*$/m, ""));
  assert.deepEqual(on().guestTransport(), {
    kind: "limactl",
    reason: `${dir}/ssh.config names no ControlPath`,
  });
});
