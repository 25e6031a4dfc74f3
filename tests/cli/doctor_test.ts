import assert from "node:assert/strict";
import { createLimaHome } from "../support/lima_home.ts";
import { commands, onPath, runGamma, setup, testBothPaths } from "./_run.ts";

type Fixture = Awaited<ReturnType<typeof setup>>;

/** A stand-in for a usable /dev/kvm (this machine's own may or may not exist). */
async function kvmOk(): Promise<string> {
  return await Deno.makeTempFile({ prefix: "gamma-kvm-" });
}
/**
 * A /dev/kvm that is not there (a failing kvm check even for root, who may open any device; the
 * check for a device this user may not use is in tests/session/doctor_test.ts).
 */
const KVM_DENIED = "/nonexistent/gamma-test-kvm";

function checks(stdout: string): { id: string; status: string; message: string; fix?: string }[] {
  return JSON.parse(stdout).checks;
}

function status(stdout: string): string[] {
  return checks(stdout).map((c) => `${c.id} ${c.status}`);
}

/** Project with a .git, so it is its own project root. */
async function gitProject(t: Fixture): Promise<void> {
  await Deno.mkdir(`${t.project}/.git`);
}

testBothPaths(
  "gamma doctor: every check passes for a mounted, writable project (remapped mount)",
  async (via) => {
    await using t = await setup({ via });
    await gitProject(t);
    const kvm = await kvmOk();
    try {
      const r = await runGamma(["doctor", "--kvm-device", kvm, "--tool", "sh"], {
        env: t.env,
        cwd: `${t.project}/sub`,
      });
      assert.equal(r.stderr, "");
      assert.equal(r.code, 0);
      const dir = `${t.lima.dir}/dev`;
      const tools = t.env["LIMA_TEMPLATES_PATH"];
      assert.equal(
        r.stdout,
        [
          `ok    limactl     ${t.lima.limactl} (Lima 2.2.0)`,
          `ok    instance    instance dev is Running (${dir})`,
          `ok    kvm         ${kvm} is usable by this user`,
          `ok    template    Lima's templates are in ${tools}`,
          "ok    last-start  instance dev started cleanly",
          `ok    mount       the project ${t.project} is at /work/p in instance dev (mount ${t.project} -> /work/p, writable)`,
          `ok    mount-live  a marker file created in ${t.project}/sub is visible at /work/p/sub in the guest`,
          "ok    writable    the guest can create files in /work/p/sub",
          "ok    tools       on the guest PATH: sh (/usr/bin/sh)",
          "",
          "all checks passed",
          "",
        ].join("\n"),
      );
      // doctor leaves nothing behind and never starts or stops the VM
      assert.deepEqual([...Deno.readDirSync(`${t.project}/sub`)], []);
      assert.deepEqual(await commands(t.lima), onPath(via, ["", "list", "shell"]));
    } finally {
      await Deno.remove(kvm);
    }
  },
);

testBothPaths("gamma doctor --json: the report object; exit 1 when a check fails", async (via) => {
  await using t = await setup({ via });
  await gitProject(t);
  const r = await runGamma(["doctor", "--json", "--kvm-device", "/nonexistent/kvm"], {
    env: t.env,
    cwd: t.project,
  });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "");
  const report = JSON.parse(r.stdout);
  assert.equal(report.ok, false);
  assert.deepEqual(report.checks[2], {
    id: "kvm",
    status: "fail",
    message: "/nonexistent/kvm does not exist: this host offers no KVM",
    fix:
      "sudo modprobe kvm_intel    # or kvm_amd; and enable virtualization (VT-x/AMD-V) in the firmware",
  });
  // default tools: cargo is not in the stand-in's guest, which only warns
  assert.deepEqual(report.checks[8], {
    id: "tools",
    status: "warn",
    message: "not on the guest PATH of instance dev: cargo; found: cc (/usr/bin/cc)",
    fix:
      `limactl shell dev -- sh -c "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y"`,
  });
  for (const c of report.checks) {
    assert.deepEqual(
      Object.keys(c),
      c.status === "ok" ? ["id", "status", "message"] : [
        "id",
        "status",
        "message",
        "fix",
      ],
    );
  }
});

