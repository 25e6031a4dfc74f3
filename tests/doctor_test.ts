import assert from "node:assert/strict";
import {
  coveringMount,
  type DoctorCheck,
  type DoctorFacts,
  doctorReport,
  failureHint,
  formatDoctorReport,
  guestProbeScript,
  haLogSinceStart,
  mountCheck,
  mountLiveCheck,
  mountsFixCommand,
  parseGuestProbe,
  probeHint,
} from "../lib/doctor.ts";

const HOME = "/home/me/.lima";
const DIR = `${HOME}/dev`;
const LOG = `${DIR}/ha.stderr.log`;
const APP = { location: "/src/app", mountPoint: "/work/app", writable: true };

/** logrus JSON lines, as the host agent writes ha.stderr.log. */
function haLog(...lines: [string, string][]): string {
  return lines.map(([level, msg]) => JSON.stringify({ level, msg, time: "t" }) + "\n").join("");
}
const START: [string, string] = ["info", `hostagent socket created at ${DIR}/ha.sock`];
const KVM1: [string, string] = [
  "debug",
  "qemu[stderr]: Could not access KVM kernel module: Permission denied",
];
const KVM2: [string, string] = [
  "debug",
  "qemu[stderr]: qemu-system-x86_64: failed to initialize kvm: Permission denied",
];
function events(...statuses: Record<string, unknown>[]): string {
  return statuses.map((status) => JSON.stringify({ time: "t", status }) + "\n").join("");
}

/** A healthy, running instance; each test changes what it is about. */
function facts(over: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    instance: "dev",
    limaHome: HOME,
    platform: "linux",
    limactl: { path: "/usr/local/bin/limactl", version: "2.2.0", searchPath: "/usr/bin" },
    instanceFacts: { state: "found", status: "Running", dir: DIR, errors: [], mounts: [APP] },
    kvm: { device: "/dev/kvm", access: "ok", group: "kvm", groupReadWrite: true },
    templates: {
      source: "limactl",
      dirs: ["/usr/local/share/lima/templates"],
      found: "/usr/local/share/lima/templates",
    },
    logs: { haStdoutLog: events({ running: true }), haStderrLog: haLog(START) },
    project: { cwd: "/src/app/sub", root: "/src/app", guestCwd: "/work/app/sub" },
    live: {
      state: "ran",
      hostDir: "/src/app/sub",
      guestDir: "/work/app/sub",
      dirExists: true,
      markerVisible: true,
      writable: true,
      tools: { cc: "/usr/bin/cc", cargo: "/home/me.guest/.cargo/bin/cargo" },
    },
    tools: ["cc", "cargo"],
    toolsExplicit: false,
    ...over,
  };
}

function byId(f: DoctorFacts, id: string): DoctorCheck | undefined {
  return doctorReport(f).checks.find((c) => c.id === id);
}

Deno.test("doctorReport: a healthy running instance passes every check, in order", () => {
  const report = doctorReport(facts());
  assert.deepEqual(report, {
    ok: true,
    checks: [
      { id: "limactl", status: "ok", message: "/usr/local/bin/limactl (Lima 2.2.0)" },
      { id: "instance", status: "ok", message: `instance dev is Running (${DIR})` },
      { id: "kvm", status: "ok", message: "/dev/kvm is usable by this user" },
      {
        id: "template",
        status: "ok",
        message: "Lima's templates are in /usr/local/share/lima/templates",
      },
      { id: "last-start", status: "ok", message: "instance dev started cleanly" },
      {
        id: "mount",
        status: "ok",
        message:
          "the project /src/app is at /work/app in instance dev (mount /src/app -> /work/app, writable)",
      },
      {
        id: "mount-live",
        status: "ok",
        message: "a marker file created in /src/app/sub is visible at /work/app/sub in the guest",
      },
      { id: "writable", status: "ok", message: "the guest can create files in /work/app/sub" },
      {
        id: "tools",
        status: "ok",
        message: "on the guest PATH: cc (/usr/bin/cc), cargo (/home/me.guest/.cargo/bin/cargo)",
      },
    ],
  });
});

