import assert from "node:assert/strict";
import {
  ConfigError,
  type ConfigFile,
  type ConfigIssue,
  resolveConfig,
  type SettingName,
} from "../lib/config.ts";
import {
  guestEnvNameProblem,
  initFileText,
  parseConfigFile,
  type ParseConfigFileOptions,
  workspaceParentProblem,
} from "../lib/project_config.ts";

const PROJECT = "/home/me/app/.gamma.yaml";
const USER = "/home/me/.config/gamma/config.yaml";

function options(kind: "project" | "user" = "project"): ParseConfigFileOptions {
  return { path: kind === "project" ? PROJECT : USER, kind, home: "/home/me", tempDir: "/tmp" };
}

function project(text: string): ConfigFile {
  return parseConfigFile(text, options("project"));
}

function user(text: string): ConfigFile {
  return parseConfigFile(text, options("user"));
}

/** The issues of a file that must be refused. */
function issues(text: string, kind: "project" | "user" = "project"): ConfigIssue[] {
  try {
    parseConfigFile(text, options(kind));
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return [...e.issues];
  }
  assert.fail(`accepted:\n${text}`);
}

function messages(text: string, kind: "project" | "user" = "project"): string[] {
  return issues(text, kind).map((i) => i.message);
}

Deno.test("parseConfigFile() reads every key with its line", () => {
  const file = project(
    [
      "# comment",
      "instance: dev",
      "mode: mounts",
      "workspaceParent: ~/vm-work",
      "guestWorkspace: /work//",
      "env:",
      "  RUST_LOG:",
      "  RUST_BACKTRACE: 1",
      "  GREETING: hello world",
      "sync:",
      "  ignore: [target/, '*.log']",
      "tools: [cc, cargo]",
      "stopOnExit: yes",
      "template: docker",
      "",
    ].join("\n"),
  );
  assert.deepEqual(file, {
    path: PROJECT,
    kind: "project",
    settings: {
      instance: { value: "dev", line: 2 },
      mode: { value: "guest", line: 3 },
      workspaceParent: { value: "/home/me/vm-work", line: 4 },
      guestWorkspace: { value: "/work", line: 5 },
      env: {
        value: { pass: ["RUST_LOG"], set: { RUST_BACKTRACE: "1", GREETING: "hello world" } },
        line: 6,
      },
      syncIgnore: { value: ["target/", "*.log"], line: 11 },
      tools: { value: ["cc", "cargo"], line: 12 },
      stopOnExit: { value: true, line: 13 },
      template: { value: "template:docker", line: 14 },
    },
  });
  // A list of names passes them through; relative paths are the file's directory's.
  assert.deepEqual(project("env: [RUST_LOG, TERM_PROGRAM]\n").settings.env?.value, {
    pass: ["RUST_LOG", "TERM_PROGRAM"],
    set: {},
  });
  assert.equal(
    project("workspaceParent: ../vm-work\n").settings.workspaceParent?.value,
    "/home/me/vm-work",
  );
  assert.equal(project("mode: SYNC\n").settings.mode?.value, "sync");
  assert.equal(project("stopOnExit: false\n").settings.stopOnExit?.value, false);
  assert.equal(
    project("template: template:ubuntu-24.04\n").settings.template?.value,
    "template:ubuntu-24.04",
  );
  // `env:` and `sync:` with every entry commented out mean none.
  assert.deepEqual(project("env:\n#  RUST_LOG:\nsync:\n").settings, {
    env: { value: { pass: [], set: {} }, line: 1 },
  });
  // Empty and comment-only files set nothing.
  assert.deepEqual(project("").settings, {});
  assert.deepEqual(project("# nothing yet\n").settings, {});
});