testBothPaths(
  "gamma doctor: a KVM failure of the last start, with the device denied or usable now",
  async (via) => {
    await using t = await setup({ via, running: false, fault: "kvm" });
    await gitProject(t);
    const start = await runGamma(["start"], { env: t.env });
    assert.equal(start.code, 1);
    const log = `${t.lima.dir}/dev/ha.stderr.log`;
    const denied = await runGamma(["doctor", "--json", "--kvm-device", KVM_DENIED], {
      env: t.env,
      cwd: t.project,
    });
    assert.equal(denied.code, 1);
    const [, , kvm, , lastStart] = checks(denied.stdout);
    assert.deepEqual(kvm, {
      id: "kvm",
      status: "fail",
      message:
        `${KVM_DENIED} does not exist: this host offers no KVM; the last start of dev failed on it (2 KVM errors in ${log})`,
      fix:
        "sudo modprobe kvm_intel    # or kvm_amd; and enable virtualization (VT-x/AMD-V) in the firmware",
      details: [
        "Could not access KVM kernel module: Permission denied",
        "qemu-system-x86_64: failed to initialize kvm: Permission denied",
      ].map((l) => l.replace("x86_64", Deno.build.arch === "aarch64" ? "aarch64" : "x86_64")),
    });
    assert.deepEqual(
      [lastStart?.id, lastStart?.status, lastStart?.message, lastStart?.fix],
      [
        "last-start",
        "fail",
        `the last start of dev failed: QEMU could not use KVM (see the kvm check) (${log})`,
        "limactl start dev    # after fixing the cause; gamma start -i dev explains failures",
      ],
    );
    const device = await kvmOk();
    try {
      const now = await runGamma(["doctor", "--kvm-device", device], {
        env: t.env,
        cwd: t.project,
      });
      assert.equal(now.code, 1); // the last start still failed
      assert.match(
        now.stdout,
        new RegExp(
          `^warn  kvm         ${device} is usable now; the last start of dev failed on it \\(2 KVM errors in ${log}\\)$`,
          "m",
        ),
      );
      assert.match(now.stdout, /^\s+fix: limactl start dev$/m);
    } finally {
      await Deno.remove(device);
    }
  },
);

testBothPaths("gamma doctor: KVM errors from an older start are not counted", async (via) => {
  await using t = await setup({ via, running: false, fault: "kvm" });
  await gitProject(t);
  assert.equal((await runGamma(["start"], { env: t.env })).code, 1);
  const log = `${t.lima.dir}/dev/ha.stderr.log`;
  const older = await Deno.readTextFile(log);
  // the fault is fixed and the VM starts; Lima truncates the log, but an older run's lines may
  // still precede the new ones (e.g. a log kept from before the truncation)
  await Deno.remove(`${t.lima.dir}/dev/standin-fault`);
  assert.equal((await runGamma(["start"], { env: t.env })).code, 0);
  await Deno.writeTextFile(log, older + await Deno.readTextFile(log));
  const device = await kvmOk();
  try {
    const r = await runGamma(["doctor", "--json", "--kvm-device", device, "--tool", "sh"], {
      env: t.env,
      cwd: t.project,
    });
    assert.equal(r.code, 0);
    assert.deepEqual(checks(r.stdout)[2], {
      id: "kvm",
      status: "ok",
      message:
        `${device} is usable by this user; 2 KVM errors in ${log} come from an older start and are ignored`,
    });
    assert.deepEqual(checks(r.stdout)[4], {
      id: "last-start",
      status: "ok",
      message: "instance dev started cleanly",
    });
  } finally {
    await Deno.remove(device);
  }
});

