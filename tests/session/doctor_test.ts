import assert from "node:assert/strict";
import { GammaSession } from "../../lib/session/session.ts";
import { gatherDoctorFacts, probeGuest } from "../../lib/session/doctor.ts";
import { runDoctor } from "../../lib/session/run_doctor.ts";
import { firstRunProbe, probeCacheFile } from "../../lib/session/probe.ts";
import { planMounts, provisionGuest, writeMounts } from "../../lib/session/provision.ts";
import { commands, type Fixture, sessionEnv, setup, testSession } from "../cli/_run.ts";
import { createLimaHome } from "../support/lima_home.ts";

const envFor = sessionEnv;
const sessionIn = testSession;

function gammaFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith(".gamma"));
}

// ---------------------------------------------------------------- doctor facts

Deno.test("the kvm check reads an injectable device: usable, absent, permission denied", async () => {
  await using t = await setup({ running: false });
  const device = await Deno.makeTempFile();
  try {
    const kvm = async (kvmDevice: string) =>
      (await runDoctor({ env: envFor(t), cwd: t.project, kvmDevice, platform: "linux" })).checks
        .find((c) => c.id === "kvm");
    assert.deepEqual(await kvm(device), {
      id: "kvm",
      status: "ok",
      message: `${device} is usable by this user`,
    });
    assert.deepEqual(await kvm(`${device}.missing`), {
      id: "kvm",
      status: "fail",
      message: `${device}.missing does not exist: this host offers no KVM`,
      fix:
        "sudo modprobe kvm_intel    # or kvm_amd; and enable virtualization (VT-x/AMD-V) in the firmware",
    });
    // Judged from the device's owner, group and mode and the user's groups, never by opening it.
    await Deno.chmod(device, 0o660);
    await Deno.chown(device, 0, 4242);
    const as = async (groups: number[]) =>
      (await runDoctor({
        env: envFor(t),
        cwd: t.project,
        kvmDevice: device,
        platform: "linux",
        kvmUser: { uid: 1000, gid: 1000, groups },
      })).checks.find((c) => c.id === "kvm");
    assert.deepEqual(await as([4242]), {
      id: "kvm",
      status: "ok",
      message: `${device} is usable by this user`,
    });
    assert.deepEqual(await as([27]), {
      id: "kvm",
      status: "fail",
      message:
        `${device} exists but this user cannot open it (mode 0660, group 4242; this user is not in that group)`,
      fix: 'sudo usermod -aG 4242 "$USER"    # then log out and in again (or: newgrp 4242)',
    });
    const darwin = await runDoctor({ env: envFor(t), cwd: t.project, platform: "darwin" });
    assert.equal(darwin.checks.some((c) => c.id === "kvm"), false);
  } finally {
    await Deno.remove(device);
  }
});

Deno.test("gatherDoctorFacts never starts the VM and reads the real LIMA_HOME", async () => {
  await using t = await setup({ running: false });
  await Deno.mkdir(`${t.project}/.git`);
  const { session } = sessionIn(t, `${t.project}/sub`);
  const facts = await gatherDoctorFacts(session, { platform: "darwin", env: envFor(t) });
  assert.deepEqual(facts, {
    instance: "dev",
    limaHome: t.lima.dir,
    platform: "darwin",
    limactl: { path: t.lima.limactl, searchPath: "/usr/bin:/bin", version: "2.2.0" },
    instanceFacts: {
      state: "found",
      status: "Stopped",
      dir: `${t.lima.dir}/dev`,
      errors: [],
      mounts: [{ location: t.project, mountPoint: "/work/p", writable: true }],
    },
    project: {
      cwd: `${t.project}/sub`,
      root: t.project,
      guestCwd: "/work/p/sub",
      assumedWorkspace: {
        location: `${t.lima.dir}/_test-cache/cargo-devshell-exports/vm-workspace/dev`,
        mountPoint: "/workspace",
        writable: true,
      },
    },
    templates: {
      source: "LIMA_TEMPLATES_PATH",
      dirs: [t.env["LIMA_TEMPLATES_PATH"]!],
      found: t.env["LIMA_TEMPLATES_PATH"],
    },
    logs: { haStdoutLog: undefined, haStderrLog: undefined },
    tools: ["cc", "cargo"],
    toolsExplicit: false,
  });
  assert.deepEqual(await commands(t.lima), ["", "list"]); // --version and list
  assert.equal(session.isRunning(), false);
});