Deno.test("parseConfigFile() names the file, line and allowed values of every problem at once", () => {
  assert.deepEqual(
    messages(
      [
        "instanse: dev", // 1
        "mode: fast", // 2
        "guestWorkspace: /", // 3
        "stopOnExit: maybe", // 4
        "tools: [cc, 'rm -rf']", // 5
        "sync:", // 6
        "  ignores: [x]", // 7
        "env: 3", // 8
        "instance: [a]", // 9
        "workspaceParent: 7", // 10
        "colour: red", // 11
      ].join("\n"),
    ),
    [
      `${PROJECT}:1: instanse: unknown key (did you mean "instance"?); allowed keys: instance, mode, workspaceParent, guestWorkspace, env, sync, tools, stopOnExit, template`,
      `${PROJECT}:2: mode: "fast" is not allowed; allowed values: mounts (run only where a Lima mount shows the project), sync (copy a project no mount shows into the workspace parent)`,
      `${PROJECT}:3: guestWorkspace: "/" is not allowed; expected an absolute guest directory other than "/" (default /workspace)`,
      `${PROJECT}:4: stopOnExit: "maybe" is not allowed; allowed values: true, false (or 1, true, yes, on / 0, false, no, off)`,
      `${PROJECT}:5: tools: "rm -rf" is not a command name; use letters, digits, ".", "_", "+", "-", "/"`,
      `${PROJECT}:7: sync.ignores: unknown key "ignores"; allowed keys under sync: ignore`,
      `${PROJECT}:8: env: expected a mapping of NAME: value (NAME: with no value passes the host's value) or a list of names`,
      `${PROJECT}:9: instance: expected a Lima instance name`,
      `${PROJECT}:10: workspaceParent: expected a host directory`,
      `${PROJECT}:11: colour: unknown key; allowed keys: instance, mode, workspaceParent, guestWorkspace, env, sync, tools, stopOnExit, template`,
    ],
  );
  const [first] = issues("mode: fast\n");
  assert.deepEqual(
    { variable: first?.variable, value: first?.value, file: first?.file, line: first?.line },
    { variable: "mode", value: "fast", file: PROJECT, line: 1 },
  );
  assert.deepEqual(messages("instance: dev\ninstance: other\n"), [
    `${PROJECT}:2: not valid YAML: Map keys must be unique`,
  ]);
  assert.deepEqual(messages("- a\n- b\n"), [
    `${PROJECT}:1: (top level): expected a mapping of instance, mode, workspaceParent, guestWorkspace, env, sync, tools, stopOnExit, template`,
  ]);
  assert.deepEqual(messages('instance: "dev\n'), [
    `${PROJECT}:2: not valid YAML: Missing closing "quote`, // where the parser saw it
  ]);
});

Deno.test("a hostile project file changes nothing outside its rules", () => {
  // Instance names with shell metacharacters are not instance names.
  for (const name of ["dev; rm -rf ~", "$(id)", "-rf", "../../etc", "a`b`"]) {
    const [issue] = issues(`instance: ${JSON.stringify(name)}\n`);
    assert.equal(issue?.file, PROJECT);
    assert.match(issue!.message, /^\/home\/me\/app\/\.gamma\.yaml:1: instance: /);
  }
  // The workspace parent (where sync writes) stays inside the home or the temp dir.
  const refused = (value: string): string =>
    `${PROJECT}:1: workspaceParent: ${
      JSON.stringify(value)
    } is refused: a project file may only name a directory inside your home or the system temp dir (/home/me or /tmp), because gamma writes the project's sync copy there; set DEVSHELL_VM_WORKSPACE_PARENT or workspaceParent in your user file for another place`;
  for (const value of ["/", "/etc", "/home", "/home/me", "~", "/tmp", "../../..", "/home/meow/x"]) {
    assert.deepEqual(messages(`workspaceParent: ${JSON.stringify(value)}\n`), [
      refused(value),
    ], value);
  }
  // ... also through a symlink inside the home.
  const linked = parseConfigFile.bind(null, "workspaceParent: ~/link/x\n");
  assert.throws(
    () =>
      linked({
        ...options(),
        realPath: (p) => p.startsWith("/home/me/link") ? p.replace("/home/me/link", "/etc") : p,
      }),
    {
      message:
        `${PROJECT}:1: workspaceParent: "~/link/x" is refused: it resolves through a symlink to /etc/x; a project file may only name a directory inside your home or the system temp dir (/home/me or /tmp), because gamma writes the project's sync copy there; set DEVSHELL_VM_WORKSPACE_PARENT or workspaceParent in your user file for another place`,
    },
  );
  // The user's own file may name any directory.
  assert.equal(user("workspaceParent: /srv/work\n").settings.workspaceParent?.value, "/srv/work");
  // No variable that picks programs, steers the loader or a shell's start-up, in either file.
  assert.deepEqual(messages("env:\n  PATH: /tmp/evil\n  LD_PRELOAD: /tmp/evil.so\n"), [
    `${PROJECT}:2: env: "PATH" is refused: PATH decides which programs run or where the shell starts, so a settings file may not set or pass it`,
    `${PROJECT}:3: env: "LD_PRELOAD" is refused: LD_* variables steer the dynamic loader, so a settings file may not set or pass them`,
  ]);
  assert.deepEqual(messages("env: [BASH_ENV, DEVSHELL_VM_LIMACTL, 1X]\n", "user"), [
    `${USER}:1: env: "BASH_ENV" is refused: BASH_ENV decides which programs run or where the shell starts, so a settings file may not set or pass it`,
    `${USER}:1: env: "DEVSHELL_VM_LIMACTL" is refused: DEVSHELL_* variables belong to gamma and Lima, so a settings file may not set or pass them`,
    `${USER}:1: env: "1X" is refused: a variable name is letters, digits and "_", not starting with a digit`,
  ]);
  // No key names a program: limactl is not a settings-file key at all.
  assert.deepEqual(messages("limactl: /tmp/evil\n"), [
    `${PROJECT}:1: limactl: unknown key; allowed keys: instance, mode, workspaceParent, guestWorkspace, env, sync, tools, stopOnExit, template`,
  ]);
  // Templates: Lima's bundled ones only, never a file or a URL.
  for (
    const value of ["https://evil.example/t.yaml", "/tmp/t.yaml", "../t", "template:../x", "a b"]
  ) {
    assert.deepEqual(messages(`template: ${JSON.stringify(value)}\n`), [
      `${PROJECT}:1: template: ${
        JSON.stringify(value)
      } is not allowed; name one of Lima's bundled templates, e.g. default, docker, ubuntu-24.04 or template:fedora (a file or URL template could run any provisioning script, so gamma does not take one from a settings file)`,
    ], value);
  }
});