Deno.test("limactl check: missing, unusable, no version, below 1.0, below 2.0", () => {
  const install =
    "install Lima 2.x: https://lima-vm.io/docs/installation/ (or set DEVSHELL_VM_LIMACTL to the absolute path of limactl)";
  const upgrade =
    "upgrade Lima to 2.x: https://lima-vm.io/docs/installation/ (Homebrew: brew upgrade lima)";
  const cases: [DoctorFacts["limactl"], DoctorCheck][] = [
    [{ searchPath: "/usr/bin:/bin" }, {
      id: "limactl",
      status: "fail",
      message: "limactl not found on PATH (/usr/bin:/bin)",
      fix: install,
    }],
    [{ problem: 'DEVSHELL_VM_LIMACTL names "/x", which is not an executable file' }, {
      id: "limactl",
      status: "fail",
      message: 'DEVSHELL_VM_LIMACTL names "/x", which is not an executable file',
      fix: install,
    }],
    [{ path: "/bin/limactl" }, {
      id: "limactl",
      status: "fail",
      message: "/bin/limactl did not print a version (limactl --version)",
      fix: `/bin/limactl --version    # must print "limactl version X.Y.Z"; if not, ${install}`,
    }],
    [{ path: "/bin/limactl", version: "0.23.2" }, {
      id: "limactl",
      status: "fail",
      message: "/bin/limactl is Lima 0.23.2; gamma needs Lima 1.0 or later and supports 2.x",
      fix: upgrade,
    }],
    [{ path: "/bin/limactl", version: "1.2.3" }, {
      id: "limactl",
      status: "warn",
      message:
        "/bin/limactl is Lima 1.2.3; Lima 1.x has had no upstream support since 2026-02-06 and gamma targets 2.x",
      fix: upgrade,
    }],
    [{ path: "/bin/limactl", version: "2.0.0-beta.1" }, {
      id: "limactl",
      status: "ok",
      message: "/bin/limactl (Lima 2.0.0-beta.1)",
    }],
  ];
  for (const [limactl, expected] of cases) {
    assert.deepEqual(byId(facts({ limactl }), "limactl"), expected, JSON.stringify(limactl));
  }
  // with no usable limactl, what needs it says "not checked" and carries the install fix
  const report = doctorReport(facts({ limactl: {}, instanceFacts: undefined, live: undefined }));
  assert.deepEqual(report.checks.find((c) => c.id === "mount"), {
    id: "mount",
    status: "warn",
    message: "not checked: limactl is not usable (see the limactl check)",
    fix: install,
  });
  assert.equal(report.ok, false);
});

Deno.test("instance check: missing, list error, Broken, config errors, Stopped, other states", () => {
  const found = (status: string, errors: string[] = []): DoctorFacts["instanceFacts"] => ({
    state: "found",
    status,
    dir: DIR,
    errors,
    mounts: [APP],
  });
  const cases: [DoctorFacts["instanceFacts"], DoctorCheck][] = [
    [{ state: "missing" }, {
      id: "instance",
      status: "fail",
      message: `instance dev does not exist in ${HOME}`,
      fix: "limactl create --name=dev template:default",
    }],
    [{ state: "error", message: "limactl list dev failed with exit code 1\nmore" }, {
      id: "instance",
      status: "fail",
      message: "limactl list dev failed: limactl list dev failed with exit code 1",
      fix: "limactl list dev",
    }],
    [found("Broken", ["host agent is running but driver is not"]), {
      id: "instance",
      status: "fail",
      message: `instance dev is Broken (${DIR}): host agent is running but driver is not`,
      fix: "limactl stop -f dev && limactl start dev",
    }],
    [found("", ["field `cpus` must be a number"]), {
      id: "instance",
      status: "fail",
      message:
        `instance dev has configuration errors (${DIR}/lima.yaml): field \`cpus\` must be a number`,
      fix: "limactl edit dev",
    }],
    [found("Stopped"), {
      id: "instance",
      status: "ok",
      message: `instance dev is Stopped (${DIR})`,
    }],
    [found("Installing"), {
      id: "instance",
      status: "warn",
      message: `instance dev is Installing (${DIR})`,
      fix: "limactl list dev",
    }],
  ];
  for (const [instanceFacts, expected] of cases) {
    assert.deepEqual(byId(facts({ instanceFacts }), "instance"), expected, expected.message);
  }
  const missing = doctorReport(facts({ instanceFacts: { state: "missing" }, live: undefined }));
  assert.deepEqual(missing.checks.find((c) => c.id === "last-start"), {
    id: "last-start",
    status: "warn",
    message: "not checked: instance dev does not exist",
    fix: "limactl create --name=dev template:default",
  });
  const stopped = doctorReport(facts({ instanceFacts: found("Stopped"), live: undefined }));
  for (const id of ["mount-live", "writable", "tools"]) {
    assert.deepEqual(stopped.checks.find((c) => c.id === id), {
      id,
      status: "warn",
      message: "not checked: instance dev is Stopped",
      fix: "limactl start dev",
    });
  }
  assert.equal(stopped.ok, true);
});

