import assert from "node:assert/strict";
import { GammaError } from "../lib/errors.ts";
import { ConfigError, type GammaConfig, resolveConfig } from "../lib/config.ts";

const DEFAULTS: GammaConfig = {
  enabled: true,
  backend: "auto",
  instance: "devshell-rust",
  limactl: undefined,
  workspaceParent: undefined,
  workspaceUseCargoRoot: true,
  exportBase: undefined,
  guestWorkspace: "/workspace",
  workspaceMode: "sync",
  syncGitignore: true,
  stopOnExit: false,
  autoBuildEssential: true,
  autoTodoPath: true,
  guestTodoHint: true,
  autoBuildTodoGuest: false,
  guestHostDir: "host_dir",
  limaHints: true,
  limactlTimeout: undefined,
  ssh: true,
  eager: false,
  internalRepl: false,
  limaHome: "/home/me/.lima",
  guestEnv: { pass: [], set: {} },
  syncIgnore: [],
  tools: undefined,
  template: undefined,
  projectFile: undefined,
  userFile: undefined,
  origins: {
    instance: { kind: "default" },
    workspaceMode: { kind: "default" },
    workspaceParent: { kind: "default" },
    guestWorkspace: { kind: "default" },
    guestEnv: { kind: "default" },
    syncIgnore: { kind: "default" },
    tools: { kind: "default" },
    stopOnExit: { kind: "default" },
    template: { kind: "default" },
  },
};

Deno.test("resolveConfig() gives every default for an empty environment", () => {
  assert.deepEqual(resolveConfig({ HOME: "/home/me" }), DEFAULTS);
  assert.equal(resolveConfig({}).limaHome, undefined); // no HOME, no LIMA_HOME
});

Deno.test("resolveConfig() returns a frozen object", () => {
  const config = resolveConfig({});
  assert.ok(Object.isFrozen(config));
  assert.throws(() => {
    (config as { instance: string }).instance = "x";
  }, TypeError);
});

Deno.test("resolveConfig() reads every switch with one boolean rule", () => {
  const switches: [string, keyof GammaConfig][] = [
    ["DEVSHELL_VM", "enabled"],
    ["DEVSHELL_VM_WORKSPACE_USE_CARGO_ROOT", "workspaceUseCargoRoot"],
    ["DEVSHELL_VM_STOP_ON_EXIT", "stopOnExit"],
    ["DEVSHELL_VM_SYNC_GITIGNORE", "syncGitignore"],
    ["DEVSHELL_VM_AUTO_BUILD_ESSENTIAL", "autoBuildEssential"],
    ["DEVSHELL_VM_AUTO_TODO_PATH", "autoTodoPath"],
    ["DEVSHELL_VM_GUEST_TODO_HINT", "guestTodoHint"],
    ["DEVSHELL_VM_AUTO_BUILD_TODO_GUEST", "autoBuildTodoGuest"],
    ["DEVSHELL_VM_LIMA_HINTS", "limaHints"],
    ["DEVSHELL_VM_SSH", "ssh"],
    ["DEVSHELL_VM_EAGER", "eager"],
    ["DEVSHELL_VM_INTERNAL_REPL", "internalRepl"],
  ];
  for (const [variable, field] of switches) {
    for (const word of ["1", "true", "yes", "on", " ON ", "True", "YES\n"]) {
      assert.equal(resolveConfig({ [variable]: word })[field], true, `${variable}=${word}`);
    }
    for (const word of ["0", "false", "no", "off", " Off", "FALSE", "\tno"]) {
      assert.equal(resolveConfig({ [variable]: word })[field], false, `${variable}=${word}`);
    }
    // Blank is the same as unset: the default (the original read "" as off for two of these).
    assert.equal(resolveConfig({ [variable]: "  " })[field], DEFAULTS[field], `${variable} blank`);
    assert.throws(() => resolveConfig({ [variable]: "maybe" }), {
      name: "ConfigError",
      message:
        `Invalid ${variable} "maybe": expected one of 1, true, yes, on (on) or 0, false, no, off (off)`,
    });
  }
});

Deno.test("resolveConfig() reads the backend, mode and instance", () => {
  assert.equal(resolveConfig({ DEVSHELL_VM_BACKEND: " Lima " }).backend, "lima");
  assert.equal(resolveConfig({ DEVSHELL_VM_BACKEND: "host" }).backend, "host");
  assert.equal(resolveConfig({ DEVSHELL_VM_BACKEND: "" }).backend, "auto");
  assert.equal(resolveConfig({ DEVSHELL_VM_WORKSPACE_MODE: "GUEST" }).workspaceMode, "guest");
  assert.equal(resolveConfig({ DEVSHELL_VM_LIMA_INSTANCE: " dev.1 " }).instance, "dev.1");
  assert.throws(() => resolveConfig({ DEVSHELL_VM_BACKEND: "beta" }), {
    name: "ConfigError",
    message:
      'Invalid DEVSHELL_VM_BACKEND "beta": expected one of auto, lima, host (the beta sidecar backend is not part of gamma)',
  });
  assert.throws(() => resolveConfig({ DEVSHELL_VM_BACKEND: "docker" }), {
    message: 'Invalid DEVSHELL_VM_BACKEND "docker": expected one of auto, lima, host',
  });
  assert.throws(() => resolveConfig({ DEVSHELL_VM_WORKSPACE_MODE: "mirror" }), {
    message: 'Invalid DEVSHELL_VM_WORKSPACE_MODE "mirror": expected one of sync, guest',
  });
  assert.throws(() => resolveConfig({ DEVSHELL_VM_LIMA_INSTANCE: "-x" }), {
    message:
      'Invalid DEVSHELL_VM_LIMA_INSTANCE "-x": it starts with "-", so limactl would read it as a flag; Lima instance names are letters and digits joined by single ".", "_" or "-", at most 76 characters',
  });
});

