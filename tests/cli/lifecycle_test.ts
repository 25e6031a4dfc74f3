import assert from "node:assert/strict";
import { VERSION } from "../../lib/version.ts";
import { commands, gammaEnv, onPath, runGamma, setup, testBothPaths, testHome } from "./_run.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

testBothPaths(
  "gamma start starts a stopped instance once; a running one is left alone",
  async (via) => {
    await using t = await setup({ via, running: false });
    const r = await runGamma(["start"], { env: t.env });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "");
    assert.ok(r.stderr.startsWith("gamma: starting instance dev…\n"), r.stderr);
    assert.match(r.stderr, /READY/);
    assert.deepEqual(await runGamma(["start"], { env: t.env }), {
      code: 0,
      signal: null,
      stdout: "",
      stdoutBytes: new Uint8Array(),
      stderr: "",
    });
    assert.deepEqual(await commands(t.lima), onPath(via, ["start"]));
  },
);

testBothPaths(
  "exec, shell, sync, fs and start never create a missing instance: 125 and the way to create it",
  async (via) => {
    await using t = await setup({ via });
    await t.lima.addInstance("web", { running: false });
    const expected = [
      "gamma: instance dve does not exist",
      "  did you mean: dev",
      "  existing instances: dev, web",
      "  to create it: gamma start -i dve --create [--template template:default]",
      "",
    ].join("\n");
    for (
      const args of [["exec", "--", "true"], ["shell"], ["sync", "push"], [
        "fs",
        "ls",
        "/workspace",
      ]]
    ) {
      const r = await runGamma(["-i", "dve", ...args], { env: t.env, cwd: t.project });
      assert.deepEqual([args[0], r.code, r.stdout, r.stderr], [args[0], 125, "", expected]);
    }
    const start = await runGamma(["start", "-i", "dve"], { env: t.env });
    assert.deepEqual([start.code, start.stderr], [125, expected]);
    const far = await runGamma(["exec", "-i", "zzzzzz", "--", "true"], { env: t.env });
    assert.equal(far.code, 125);
    assert.ok(!far.stderr.includes("did you mean"), far.stderr);
    // Only list -q ran: no start (which real Lima would turn into a create), no create.
    assert.deepEqual((await commands(t.lima)).filter((c) => c !== "list"), []);
    assert.equal(await Deno.stat(`${t.lima.dir}/dve`).then(() => true, () => false), false);
  },
);

testBothPaths(
  "gamma start --create makes the instance with limactl create, then starts it",
  async (via) => {
    await using t = await setup({ via });
    const r = await runGamma(["start", "-i", "fresh", "--create"], { env: t.env });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.split("\n");
    assert.equal(lines[0], "gamma: creating instance fresh from template:default…");
    assert.ok(lines.includes("gamma: starting instance fresh…"), r.stderr);
    assert.ok(!r.stderr.includes("deprecated"), r.stderr);
    assert.match(r.stderr, /READY/);
    assert.deepEqual(
      (await t.lima.argvLog()).filter((a) => a[0] === "create" || a[0] === "start"),
      [
        ["create", "--tty=false", "--name=fresh", "template:default"],
        ["start", "--tty=false", "fresh"],
      ],
    );
    // Already there: --create just starts it (here: it is running, so nothing at all).
    const again = await runGamma(["start", "-i", "fresh", "--create"], { env: t.env });
    assert.deepEqual([again.code, again.stderr], [0, ""]);
    const bad = await runGamma(["start", "-i", "x", "--create", "--template", "nosuch"], {
      env: t.env,
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /limactl create --tty=false --name=x template:nosuch failed/);
    const usage = await runGamma(["start", "--template", "docker"], { env: t.env });
    assert.equal(usage.code, 2);
    assert.ok(usage.stderr.startsWith("gamma start: --template needs --create\n"), usage.stderr);
  },
);

testBothPaths(
  "gamma start --create takes the template from .gamma.yaml when --template is not given",
  async (via) => {
    await using t = await setup({ via });
    await Deno.writeTextFile(`${t.project}/.gamma.yaml`, "template: nosuch\n");
    const r = await runGamma(["start", "-i", "x", "--create"], { env: t.env, cwd: t.project });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /limactl create --tty=false --name=x template:nosuch failed/);
    // The flag still wins over the file.
    const flag = await runGamma(["start", "-i", "y", "--create", "--template", "other"], {
      env: t.env,
      cwd: t.project,
    });
    assert.match(flag.stderr, /limactl create --tty=false --name=y template:other failed/);
  },
);