Deno.test("kvm check: the device, and KVM errors counted only since the last start", () => {
  const current = haLog(START, KVM1, KVM2, ["info", "Shutting down the host agent"]);
  const stale = haLog(START, KVM1, KVM2, START, ["info", "SSH Local Port: 60022"]);
  const usermod = 'sudo usermod -aG kvm "$USER"    # then log out and in again (or: newgrp kvm)';
  const kvmDetails = [
    "Could not access KVM kernel module: Permission denied",
    "qemu-system-x86_64: failed to initialize kvm: Permission denied",
  ];
  const cases: [Partial<DoctorFacts>, DoctorCheck][] = [
    [{ kvm: { device: "/dev/kvm", access: "absent", detail: "No such file or directory" } }, {
      id: "kvm",
      status: "fail",
      message: "/dev/kvm does not exist: this host offers no KVM",
      fix:
        "sudo modprobe kvm_intel    # or kvm_amd; and enable virtualization (VT-x/AMD-V) in the firmware",
    }],
    [{
      kvm: {
        device: "/dev/kvm",
        access: "denied",
        detail: "Permission denied",
        group: "kvm",
        groupReadWrite: true,
      },
    }, {
      id: "kvm",
      status: "fail",
      message: "/dev/kvm exists but this user cannot open it (Permission denied)",
      fix: usermod,
    }],
    [{
      kvm: {
        device: "/dev/kvm",
        access: "denied",
        detail: "Permission denied",
        group: "root",
        groupReadWrite: false,
      },
      logs: { haStdoutLog: events({ exiting: true }), haStderrLog: current },
    }, {
      id: "kvm",
      status: "fail",
      message:
        `/dev/kvm exists but this user cannot open it (Permission denied); the last start of dev failed on it (2 KVM errors in ${LOG})`,
      fix:
        'sudo chgrp kvm /dev/kvm && sudo chmod 660 /dev/kvm && sudo usermod -aG kvm "$USER"    # then log out and in again',
      details: kvmDetails,
    }],
    [{ kvm: { device: "/dev/kvm", access: "error", detail: "Device busy" } }, {
      id: "kvm",
      status: "warn",
      message: "cannot open /dev/kvm: Device busy",
      fix: "ls -l /dev/kvm",
    }],
    [{ logs: { haStdoutLog: events({ exiting: true }), haStderrLog: current } }, {
      id: "kvm",
      status: "warn",
      message:
        `/dev/kvm is usable now; the last start of dev failed on it (2 KVM errors in ${LOG})`,
      fix: "limactl start dev",
      details: kvmDetails,
    }],
    [{ logs: { haStdoutLog: events({ running: true }), haStderrLog: stale } }, {
      id: "kvm",
      status: "ok",
      message:
        `/dev/kvm is usable by this user; 2 KVM errors in ${LOG} come from an older start and are ignored`,
    }],
  ];
  for (const [over, expected] of cases) {
    assert.deepEqual(byId(facts(over), "kvm"), expected, expected.message);
  }
  // only Linux hosts have the check
  assert.equal(byId(facts({ platform: "darwin" }), "kvm"), undefined);
});

