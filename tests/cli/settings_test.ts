import assert from "node:assert/strict";
import { posix } from "node:path";
import { initFileText } from "../../lib/project_config.ts";
import { commands, type Fixture, runGamma, setup, testHome } from "./_run.ts";

/** The fixture's environment without the instance variable, and a user config dir. */
async function settingsEnv(t: Fixture): Promise<Record<string, string>> {
  const { DEVSHELL_VM_LIMA_INSTANCE: _, ...env } = t.env;
  const xdg = await Deno.makeTempDir({ dir: posix.dirname(t.project), prefix: "xdg-" });
  return { ...env, XDG_CONFIG_HOME: xdg };
}

/** Mark the fixture's project as a repository, so `.gamma.yaml` is found from below it. */
async function repository(t: Fixture): Promise<void> {
  await Deno.mkdir(`${t.project}/.git`);
}

Deno.test("a project file picks the instance and env; gamma config shows each origin", async () => {
  await using t = await setup();
  await repository(t);
  const env = await settingsEnv(t);
  const projectFile = `${t.project}/.gamma.yaml`;
  await Deno.writeTextFile(
    projectFile,
    "# ours\ninstance: dev\nenv:\n  GREETING: hi there\n  FROM_HOST:\nsync:\n  ignore: [target/]\n",
  );
  const userFile = `${env["XDG_CONFIG_HOME"]}/gamma/config.yaml`;
  await Deno.mkdir(`${env["XDG_CONFIG_HOME"]}/gamma`);
  await Deno.writeTextFile(userFile, "instance: not-this-one\ntools: [cc]\nstopOnExit: true\n");
  const vars = { ...env, FROM_HOST: "abc", DEVSHELL_VM_GUEST_WORKSPACE: "/ws" };

  const r = await runGamma(["exec", "--", "sh", "-c", 'echo "$GREETING|$FROM_HOST"; pwd'], {
    env: vars,
    cwd: `${t.project}/sub`,
  });
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, "hi there|abc\n/work/p/sub\n", ""]);

  const before = (await t.lima.argvLog()).length;
  const json = await runGamma(["config", "--json"], { env: vars, cwd: `${t.project}/sub` });
  assert.deepEqual([json.code, json.stderr], [0, ""]);
  assert.deepEqual(JSON.parse(json.stdout), {
    schema: 1,
    projectFile,
    userFile,
    settings: {
      instance: { value: "dev", origin: { kind: "file", path: projectFile, line: 2 } },
      mode: { value: "sync", origin: { kind: "default" } },
      workspaceParent: { value: null, origin: { kind: "default" } },
      guestWorkspace: {
        value: "/ws",
        origin: { kind: "variable", name: "DEVSHELL_VM_GUEST_WORKSPACE" },
      },
      env: {
        value: { pass: ["FROM_HOST"], set: { GREETING: "hi there" } },
        origin: { kind: "file", path: projectFile, line: 3 },
      },
      "sync.ignore": { value: ["target/"], origin: { kind: "file", path: projectFile, line: 7 } },
      tools: { value: ["cc"], origin: { kind: "file", path: userFile, line: 2 } },
      stopOnExit: { value: true, origin: { kind: "file", path: userFile, line: 3 } },
      template: { value: null, origin: { kind: "default" } },
    },
  });
  assert.ok(json.stdout.startsWith('{\n  "schema": 1,\n'), "one indented document");

  const flag = await runGamma(["-i", "other", "config", "--json"], { env: vars, cwd: t.project });
  assert.deepEqual(JSON.parse(flag.stdout).settings.instance, {
    value: "other",
    origin: { kind: "flag", name: "--instance" },
  });

  const text = await runGamma(["config"], { env: vars, cwd: t.project });
  assert.equal(text.code, 0);
  const lines = text.stdout.split("\n");
  assert.deepEqual(lines.slice(0, 3), [
    `project file:    ${projectFile}`,
    `user file:       ${userFile}`,
    `instance         dev  (${projectFile}:2)`,
  ]);
  assert.ok(lines.includes("mode             sync  (default)"), text.stdout);
  assert.ok(
    lines.includes("guestWorkspace   /ws  (variable DEVSHELL_VM_GUEST_WORKSPACE)"),
    text.stdout,
  );
  assert.ok(
    lines.includes(
      `env              FROM_HOST (from the host), GREETING=hi there  (${projectFile}:3)`,
    ),
    text.stdout,
  );
  assert.match(
    text.stdout,
    new RegExp(
      `^workspaceParent  ${testHome()}/\\.cache/cargo-devshell-exports/vm-workspace/dev \\(automatic: cache\\)  \\(default\\)$`,
      "m",
    ),
  );
  assert.ok(lines.includes("template         (none)  (default)"), text.stdout);

  // gamma config reads files only.
  assert.equal((await t.lima.argvLog()).length, before);
  const status = await runGamma(["status", "--json"], { env: vars, cwd: `${t.project}/sub` });
  assert.equal(JSON.parse(status.stdout).projectFile, projectFile);
});

