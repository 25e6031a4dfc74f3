import assert from "node:assert/strict";
import { VERSION } from "../../lib/version.ts";
import { commands, denoEnv, onPath, runGamma, setup, testBothPaths, testHome } from "./_run.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

testBothPaths(
  "gamma start starts a stopped instance once; a running one is left alone",
  async (via) => {
    await using t = await setup({ via, running: false });
    const r = await runGamma(["start"], { env: t.env });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "");
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

testBothPaths(
  "gamma path maps through the workspace parent when no mount sits at the guest workspace",
  async (via) => {
    await using t = await setup({ via });
    const ws = `${t.project}/../ws`;
    const r = await runGamma(["path", `${ws}/app`], {
      env: { ...t.env, DEVSHELL_VM_WORKSPACE_PARENT: ws, DEVSHELL_VM_GUEST_WORKSPACE: "/ws" },
    });
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "/ws/app\n", ""]);
  },
);

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
  assert.ok(unknown.stderr.startsWith('gamma: unknown command "nope"\n\ngamma 0.1.0:'));
  const none = await runGamma([]);
  assert.equal(none.code, 2);
  assert.ok(none.stderr.startsWith("gamma: missing command\n"));
});

Deno.test("gamma path resolves a link in a path that does not exist yet", async () => {
  await using t = await setup();
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
  const h = testHome();
  const line = [Deno.execPath(), "run", "-A", "--quiet", CLI, ...args]
    .map((a) => `'${a.replaceAll("'", `'"'"'`)}'`).join(" ");
  const out = await new Deno.Command("script", {
    args: ["-qec", line, "/dev/null"],
    clearEnv: true,
    env: {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: h,
      XDG_CACHE_HOME: `${h}/.cache`,
      NO_COLOR: "1",
      TERM: "dumb",
      ...denoEnv(),
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  // the terminal's transcript, its line ends and logrus' colours taken out
  const output = new TextDecoder().decode(out.stdout).replaceAll("\r\n", "\n")
    .replaceAll(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "");
  return { code: out.code, output };
}

Deno.test("on a terminal, Lima's start output reaches it directly, in Lima's terminal format", async () => {
  await using t = await setup({ running: false });
  const r = await runOnTerminal(["start"], t.env);
  assert.equal(r.code, 0, r.output);
  // logrus on a terminal: `INFO[0000] msg`, never the piped `time=… level=info msg=…`
  assert.match(r.output, /INFO\[0000\] Starting the instance `dev`/);
  assert.doesNotMatch(r.output, /level=info/);
});

Deno.test("on a terminal, a failed start is still explained from ha.stderr.log", async () => {
  await using t = await setup({ running: false, fault: "timeout" });
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
});