Deno.test("template check: found, missing for an existing instance (warn) or a missing one (fail)", () => {
  const missing = { source: "limactl" as const, dirs: ["/opt/lima/share/lima/templates"] };
  assert.deepEqual(byId(facts({ templates: missing }), "template"), {
    id: "template",
    status: "warn",
    message:
      "Lima's templates are missing: no default.yaml in /opt/lima/share/lima/templates (next to limactl); limactl cannot create instances from templates",
    fix:
      "reinstall Lima so that /opt/lima/share/lima/templates exists, or: export LIMA_TEMPLATES_PATH=/PREFIX/share/lima/templates",
  });
  assert.deepEqual(
    byId(
      facts({
        instanceFacts: { state: "missing" },
        templates: { source: "LIMA_TEMPLATES_PATH", dirs: ["/a", "/b"] },
      }),
      "template",
    ),
    {
      id: "template",
      status: "fail",
      message:
        "Lima's templates are missing: no default.yaml in /a, /b (LIMA_TEMPLATES_PATH); limactl cannot create instance dev",
      fix:
        "export LIMA_TEMPLATES_PATH=/PREFIX/share/lima/templates    # a directory holding default.yaml; or unset it",
    },
  );
});

Deno.test("last-start check: clean, degraded, never ready, failed, stopped after success, never started", () => {
  const stopped: DoctorFacts["instanceFacts"] = {
    state: "found",
    status: "Stopped",
    dir: DIR,
    errors: [],
    mounts: [APP],
  };
  const cases: [Partial<DoctorFacts>, DoctorCheck][] = [
    [{
      logs: {
        haStdoutLog: events({ running: false }, {
          running: true,
          degraded: true,
          errors: ["guest agent does not seem to be running; port forwards will not work"],
        }),
        haStderrLog: haLog(START),
      },
    }, {
      id: "last-start",
      status: "warn",
      message:
        `instance dev is up but degraded: guest agent does not seem to be running; port forwards will not work; file sharing and port forwarding may not work (${LOG})`,
      fix: "limactl stop dev && limactl start dev",
    }],
    [{
      logs: {
        haStdoutLog: events({ sshLocalPort: 60022 }),
        haStderrLog: haLog(START, ["info", "Waiting for the essential requirement 1 of 3: `ssh`"]),
      },
    }, {
      id: "last-start",
      status: "warn",
      message:
        `the host agent of dev runs, but the VM has not reported ready (no running event in ${DIR}/ha.stdout.log)`,
      fix: "limactl stop -f dev && limactl start dev",
      details: [
        `hostagent socket created at ${DIR}/ha.sock`,
        "Waiting for the essential requirement 1 of 3: `ssh`",
      ],
    }],
    [{
      instanceFacts: stopped,
      live: undefined,
      logs: {
        haStdoutLog: events({ sshLocalPort: 60022 }, { exiting: true }),
        haStderrLog: haLog(START, KVM1, ["info", "Shutting down the host agent"]),
      },
    }, {
      id: "last-start",
      status: "fail",
      message: `the last start of dev failed: QEMU could not use KVM (see the kvm check) (${LOG})`,
      fix: "limactl start dev    # after fixing the cause; gamma start -i dev explains failures",
      details: [
        `hostagent socket created at ${DIR}/ha.sock`,
        "qemu[stderr]: Could not access KVM kernel module: Permission denied",
        "Shutting down the host agent",
      ],
    }],
    [{
      instanceFacts: stopped,
      live: undefined,
      logs: {
        haStdoutLog: events({ exiting: true, errors: ["first", "second"] }),
        haStderrLog: haLog(START, ["error", "boom"]),
      },
    }, {
      id: "last-start",
      status: "fail",
      message: `the last start of dev failed: first (${LOG})`,
      fix: "limactl start dev    # after fixing the cause; gamma start -i dev explains failures",
      details: ["second", `hostagent socket created at ${DIR}/ha.sock`, "boom"],
    }],
    [{
      instanceFacts: stopped,
      live: undefined,
      logs: { haStdoutLog: "", haStderrLog: haLog(START, ["fatal", "hostagent died"]) },
    }, {
      id: "last-start",
      status: "fail",
      message: `the last start of dev failed: hostagent died (${LOG})`,
      fix: "limactl start dev    # after fixing the cause; gamma start -i dev explains failures",
      details: [`hostagent socket created at ${DIR}/ha.sock`, "hostagent died"],
    }],
    [{
      instanceFacts: stopped,
      live: undefined,
      logs: {
        haStdoutLog: events({ running: true, degraded: true, errors: ["no guest agent"] }, {
          exiting: true,
        }),
        haStderrLog: haLog(START),
      },
    }, {
      id: "last-start",
      status: "ok",
      message:
        "instance dev is stopped; its last start succeeded (it came up degraded: no guest agent)",
    }],
    [{ instanceFacts: stopped, live: undefined, logs: {} }, {
      id: "last-start",
      status: "ok",
      message: `instance dev has not been started yet (no ${LOG})`,
    }],
  ];
  for (const [over, expected] of cases) {
    assert.deepEqual(byId(facts(over), "last-start"), expected, expected.message);
  }
});