Deno.test("guestEnvNameProblem() and workspaceParentProblem() state the rules", () => {
  for (const ok of ["RUST_LOG", "CARGO_TERM_COLOR", "_X", "MY_PATH"]) {
    assert.equal(guestEnvNameProblem(ok), undefined, ok);
  }
  for (
    const bad of [
      "PATH",
      "LD_LIBRARY_PATH",
      "DYLD_INSERT_LIBRARIES",
      "BASH_FUNC_x%%",
      "ENV",
      "IFS",
      "NODE_OPTIONS",
      "GAMMA_X",
      "LIMA_HOME",
      "SSH_AUTH_SOCK",
      "HOME",
    ]
  ) {
    assert.notEqual(guestEnvNameProblem(bad), undefined, bad);
  }
  const dirs = { home: "/home/me", tempDir: "/var/tmp/" };
  assert.equal(workspaceParentProblem("/var/tmp/x", dirs), undefined);
  assert.equal(workspaceParentProblem("/home/me/.cache/w", dirs), undefined);
  assert.notEqual(workspaceParentProblem("/var/tmp", dirs), undefined);
  assert.notEqual(workspaceParentProblem("/tmp/x", dirs), undefined);
  assert.match(
    workspaceParentProblem("/x", { home: undefined, tempDir: "/tmp" })!,
    /\(\/tmp\)/,
  );
});