testBothPaths(
  "gamma stop stops a running instance; stopping a stopped one is not an error",
  async (via) => {
    await using t = await setup({ via });
    const r = await runGamma(["stop"], { env: t.env });
    assert.equal(r.code, 0);
    const again = await runGamma(["stop"], { env: t.env });
    assert.deepEqual([again.code, again.stderr], [0, "gamma: instance dev is not running\n"]);
    assert.deepEqual(await commands(t.lima), onPath(via, ["stop"]));
  },
);

testBothPaths("gamma start reports a failed start with exit 1", async (via) => {
  await using t = await setup({ via, running: false, fault: "timeout" });
  const r = await runGamma(["start"], { env: t.env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\ngamma: limactl start dev failed \(exit code 1\)\n/);
  assert.match(
    r.stderr,
    /\nhint: the VM did not become ready in time: see .*\/dev\/ha\.stderr\.log/,
  );
});

testBothPaths("gamma status --json reports every field", async (via) => {
  await using t = await setup({ via });
  const r = await runGamma(["status", "--json"], { env: t.env, cwd: `${t.project}/sub` });
  assert.equal(r.code, 0);
  assert.equal(r.stderr, "");
  assert.deepEqual(JSON.parse(r.stdout), {
    schema: 1,
    backend: "lima",
    instance: "dev",
    limaStatus: "Running",
    limactl: t.lima.limactl,
    limactlVersion: "2.2.0",
    limaHome: t.lima.dir,
    mounts: [{ location: t.project, mountPoint: "/work/p", writable: true }],
    workspaceParent: `${testHome()}/.cache/cargo-devshell-exports/vm-workspace/dev`,
    workspaceParentSource: "cache",
    guestWorkspace: "/workspace",
    mode: "sync",
    cwd: `${t.project}/sub`,
    guestCwd: "/work/p/sub",
    guestCwdSource: `mount ${t.project} -> /work/p`,
    projectFile: null,
  });
  const missing = await runGamma(["status", "--json", "-i", "ghost"], { env: t.env, cwd: "/" });
  const s = JSON.parse(missing.stdout);
  assert.deepEqual([missing.code, s.limaStatus, s.mounts, s.guestCwd], [0, "Missing", [], null]);
});

testBothPaths("gamma status prints a readable summary", async (via) => {
  await using t = await setup({ via });
  const r = await runGamma(["status"], { env: t.env, cwd: t.project });
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    [
      "instance:         dev",
      "backend:          lima",
      "lima status:      Running",
      `limactl:          ${t.lima.limactl} (2.2.0)`,
      `LIMA_HOME:        ${t.lima.dir}`,
      `mounts:           ${t.project} -> /work/p (writable)`,
      `workspace parent: ${testHome()}/.cache/cargo-devshell-exports/vm-workspace/dev (cache)`,
      "guest workspace:  /workspace",
      "mode:             sync",
      `cwd:              ${t.project}`,
      "guest cwd:        /work/p",
      `guest cwd from:   mount ${t.project} -> /work/p`,
      "project file:     (none)",
      "",
    ].join("\n"),
  );
});

/** `gamma path --json`'s document: schema first, two-space indented, like every --json. */
function pathJson(hostPath: string, guestPath: string | null): string {
  return `{\n  "schema": 1,\n  "hostPath": ${JSON.stringify(hostPath)},\n  "guestPath": ${
    JSON.stringify(guestPath)
  }\n}\n`;
}

testBothPaths("gamma path maps host to guest and back, and exits 1 when unmapped", async (via) => {
  await using t = await setup({ via });
  const opts = { env: t.env, cwd: `${t.project}/sub` };
  const cases: [string[], number, string, string][] = [
    [["path"], 0, "/work/p/sub\n", ""],
    [["path", ".."], 0, "/work/p\n", ""], // relative to the cwd
    [["path", `${t.project}/new/file`], 0, "/work/p/new/file\n", ""], // need not exist
    [["path", "/etc"], 1, "", "gamma: /etc is not under any mount of instance dev\n"],
    [["path", "--reverse", "/work/p/a/../b"], 0, `${t.project}/b\n`, ""],
    [
      ["path", "-r", "/etc/passwd"],
      1,
      "",
      "gamma: /etc/passwd is not under any mount of instance dev\n",
    ],
    [["path", "--json"], 0, pathJson(`${t.project}/sub`, "/work/p/sub"), ""],
    [
      ["path", "--json", "/etc"],
      1,
      pathJson("/etc", null),
      "gamma: /etc is not under any mount of instance dev\n",
    ],
    [["path", "-r", "--json", "/work/p"], 0, pathJson(t.project, "/work/p"), ""],
  ];
  for (const [args, code, stdout, stderr] of cases) {
    const r = await runGamma(args, opts);
    assert.deepEqual([r.code, r.stdout, r.stderr], [code, stdout, stderr], args.join(" "));
  }
  const usage = await runGamma(["path", "--reverse", "rel"], opts);
  assert.equal(usage.code, 2);
  assert.ok(usage.stderr.startsWith("gamma path --reverse: give an absolute guest PATH\n"));
  // gamma path asks limactl list once (cold) and never starts the VM.
  assert.deepEqual(await commands(t.lima), onPath(via, ["list"]));
});