Deno.test("mount check: writable, read-only, not mounted, only gamma's workspace assumption", () => {
  const fix = "gamma mounts -i dev --writable --write --restart";
  const home = { location: "/src", mountPoint: "/src", writable: false };
  const withMounts = (mounts: typeof APP[]): Partial<DoctorFacts> => ({
    instanceFacts: { state: "found", status: "Running", dir: DIR, errors: [], mounts },
  });
  assert.deepEqual(byId(facts(withMounts([home])), "mount"), {
    id: "mount",
    status: "warn",
    message:
      "the project /src/app is at /src/app in instance dev, but its mount /src -> /src is read-only",
    fix,
  });
  assert.deepEqual(byId(facts(withMounts([])), "mount"), {
    id: "mount",
    status: "fail",
    message: "the project /src/app is not under any mount of instance dev (it has no mounts)",
    fix,
  });
  const other = { location: "/elsewhere", mountPoint: "/workspace/x", writable: true };
  assert.deepEqual(
    byId(
      facts({
        ...withMounts([other]),
        project: {
          cwd: "/src/app",
          root: "/src/app",
          guestCwd: "/workspace/app",
          assumedWorkspace: { location: "/src", mountPoint: "/workspace", writable: true },
        },
      }),
      "mount",
    ),
    {
      id: "mount",
      status: "fail",
      message:
        "the project /src/app is not under any mount of instance dev (its mounts: /elsewhere -> /workspace/x); nor does any mount put the workspace parent /src at /workspace, so gamma has no guest path for it",
      fix,
    },
  );
});

