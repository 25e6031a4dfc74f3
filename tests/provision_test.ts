import assert from "node:assert/strict";
import {
  binaryPlan,
  binaryProbeScript,
  buildEssentialResultLine,
  buildEssentialScript,
  buildResultLine,
  guestBuildScript,
  manualBuildEssential,
  parseBinaryProbe,
  parseStepResult,
  parseToolchainProbe,
  projectBinaryName,
  toolchainPlan,
  type ToolchainProbe,
  toolchainProbeScript,
} from "../lib/provision.ts";

/** A directory of fake commands, used as the whole PATH of a script run. */
async function fakeBin(commands: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "gamma-fake-bin-" });
  for (const [name, body] of Object.entries(commands)) {
    await Deno.writeTextFile(`${dir}/${name}`, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  return dir;
}

async function run(
  script: string,
  args: string[],
  path: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command("/bin/sh", {
    args: ["-c", script, "sh", ...args],
    env: { PATH: path },
    clearEnv: true,
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

// A fake sudo: `-n true` answers per SUDO_OK, anything else runs the command.
const SUDO = (ok: boolean): string =>
  `[ "$1" = -n ] && shift\nif [ "$1" = true ]; then exit ${ok ? 0 : 1}; fi\nexec "$@"`;

Deno.test("toolchainProbeScript tells present, absent (with apt and sudo facts) apart", async () => {
  const cc = await fakeBin({ cc: "exit 0" });
  const gcc = await fakeBin({ gcc: "exit 0" });
  const aptSudo = await fakeBin({ "apt-get": "exit 0", dpkg: "exit 0", sudo: SUDO(true) });
  const aptPassword = await fakeBin({ "apt-get": "exit 0", dpkg: "exit 0", sudo: SUDO(false) });
  const bare = await fakeBin({});
  try {
    const cases: [string, ToolchainProbe][] = [
      [cc, { state: "present", cc: `${cc}/cc` }],
      [gcc, { state: "present", cc: `${gcc}/gcc` }],
      [aptSudo, { state: "absent", apt: true, sudo: "yes" }],
      [aptPassword, { state: "absent", apt: true, sudo: "password" }],
      [bare, { state: "absent", apt: false, sudo: "absent" }],
    ];
    for (const [path, expected] of cases) {
      assert.deepEqual(
        parseToolchainProbe(await run(toolchainProbeScript(), [], path)),
        expected,
        path,
      );
    }
  } finally {
    for (const d of [cc, gcc, aptSudo, aptPassword, bare]) {
      await Deno.remove(d, { recursive: true });
    }
  }
});

Deno.test("parseToolchainProbe reports a failed probe, never 'absent'", () => {
  assert.deepEqual(
    parseToolchainProbe({
      code: 255,
      stdout: "",
      stderr: "\nssh: connect to host 127.0.0.1 port 60022: Connection refused\r\n",
    }),
    {
      state: "failed",
      code: 255,
      detail: "ssh: connect to host 127.0.0.1 port 60022: Connection refused",
    },
  );
  assert.deepEqual(parseToolchainProbe({ code: 0, stdout: "banner only\n", stderr: "" }), {
    state: "failed",
    code: 0,
    detail: "",
  });
  assert.deepEqual(parseToolchainProbe({ code: 1, stdout: "gamma-probe-1\ncc=\n", stderr: "" }), {
    state: "failed",
    code: 1,
    detail: "",
  });
});

Deno.test("toolchainPlan: install only with apt and password-less sudo; else say how by hand", () => {
  const manual =
    "limactl shell dev -- sh -c 'sudo apt-get update && sudo apt-get install -y build-essential'";
  assert.equal(manualBuildEssential("dev"), manual);
  const none =
    "gamma: guest: no C compiler (cc or gcc) on the PATH of instance dev; Rust needs one to link";
  const cases: [ToolchainProbe, { lines: string[]; install: boolean }][] = [
    [{ state: "present", cc: "/usr/bin/cc" }, { lines: [], install: false }],
    [{ state: "failed", code: 255, detail: "ssh: refused" }, {
      lines: [
        "gamma: guest: could not check instance dev for a C compiler (limactl shell exited 255: ssh: refused); nothing installed",
      ],
      install: false,
    }],
    [{ state: "absent", apt: false, sudo: "yes" }, {
      lines: [
        none,
        "gamma: hint: the guest has no apt-get: install gcc and binutils with its package manager (limactl shell dev)",
      ],
      install: false,
    }],
    [{ state: "absent", apt: true, sudo: "absent" }, {
      lines: [
        none,
        "gamma: hint: the guest has no sudo: as root in instance dev run apt-get update && apt-get install -y build-essential",
      ],
      install: false,
    }],
    [{ state: "absent", apt: true, sudo: "password" }, {
      lines: [
        none,
        `gamma: hint: sudo in instance dev asks for a password, so gamma does not install build-essential; run: ${manual}`,
      ],
      install: false,
    }],
    [{ state: "absent", apt: true, sudo: "yes" }, {
      lines: [
        none,
        "gamma: guest: installing build-essential in instance dev with sudo apt-get (DEVSHELL_VM_AUTO_BUILD_ESSENTIAL=off skips this):",
      ],
      install: true,
    }],
  ];
  for (const [probe, expected] of cases) {
    assert.deepEqual(toolchainPlan(probe, "dev"), expected, JSON.stringify(probe));
  }
});

Deno.test("buildEssentialScript checks sudo first, streams apt to stderr and reports the step", async () => {
  // `sudo -n env DEBIAN_FRONTEND=noninteractive apt-get …`: the fake env drops the assignment
  const apt = 'echo "apt-get $*"; [ "$1" != "$FAIL_AT" ] || exit 100';
  const ok = await fakeBin({
    sudo: SUDO(true),
    env: 'shift; exec "$@"',
    "apt-get": apt.replace("$FAIL_AT", "none"),
  });
  const updateFails = await fakeBin({
    sudo: SUDO(true),
    env: 'shift; exec "$@"',
    "apt-get": apt.replace("$FAIL_AT", "update"),
  });
  const installFails = await fakeBin({
    sudo: SUDO(true),
    env: 'shift; exec "$@"',
    "apt-get": apt.replace("$FAIL_AT", "install"),
  });
  const password = await fakeBin({ sudo: SUDO(false) });
  try {
    assert.deepEqual(await run(buildEssentialScript(), [], ok), {
      code: 0,
      stdout: "step=done\n",
      stderr: [
        "+ sudo apt-get update",
        "apt-get update",
        "+ sudo apt-get install -y build-essential",
        "apt-get install -y build-essential",
        "",
      ].join("\n"),
    });
    assert.deepEqual(await run(buildEssentialScript(), [], updateFails), {
      code: 1,
      stdout: "step=update rc=100\n",
      stderr: "+ sudo apt-get update\napt-get update\n",
    });
    const install = await run(buildEssentialScript(), [], installFails);
    assert.deepEqual([install.code, install.stdout], [1, "step=install rc=100\n"]);
    assert.deepEqual(await run(buildEssentialScript(), [], password), {
      code: 1,
      stdout: "step=sudo\n",
      stderr: "",
    });
  } finally {
    for (const d of [ok, updateFails, installFails, password]) {
      await Deno.remove(d, { recursive: true });
    }
  }
});

Deno.test("parseStepResult and the result lines", () => {
  assert.deepEqual(parseStepResult(0, "step=done\n"), { done: true });
  assert.deepEqual(parseStepResult(1, "step=update rc=100\n"), {
    done: false,
    step: "update",
    rc: 100,
  });
  assert.deepEqual(parseStepResult(1, "step=sudo\n"), { done: false, step: "sudo", rc: undefined });
  assert.deepEqual(parseStepResult(255, ""), { done: false, step: "unknown", rc: 255 });
  assert.deepEqual(parseStepResult(1, "step=done\n"), { done: false, step: "unknown", rc: 1 });
  const manual =
    "run it by hand: limactl shell dev -- sh -c 'sudo apt-get update && sudo apt-get install -y build-essential'";
  const cases: [Parameters<typeof buildEssentialResultLine>[0], string][] = [
    [{ done: true }, "gamma: guest: build-essential installed; instance dev has a C compiler now"],
    [
      { done: false, step: "sudo" },
      `gamma: guest: installing build-essential failed: sudo asks for a password; ${manual}`,
    ],
    [
      { done: false, step: "update", rc: 100 },
      `gamma: guest: installing build-essential failed: apt-get update failed (exit 100); ${manual}`,
    ],
    [
      { done: false, step: "install", rc: 100 },
      `gamma: guest: installing build-essential failed: apt-get install failed (exit 100); ${manual}`,
    ],
    [
      { done: false, step: "unknown", rc: 255 },
      `gamma: guest: installing build-essential failed: the install script failed (exit 255); ${manual}`,
    ],
  ];
  for (const [result, line] of cases) assert.equal(buildEssentialResultLine(result, "dev"), line);
  const f = { name: "app", instance: "dev", guestWorkspace: "/workspace" };
  assert.equal(
    buildResultLine({ done: true }, f),
    "gamma: guest: built target/release/app in /workspace",
  );
  assert.equal(
    buildResultLine({ done: false, step: "cargo" }, f),
    "gamma: guest: cannot build app: cargo is not on the PATH of instance dev (gamma doctor -i dev --tool cargo)",
  );
  assert.equal(
    buildResultLine({ done: false, step: "cd" }, f),
    "gamma: guest: cannot build app: instance dev has no directory /workspace",
  );
  assert.equal(
    buildResultLine({ done: false, step: "build", rc: 101 }, f),
    "gamma: guest: building app failed (cargo build exited 101)",
  );
});

Deno.test("projectBinaryName reads [[bin]] and [package] names", () => {
  const cases: [string, boolean, string | undefined][] = [
    ['[package]\nname = "todo"\nversion = "0.1.0"\n', true, "todo"],
    ['[package]\nname = "todo"\n', false, undefined],
    ["[package]\nname = 'quoted'  # comment\n", true, "quoted"],
    ['[package]\nname = "pkg"\n\n[[bin]]\nname = "tool"\npath = "src/tool.rs"\n', false, "tool"],
    ['[workspace]\nmembers = ["a"]\n', true, undefined],
    ['[dependencies]\nname = "not-this"\n[package]\nname = "this"\n', true, "this"],
  ];
  for (const [manifest, main, expected] of cases) {
    assert.equal(projectBinaryName(manifest, main), expected, manifest);
  }
});

Deno.test("binaryProbeScript finds the binary on PATH or in the release directory", async () => {
  const onPath = await fakeBin({ app: "exit 0" });
  const release = await fakeBin({ app: "exit 0" });
  const empty = await fakeBin({});
  try {
    const found = async (path: string, dir: string): Promise<string | undefined> =>
      parseBinaryProbe(await run(binaryProbeScript(), ["app", dir], path));
    assert.equal(await found(onPath, ""), `${onPath}/app`);
    assert.equal(await found(empty, release), `${release}/app`);
    assert.equal(await found(empty, ""), "");
    assert.equal(await found(empty, empty), "");
    assert.equal(parseBinaryProbe({ code: 255, stdout: "" }), undefined);
  } finally {
    for (const d of [onPath, release, empty]) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("guestBuildScript builds in the directory, or says which step failed", async () => {
  const work = await Deno.makeTempDir();
  const cargo = await fakeBin({
    cargo: 'echo "cargo $* in $(pwd)"; [ "$4" != broken ] || exit 101',
    pwd: "exec /bin/pwd",
  });
  const noCargo = await fakeBin({});
  try {
    assert.deepEqual(await run(guestBuildScript(), [work, "app"], cargo), {
      code: 0,
      stdout: "step=done\n",
      stderr: `+ cargo build --release --bin app\ncargo build --release --bin app in ${work}\n`,
    });
    const broken = await run(guestBuildScript(), [work, "broken"], cargo);
    assert.deepEqual([broken.code, broken.stdout], [1, "step=build rc=101\n"]);
    const missing = await run(guestBuildScript(), [work, "app"], noCargo);
    assert.deepEqual([missing.code, missing.stdout], [1, "step=cargo\n"]);
    const noDir = await run(guestBuildScript(), [`${work}/nope`, "app"], cargo);
    assert.deepEqual([noDir.code, noDir.stdout], [1, "step=cd\n"]);
  } finally {
    for (const d of [work, cargo, noCargo]) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("binaryPlan: hint, host build offer, guest build, or nothing", () => {
  const base = {
    instance: "dev",
    name: "todo",
    found: "",
    guestWorkspace: "/workspace",
    guestRelease: "/workspace/target/release",
    hostWorkspace: "/src/todo",
    autoBuild: false,
  };
  assert.deepEqual(binaryPlan({ ...base, found: "/usr/local/bin/todo" }), {
    lines: [],
    build: false,
  });
  assert.deepEqual(binaryPlan({ ...base, found: undefined }), {
    lines: ["gamma: guest: could not look for todo in instance dev"],
    build: false,
  });
  const missing =
    "gamma: guest: todo (this project's binary) is not on the PATH of instance dev nor in /workspace/target/release (the apt package devtodo is a different program)";
  assert.deepEqual(binaryPlan(base), {
    lines: [
      missing,
      "gamma: hint: build it in the guest: gamma exec -w /workspace -- cargo build --release --bin todo (DEVSHELL_VM_AUTO_BUILD_TODO_GUEST=on does it when gamma shell starts)",
    ],
    build: false,
  });
  assert.deepEqual(binaryPlan({ ...base, autoBuild: true }), {
    lines: [
      missing,
      "gamma: guest: building todo in instance dev (DEVSHELL_VM_AUTO_BUILD_TODO_GUEST) in /workspace:",
    ],
    build: true,
  });
  // the workspace is outside every mount, the host has a Linux build
  assert.deepEqual(
    binaryPlan({
      ...base,
      name: "app",
      guestWorkspace: undefined,
      guestRelease: undefined,
      hostWorkspace: "/src/app",
      hostBinary: "/src/app/target/release/app",
      platform: "linux",
      autoBuild: true,
    }),
    {
      lines: [
        "gamma: guest: app (this project's binary) is not on the PATH of instance dev",
        "gamma: hint: the project /src/app is not under a mount of instance dev: gamma mounts -i dev --writable --write --restart",
        "gamma: hint: or use the host's build /src/app/target/release/app: gamma mounts -i dev --add /src/app/target/release:/host-app-bin:ro --path-prepend /host-app-bin --write --restart",
      ],
      build: false,
    },
  );
  // a macOS build cannot run in the Linux guest: no such offer
  assert.equal(
    binaryPlan({
      ...base,
      guestRelease: undefined,
      hostBinary: "/src/todo/target/release/todo",
      platform: "darwin",
    }).lines.length,
    2,
  );
});