Deno.test("runDoctor looks at Lima even with DEVSHELL_VM=off, and reports a bad limactl as a check", async () => {
  await using t = await setup();
  const off = await runDoctor({
    env: envFor(t, { DEVSHELL_VM: "off" }),
    cwd: t.project,
    platform: "darwin",
    tools: ["sh"],
  });
  assert.equal(off.ok, true);
  assert.deepEqual(off.checks.map((c) => [c.id, c.status]), [
    ["limactl", "ok"],
    ["instance", "ok"],
    ["template", "ok"],
    ["last-start", "ok"],
    ["mount", "ok"],
    ["mount-live", "ok"],
    ["writable", "ok"],
    ["tools", "ok"],
  ]);
  const bad = await runDoctor({
    env: envFor(t, { DEVSHELL_VM_LIMACTL: "/nonexistent/limactl" }),
    cwd: t.project,
    platform: "darwin",
  });
  assert.deepEqual(bad.checks[0], {
    id: "limactl",
    status: "fail",
    message:
      'DEVSHELL_VM_LIMACTL names "/nonexistent/limactl", which is not an executable file; install Lima (https://lima-vm.io/) or point DEVSHELL_VM_LIMACTL at limactl',
    fix:
      "install Lima 2.x: https://lima-vm.io/docs/installation/ (or set DEVSHELL_VM_LIMACTL to the absolute path of limactl)",
  });
  assert.deepEqual(bad.checks.map((c) => `${c.id} ${c.status}`), [
    "limactl fail",
    "instance warn",
    "template ok", // LIMA_TEMPLATES_PATH needs no limactl
    "last-start warn",
    "mount warn",
    "mount-live warn",
    "writable warn",
    "tools warn",
  ]);
  const debug: string[] = [];
  await runDoctor({
    env: envFor(t),
    cwd: t.project,
    platform: "darwin",
    debug: (l) => debug.push(l),
  });
  assert.equal(debug[0], `gamma: debug: ${JSON.stringify([t.lima.limactl, "--version"])}`);
});

Deno.test("probeGuest sees the marker through a remapped mount and leaves no file behind", async () => {
  await using t = await setup();
  const { session } = sessionIn(t, `${t.project}/sub`);
  const live = await probeGuest(session, {
    hostDir: `${t.project}/sub`,
    guestDir: "/work/p/sub",
    write: true,
    tools: ["sh", "no-such-tool-x"],
  });
  assert.deepEqual(live, {
    state: "ran",
    hostDir: `${t.project}/sub`,
    guestDir: "/work/p/sub",
    dirExists: true,
    markerVisible: true,
    writable: true,
    tools: { sh: "/usr/bin/sh", "no-such-tool-x": "" },
  });
  assert.deepEqual(gammaFiles(`${t.project}/sub`), []);
  // the guest path of another directory does not show this one's marker
  const wrong = await probeGuest(session, { hostDir: `${t.project}/sub`, guestDir: "/work/p" });
  assert.deepEqual(wrong, {
    state: "ran",
    hostDir: `${t.project}/sub`,
    guestDir: "/work/p",
    dirExists: true,
    markerVisible: false,
    tools: {},
  });
  assert.deepEqual(gammaFiles(`${t.project}/sub`), []);
});