Deno.test("resolveConfig() requires absolute paths and normalises them", () => {
  const config = resolveConfig({
    DEVSHELL_VM_LIMACTL: "/opt/lima/bin/limactl",
    DEVSHELL_VM_WORKSPACE_PARENT: " /home/me/ws/ ",
    DEVSHELL_EXPORT_BASE: "/var//cache/x/..",
    LIMA_HOME: "/lima/",
    DEVSHELL_VM_GUEST_WORKSPACE: "/work/./space/",
  });
  assert.equal(config.limactl, "/opt/lima/bin/limactl");
  assert.equal(config.workspaceParent, "/home/me/ws");
  assert.equal(config.exportBase, "/var/cache");
  assert.equal(config.limaHome, "/lima");
  assert.equal(config.guestWorkspace, "/work/space");
  for (
    const variable of [
      "DEVSHELL_VM_WORKSPACE_PARENT",
      "DEVSHELL_EXPORT_BASE",
      "LIMA_HOME",
    ]
  ) {
    assert.throws(() => resolveConfig({ [variable]: "rel/dir" }), {
      name: "ConfigError",
      message: `Invalid ${variable} "rel/dir": an absolute path is required (it must start with /)`,
    });
  }
  for (const value of ["/", "//", "/a/..", "workspace"]) {
    assert.throws(() => resolveConfig({ DEVSHELL_VM_GUEST_WORKSPACE: value }), {
      message: `Invalid DEVSHELL_VM_GUEST_WORKSPACE ${
        JSON.stringify(value)
      }: the guest workspace must be an absolute guest directory other than "/" (default /workspace)`,
    });
  }
});

Deno.test("resolveConfig() reads the host directory link name", () => {
  assert.equal(
    resolveConfig({ DEVSHELL_VM_GUEST_HOST_DIR: "proj_link-1" }).guestHostDir,
    "proj_link-1",
  );
  for (const off of ["", "  ", "0", "false", "OFF", "no"]) {
    assert.equal(resolveConfig({ DEVSHELL_VM_GUEST_HOST_DIR: off }).guestHostDir, undefined, off);
  }
  // The original silently disabled the link for a bad name; gamma says so.
  assert.throws(() => resolveConfig({ DEVSHELL_VM_GUEST_HOST_DIR: "../etc" }), {
    message:
      'Invalid DEVSHELL_VM_GUEST_HOST_DIR "../etc": expected a link name of letters, digits, "_" and "-" (default host_dir), or 0, false, no, off or blank to turn the link off',
  });
});

Deno.test("resolveConfig() reads DEVSHELL_VM_LIMACTL like --limactl: a path or a command name", () => {
  assert.equal(resolveConfig({ DEVSHELL_VM_LIMACTL: "limactl" }).limactl, "limactl");
  assert.equal(resolveConfig({ DEVSHELL_VM_LIMACTL: "./bin/limactl" }).limactl, "./bin/limactl");
  assert.equal(
    resolveConfig({ DEVSHELL_VM_LIMACTL: "/opt//lima/limactl" }).limactl,
    "/opt/lima/limactl",
  );
});

Deno.test("resolveConfig() reports every bad variable at once", () => {
  try {
    resolveConfig({ DEVSHELL_VM: "sure", DEVSHELL_VM_WORKSPACE_PARENT: "rel" });
    assert.fail("expected ConfigError");
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.ok(e instanceof GammaError);
    assert.deepEqual(e.issues.map((i) => [i.variable, i.value]), [
      ["DEVSHELL_VM", "sure"],
      ["DEVSHELL_VM_WORKSPACE_PARENT", "rel"],
    ]);
    assert.equal(
      e.message,
      'Invalid DEVSHELL_VM "sure": expected one of 1, true, yes, on (on) or 0, false, no, off (off)\n' +
        'Invalid DEVSHELL_VM_WORKSPACE_PARENT "rel": an absolute path is required (it must start with /)',
    );
  }
});

Deno.test("resolveConfig() reads DEVSHELL_VM_LIMACTL_TIMEOUT as positive seconds", () => {
  assert.equal(resolveConfig({ DEVSHELL_VM_LIMACTL_TIMEOUT: " 90 " }).limactlTimeout, 90);
  assert.equal(resolveConfig({ DEVSHELL_VM_LIMACTL_TIMEOUT: "2.5" }).limactlTimeout, 2.5);
  assert.equal(resolveConfig({ DEVSHELL_VM_LIMACTL_TIMEOUT: "" }).limactlTimeout, undefined);
  for (const bad of ["0", "-1", "1e3", "ten", "5s"]) {
    assert.throws(
      () => resolveConfig({ DEVSHELL_VM_LIMACTL_TIMEOUT: bad }),
      ConfigError,
      `Invalid DEVSHELL_VM_LIMACTL_TIMEOUT ${
        JSON.stringify(bad)
      }: expected a number of seconds greater than 0, e.g. 90`,
    );
  }
});