testBothPaths("gamma doctor: missing templates fail for a missing instance", async (via) => {
  await using t = await setup({ via, running: false });
  const empty = await Deno.makeTempDir();
  try {
    const r = await runGamma(["doctor", "-i", "ghost", "--json", "--kvm-device", KVM_DENIED], {
      env: { ...t.env, LIMA_TEMPLATES_PATH: empty },
      cwd: t.project,
    });
    assert.equal(r.code, 1);
    const [, instance, , template, lastStart] = checks(r.stdout);
    assert.deepEqual(instance, {
      id: "instance",
      status: "fail",
      message: `instance ghost does not exist in ${t.lima.dir}`,
      fix: "limactl create --name=ghost template:default",
    });
    assert.deepEqual(template, {
      id: "template",
      status: "fail",
      message:
        `Lima's templates are missing: no default.yaml in ${empty} (LIMA_TEMPLATES_PATH); limactl cannot create instance ghost`,
      fix:
        "export LIMA_TEMPLATES_PATH=/PREFIX/share/lima/templates    # a directory holding default.yaml; or unset it",
    });
    assert.deepEqual(lastStart, {
      id: "last-start",
      status: "warn",
      message: "not checked: instance ghost does not exist",
      fix: "limactl create --name=ghost template:default",
    });
    // an existing instance only warns: it needs no template to start
    const dev = await runGamma(["doctor", "--json", "--kvm-device", KVM_DENIED], {
      env: { ...t.env, LIMA_TEMPLATES_PATH: empty },
      cwd: t.project,
    });
    assert.equal(checks(dev.stdout)[3]?.status, "warn");
  } finally {
    await Deno.remove(empty);
  }
});

testBothPaths("gamma doctor: a degraded start is explained", async (via) => {
  await using t = await setup({ via, running: false, fault: "degraded" });
  await gitProject(t);
  assert.equal((await runGamma(["start"], { env: t.env })).code, 0); // degraded: a warning
  const ok = await runGamma(["doctor", "--json", "--kvm-device", KVM_DENIED, "--tool", "sh"], {
    env: t.env,
    cwd: t.project,
  });
  assert.deepEqual(checks(ok.stdout)[4], {
    id: "last-start",
    status: "warn",
    message:
      `instance dev is up but degraded: guest agent does not seem to be running; port forwards will not work; file sharing and port forwarding may not work (${t.lima.dir}/dev/ha.stderr.log)`,
    fix: "limactl stop dev && limactl start dev",
  });
});

testBothPaths(
  "gamma doctor: an unmounted project fails the mount check and is not probed",
  async (via) => {
    await using t = await setup({ via });
    const elsewhere = await Deno.realPath(await Deno.makeTempDir());
    try {
      await Deno.writeTextFile(`${elsewhere}/deno.json`, "{}\n");
      const r = await runGamma(["doctor", "--json", "--kvm-device", KVM_DENIED, "--tool", "sh"], {
        env: t.env,
        cwd: elsewhere,
      });
      assert.equal(r.code, 1);
      const all = checks(r.stdout);
      assert.deepEqual(all.slice(5), [
        {
          id: "mount",
          status: "fail",
          message:
            `the project ${elsewhere} is not under any mount of instance dev (its mounts: ${t.project} -> /work/p)`,
          fix: "gamma mounts -i dev --writable --write --restart",
        },
        {
          id: "mount-live",
          status: "warn",
          message: `not checked: ${elsewhere} has no guest path in instance dev`,
          fix: "gamma mounts -i dev --writable --write --restart",
        },
        {
          id: "writable",
          status: "warn",
          message: `not checked: ${elsewhere} has no guest path in instance dev`,
          fix: "gamma mounts -i dev --writable --write --restart",
        },
        { id: "tools", status: "ok", message: "on the guest PATH: sh (/usr/bin/sh)" },
      ]);
    } finally {
      await Deno.remove(elsewhere, { recursive: true });
    }
  },
);