Deno.test("a bad or hostile project file: exit 2 naming file, line and rule; no limactl runs", async () => {
  await using t = await setup();
  await repository(t);
  const env = await settingsEnv(t);
  const file = `${t.project}/.gamma.yaml`;
  await Deno.writeTextFile(
    file,
    [
      'instance: "dev; touch pwned"',
      "workspaceParent: /",
      "env:",
      "  PATH: /tmp/evil",
      "  LD_PRELOAD: /tmp/evil.so",
      "limactl: /tmp/evil",
      "",
    ].join("\n"),
  );
  for (const args of [["exec", "--", "true"], ["shell"], ["status"], ["config"]]) {
    const r = await runGamma(args, { env, cwd: `${t.project}/sub` });
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      [
        `gamma: ${file}:1: instance: it contains white space; Lima instance names are letters and digits joined by single ".", "_" or "-", at most 76 characters`,
        `gamma: ${file}:2: workspaceParent: "/" is refused: a project file may only name a directory inside your home or the system temp dir (${testHome()} or /tmp), because gamma writes the project's sync copy there; set DEVSHELL_VM_WORKSPACE_PARENT or workspaceParent in your user file for another place`,
        `gamma: ${file}:4: env: "PATH" is refused: PATH decides which programs run or where the shell starts, so a settings file may not set or pass it`,
        `gamma: ${file}:5: env: "LD_PRELOAD" is refused: LD_* variables steer the dynamic loader, so a settings file may not set or pass them`,
        `gamma: ${file}:6: limactl: unknown key; allowed keys: instance, mode, workspaceParent, guestWorkspace, env, sync, tools, stopOnExit, template`,
        "",
      ].join("\n"),
    );
  }
  assert.deepEqual(await t.lima.argvLog(), []);
  // A file above the repository root is not read at all.
  await Deno.remove(file);
  await Deno.writeTextFile(`${t.project}/../.gamma.yaml`, "instance: [broken\n");
  const r = await runGamma(["exec", "--", "pwd"], { env: t.env, cwd: t.project });
  assert.deepEqual([r.code, r.stdout], [0, "/work/p\n"]);
});