Deno.test("mount-live and writable checks: visible, missing directory, other files, read-only, probe failures", () => {
  const ran = (over: Record<string, unknown>): Partial<DoctorFacts> => ({
    live: {
      state: "ran",
      hostDir: "/src/app/sub",
      guestDir: "/work/app/sub",
      dirExists: true,
      markerVisible: true,
      writable: true,
      tools: { cc: "/usr/bin/cc", cargo: "/c" },
      ...over,
    },
  });
  const restart =
    "limactl stop dev && limactl start dev    # the running VM does not have the mounts lima.yaml lists";
  assert.deepEqual(byId(facts(ran({ dirExists: false, markerVisible: false })), "mount-live"), {
    id: "mount-live",
    status: "fail",
    message:
      "/src/app/sub should be at /work/app/sub in instance dev, but the guest has no such directory",
    fix: restart,
  });
  assert.deepEqual(byId(facts(ran({ markerVisible: false })), "mount-live"), {
    id: "mount-live",
    status: "fail",
    message:
      "a marker file created in /src/app/sub is not visible at /work/app/sub in instance dev: the guest shows other files there",
    fix: restart,
  });
  // without a real mount behind the mapping, the fix is the mount itself
  const unmounted: Partial<DoctorFacts> = {
    ...ran({ markerVisible: false }),
    instanceFacts: { state: "found", status: "Running", dir: DIR, errors: [], mounts: [] },
  };
  assert.equal(
    byId(facts(unmounted), "mount-live")?.fix,
    "gamma mounts -i dev --writable --write --restart",
  );
  assert.deepEqual(byId(facts(ran({ markerError: "Permission denied" })), "mount-live"), {
    id: "mount-live",
    status: "warn",
    message: "not checked: could not create a marker file in /src/app/sub: Permission denied",
    fix: "cd A_DIRECTORY_YOU_CAN_WRITE && gamma doctor -i dev",
  });
  assert.deepEqual(byId(facts(ran({ guestDir: undefined })), "writable"), {
    id: "writable",
    status: "warn",
    message: "not checked: /src/app/sub has no guest path in instance dev",
    fix: "gamma mounts -i dev --writable --write --restart",
  });
  // a read-only mount: the guest cannot write, and the fix makes the mount writable
  const ro: Partial<DoctorFacts> = {
    ...ran({ writable: false, writeError: "sh: 1: cannot create x: Read-only file system" }),
    instanceFacts: {
      state: "found",
      status: "Running",
      dir: DIR,
      errors: [],
      mounts: [{ ...APP, writable: false }],
    },
  };
  assert.deepEqual(byId(facts(ro), "writable"), {
    id: "writable",
    status: "fail",
    message:
      "the guest cannot create files in /work/app/sub: sh: 1: cannot create x: Read-only file system",
    fix: "gamma mounts -i dev --writable --write --restart",
  });
  assert.deepEqual(byId(facts(ran({ writable: false })), "writable"), {
    id: "writable",
    status: "fail",
    message: "the guest cannot create files in /work/app/sub: permission denied",
    fix: "ls -ld /src/app/sub    # the host user running the VM must be able to write it",
  });
  assert.deepEqual(byId(facts(ran({ dirExists: false })), "writable"), {
    id: "writable",
    status: "fail",
    message: "the guest cannot create files in /work/app/sub: no such directory in instance dev",
    fix: restart,
  });
  const failed = facts({ live: { state: "failed", code: 255, stderr: "\nssh: refused\r\n" } });
  const report = doctorReport(failed);
  assert.deepEqual(report.checks.slice(-3), [
    {
      id: "mount-live",
      status: "fail",
      message: "could not run a command in instance dev: limactl shell exited 255 (ssh: refused)",
      fix: "limactl stop dev && limactl start dev",
    },
    {
      id: "writable",
      status: "warn",
      message: "not checked: the guest probe failed (see mount-live)",
      fix: "limactl stop dev && limactl start dev",
    },
    {
      id: "tools",
      status: "warn",
      message: "not checked: the guest probe failed (see mount-live)",
      fix: "limactl stop dev && limactl start dev",
    },
  ]);
});

Deno.test("tools check: default tools warn when missing, named ones fail", () => {
  const live = (tools: Record<string, string>): DoctorFacts["live"] => ({
    state: "ran",
    hostDir: "/src/app",
    guestDir: "/work/app",
    dirExists: true,
    markerVisible: true,
    writable: true,
    tools,
  });
  const rustup =
    `limactl shell dev -- sh -c "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y"`;
  assert.deepEqual(byId(facts({ live: live({ cc: "/usr/bin/cc", cargo: "" }) }), "tools"), {
    id: "tools",
    status: "warn",
    message: "not on the guest PATH of instance dev: cargo; found: cc (/usr/bin/cc)",
    fix: rustup,
  });
  const named = facts({
    tools: ["cc", "make", "jq"],
    toolsExplicit: true,
    live: live({ cc: "", make: "", jq: "" }),
  });
  assert.deepEqual(byId(named, "tools"), {
    id: "tools",
    status: "fail",
    message: "not on the guest PATH of instance dev: cc, make, jq",
    fix: [
      "limactl shell dev -- sh -c 'sudo apt-get update && sudo apt-get install -y build-essential'",
      "limactl shell dev -- sh -c 'sudo apt-get update && sudo apt-get install -y build-essential'",
      "limactl shell dev -- sudo apt-get install -y jq    # or the package that provides jq",
    ].join("\n"),
  });
  assert.equal(doctorReport(named).ok, false);
  assert.deepEqual(byId(facts({ tools: [], live: live({}) }), "tools"), {
    id: "tools",
    status: "ok",
    message: "no tools to look for",
  });
});