Deno.test("resolveConfig(): each source beats the ones below it", () => {
  const p = project(
    "instance: from-project\nmode: mounts\nworkspaceParent: ~/p\nguestWorkspace: /p\nstopOnExit: true\nenv: [A]\nsync:\n  ignore: [p]\ntools: [p]\ntemplate: docker\n",
  );
  const u = user(
    "instance: from-user\nmode: sync\nworkspaceParent: /u\nguestWorkspace: /u\nstopOnExit: false\nenv: [B]\nsync:\n  ignore: [u]\ntools: [u]\ntemplate: fedora\n",
  );
  const env = {
    HOME: "/home/me",
    DEVSHELL_VM_LIMA_INSTANCE: "from-variable",
    DEVSHELL_VM_WORKSPACE_MODE: "sync",
    DEVSHELL_VM_WORKSPACE_PARENT: "/v",
    DEVSHELL_VM_GUEST_WORKSPACE: "/v",
    DEVSHELL_VM_STOP_ON_EXIT: "off",
  };
  const flags = { instance: "from-flag", template: "template:alpine" };
  type Row = [string, unknown, unknown, unknown, unknown, unknown];
  // setting: flag, variable, project, user, default
  const rows: Row[] = [
    ["instance", "from-flag", "from-variable", "from-project", "from-user", "devshell-rust"],
    ["workspaceMode", undefined, "sync", "guest", "sync", "sync"],
    ["workspaceParent", undefined, "/v", "/home/me/p", "/u", undefined],
    ["guestWorkspace", undefined, "/v", "/p", "/u", "/workspace"],
    ["stopOnExit", undefined, false, true, false, false],
    ["guestEnv", undefined, undefined, { pass: ["A"], set: {} }, { pass: ["B"], set: {} }, {
      pass: [],
      set: {},
    }],
    ["syncIgnore", undefined, undefined, ["p"], ["u"], []],
    ["tools", undefined, undefined, ["p"], ["u"], undefined],
    ["template", "template:alpine", undefined, "template:docker", "template:fedora", undefined],
  ];
  const variables: Record<string, string> = {
    instance: "DEVSHELL_VM_LIMA_INSTANCE",
    workspaceMode: "DEVSHELL_VM_WORKSPACE_MODE",
    workspaceParent: "DEVSHELL_VM_WORKSPACE_PARENT",
    guestWorkspace: "DEVSHELL_VM_GUEST_WORKSPACE",
    stopOnExit: "DEVSHELL_VM_STOP_ON_EXIT",
  };
  const lines: Record<SettingName, [number, number]> = {
    instance: [1, 1],
    workspaceMode: [2, 2],
    workspaceParent: [3, 3],
    guestWorkspace: [4, 4],
    stopOnExit: [5, 5],
    guestEnv: [6, 6],
    syncIgnore: [8, 8],
    tools: [9, 9],
    template: [10, 10],
  };
  for (const [field, fromFlag, fromVariable, fromProject, fromUser, fallback] of rows) {
    const key = field as SettingName;
    const get = (c: ReturnType<typeof resolveConfig>): unknown => c[key as keyof typeof c];
    const all = resolveConfig(env, { flags, files: [p, u] });
    if (fromFlag !== undefined) {
      assert.deepEqual([get(all), all.origins[key]], [fromFlag, {
        kind: "flag",
        name: `--${field}`,
      }], field);
    }
    const noFlag = resolveConfig(env, { files: [p, u] });
    if (fromVariable !== undefined) {
      assert.deepEqual([get(noFlag), noFlag.origins[key]], [fromVariable, {
        kind: "variable",
        name: variables[field],
      }], field);
    }
    const files = resolveConfig({ HOME: "/home/me" }, { files: [p, u] });
    assert.deepEqual([get(files), files.origins[key]], [fromProject, {
      kind: "file",
      path: PROJECT,
      line: lines[key]![0],
    }], field);
    const userOnly = resolveConfig({ HOME: "/home/me" }, { files: [u] });
    assert.deepEqual([get(userOnly), userOnly.origins[key]], [fromUser, {
      kind: "file",
      path: USER,
      line: lines[key]![1],
    }], field);
    const none = resolveConfig({ HOME: "/home/me" });
    assert.deepEqual([get(none), none.origins[key]], [fallback, { kind: "default" }], field);
  }
  const files = resolveConfig({}, { files: [p, u] });
  assert.deepEqual([files.projectFile, files.userFile], [PROJECT, USER]);
  // A bad variable is still an error when a file sets the same setting.
  assert.throws(
    () => resolveConfig({ DEVSHELL_VM_WORKSPACE_MODE: "fast" }, { files: [p] }),
    {
      name: "ConfigError",
      message: 'Invalid DEVSHELL_VM_WORKSPACE_MODE "fast": expected one of sync, guest',
    },
  );
});

Deno.test("initFileText() picks the instance and mode it can justify, and parses back", () => {
  const home = { location: "/home/me", mountPoint: "/home/me", writable: false };
  const work = { location: "/home/me/app", mountPoint: "/work/app", writable: true };
  const parse = (text: string) => project(text).settings;
  // The instance whose mount covers the project wins over the first listed.
  const covered = initFileText({
    project: "/home/me/app",
    instances: [{ name: "other", status: "Stopped", mounts: [] }, {
      name: "dev",
      status: "Running",
      mounts: [home, work],
    }],
    preferred: undefined,
  });
  assert.deepEqual([parse(covered).instance?.value, parse(covered).mode?.value], ["dev", "guest"]);
  assert.match(covered, /^# Instances found by limactl list: other \(Stopped\), dev \(Running\)$/m);
  assert.match(
    covered,
    /^# \/home\/me\/app is under the mount \/home\/me\/app -> \/work\/app \(writable\) of dev: commands run there directly\.$/m,
  );
  // The preferred instance (-i or the variable) wins when it exists; no mount covers: sync.
  const preferred = initFileText({
    project: "/home/me/app",
    instances: [{ name: "other", status: "Stopped", mounts: [] }, {
      name: "dev",
      status: "Running",
      mounts: [work],
    }],
    preferred: "other",
  });
  assert.deepEqual([parse(preferred).instance?.value, parse(preferred).mode?.value], [
    "other",
    "sync",
  ]);
  assert.match(preferred, /^# No mount of other covers \/home\/me\/app: gamma copies/m);
  // Nothing known: no instance line, sync mode, and why.
  const unknown = initFileText({
    project: "/home/me/app",
    instances: [],
    preferred: undefined,
    listProblem: "limactl was not found",
  });
  assert.deepEqual(parse(unknown), { mode: { value: "sync", line: 9 } });
  assert.match(unknown, /^# Instances: unknown \(limactl was not found\)\.$/m);
  assert.match(unknown, /^# instance: devshell-rust$/m);
});