Deno.test("gamma init writes a commented file from limactl list and never overwrites without --force", async () => {
  await using t = await setup({ running: false });
  await repository(t);
  await t.lima.addInstance("other", { mounts: [] });
  const env = await settingsEnv(t);
  const file = `${t.project}/.gamma.yaml`;
  const r = await runGamma(["init"], { env, cwd: `${t.project}/sub` });
  assert.deepEqual([r.code, r.stderr], [0, ""]);
  assert.equal(
    r.stdout,
    `wrote ${file} (instance dev, mode mounts); check it with: gamma config\n`,
  );
  const text = await Deno.readTextFile(file);
  assert.equal(
    text,
    initFileText({
      project: t.project,
      instances: [
        {
          name: "dev",
          status: "Stopped",
          mounts: [{ location: t.project, mountPoint: "/work/p", writable: true }],
        },
        { name: "other", status: "Stopped", mounts: [] },
      ],
      preferred: undefined,
    }),
  );
  assert.match(text, /^# Instances found by limactl list: dev \(Stopped\), other \(Stopped\)$/m);
  assert.deepEqual(await commands(t.lima), ["list"]);
  // gamma uses what it wrote.
  const config = await runGamma(["config", "--json"], { env, cwd: t.project });
  assert.deepEqual(JSON.parse(config.stdout).settings.mode, {
    value: "mounts",
    origin: { kind: "file", path: file, line: 9 },
  });
  assert.deepEqual(JSON.parse(config.stdout).settings.instance.origin, {
    kind: "file",
    path: file,
    line: 6,
  });

  await Deno.writeTextFile(file, "instance: [mine, broken\n");
  const again = await runGamma(["init"], { env, cwd: t.project });
  assert.deepEqual([again.code, again.stdout], [1, ""]);
  assert.equal(
    again.stderr,
    `gamma: ${file} exists; gamma config shows what it sets, gamma init --force replaces it\n`,
  );
  assert.equal(await Deno.readTextFile(file), "instance: [mine, broken\n");

  // --force replaces it (a broken file is no obstacle); -i prefers that instance.
  const forced = await runGamma(["-i", "other", "init", "--force"], { env, cwd: t.project });
  assert.deepEqual([forced.code, forced.stderr], [0, ""]);
  assert.equal(
    forced.stdout,
    `wrote ${file} (instance other, mode sync); check it with: gamma config\n`,
  );
  const forcedText = await Deno.readTextFile(file);
  assert.match(forcedText, /^instance: other$/m);
  assert.match(forcedText, /^mode: sync$/m);
  assert.deepEqual([...Deno.readDirSync(t.project)].map((e) => e.name).sort(), [
    ".gamma.yaml",
    ".git",
    "sub",
  ]);
});

Deno.test("gamma init without limactl still writes a file and says why it names no instance", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-init-" }));
  try {
    const r = await runGamma(["init"], { cwd: dir });
    assert.deepEqual(
      [r.code, r.stdout],
      [0, `wrote ${dir}/.gamma.yaml (instance not set, mode sync); check it with: gamma config\n`],
    );
    assert.match(
      await Deno.readTextFile(`${dir}/.gamma.yaml`),
      /^# Instances: unknown \(limactl was not found\)\.$/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gamma ssh-config prints a Host block ssh accepts, landing at the project's guest path", async () => {
  await using t = await setup();
  await repository(t);
  const r = await runGamma(["ssh-config"], { env: t.env, cwd: `${t.project}/sub` });
  assert.deepEqual([r.code, r.stderr], [0, ""]);
  const port = /^ {2}Port (\d+)$/m.exec(r.stdout)?.[1];
  assert.ok(port, r.stdout);
  assert.match(r.stdout, /^Host gamma-proj$/m);
  assert.match(r.stdout, /^ {2}RemoteCommand cd '\/work\/p' && exec "\$SHELL" -l$/m);
  const file = `${t.lima.dir}/block.conf`;
  await Deno.writeTextFile(file, r.stdout);
  const g = await new Deno.Command("ssh", { args: ["-G", "-F", file, "gamma-proj"] }).output();
  const out = new TextDecoder().decode(g.stdout);
  assert.equal(g.code, 0, new TextDecoder().decode(g.stderr));
  const has = (line: string): void => assert.ok(out.split("\n").includes(line), `${line}\n${out}`);
  has("hostname 127.0.0.1");
  has(`port ${port}`);
  has("requesttty true"); // ssh -G's word for RequestTTY yes
  has(`remotecommand cd '/work/p' && exec "$SHELL" -l`);
  has(`controlpath ${t.lima.dir}/dev/ssh.sock`);
  has(`identityfile ${t.lima.dir}/_config/user`);

  const named = await runGamma(["ssh-config", "--host", "my.vm", "--plain"], {
    env: t.env,
    cwd: t.project,
  });
  assert.equal(named.code, 0);
  assert.match(named.stdout, /^Host my\.vm$/m);
  assert.doesNotMatch(named.stdout, /RemoteCommand|RequestTTY/);
  const bad = await runGamma(["ssh-config", "--host", "a b"], { env: t.env, cwd: t.project });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^gamma ssh-config: Invalid ssh host name "a b": /);
});

Deno.test("gamma ssh-config without a started instance says to start it", async () => {
  await using t = await setup({ running: false });
  const r = await runGamma(["ssh-config"], { env: t.env, cwd: t.project });
  assert.deepEqual([r.code, r.stdout], [1, ""]);
  assert.equal(
    r.stderr,
    `gamma: instance dev has no ${t.lima.dir}/dev/ssh.config yet: Lima writes it when the instance starts; run gamma start, then this again\n`,
  );
});

Deno.test("gamma ssh-config --install twice leaves one Include and one backup", async () => {
  await using t = await setup();
  await repository(t);
  const home = await Deno.makeTempDir({ dir: posix.dirname(t.project), prefix: "home-" });
  const env = { ...t.env, HOME: home, XDG_CACHE_HOME: `${home}/.cache` };
  await Deno.mkdir(`${home}/.ssh`, { mode: 0o700 });
  const original = "Host *\n  ServerAliveInterval 60\n";
  await Deno.writeTextFile(`${home}/.ssh/config`, original, { mode: 0o640 });
  await Deno.chmod(`${home}/.ssh/config`, 0o640);

  const first = await runGamma(["ssh-config", "--install"], { env, cwd: t.project });
  assert.deepEqual([first.code, first.stderr], [0, ""]);
  const backups = [...Deno.readDirSync(`${home}/.ssh`)].map((e) => e.name)
    .filter((n) => n.startsWith("config.gamma-backup-"));
  assert.equal(backups.length, 1);
  assert.equal(await Deno.readTextFile(`${home}/.ssh/${backups[0]}`), original);
  assert.equal(
    first.stdout,
    [
      `wrote ${home}/.ssh/gamma/gamma-proj.conf (Host gamma-proj)`,
      `backed up ${home}/.ssh/config to ${home}/.ssh/${backups[0]}`,
      `added "Include ~/.ssh/gamma/*.conf" at the top of ${home}/.ssh/config`,
      "",
    ].join("\n"),
  );
  const printed = await runGamma(["ssh-config"], { env, cwd: t.project });
  assert.equal(await Deno.readTextFile(`${home}/.ssh/gamma/gamma-proj.conf`), printed.stdout);

  const second = await runGamma(["ssh-config", "--install"], { env, cwd: t.project });
  assert.equal(second.code, 0);
  assert.equal(
    second.stdout,
    `wrote ${home}/.ssh/gamma/gamma-proj.conf (Host gamma-proj)\n${home}/.ssh/config already includes ~/.ssh/gamma/*.conf\n`,
  );
  const config = await Deno.readTextFile(`${home}/.ssh/config`);
  assert.equal(
    config,
    `# Added by gamma ssh-config --install\nInclude ~/.ssh/gamma/*.conf\n\n${original}`,
  );
  assert.equal(config.split("\n").filter((l) => l.startsWith("Include")).length, 1);
  assert.equal(
    [...Deno.readDirSync(`${home}/.ssh`)].filter((e) => e.name.includes("backup")).length,
    1,
  );
  assert.equal((await Deno.stat(`${home}/.ssh/config`)).mode! & 0o777, 0o640); // kept

  // ssh itself reads the installed block through the Include (HOME decides ~).
  const g = await new Deno.Command("ssh", {
    args: ["-G", "-F", `${home}/.ssh/config`, "gamma-proj"],
    env: { HOME: home },
  }).output();
  assert.ok(
    new TextDecoder().decode(g.stdout).includes(`remotecommand cd '/work/p' && exec "$SHELL" -l`),
  );
});

Deno.test("gamma ssh-config --install never writes through a symlinked ~/.ssh/config", async () => {
  await using t = await setup();
  const home = await Deno.makeTempDir({ dir: posix.dirname(t.project), prefix: "home-" });
  const env = { ...t.env, HOME: home, XDG_CACHE_HOME: `${home}/.cache` };
  await Deno.mkdir(`${home}/.ssh`, { mode: 0o700 });
  const target = `${home}/dotfiles-ssh-config`;
  await Deno.writeTextFile(target, "Host x\n");
  await Deno.symlink(target, `${home}/.ssh/config`);
  const r = await runGamma(["ssh-config", "--install"], { env, cwd: t.project });
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `gamma: ${home}/.ssh/config is not a regular file (a symlink?); gamma does not write through it: add the line "Include ~/.ssh/gamma/*.conf" at its top yourself\n`,
  );
  assert.equal(await Deno.readTextFile(target), "Host x\n");
});

Deno.test("--help and completions cover init, config and ssh-config", async () => {
  const help = await runGamma(["--help"]);
  for (const name of ["init", "config", "ssh-config"]) {
    assert.match(help.stdout, new RegExp(`^  ${name} +\\S`, "m"), name);
  }
  const sub = await runGamma(["ssh-config", "--help"]);
  assert.match(
    sub.stdout,
    /^ {2}gamma ssh-config \[-i NAME\] \[--host NAME\] \[--plain\] \[--install\]$/m,
  );
  const bash = await runGamma(["completions", "bash"]);
  assert.match(bash.stdout, /^ {4}ssh-config\) opts='--host --plain --install /m);
  assert.match(bash.stdout, /^ {4}init\) opts='--force /m);
  assert.match(bash.stdout, /^ {4}config\) opts='--json /m);
});