Deno.test("haLogSinceStart keeps the lines of the last start, as messages", () => {
  const log = haLog(START, KVM1, START, ["info", "READY"]) + "plain text line\n";
  assert.deepEqual(haLogSinceStart(log), {
    current: [
      { msg: `hostagent socket created at ${DIR}/ha.sock`, level: "info" },
      { msg: "READY", level: "info" },
      { msg: "plain text line", level: undefined },
    ],
    older: [
      { msg: `hostagent socket created at ${DIR}/ha.sock`, level: "info" },
      { msg: KVM1[1], level: "debug" },
    ],
  });
  assert.deepEqual(haLogSinceStart(undefined), { current: [], older: [] });
  assert.deepEqual(haLogSinceStart(haLog(KVM1)).current.length, 1);
});

Deno.test("coveringMount follows toGuestPath: the longest location, hidden mount points skipped", () => {
  const home = { location: "/home/me", mountPoint: "/home/me", writable: false };
  const app = { location: "/home/me/app", mountPoint: "/workspace", writable: true };
  assert.deepEqual(coveringMount("/home/me/app/src", [home, app]), {
    mount: app,
    guestPath: "/workspace/src",
  });
  assert.deepEqual(coveringMount("/home/me/doc", [home, app]), {
    mount: home,
    guestPath: "/home/me/doc",
  });
  // a deeper mount point hides what the shallower mount would show there
  const shadow = { location: "/other", mountPoint: "/home/me/doc", writable: true };
  assert.equal(coveringMount("/home/me/doc/x", [home, shadow]), undefined);
  assert.equal(coveringMount("/etc", [home]), undefined);
});

Deno.test("formatDoctorReport prints one line per check, details, fixes and a summary", () => {
  const text = formatDoctorReport({
    ok: false,
    checks: [
      { id: "limactl", status: "ok", message: "/bin/limactl (Lima 2.2.0)" },
      {
        id: "last-start",
        status: "fail",
        message: "the last start of dev failed: boom",
        fix: "limactl start dev",
        details: ["line 1", "line 2"],
      },
      { id: "tools", status: "warn", message: "not on the guest PATH: a, b", fix: "fix a\nfix b" },
    ],
  });
  assert.equal(
    text,
    [
      "ok    limactl     /bin/limactl (Lima 2.2.0)",
      "fail  last-start  the last start of dev failed: boom",
      "                  | line 1",
      "                  | line 2",
      "                  fix: limactl start dev",
      "warn  tools       not on the guest PATH: a, b",
      "                  fix: fix a",
      "                       fix b",
      "",
      "1 check failed, 1 warning",
      "",
    ].join("\n"),
  );
  assert.equal(
    formatDoctorReport({ ok: true, checks: [] }),
    "\nall checks passed\n",
  );
});