Deno.test("gamma doctor: a read-only mount warns, and the guest cannot write there", async () => {
  await using lima = await createLimaHome();
  const root = await Deno.realPath(await Deno.makeTempDir());
  try {
    await Deno.mkdir(`${root}/.git`);
    await lima.addInstance("dev", {
      mounts: [{ location: root, mountPoint: "/src", writable: false }],
      running: true,
    });
    const env = {
      ...lima.env,
      DEVSHELL_VM_LIMACTL: lima.limactl,
      DEVSHELL_VM_LIMA_INSTANCE: "dev",
    };
    const r = await runGamma(["doctor", "--json", "--kvm-device", KVM_DENIED, "--tool", "sh"], {
      env,
      cwd: root,
    });
    assert.equal(r.code, 1);
    const [mount, live, writable] = checks(r.stdout).slice(5);
    assert.deepEqual(mount, {
      id: "mount",
      status: "warn",
      message:
        `the project ${root} is at /src in instance dev, but its mount ${root} -> /src is read-only`,
      fix: "gamma mounts -i dev --writable --write --restart",
    });
    assert.deepEqual(live, {
      id: "mount-live",
      status: "ok",
      message: `a marker file created in ${root} is visible at /src in the guest`,
    });
    assert.deepEqual(
      [writable?.status, writable?.fix],
      ["fail", "gamma mounts -i dev --writable --write --restart"],
    );
    assert.match(
      writable?.message ?? "",
      /^the guest cannot create files in \/src: .*Read-only file system$/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

testBothPaths(
  "gamma doctor: a project under an unmounted workspace parent has no guest path",
  async (via) => {
    await using t = await setup({ via });
    // The workspace parent is not mounted at /workspace: gamma assumes nothing there.
    const ws = await Deno.realPath(await Deno.makeTempDir());
    try {
      const r = await runGamma(["doctor", "--json", "--kvm-device", KVM_DENIED, "--tool", "sh"], {
        env: { ...t.env, DEVSHELL_VM_WORKSPACE_PARENT: ws },
        cwd: ws,
      });
      assert.equal(r.code, 1);
      const [mount, live] = checks(r.stdout).slice(5);
      assert.deepEqual(mount, {
        id: "mount",
        status: "fail",
        message:
          `the project ${ws} is not under any mount of instance dev (its mounts: ${t.project} -> /work/p); nor does any mount put the workspace parent ${ws} at /workspace, so gamma has no guest path for it`,
        fix: "gamma mounts -i dev --writable --write --restart",
      });
      assert.deepEqual(live, {
        id: "mount-live",
        status: "warn",
        message: `not checked: ${ws} has no guest path in instance dev`,
        fix: "gamma mounts -i dev --writable --write --restart",
      });
      assert.deepEqual([...Deno.readDirSync(ws)], []);
    } finally {
      await Deno.remove(ws, { recursive: true });
    }
  },
);

testBothPaths(
  "gamma doctor: a tool named with --tool fails when the guest lacks it",
  async (via) => {
    await using t = await setup({ via });
    await gitProject(t);
    const r = await runGamma(
      ["doctor", "--kvm-device", KVM_DENIED, "--tool", "cc", "--tool", "no-such-tool-x"],
      { env: t.env, cwd: t.project },
    );
    assert.equal(r.code, 1);
    assert.ok(
      r.stdout.endsWith(
        [
          "fail  tools       not on the guest PATH of instance dev: no-such-tool-x; found: cc (/usr/bin/cc)",
          "                  fix: limactl shell dev -- sudo apt-get install -y no-such-tool-x    # or the package that provides no-such-tool-x",
          "",
          "2 checks failed, 0 warnings",
          "",
        ].join("\n"),
      ),
      r.stdout,
    );
    const usage = await runGamma(["doctor", "--tool=-rf"], { env: t.env });
    assert.equal(usage.code, 2);
    assert.ok(
      usage.stderr.startsWith(
        'gamma doctor: --tool "-rf": give a command name (letters, digits, ".", "_", "+", "-", "/")\n',
      ),
    );
    const extra = await runGamma(["doctor", "now"], { env: t.env });
    assert.equal(extra.code, 2);
    assert.ok(extra.stderr.startsWith('gamma doctor: unexpected argument "now"\n'));
  },
);

testBothPaths(
  "gamma doctor: a stopped instance is not started; the guest checks say so",
  async (via) => {
    await using t = await setup({ via, running: false });
    await gitProject(t);
    const r = await runGamma(["doctor", "--json", "--kvm-device", KVM_DENIED], {
      env: t.env,
      cwd: t.project,
    });
    assert.deepEqual(status(r.stdout), [
      "limactl ok",
      "instance ok",
      "kvm fail",
      "template ok",
      "last-start ok",
      "mount ok",
      "mount-live warn",
      "writable warn",
      "tools warn",
    ]);
    assert.deepEqual(checks(r.stdout)[6], {
      id: "mount-live",
      status: "warn",
      message: "not checked: instance dev is Stopped",
      fix: "limactl start dev",
    });
    assert.deepEqual(await commands(t.lima), onPath(via, ["", "list"]));
  },
);

testBothPaths(
  "gamma doctor: limactl versions below 2.0 warn, below 1.0 fail; a missing limactl fails",
  async (via) => {
    await using t = await setup({ via, running: false });
    const opts = (version: string) => ({
      env: { ...t.env, LIMACTL_STANDIN_VERSION: version },
      cwd: t.project,
    });
    const v1 = await runGamma(["doctor", "--json", "--kvm-device", KVM_DENIED], opts("1.2.3"));
    assert.deepEqual(checks(v1.stdout)[0], {
      id: "limactl",
      status: "warn",
      message:
        `${t.lima.limactl} is Lima 1.2.3; Lima 1.x has had no upstream support since 2026-02-06 and gamma targets 2.x`,
      fix:
        "upgrade Lima to 2.x: https://lima-vm.io/docs/installation/ (Homebrew: brew upgrade lima)",
    });
    const v0 = await runGamma(["doctor", "--json", "--kvm-device", KVM_DENIED], opts("0.23.2"));
    assert.deepEqual(
      [v0.code, checks(v0.stdout)[0]?.status, checks(v0.stdout)[0]?.message],
      [
        1,
        "fail",
        `${t.lima.limactl} is Lima 0.23.2; gamma needs Lima 1.0 or later and supports 2.x`,
      ],
    );
    const empty = await Deno.makeTempDir();
    try {
      const none = await runGamma(["doctor", "--json", "--kvm-device", KVM_DENIED], {
        env: { LIMA_HOME: t.lima.dir, PATH: empty },
        cwd: t.project,
      });
      assert.equal(none.code, 1);
      const [limactl] = checks(none.stdout);
      assert.deepEqual([limactl?.status, limactl?.fix], [
        "fail",
        "install Lima 2.x: https://lima-vm.io/docs/installation/ (or set DEVSHELL_VM_LIMACTL to the absolute path of limactl)",
      ]);
      // (Deno puts its own npm shim directory in front of the PATH it was given)
      assert.match(
        limactl?.message ?? "",
        new RegExp(`^limactl not found on PATH \\((.*:)?${empty}\\)$`),
      );
      assert.deepEqual(status(none.stdout), [
        "limactl fail",
        "instance warn",
        "kvm fail",
        "template warn",
        "last-start warn",
        "mount warn",
        "mount-live warn",
        "writable warn",
        "tools warn",
      ]);
    } finally {
      await Deno.remove(empty);
    }
  },
);

testBothPaths(
  "gamma doctor: an ssh failure fails mount-live and blocks the other guest checks",
  async (via) => {
    await using t = await setup({ via, fault: "ssh" });
    await gitProject(t);
    const r = await runGamma(["doctor", "--json", "--kvm-device", KVM_DENIED], {
      env: t.env,
      cwd: t.project,
    });
    const [live, writable] = checks(r.stdout).slice(6);
    assert.equal(live?.status, "fail");
    assert.match(
      live?.message ?? "",
      /^could not run a command in instance dev: limactl shell exited 255 \(ssh: connect to host 127\.0\.0\.1 port \d+: Connection refused\)$/,
    );
    assert.deepEqual(writable, {
      id: "writable",
      status: "warn",
      message: "not checked: the guest probe failed (see mount-live)",
      fix: "limactl stop dev && limactl start dev",
    });
    assert.deepEqual([...Deno.readDirSync(t.project)].map((e) => e.name), [".git", "sub"]);
  },
);

testBothPaths("gamma doctor --debug prints every limactl command line", async (via) => {
  await using t = await setup({ via, running: false });
  const r = await runGamma(["doctor", "--debug", "--kvm-device", KVM_DENIED], {
    env: t.env,
    cwd: t.project,
  });
  assert.equal(
    r.stderr,
    [
      `gamma: debug: ${JSON.stringify([t.lima.limactl, "--version"])}`,
      `gamma: debug: ${JSON.stringify([t.lima.limactl, "list", "--json", "dev"])}`,
      "",
    ].join("\n"),
  );
});

// ---------------------------------------------------------------- the hints gamma exec prints
// (these need GammaSession.exec to call firstRunProbe and cli/exec.ts to call failureHint)

testBothPaths(
  "gamma exec probes the mount on the first run only, and once more after lima.yaml changes",
  async (via) => {
    await using lima = await createLimaHome();
    const root = await Deno.realPath(await Deno.makeTempDir());
    try {
      await lima.addInstance("dev", {
        mounts: [{ location: root, mountPoint: "/ro", writable: false }],
        running: true,
      });
      const env = {
        ...lima.env,
        DEVSHELL_VM_LIMACTL: lima.limactl,
        DEVSHELL_VM_LIMA_INSTANCE: "dev",
        ...(via === "limactl" ? { DEVSHELL_VM_SSH: "off" } : {}),
      };
      const hint =
        `gamma: hint: the project ${root} is at /ro in instance dev, but its mount ${root} -> /ro is read-only; run \`gamma doctor -i dev\` for the fix\n`;
      const first = await runGamma(["exec", "--", "true"], { env, cwd: root });
      assert.deepEqual([first.code, first.stderr], [0, hint]);
      // list, probe, command
      assert.deepEqual(await commands(lima), onPath(via, ["list", "shell", "shell"]));
      const warm = await runGamma(["exec", "--", "true"], { env, cwd: root });
      assert.deepEqual([warm.code, warm.stderr], [0, ""]);
      // the command alone
      assert.deepEqual(
        (await commands(lima)).slice(3),
        onPath(via, ["list", "shell", "shell", "shell"]).slice(3),
      );
      // a new lima.yaml version is probed again, once
      const yaml = `${lima.dir}/dev/lima.yaml`;
      await Deno.writeTextFile(yaml, `${await Deno.readTextFile(yaml)}# edited\n`);
      const edited = await runGamma(["exec", "--", "true"], { env, cwd: root });
      assert.deepEqual([edited.code, edited.stderr], [0, hint]);
      const quiet = await runGamma(["exec", "--", "true"], {
        env: { ...env, DEVSHELL_VM_LIMA_HINTS: "off" },
        cwd: root,
      });
      assert.deepEqual([quiet.code, quiet.stderr], [0, ""]);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
);

testBothPaths(
  "gamma exec hints about the guest toolchain after exit 126 and 127 only",
  async (via) => {
    await using t = await setup({ via });
    const env = { ...t.env, DEVSHELL_VM_LIMA_HINTS: "on" };
    const missing = await runGamma(["exec", "--", "no-such-tool-xyz"], { env, cwd: t.project });
    assert.equal(missing.code, 127);
    assert.ok(
      missing.stderr.endsWith(
        "no-such-tool-xyz: command not found\n" +
          "gamma: hint: no-such-tool-xyz is not on the PATH of instance dev (exit 127): install it in the guest; `gamma doctor -i dev --tool no-such-tool-xyz` checks the guest toolchain\n",
      ),
      missing.stderr,
    );
    const notRunnable = await runGamma(["exec", "--", "sh", "-c", "exit 126"], {
      env,
      cwd: t.project,
    });
    assert.deepEqual([notRunnable.code, notRunnable.stderr], [
      126,
      "gamma: hint: a command run by sh was found but cannot run (a binary for another OS or CPU, or no execute permission) in instance dev (exit 126); `gamma doctor -i dev --tool NAME` checks the guest toolchain\n",
    ]);
    for (const code of [1, 2, 101, 125]) {
      const r = await runGamma(["exec", "--", "sh", "-c", `exit ${code}`], { env, cwd: t.project });
      assert.deepEqual([r.code, r.stderr], [code, ""], String(code));
    }
    const off = await runGamma(["exec", "--", "no-such-tool-xyz"], {
      env: { ...env, DEVSHELL_VM_LIMA_HINTS: "off" },
      cwd: t.project,
    });
    assert.deepEqual([off.code, off.stderr.includes("gamma: hint:")], [127, false]);
  },
);
