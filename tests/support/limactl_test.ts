/**
 * Tests of the `limactl` stand-in itself: exact stdout/stderr/exit codes of the behaviours it
 * copies from Lima v2.2.0.
 */
import assert from "node:assert/strict";
import { createLimaHome, DEFAULT_TEMPLATE, type LimaHome } from "./lima_home.ts";
import { remoteScript, shellQuote } from "./limactl.ts";

interface Result {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  /** stderr with logrus' `time="…" ` prefixes removed. */
  stderr: string;
  raw: Uint8Array;
}

const decoder = new TextDecoder();

async function run(
  lima: LimaHome,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; stdin?: Uint8Array } = {},
): Promise<Result> {
  const child = new Deno.Command(lima.limactl, {
    args,
    cwd: opts.cwd ?? lima.dir,
    env: { ...lima.env, ...opts.env },
    stdin: opts.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin) {
    const w = child.stdin.getWriter();
    await w.write(opts.stdin);
    await w.close();
  }
  const o = await child.output();
  const stderr = decoder.decode(o.stderr);
  for (const line of stderr.split("\n")) {
    if (line.startsWith("time=")) {
      assert.match(line, /^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)" /);
    }
  }
  return {
    code: o.code,
    signal: o.signal,
    stdout: decoder.decode(o.stdout),
    stderr: stderr.replace(/^time="[^"]*" /gm, ""),
    raw: o.stdout,
  };
}

/** A fresh Lima home and a fake host $HOME, so that `~` mounts stay inside the test. */
async function setup(): Promise<{ lima: LimaHome; home: string; env: Record<string, string> }> {
  const lima = await createLimaHome();
  const home = `${lima.dir}/_host-home`;
  await Deno.mkdir(home);
  return { lima, home, env: { HOME: home } };
}

Deno.test("--version, overridable; unknown command; --tty with --yes", async () => {
  await using lima = await createLimaHome();
  assert.deepEqual(await run(lima, ["--version"]), {
    code: 0,
    signal: null,
    stdout: "limactl version 2.2.0\n",
    stderr: "",
    raw: new TextEncoder().encode("limactl version 2.2.0\n"),
  });
  const old = await run(lima, ["--version"], { env: { LIMACTL_STANDIN_VERSION: "1.2.1" } });
  assert.equal(old.stdout, "limactl version 1.2.1\n");
  const unknown = await run(lima, ["frobnicate"]);
  assert.equal(unknown.code, 1);
  assert.equal(
    unknown.stderr,
    'level=fatal msg="unknown command \\"frobnicate\\" for \\"limactl\\""\n',
  );
  const typo = await run(lima, ["shel", "x"]);
  assert.equal(
    typo.stderr,
    'level=fatal msg="unknown command \\"shel\\" for \\"limactl\\"\\n\\nDid you mean this?\\n\\tshell\\n"\n',
  );
  const both = await run(lima, ["--tty=false", "-y", "list"]);
  assert.equal(both.code, 1);
  assert.equal(
    both.stderr,
    'level=fatal msg="cannot use both --tty and --yes flags at the same time"\n',
  );
  const json = await run(lima, ["--log-format=json", "stop", "nope"]);
  assert.equal(json.code, 1);
  const entry = JSON.parse(json.stderr);
  assert.equal(entry.level, "fatal");
  assert.equal(entry.msg, `open ${lima.dir}/nope/lima.yaml: no such file or directory`);
  assert.deepEqual(await lima.argvLog(), [
    ["--version"],
    ["--version"],
    ["frobnicate"],
    ["shel", "x"],
    ["--tty=false", "-y", "list"],
    ["--log-format=json", "stop", "nope"],
  ]);
});

Deno.test("list: empty home, NDJSON fields and defaults, -q, table, missing names", async () => {
  const { lima, home, env } = await setup();
  await using _ = lima;
  const empty = await run(lima, ["list", "--json"], { env });
  assert.deepEqual([empty.code, empty.stdout], [0, ""]);
  assert.equal(
    empty.stderr,
    'level=warning msg="No instance found. Run `limactl create` to create an instance."\n',
  );
  await lima.addInstance("b_x.y", {
    mounts: [{ location: "~/proj" }, {
      location: "{{.Home}}/rw/../w",
      writable: true,
      mountPoint: "/mnt/w",
    }],
    user: { name: "dev", shell: "/bin/sh" },
  });
  await lima.addInstance("a", { mounts: [] });
  await Deno.mkdir(`${lima.dir}/_config`);
  await Deno.mkdir(`${lima.dir}/.hidden`);
  for (
    const args of [["list", "--json"], ["ls", "--format", "json"], ["list", "-f", "json"], [
      "list",
      "--format=json",
    ]]
  ) {
    const r = await run(lima, args, { env });
    assert.equal(r.code, 0);
    assert.equal(r.stderr, "");
    const lines = r.stdout.split("\n");
    assert.equal(lines.length, 3);
    assert.equal(lines[2], "");
    const [a, b] = lines.slice(0, 2).map((l) => JSON.parse(l));
    assert.equal(a.name, "a");
    assert.equal(b.name, "b_x.y");
    assert.equal(b.hostname, "lima-b-x-y");
    assert.equal(b.status, "Stopped");
    assert.equal(b.dir, `${lima.dir}/b_x.y`);
    assert.equal(b.vmType, "qemu");
    assert.equal(b.sshAddress, "127.0.0.1");
    assert.equal(b.sshConfigFile, `${lima.dir}/b_x.y/ssh.config`);
    assert.equal(b.memory, 4294967296);
    assert.equal(b.disk, 107374182400);
    // omitempty: no pids, no port (never started), no errors
    for (const k of ["hostAgentPID", "driverPID", "sshLocalPort", "errors"]) {
      assert.ok(!(k in b), k);
    }
    assert.equal(b.config.mountType, "9p");
    assert.equal(b.config.os, "Linux");
    assert.deepEqual(
      b.config.mounts.map((m: Record<string, unknown>) => [m.location, m.mountPoint, m.writable]),
      [[`${home}/proj`, `${home}/proj`, false], [`${home}/w`, "/mnt/w", true]],
    );
    assert.equal(b.config.mounts[0]["9p"].cache, "fscache");
    assert.deepEqual(
      [b.config.user.name, b.config.user.home, b.config.user.shell],
      ["dev", "/home/dev.guest", "/bin/sh"],
    );
    assert.ok(!("mounts" in a.config));
    assert.equal(a.config.user.shell, "/bin/bash");
    assert.match(a.config.user.home, /^\/home\/[a-z_][a-z0-9_-]*\.guest$/);
  }
  const q = await run(lima, ["list", "-q"], { env });
  assert.deepEqual([q.code, q.stdout, q.stderr], [0, "a\nb_x.y\n", ""]);
  const conflict = await run(lima, ["list", "-q", "--json"], { env });
  assert.equal(
    conflict.stderr,
    `level=fatal msg="option --quiet can only be used with '--format table'"\n`,
  );
  const named = await run(lima, ["list", "--json", "a", "zz"], { env });
  assert.equal(named.code, 1);
  assert.equal(named.stdout.split("\n").length, 2);
  assert.equal(
    named.stderr,
    'level=warning msg="No instance matching zz found."\nlevel=fatal msg="unmatched instances"\n',
  );
  const tbl = await run(lima, ["list", "a"], { env });
  assert.equal(
    tbl.stdout,
    "NAME    STATUS     SSH            VMTYPE    ARCH      CPUS    MEMORY    DISK      DIR\n" +
      `a       Stopped    127.0.0.1:0    qemu      ${hostArch()}    ${hostCpus()}       4GiB      100GiB    ${lima.dir}/a\n`,
  );
  const tmpl = await run(lima, ["list", "--format", "{{.Name}} {{.SSHConfigFile}}", "a"], { env });
  assert.equal(tmpl.stdout, `a ${lima.dir}/a/ssh.config\n`);
  // a directory without lima.yaml is Broken
  await Deno.mkdir(`${lima.dir}/broken`);
  const broken = await run(lima, ["list", "--json", "broken"], { env });
  assert.equal(broken.code, 0);
  const missing = `${lima.dir}/broken/lima.yaml: no such file or directory`;
  assert.deepEqual(JSON.parse(broken.stdout), {
    name: "broken",
    hostname: "",
    status: "Broken",
    dir: `${lima.dir}/broken`,
    vmType: "",
    arch: "",
    protected: false,
    limaVersion: "",
    errors: [`open ${missing}`],
  });
  assert.equal(
    broken.stderr,
    `level=warning msg="The directory \`${lima.dir}\` does not look like a valid Lima directory: stat ${missing}"\n` +
      `level=warning msg="instance \`broken\` has errors" errors="[open ${missing}]"\n`,
  );
});

function hostArch(): string {
  return Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";
}

function hostCpus(): number {
  return Math.min(4, navigator.hardwareConcurrency);
}

Deno.test("start: create from template, events and logs, stale pid, already running, stop", async () => {
  const { lima, home, env } = await setup();
  await using _ = lima;
  const r = await run(lima, ["start", "--tty=false", "web"], { env });
  assert.equal(r.code, 0, r.stderr);
  const dir = `${lima.dir}/web`;
  const lines = r.stderr.split("\n");
  assert.deepEqual(lines.slice(0, 5), [
    'level=info msg="Creating an instance `web` from template:default (Not from template:web)"',
    'level=warning msg="This form is deprecated. Use `limactl create --name=web template:default` instead"',
    'level=info msg="Terminal is not available, proceeding without opening an editor"',
    'level=info msg="Starting the instance `web` with internal VM driver `qemu`"',
    `level=info msg="[hostagent] hostagent socket created at ${dir}/ha.sock"`,
  ]);
  assert.ok(
    lines.includes(
      'level=info msg="[hostagent] Waiting for the essential requirement 1 of 3: `ssh`"',
    ),
  );
  assert.equal(lines.at(-2), 'level=info msg="READY. Run `limactl shell web` to open the shell."');
  assert.equal(await Deno.readTextFile(`${dir}/lima.yaml`), DEFAULT_TEMPLATE);
  assert.ok((await Deno.stat(home)).isDirectory); // the "~" mount location exists
  const pid = Number((await Deno.readTextFile(`${dir}/ha.pid`)).trim());
  assert.ok(pid > 0 && (await Deno.stat(`/proc/${pid}`)).isDirectory);
  const events = (await Deno.readTextFile(`${dir}/ha.stdout.log`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  const port =
    JSON.parse((await run(lima, ["list", "--json", "web"], { env })).stdout).sshLocalPort;
  assert.deepEqual(events.map((e) => e.status), [{ sshLocalPort: port }, {
    running: true,
    sshLocalPort: port,
  }]);
  const haLog = (await Deno.readTextFile(`${dir}/ha.stderr.log`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.deepEqual(Object.keys(haLog[0]), ["level", "msg", "time"]);
  assert.ok(
    haLog.some((l) =>
      l.msg === "Waiting for the final requirement 1 of 1: `boot scripts must have finished`"
    ),
  );

  const again = await run(lima, ["start", "web"], { env });
  assert.equal(again.code, 0);
  assert.equal(
    again.stderr,
    'level=info msg="Using the existing instance `web`"\n' +
      'level=info msg="The instance `web` is already running. Run `limactl shell web` to open the shell."\n',
  );
  const listed = JSON.parse((await run(lima, ["list", "--json"], { env })).stdout);
  assert.equal(listed.status, "Running");
  assert.equal(listed.hostAgentPID, pid);

  const stop = await run(lima, ["stop", "web"], { env });
  assert.equal(stop.code, 0);
  assert.match(
    stop.stderr,
    new RegExp(`^level=info msg="Sending SIGINT to hostagent process ${pid}"\n`),
  );
  assert.ok(stop.stderr.endsWith('level=info msg="The instance web has shut down"\n'));
  assert.ok(!(await exists(`${dir}/ha.pid`)));
  assert.ok(!(await exists(`/proc/${pid}/cmdline`)) || (await procState(pid)) === "Z");
  const last = JSON.parse(
    (await Deno.readTextFile(`${dir}/ha.stdout.log`)).trim().split("\n").at(-1) ?? "",
  );
  assert.deepEqual(last.status, { exiting: true });
  const stopped = await run(lima, ["stop", "web"], { env });
  assert.equal(stopped.code, 1);
  assert.equal(
    stopped.stderr,
    'level=fatal msg="expected status `Running`, got `Stopped` (maybe use `limactl stop -f`?)"\n',
  );
  // a stale ha.pid (dead process) is removed and counts as Stopped (store.ReadPIDFile)
  await Deno.writeTextFile(`${dir}/ha.pid`, "999999\n");
  assert.equal(JSON.parse((await run(lima, ["list", "--json"], { env })).stdout).status, "Stopped");
  assert.ok(!(await exists(`${dir}/ha.pid`)));
  // a live host agent without a driver is Broken
  await lima.startInstance("web");
  const drv = Number((await Deno.readTextFile(`${dir}/qemu.pid`)).trim());
  Deno.kill(drv, "SIGKILL");
  await waitGone(drv);
  const br = await run(lima, ["list", "--json"], { env });
  assert.equal(JSON.parse(br.stdout).status, "Broken");
  assert.deepEqual(JSON.parse(br.stdout).errors, ["host agent is running but driver is not"]);
  const force = await run(lima, ["stop", "-f", "web"], { env });
  assert.equal(force.code, 0);
  assert.match(force.stderr, /level=info msg="The qemu driver process seems already stopped"\n/);
  assert.match(force.stderr, /Removing `[^`]*\/web\/ha\.pid`/);
  assert.equal(JSON.parse((await run(lima, ["list", "--json"], { env })).stdout).status, "Stopped");
  assert.equal((await lima.argvLog()).length, 10); // startInstance() is not recorded
});

Deno.test("start: missing template, default instance, faults kvm/degraded/timeout", async () => {
  const { lima, env } = await setup();
  await using _ = lima;
  const emptyTemplates = `${lima.dir}/_empty`;
  await Deno.mkdir(emptyTemplates);
  const none = await run(lima, ["start", "-y"], {
    env: { ...env, LIMA_TEMPLATES_PATH: emptyTemplates },
  });
  assert.deepEqual([none.code, none.stderr], [
    1,
    'level=fatal msg="template `default.yaml` not found"\n',
  ]);
  assert.ok(!(await exists(`${lima.dir}/default`)));
  const dflt = await run(lima, ["start", "--tty=false"], { env });
  assert.equal(dflt.code, 0);
  assert.ok(!dflt.stderr.includes("deprecated"));
  assert.ok(dflt.stderr.endsWith('level=info msg="READY. Run `lima` to open the shell."\n'));

  await lima.addInstance("kvm", { fault: "kvm" });
  const kvm = await run(lima, ["start", "kvm"], { env });
  const dir = `${lima.dir}/kvm`;
  assert.equal(kvm.code, 1);
  assert.equal(
    kvm.stderr.split("\n").at(-2),
    'level=fatal msg="exiting, status={Running:false Degraded:false Exiting:true Errors:[] SSHLocalPort:0 ' +
      `CloudInitProgress:<nil> PortForward:<nil> Vsock:<nil>} (hint: see \`${dir}/ha.stderr.log\`)"`,
  );
  const haLog = await Deno.readTextFile(`${dir}/ha.stderr.log`);
  assert.ok(haLog.includes("Could not access KVM kernel module: Permission denied"));
  assert.ok(
    haLog.includes(`qemu-system-${hostArch()}: failed to initialize kvm: Permission denied`),
  );
  assert.ok(!kvm.stderr.includes("KVM")); // qemu's stderr is logged at debug level
  assert.ok(!(await exists(`${dir}/ha.pid`)));
  const kvmDebug = await run(lima, ["--debug", "start", "kvm"], { env });
  assert.match(
    kvmDebug.stderr,
    /level=debug msg="\[hostagent\] qemu\[stderr\]: Could not access KVM/,
  );

  await lima.addInstance("deg", { fault: "degraded" });
  const deg = await run(lima, ["start", "deg"], { env });
  assert.equal(deg.code, 1);
  const err = "guest agent does not seem to be running; port forwards will not work";
  assert.deepEqual(deg.stderr.split("\n").slice(-4, -1), [
    `level=error msg="[${err}]"`,
    'level=warning msg="DEGRADED. The VM seems running, but file sharing and port forwarding may not work. ' +
    `(hint: see \`${lima.dir}/deg/ha.stderr.log\`)"`,
    `level=fatal msg="degraded, status={Running:true Degraded:true Exiting:false Errors:[${err}] SSHLocalPort:${
      JSON.parse((await run(lima, ["list", "--json", "deg"], { env })).stdout).sshLocalPort
    } CloudInitProgress:<nil> PortForward:<nil> Vsock:<nil>}"`,
  ]);
  assert.equal(
    JSON.parse((await run(lima, ["list", "--json", "deg"], { env })).stdout).status,
    "Running",
  );

  await lima.addInstance("slow", { fault: "timeout" });
  const timeout = await run(lima, ["start", "--timeout", "10m", "slow"], { env });
  assert.equal(timeout.code, 1);
  assert.equal(
    timeout.stderr.split("\n").at(-2),
    'level=fatal msg="did not receive an event with the `running` status"',
  );
  const badTimeout = await run(lima, ["start", "--timeout", "soon", "slow"], { env });
  assert.equal(
    badTimeout.stderr,
    'level=fatal msg="invalid argument \\"soon\\" for \\"--timeout\\" flag: time: invalid duration \\"soon\\""\n',
  );
});

Deno.test("start: a concurrent start during a slow boot sees Running and returns at once", async () => {
  const { lima, env } = await setup();
  await using _ = lima;
  await lima.addInstance("s", { fault: "slow-start" });
  let firstDone = false;
  const first = run(lima, ["start", "s"], { env }).finally(() => firstDone = true);
  await waitFor(() => exists(`${lima.dir}/s/ha.pid`));
  // The first start is held until the release file exists: the second must not wait for it.
  const second = await run(lima, ["start", "s"], { env });
  assert.equal(firstDone, false);
  assert.equal(second.code, 0);
  assert.match(second.stderr, /already running/);
  await Deno.writeTextFile(`${lima.dir}/s/slow-start.release`, "");
  const r1 = await first;
  assert.equal(r1.code, 0);
  assert.match(r1.stderr, /READY/);
});

Deno.test("create: an instance from template:NAME or a name, refused when it exists; start", async () => {
  const { lima, env } = await setup();
  await using _ = lima;
  const created = await run(lima, ["create", "--tty=false", "--name=web", "template:default"], {
    env,
  });
  assert.deepEqual([created.code, created.stdout], [0, ""]);
  assert.equal(
    created.stderr,
    'level=info msg="Terminal is not available, proceeding without opening an editor"\n' +
      'level=info msg="Run `limactl start web` to start the instance."\n',
  );
  assert.equal(await Deno.readTextFile(`${lima.dir}/web/lima.yaml`), DEFAULT_TEMPLATE);
  assert.equal(
    JSON.parse((await run(lima, ["list", "--json", "web"], { env })).stdout).status,
    "Stopped",
  );
  const again = await run(lima, ["create", "--tty=false", "--name=web", "template:default"], {
    env,
  });
  assert.deepEqual([again.code, again.stderr], [
    1,
    'level=fatal msg="instance `web` already exists"\n',
  ]);
  const byName = await run(lima, ["create", "--tty=false", "web"], { env });
  assert.deepEqual([byName.code, byName.stderr], [
    1,
    'level=fatal msg="instance `web` already exists"\n',
  ]);
  const missing = await run(lima, ["create", "--tty=false", "--name=x", "template:nosuch"], {
    env,
  });
  assert.deepEqual([missing.code, missing.stderr], [
    1,
    'level=fatal msg="template `nosuch.yaml` not found"\n',
  ]);
  const started = await run(lima, ["start", "--tty=false", "web"], { env });
  assert.equal(started.code, 0, started.stderr);
  assert.match(started.stderr, /^level=info msg="Using the existing instance `web`"\n/);
});

Deno.test("shell: remote script as Lima builds it", () => {
  const mounts = [{ location: "/h/me", mountPoint: "/h/me", writable: false }];
  const opts = { workdir: "", shell: "", env: [] };
  const host = { cwd: "/h/me/src", home: "/h/me" };
  assert.equal(
    remoteScript({ mounts }, opts, [], host),
    'cd /h/me/src || cd /h/me ; exec "$SHELL" -l',
  );
  assert.equal(
    remoteScript({ mounts }, { ...opts, workdir: "/w x" }, ["ls"], host),
    `cd '/w x' || exit 1 ; exec "$SHELL" -l -c ls`,
  );
  assert.equal(
    remoteScript({ mounts: [] }, opts, [
      "A=1 2",
      "B=",
      "echo",
      "it's",
      "",
      "C=3",
    ], host),
    `false ; exec "$SHELL" -l -c 'A='"'"'1 2'"'"' B='"'"''"'"' echo '"'"'it'"'"'"'"'"'"'"'"'s'"'"' '"'"''"'"' C=3'`,
  );
  assert.equal(
    remoteScript({ mounts }, { ...opts, shell: "/bin/sh", env: ["X=a b"] }, [
      "true",
    ], {
      cwd: "/elsewhere",
      home: "/h/me",
    }),
    "cd /h/me ; exec env 'X=a b' /bin/sh -l -c true",
  );
  assert.equal(shellQuote(""), "''");
  assert.equal(shellQuote("a-b_c@d%e+f=g:h,i./j"), "a-b_c@d%e+f=g:h,i./j");
  assert.equal(shellQuote("a'b"), `'a'"'"'b'`);
});

Deno.test("shell: guest filesystem, cwd, args, env, stdin, exit codes, errors", async () => {
  const { lima, home, env } = await setup();
  await using _ = lima;
  const ro = `${home}/ro`;
  const rw = `${lima.dir}/_rw`;
  await Deno.mkdir(`${ro}/sub`, { recursive: true });
  await Deno.writeTextFile(`${ro}/hello.txt`, "hi\n");
  await lima.addInstance("vm", {
    mounts: [{ location: "~/ro" }, { location: rw, writable: true, mountPoint: "/data" }],
  });
  // started with the test's HOME: Lima expands `~` in mounts when the instance starts
  assert.equal((await run(lima, ["start", "vm"], { env })).code, 0);
  // args arrive intact, as separate argv elements
  const args = ["a b", "", "it's", "$HOME", "*", "x\ny", "--", "-n"];
  const echo = await run(lima, ["shell", "vm", "printf", "[%s]\\n", ...args], { env, cwd: ro });
  assert.equal(echo.stdout, args.map((a) => `[${a}]\n`).join(""));
  assert.equal(echo.stderr, "");
  // cwd inside a mount → the same path in the guest; outside → the guest home
  assert.equal(
    (await run(lima, ["shell", "vm", "pwd"], { env, cwd: `${ro}/sub` })).stdout,
    `${ro}/sub\n`,
  );
  assert.equal(
    (await run(lima, ["shell", "vm", "pwd"], { env, cwd: lima.dir })).stdout,
    "/home/root.guest\n".replace("root", guestUser()),
  );
  assert.equal(
    (await run(lima, ["shell", "--workdir", "/data", "vm", "pwd"], { env })).stdout,
    "/data\n",
  );
  const noDir = await run(lima, ["shell", "--workdir", "/nope", "vm", "pwd"], { env });
  assert.equal(noDir.code, 1);
  assert.match(noDir.stderr, /cd: \/nope: No such file or directory/);
  // a remapped mount: Lima cds to the host path verbatim, which fails in the guest, then to the
  // host home, which exists here only as the parent of the ~/ro mount point (lima-vm/lima#5520)
  const remapped = await run(lima, ["shell", "vm", "pwd"], { env, cwd: rw });
  assert.equal(remapped.stdout, `${home}\n`);
  assert.equal(remapped.stderr, `bash: line 1: cd: ${rw}: No such file or directory\n`);
  // only mounted host paths are visible; read-only vs writable
  const fs = await run(lima, [
    "shell",
    "vm",
    "sh",
    "-c",
    `cat ${ro}/hello.txt; test -e ${lima.dir}/vm/lima.yaml || echo hidden; touch ${ro}/x 2>/dev/null || echo ro; touch /data/f && echo rw; hostname`,
  ], { env });
  assert.equal(fs.stdout, "hi\nhidden\nro\nrw\nlima-vm\n");
  assert.ok(await exists(`${rw}/f`));
  // exit codes pass through; a signal death gives 255 like OpenSSH
  assert.equal((await run(lima, ["shell", "vm", "sh", "-c", "exit 7"], { env })).code, 7);
  assert.equal((await run(lima, ["shell", "vm", "sh", "-c", "kill -TERM $$"], { env })).code, 255);
  // leading NAME=value args are env assignments
  assert.equal(
    (await run(lima, ["shell", "vm", "FOO=a b", "sh", "-c", 'echo "$FOO"'], { env })).stdout,
    "a b\n",
  );
  // the environment is the guest's; --preserve-env adds host variables except the block list
  const plain = await run(lima, ["shell", "vm", "sh", "-c", 'echo "${MY_VAR-unset}:$PATH"'], {
    env: { ...env, MY_VAR: "v" },
  });
  assert.match(plain.stdout, /^unset:\/usr\/local\/sbin:/);
  const kept = await run(lima, [
    "shell",
    "--preserve-env",
    "vm",
    "sh",
    "-c",
    'echo "$MY_VAR:$HOME"',
  ], {
    env: { ...env, MY_VAR: "v" },
  });
  assert.equal(kept.stdout, `v:/home/${guestUser()}.guest\n`);
  // stdin is connected and binary-safe both ways
  const bytes = new Uint8Array(256).map((_, i) => i);
  const cat = await run(lima, ["shell", "vm", "cat"], { env, stdin: bytes });
  assert.deepEqual(cat.raw, bytes);
  // `--` right after NAME is dropped; "Perhaps you meant"
  assert.equal((await run(lima, ["shell", "vm", "--", "echo", "ok"], { env })).stdout, "ok\n");
  const meant = await run(lima, ["shell", "vm", "start", "x"], { env });
  assert.match(meant.stderr, /^level=warning msg="Perhaps you meant `limactl start x`\?"\n/);
  // errors
  const missing = await run(lima, ["shell", "nope", "true"], { env });
  assert.deepEqual([missing.code, missing.stderr], [
    1,
    'level=fatal msg="instance `nope` does not exist, run `limactl create nope` to create a new instance"\n',
  ]);
  const noName = await run(lima, ["shell"], { env });
  assert.equal(noName.stderr, 'level=fatal msg="requires instance name as first argument"\n');
  // flags after NAME belong to the command
  assert.equal(
    (await run(lima, ["shell", "vm", "echo", "--workdir"], { env })).stdout,
    "--workdir\n",
  );
});

function guestUser(): string {
  const uid = String(Deno.uid());
  const line = Deno.readTextFileSync("/etc/passwd").split("\n").find((l) =>
    l.split(":")[2] === uid
  );
  const name = line?.split(":")[0] ?? "";
  return /^[a-z_][a-z0-9_-]*$/.test(name) && name !== "admin" ? name : "lima";
}

Deno.test("shell: stopped instance, --start, ssh fault, signals", async () => {
  const { lima, env } = await setup();
  await using _ = lima;
  await lima.addInstance("st", { mounts: [] });
  const stopped = await run(lima, ["shell", "st", "true"], { env });
  assert.deepEqual([stopped.code, stopped.stderr], [
    1,
    'level=fatal msg="instance `st` is stopped, run `limactl start st` to start the instance"\n',
  ]);
  const no = await run(lima, ["shell", "--start=false", "st", "true"], { env });
  assert.equal(no.code, 1);
  const started = await run(lima, ["shell", "--start", "st", "echo", "up"], { env });
  assert.equal(started.code, 0, started.stderr);
  assert.equal(started.stdout, "up\n");
  assert.match(started.stderr, /Starting the instance `st`/);
  assert.ok(!started.stderr.includes("READY")); // instance.WithLaunchingShell
  // the login shell comes from config.user.shell (the guest's passwd entry; "$SHELL" in the script)
  await lima.addInstance("dash", { mounts: [], user: { shell: "/bin/dash" }, running: true });
  const dash = await run(lima, ["shell", "dash", "sh", "-c", 'echo "$SHELL $0"'], { env });
  assert.equal(dash.stdout, "/bin/dash sh\n");
  await lima.addInstance("sshbad", { fault: "ssh", running: true });
  const port =
    JSON.parse((await run(lima, ["list", "--json", "sshbad"], { env })).stdout).sshLocalPort;
  const refused = await run(lima, ["shell", "sshbad", "true"], { env });
  assert.deepEqual([refused.code, refused.stderr], [
    255,
    `ssh: connect to host 127.0.0.1 port ${port}: Connection refused\r\n`,
  ]);
  const cpRefused = await run(lima, ["copy", `${lima.dir}/sshbad/lima.yaml`, "sshbad:/tmp/"], {
    env,
  });
  assert.equal(cpRefused.code, 255);
  // SIGTERM to the stand-in without a pty: it dies from the signal and, as on real Lima, the
  // guest command runs on (observed on 2.2.0: ssh without a pty sends the remote side nothing)
  const marker = "31.4159";
  const child = new Deno.Command(lima.limactl, {
    args: ["shell", "st", "sleep", marker],
    env: { ...lima.env, ...env },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitFor(() => Promise.resolve(findProcess(marker) !== undefined));
  const orphan = findProcess(marker)!;
  child.kill("SIGTERM");
  const status = await child.status;
  assert.equal(status.signal, "SIGTERM");
  assert.equal(findProcess(marker), orphan);
  Deno.kill(orphan, "SIGKILL");
  await waitFor(() => Promise.resolve(findProcess(marker) === undefined));
});

Deno.test("copy: host to guest and back, errors", async () => {
  const { lima, env } = await setup();
  await using _ = lima;
  await lima.addInstance("c", { mounts: [], running: true });
  const src = `${lima.dir}/_src.txt`;
  await Deno.writeTextFile(src, "payload\n");
  assert.equal((await run(lima, ["copy", src, "c:/tmp/"], { env })).code, 0);
  assert.equal(
    (await run(lima, ["shell", "c", "cat", "/tmp/_src.txt"], { env })).stdout,
    "payload\n",
  );
  assert.equal((await run(lima, ["cp", src, "c:in-home.txt"], { env })).code, 0);
  assert.equal(
    (await run(lima, ["shell", "c", "cat", "in-home.txt"], { env })).stdout,
    "payload\n",
  );
  const back = `${lima.dir}/_back.txt`;
  assert.equal((await run(lima, ["copy", "c:/tmp/_src.txt", back], { env })).code, 0);
  assert.equal(await Deno.readTextFile(back), "payload\n");
  const missingSrc = await run(lima, ["copy", "c:/tmp/none", back], { env });
  assert.equal(missingSrc.code, 1);
  const none = await run(lima, ["copy", src, "x:/tmp/"], { env });
  assert.deepEqual([none.code, none.stderr], [
    1,
    'level=fatal msg="instance `x` does not exist, run `limactl create x` to create a new instance"\n',
  ]);
  await lima.addInstance("off", { mounts: [] });
  const off = await run(lima, ["copy", src, "off:/tmp/"], { env });
  assert.equal(
    off.stderr,
    'level=fatal msg="instance `off` is stopped, run `limactl start off` to start the instance"\n',
  );
  const few = await run(lima, ["copy", src], { env });
  assert.equal(
    few.stderr,
    'level=fatal msg="`limactl copy` requires at least 2 arg(s), only received 1.\\nSee `limactl copy --help`.' +
      '\\n\\nUsage:  limactl copy SOURCE ... TARGET [flags]\\n\\nCopy files between host and guest"\n',
  );
});

Deno.test("argv log: concurrent invocations append whole lines", async () => {
  await using lima = await createLimaHome();
  const args = Array.from({ length: 12 }, (_, i) => ["--version", `x${"y".repeat(i * 500)}`]);
  await Promise.all(args.map((a) => run(lima, a)));
  const log = await lima.argvLog();
  assert.equal(log.length, args.length);
  assert.deepEqual(log.map((a) => a[1]).sort(), args.map((a) => a[1]).sort());
});

Deno.test("wrapper: works through a symlink from any cwd", async () => {
  await using lima = await createLimaHome();
  const link = `${lima.dir}/_bin/limactl`;
  await Deno.mkdir(`${lima.dir}/_bin`);
  await Deno.symlink(lima.limactl, link);
  const o = await new Deno.Command(link, { args: ["--version"], env: lima.env, cwd: "/" }).output();
  assert.equal(decoder.decode(o.stdout), "limactl version 2.2.0\n");
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function procState(pid: number): Promise<string> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

async function waitGone(pid: number): Promise<void> {
  await waitFor(async () => !(await exists(`/proc/${pid}`)) || (await procState(pid)) === "Z");
}

async function waitFor(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The pid of a live (non-zombie) `sleep` that has `arg` in its command line. */
function findProcess(arg: string): number | undefined {
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0");
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (cmd[0]?.endsWith("sleep") && cmd.includes(arg) && !/\) [ZX]/.test(stat)) {
        return Number(e.name);
      }
    } catch { /* gone */ }
  }
  return undefined;
}

Deno.test("fault hang: list and shell block until killed, after saying so in _standin/hung", async () => {
  const { lima, env } = await setup();
  await using _ = lima;
  await lima.addInstance("h", { fault: "hang", running: true });
  for (const args of [["list", "--json", "h"], ["shell", "--workdir", "/", "h", "--", "true"]]) {
    const before = (await lima.hungPids()).length;
    const child = new Deno.Command(lima.limactl, {
      args,
      env: { ...lima.env, ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await waitFor(async () => (await lima.hungPids()).length > before, 60_000);
    assert.equal((await lima.hungPids()).at(-1), child.pid, args.join(" "));
    child.kill("SIGKILL");
    const o = await child.output();
    // it printed nothing and was still running when killed
    assert.deepEqual([o.signal, o.stdout.length, o.stderr.length], ["SIGKILL", 0, 0]);
  }
});