async function runProbe(
  args: string[],
  shell = "/bin/sh",
): Promise<{ code: number; stdout: string }> {
  const out = await new Deno.Command(shell, {
    args: ["-c", guestProbeScript(), "sh", ...args],
    env: { PATH: "/usr/bin:/bin" },
    clearEnv: true,
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
}

Deno.test("guestProbeScript answers about the directory, the marker, writing and tools", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/.m`, "tok123\n");
    await Deno.writeTextFile(`${dir}/.wrong`, "other\n");
    for (const shell of ["/bin/sh", "/bin/bash"]) {
      const ok = await runProbe([dir, ".m", "tok123", "1", "sh", "no-such-tool-x"], shell);
      assert.equal(ok.code, 0);
      assert.deepEqual(parseGuestProbe(ok.stdout), {
        dirExists: true,
        markerVisible: true,
        writable: true,
        tools: { sh: "/usr/bin/sh", "no-such-tool-x": "" },
      });
      // the write test cleaned up after itself
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [".m", ".wrong"]);
      assert.deepEqual(parseGuestProbe((await runProbe([dir, ".wrong", "tok123", "0"])).stdout), {
        dirExists: true,
        markerVisible: false,
        tools: {},
      });
      assert.deepEqual(parseGuestProbe((await runProbe([`${dir}/nope`, ".m", "t", "1"])).stdout), {
        dirExists: false,
        markerVisible: false,
        tools: {},
      });
      assert.deepEqual(parseGuestProbe((await runProbe(["", "", "t", "1", "sh"])).stdout), {
        tools: { sh: "/usr/bin/sh" },
      });
    }
    // a directory the shell cannot create files in (even as root): /proc
    const proc = parseGuestProbe((await runProbe(["/proc", "", "t", "1"])).stdout);
    assert.equal(proc?.writable, false);
    assert.match(proc?.writeError ?? "", /\/proc\/\.gamma-write-t/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseGuestProbe needs the header; it skips a login banner before it", () => {
  assert.equal(parseGuestProbe("dir=1\n"), undefined);
  assert.deepEqual(
    parseGuestProbe("Welcome!\ngamma-probe-1\nwrite=0\nwriteerr=a=b\nwriteerr=second\ntool=x=\n"),
    { writable: false, writeError: "a=b", tools: { x: "" } },
  );
});

Deno.test("probeHint names the first problem of mount and mount-live and points to gamma doctor", () => {
  const base = facts({
    instanceFacts: {
      state: "found",
      status: "Running",
      dir: DIR,
      errors: [],
      mounts: [{ ...APP, writable: false }],
    },
  });
  assert.equal(
    probeHint("dev", [mountCheck(base), mountLiveCheck(base)]),
    "gamma: hint: the project /src/app is at /work/app in instance dev, but its mount /src/app -> /work/app is read-only; run `gamma doctor -i dev` for the fix",
  );
  const good = facts();
  assert.equal(probeHint("dev", [mountCheck(good), mountLiveCheck(good)]), undefined);
  // "not checked" is no problem to hint about
  assert.equal(
    probeHint("dev", [{ id: "mount-live", status: "warn", message: "not checked: x" }]),
    undefined,
  );
  assert.equal(mountsFixCommand("dev"), "gamma mounts -i dev --writable --write --restart");
});

Deno.test("failureHint fires after exit 126 and 127 only, on Lima, with hints on", () => {
  const base = { command: "cargo", instance: "dev", backend: "lima" as const, limaHints: true };
  assert.equal(
    failureHint({ ...base, code: 127 }),
    "gamma: hint: cargo is not on the PATH of instance dev (exit 127): install it in the guest; `gamma doctor -i dev --tool cargo` checks the guest toolchain",
  );
  assert.equal(
    failureHint({ ...base, command: "./target/release/app", code: 126 }),
    "gamma: hint: ./target/release/app was found in instance dev but cannot run there (exit 126): a binary for another OS or CPU, or a file without execute permission; `gamma doctor -i dev --tool ./target/release/app` shows which one the guest finds",
  );
  assert.equal(
    failureHint({ ...base, command: "my tool", code: 127 })?.includes("'my tool'"),
    true,
  );
  // A shell's 127 is about a command the shell ran, not about the shell.
  assert.equal(
    failureHint({ ...base, command: "/bin/sh", code: 127 }),
    "gamma: hint: a command run by /bin/sh was not found in instance dev (exit 127); `gamma doctor -i dev --tool NAME` checks the guest toolchain",
  );
  assert.equal(
    failureHint({ ...base, command: "bash", code: 126 }),
    "gamma: hint: a command run by bash was found but cannot run (a binary for another OS or CPU, or no execute permission) in instance dev (exit 126); `gamma doctor -i dev --tool NAME` checks the guest toolchain",
  );
  for (const code of [0, 1, 2, 101, 125, 128, 130, 255]) {
    assert.equal(failureHint({ ...base, code }), undefined, String(code));
  }
  assert.equal(failureHint({ ...base, code: 127, limaHints: false }), undefined);
  assert.equal(failureHint({ ...base, code: 127, backend: "host" }), undefined);
});