testBothPaths("gamma path never assumes the workspace parent is mounted", async (via) => {
  await using t = await setup({ via });
  const ws = `${t.project}/../ws`;
  const r = await runGamma(["path", `${ws}/app`], {
    env: { ...t.env, DEVSHELL_VM_WORKSPACE_PARENT: ws, DEVSHELL_VM_GUEST_WORKSPACE: "/ws" },
  });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /is not under any mount of instance dev\n$/);
});

Deno.test("gamma help, -h, --version and unknown commands", async () => {
  const help = await runGamma(["help", "exec"]);
  assert.equal(help.code, 0);
  assert.ok(help.stdout.startsWith("gamma exec: run one command in the guest"));
  assert.equal(help.stderr, "");
  const dashH = await runGamma(["exec", "-h"]);
  assert.deepEqual([dashH.code, dashH.stdout], [0, help.stdout]);
  const top = await runGamma(["--help"]);
  assert.equal(top.code, 0);
  for (const name of ["exec", "shell", "start", "stop", "status", "path"]) {
    assert.match(top.stdout, new RegExp(`\\n  ${name} +\\S`), name);
  }
  assert.deepEqual(await runGamma(["-V"]), {
    code: 0,
    signal: null,
    stdout: `gamma ${VERSION}\n`,
    stdoutBytes: new TextEncoder().encode(`gamma ${VERSION}\n`),
    stderr: "",
  });
  const unknown = await runGamma(["nope"]);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stdout, "");
  assert.equal(
    unknown.stderr,
    [
      'gamma: unknown command "nope"',
      "usage: gamma [-i NAME] [--limactl PATH] [--debug] [-q] COMMAND [OPTIONS] [ARGS]",
      "Run 'gamma help' for the commands.",
      "",
    ].join("\n"),
  );
  const none = await runGamma([]);
  assert.equal(none.code, 2);
  assert.ok(none.stderr.startsWith("gamma: missing command\n"));
});

testBothPaths("gamma path resolves a link in a path that does not exist yet", async (via) => {
  await using t = await setup({ via });
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-link-" }));
  try {
    await Deno.symlink(t.project, `${dir}/link`);
    const r = await runGamma(["path", `${dir}/link/not-yet-created/file`], { env: t.env });
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "/work/p/not-yet-created/file\n", ""]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Run gamma under `script`, so that its stdin, stdout and stderr are a terminal. */
async function runOnTerminal(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  const line = [Deno.execPath(), "run", "-A", "--quiet", CLI, ...args]
    .map((a) => `'${a.replaceAll("'", `'"'"'`)}'`).join(" ");
  const out = await new Deno.Command("script", {
    args: ["-qec", line, "/dev/null"],
    clearEnv: true,
    env: gammaEnv({ TERM: "dumb", ...env }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  // the terminal's transcript, its line ends and logrus' colours taken out
  const output = new TextDecoder().decode(out.stdout).replaceAll("\r\n", "\n")
    .replaceAll(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "");
  return { code: out.code, output };
}

testBothPaths(
  "on a terminal, Lima's start output reaches it directly, in Lima's terminal format",
  async (via) => {
    await using t = await setup({ via, running: false });
    const r = await runOnTerminal(["start"], t.env);
    assert.equal(r.code, 0, r.output);
    // logrus on a terminal: `INFO[0000] msg`, never the piped `time=… level=info msg=…`
    assert.match(r.output, /INFO\[0000\] Starting the instance `dev`/);
    assert.doesNotMatch(r.output, /level=info/);
  },
);

testBothPaths(
  "on a terminal, a failed start is still explained from ha.stderr.log",
  async (via) => {
    await using t = await setup({ via, running: false, fault: "timeout" });
    const r = await runOnTerminal(["start"], t.env);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /FATA\[\d{4}\] did not receive an event with the `running` status/);
    assert.match(r.output, /\ngamma: limactl start dev failed \(exit code 1\)\n/);
    assert.match(
      r.output,
      /\nhint: the VM did not become ready in time: see .*\/dev\/ha\.stderr\.log/,
    );
    assert.match(
      r.output,
      /\nlast lines of ha\.stderr\.log:\n( {2}.*\n)* {2}Waiting for the essential requirement 1 of 3: `ssh`\n$/,
    );
  },
);