Deno.test("probeGuest reports a read-only mount and a guest that cannot be reached", async () => {
  await using lima = await createLimaHome();
  const root = await Deno.realPath(await Deno.makeTempDir());
  try {
    await lima.addInstance("ro", {
      mounts: [{ location: root, mountPoint: "/ro", writable: false }],
      running: true,
    });
    const env = envFor({ env: lima.env }, { DEVSHELL_VM_LIMACTL: lima.limactl });
    const session = new GammaSession({ env, cwd: root, instance: "ro" });
    const live = await probeGuest(session, { hostDir: root, guestDir: "/ro", write: true });
    assert.equal(live.state, "ran");
    assert.deepEqual(
      live.state === "ran" ? [live.markerVisible, live.writable] : [],
      [true, false],
    );
    assert.match(live.state === "ran" ? live.writeError ?? "" : "", /Read-only file system/);
    await lima.stopSshd("ro");
    const failed = await probeGuest(session, { hostDir: root, guestDir: "/ro" });
    assert.equal(failed.state, "failed");
    assert.deepEqual(failed.state === "failed" ? failed.code : 0, 255);
    assert.deepEqual(gammaFiles(root), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// ---------------------------------------------------------------- first-run probe

Deno.test("firstRunProbe runs once per instance and lima.yaml version, then costs no process", async () => {
  await using t = await setup();
  const first = sessionIn(t);
  assert.equal(await firstRunProbe(first.session), "ok");
  assert.deepEqual(first.argvs.map((a) => a[0]), ["list", "shell"]);
  assert.deepEqual(first.notices, []);
  assert.deepEqual(gammaFiles(t.project), []);
  const cache = probeCacheFile(first.session);
  assert.equal(JSON.parse(await Deno.readTextFile(cache)).result, "ok");

  // a later run (a new gamma process) reads the cache and runs nothing
  const warm = sessionIn(t);
  assert.equal(await firstRunProbe(warm.session), "cached");
  assert.deepEqual(warm.argvs, []);

  // a new lima.yaml version probes again, once
  const yaml = `${t.lima.dir}/dev/lima.yaml`;
  await Deno.writeTextFile(yaml, (await Deno.readTextFile(yaml)) + "# edited\n");
  const edited = sessionIn(t);
  assert.equal(await firstRunProbe(edited.session), "ok");
  assert.deepEqual(edited.argvs.map((a) => a[0]), ["list", "shell"]);
  const again = sessionIn(t);
  assert.equal(await firstRunProbe(again.session), "cached");
  assert.deepEqual(again.argvs, []);
});

Deno.test("firstRunProbe prints one hint for a read-only mount, then stays quiet", async () => {
  await using lima = await createLimaHome();
  const root = await Deno.realPath(await Deno.makeTempDir());
  try {
    await lima.addInstance("dev", {
      mounts: [{ location: root, mountPoint: "/ro", writable: false }],
      running: true,
    });
    const env = envFor({ env: lima.env }, { DEVSHELL_VM_LIMACTL: lima.limactl });
    const notices: string[] = [];
    const session = new GammaSession({ env, cwd: root, instance: "dev" });
    assert.equal(
      await firstRunProbe(session, { notice: (l) => notices.push(l) }),
      "hinted",
    );
    assert.deepEqual(notices, [
      `gamma: hint: the project ${root} is at /ro in instance dev, but its mount ${root} -> /ro is read-only; run \`gamma doctor -i dev\` for the fix`,
    ]);
    const later = new GammaSession({ env, cwd: root, instance: "dev" });
    assert.equal(await firstRunProbe(later, { notice: (l) => notices.push(l) }), "cached");
    assert.equal(notices.length, 1);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("firstRunProbe skips a directory under an unmounted workspace parent (nothing is assumed)", async () => {
  await using t = await setup();
  const ws = await Deno.realPath(await Deno.makeTempDir());
  try {
    const { session, notices, argvs } = sessionIn(t, ws, { DEVSHELL_VM_WORKSPACE_PARENT: ws });
    assert.equal(await session.guestPathOf(), undefined);
    assert.equal(await firstRunProbe(session, { notice: (l) => notices.push(l) }), "skipped");
    assert.deepEqual(notices, []);
    assert.deepEqual(argvs.filter((a) => a[0] === "shell"), []);
  } finally {
    await Deno.remove(ws, { recursive: true });
  }
});

Deno.test("firstRunProbe is off without hints or Lima, and skips (uncached) what it cannot probe", async () => {
  await using t = await setup();
  const off = sessionIn(t, t.project, { DEVSHELL_VM_LIMA_HINTS: "off" });
  assert.equal(await firstRunProbe(off.session), "off");
  const host = sessionIn(t, t.project, { DEVSHELL_VM: "off" });
  assert.equal(await firstRunProbe(host.session), "off");
  assert.deepEqual([...off.argvs, ...host.argvs], []);
  // outside every mount: nothing to probe, nothing remembered
  const outside = sessionIn(t, "/");
  assert.equal(await firstRunProbe(outside.session), "skipped");
  assert.equal(await firstRunProbe(sessionIn(t, "/").session), "skipped"); // still not cached
  // no marker file can be created in the working directory (procfs refuses, even to root):
  // skipped without running anything in the guest
  await t.lima.addInstance("procvm", {
    mounts: [{ location: "/proc/1", mountPoint: "/p1", writable: true }],
    running: true,
  });
  const proc = sessionIn(t, "/proc/1", {}, { instance: "procvm" });
  assert.equal(await proc.session.guestPathOf(), "/p1");
  assert.equal(await firstRunProbe(proc.session), "skipped");
  assert.deepEqual(proc.argvs.filter((a) => a[0] === "shell"), []); // nothing ran in the guest
  // the guest does not answer: tried again next time
  await t.lima.stopSshd("dev");
  const ssh = sessionIn(t);
  assert.equal(await firstRunProbe(ssh.session), "skipped");
  await ssh.session.stop(); // the next run starts it again, sshd included

  const next = sessionIn(t);
  assert.equal(await firstRunProbe(next.session), "ok");
});

// ---------------------------------------------------------------- guest provisioning

/** Give the guest user a login PATH of only `~/bin`, holding these scripts. */
async function guestBin(t: Fixture, scripts: Record<string, string>): Promise<void> {
  const home = `${t.lima.dir}/dev/_guesthome`;
  await Deno.mkdir(`${home}/bin`, { recursive: true });
  await Deno.writeTextFile(`${home}/.bash_profile`, 'PATH="$HOME/bin"; export PATH\n');
  for (const [name, body] of Object.entries(scripts)) {
    await Deno.writeTextFile(`${home}/bin/${name}`, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
}

const FAKE = {
  dpkg: "exit 0",
  env: 'shift; exec "$@"', // drops DEBIAN_FRONTEND=…
  sudoOk: '[ "$1" = -n ] && shift\n[ "$1" = true ] && exit 0\nexec "$@"',
  sudoPassword: '[ "$1" = -n ] && shift\n[ "$1" = true ] && exit 1\nexec "$@"',
  // installing build-essential puts a cc on the PATH
  aptGet:
    'echo "apt-get $*"\n[ "$1" = install ] && printf "#!/bin/sh\\n" >"$HOME/bin/cc" && /bin/chmod +x "$HOME/bin/cc"\nexit 0',
};

Deno.test("provisionGuest: a guest with a C compiler needs nothing", async () => {
  await using t = await setup();
  const { session, notices, argvs } = sessionIn(t);
  assert.deepEqual(await provisionGuest(session, { notice: (l) => notices.push(l) }), {
    toolchain: "present",
    binary: "none",
    output: "",
  });
  assert.deepEqual(notices, []);
  assert.deepEqual(argvs.map((a) => a[0]), ["shell"]);
});

Deno.test("provisionGuest installs build-essential with password-less sudo, showing apt's output", async () => {
  await using t = await setup();
  await guestBin(t, { dpkg: FAKE.dpkg, env: FAKE.env, sudo: FAKE.sudoOk, "apt-get": FAKE.aptGet });
  const { session, notices } = sessionIn(t);
  const outcome = await provisionGuest(session, {
    notice: (l) => notices.push(l),
    output: "piped",
  });
  assert.deepEqual(outcome, {
    toolchain: "installed",
    binary: "none",
    output: [
      "+ sudo apt-get update",
      "apt-get update",
      "+ sudo apt-get install -y build-essential",
      "apt-get install -y build-essential",
      "",
    ].join("\n"),
  });
  assert.deepEqual(notices, [
    "gamma: guest: no C compiler (cc or gcc) on the PATH of instance dev; Rust needs one to link",
    "gamma: guest: installing build-essential in instance dev with sudo apt-get (DEVSHELL_VM_AUTO_BUILD_ESSENTIAL=off skips this):",
    "gamma: guest: build-essential installed; instance dev has a C compiler now",
  ]);
  const again = await provisionGuest(sessionIn(t).session, { notice: () => {} });
  assert.equal(again.toolchain, "present");
});

Deno.test("provisionGuest streams the install to stderr as it runs", async () => {
  await using t = await setup();
  await guestBin(t, { dpkg: FAKE.dpkg, env: FAKE.env, sudo: FAKE.sudoOk, "apt-get": FAKE.aptGet });
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    const lib = new URL("../../lib/", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { GammaSession } from "${lib}session/session.ts";\n` +
        `import "${lib}session/config_files.ts";\n` +
        `import { provisionGuest } from "${lib}session/provision.ts";\n` +
        `const r = await provisionGuest(new GammaSession({ cwd: ${
          JSON.stringify(t.project)
        } }));\n` +
        `console.log(r.toolchain, JSON.stringify(r.output));\n`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        "--config",
        new URL("../../deno.json", import.meta.url).pathname,
        script,
      ],
      env: envFor(t),
      clearEnv: true,
    }).output();
    const text = new TextDecoder();
    assert.equal(text.decode(out.stdout), 'installed ""\n');
    assert.equal(
      text.decode(out.stderr),
      [
        "gamma: guest: no C compiler (cc or gcc) on the PATH of instance dev; Rust needs one to link",
        "gamma: guest: installing build-essential in instance dev with sudo apt-get (DEVSHELL_VM_AUTO_BUILD_ESSENTIAL=off skips this):",
        "+ sudo apt-get update",
        "apt-get update",
        "+ sudo apt-get install -y build-essential",
        "apt-get install -y build-essential",
        "gamma: guest: build-essential installed; instance dev has a C compiler now",
        "",
      ].join("\n"),
    );
  } finally {
    await Deno.remove(script);
  }
});

Deno.test("provisionGuest says how to install by hand when sudo needs a password or there is no apt", async () => {
  await using t = await setup();
  await guestBin(t, { "apt-get": FAKE.aptGet, dpkg: FAKE.dpkg, sudo: FAKE.sudoPassword });
  const a = sessionIn(t);
  assert.equal(
    (await provisionGuest(a.session, { notice: (l) => a.notices.push(l) })).toolchain,
    "sudo-password",
  );
  assert.deepEqual(a.notices, [
    "gamma: guest: no C compiler (cc or gcc) on the PATH of instance dev; Rust needs one to link",
    "gamma: hint: sudo in instance dev asks for a password, so gamma does not install build-essential; run: limactl shell dev -- sh -c 'sudo apt-get update && sudo apt-get install -y build-essential'",
  ]);
  await Deno.remove(`${t.lima.dir}/dev/_guesthome/bin/apt-get`);
  const b = sessionIn(t);
  assert.equal(
    (await provisionGuest(b.session, { notice: (l) => b.notices.push(l) })).toolchain,
    "no-apt",
  );
  assert.equal(
    b.notices[1],
    "gamma: hint: the guest has no apt-get: install gcc and binutils with its package manager (limactl shell dev)",
  );
  // DEVSHELL_VM_AUTO_BUILD_ESSENTIAL=off: no probe at all
  const c = sessionIn(t, t.project, { DEVSHELL_VM_AUTO_BUILD_ESSENTIAL: "off" });
  assert.deepEqual(await provisionGuest(c.session, { notice: (l) => c.notices.push(l) }), {
    toolchain: "off",
    binary: "none",
    output: "",
  });
  assert.deepEqual([c.notices, c.argvs], [[], []]);
});

Deno.test("provisionGuest tells a failed probe from a missing compiler", async () => {
  await using t = await setup();
  await t.lima.stopSshd("dev");
  const { session, notices } = sessionIn(t);
  assert.equal(
    (await provisionGuest(session, { notice: (l) => notices.push(l) })).toolchain,
    "probe-failed",
  );
  assert.equal(notices.length, 1);
  assert.match(
    notices[0]!,
    /^gamma: guest: could not check instance dev for a C compiler \(limactl shell exited 255: ssh: connect to host 127\.0\.0\.1 port \d+: Connection refused\); nothing installed$/,
  );
});

Deno.test("provisionGuest hints at the missing project binary and builds it in the guest when asked", async () => {
  await using t = await setup();
  await Deno.writeTextFile(`${t.project}/Cargo.toml`, '[package]\nname = "app"\n');
  await Deno.mkdir(`${t.project}/src`);
  await Deno.writeTextFile(`${t.project}/src/main.rs`, "fn main() {}\n");
  await guestBin(t, {
    cargo:
      'echo "cargo $*"\n/bin/mkdir -p target/release\nprintf "#!/bin/sh\\n" >target/release/app\n/bin/chmod +x target/release/app',
  });
  const noBuild = { DEVSHELL_VM_AUTO_BUILD_ESSENTIAL: "off" };
  const hint = sessionIn(t, `${t.project}/sub`, noBuild);
  assert.deepEqual(await provisionGuest(hint.session, { notice: (l) => hint.notices.push(l) }), {
    toolchain: "off",
    binary: "missing",
    output: "",
  });
  assert.deepEqual(hint.notices, [
    "gamma: guest: app (this project's binary) is not on the PATH of instance dev nor in /work/p/target/release",
    "gamma: hint: build it in the guest: gamma exec -w /work/p -- cargo build --release --bin app (DEVSHELL_VM_AUTO_BUILD_TODO_GUEST=on does it when gamma shell starts)",
  ]);
  const build = sessionIn(t, t.project, { ...noBuild, DEVSHELL_VM_AUTO_BUILD_TODO_GUEST: "on" });
  assert.deepEqual(
    await provisionGuest(build.session, { notice: (l) => build.notices.push(l), output: "piped" }),
    {
      toolchain: "off",
      binary: "built",
      output: "+ cargo build --release --bin app\ncargo build --release --bin app\n",
    },
  );
  assert.equal(build.notices.at(-1), "gamma: guest: built target/release/app in /work/p");
  assert.equal(Deno.statSync(`${t.project}/target/release/app`).isFile, true);
  const found = sessionIn(t, t.project, noBuild);
  assert.equal(
    (await provisionGuest(found.session, { notice: (l) => found.notices.push(l) })).binary,
    "present",
  );
  assert.deepEqual(found.notices, []);
  // DEVSHELL_VM_GUEST_TODO_HINT=off: not even looked for
  const off = sessionIn(t, t.project, { ...noBuild, DEVSHELL_VM_GUEST_TODO_HINT: "off" });
  assert.equal((await provisionGuest(off.session)).binary, "off");
  assert.deepEqual(off.argvs, []);
});

// ---------------------------------------------------------------- gamma mounts, library side

Deno.test("planMounts and writeMounts: the project entry, a backup, a restart of a running instance", async () => {
  await using t = await setup();
  const other = await Deno.realPath(await Deno.makeTempDir());
  try {
    await Deno.writeTextFile(`${other}/package.json`, "{}\n");
    await Deno.mkdir(`${other}/lib`);
    const { session, env, notices } = sessionIn(t, `${other}/lib`);
    const plan = await planMounts(session, { writable: true, guestPath: "/src/other/", env });
    assert.deepEqual(plan.entries, [{ location: other, mountPoint: "/src/other", writable: true }]);
    assert.deepEqual(plan.target, { path: other, source: "project", mountPoint: other });
    assert.equal(plan.coveredBy, undefined);
    const yaml = `${t.lima.dir}/dev/lima.yaml`;
    const before = await Deno.readTextFile(yaml);
    await assert.rejects(() => writeMounts(session, plan, { env }), {
      name: "GammaError",
      message:
        `instance dev is running and Lima reads ${yaml} only when it starts: rerun with --restart to stop and start it, or stop it first (limactl stop dev)`,
    });
    assert.equal(await Deno.readTextFile(yaml), before);
    const result = await writeMounts(session, plan, {
      env,
      restart: true,
      notice: (l) => notices.push(l),
    });
    assert.deepEqual(result, {
      changed: true,
      changes: [`added mount ${other} -> /src/other (writable)`],
      unchanged: [],
      backup: `${yaml}.bak`,
      restarted: true,
    });
    assert.equal(await Deno.readTextFile(`${yaml}.bak`), before);
    assert.deepEqual(notices, [
      "gamma: restarting instance dev so that Lima reads the new mounts",
      "gamma: starting instance dev…",
    ]);
    assert.equal(session.isRunning(), true);
    assert.equal(await sessionIn(t, `${other}/lib`).session.guestPathOf(), "/src/other/lib");
    const seen = await session.output("ls /src/other");
    assert.deepEqual(seen, { code: 0, stdout: "lib\npackage.json\n", stderr: "" });
    assert.deepEqual((await writeMounts(session, plan, { env })).changed, false);
  } finally {
    await Deno.remove(other, { recursive: true });
  }
});
