import assert from "node:assert/strict";
import { interactiveShellPlan } from "../lib/shell_plan.ts";

/** A fake guest: a temp HOME, a project dir, and a stub `bash` that records how it was run. */
async function withGuest(
  fn: (
    g: {
      root: string;
      home: string;
      project: string;
      run(script: string): Promise<{ args: string[]; env: Record<string, string>; stderr: string }>;
    },
  ) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "gamma-plan-" });
  try {
    const home = `${root}/home`, project = `${root}/work/my proj`, bin = `${root}/bin`;
    for (const d of [home, project, bin]) await Deno.mkdir(d, { recursive: true });
    await Deno.writeTextFile(
      `${bin}/bash`,
      `#!/bin/sh\nprintf '%s\\0' "$@" > "${root}/args"\nenv -0 > "${root}/env"\n`,
    );
    await Deno.chmod(`${bin}/bash`, 0o755);
    const run = async (script: string) => {
      const out = await new Deno.Command("/bin/sh", {
        args: ["-c", script],
        cwd: project,
        clearEnv: true,
        env: { HOME: home, PATH: `${bin}:/usr/bin:/bin`, SHELL: "/bin/sh" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0);
      const split = async (f: string) =>
        (await Deno.readTextFile(`${root}/${f}`)).split("\0").slice(0, -1);
      const env = Object.fromEntries(
        (await split("env")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
      );
      return { args: await split("args"), env, stderr: new TextDecoder().decode(out.stderr) };
    };
    await fn({ root, home, project, run });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("interactiveShellPlan() links ~/host_dir and ~/.todo.json, then execs bash -l", async () => {
  await withGuest(async ({ home, project, run }) => {
    await Deno.writeTextFile(`${project}/.todo.json`, "[]");
    const plan = interactiveShellPlan({ workdir: project, hostDirLink: "host_dir" });
    assert.equal(plan.workdir, project);
    const { args, env, stderr } = await run(plan.script);
    assert.deepEqual(args, ["-l"]);
    assert.equal(stderr, "");
    assert.equal(await Deno.readLink(`${home}/host_dir`), project);
    assert.equal(await Deno.readLink(`${home}/.todo.json`), `${project}/.todo.json`);
    // No helper variables reach the user's shell.
    assert.deepEqual(
      Object.keys(env).filter((k) => !["HOME", "PATH", "SHELL", "PWD", "OLDPWD"].includes(k)),
      [],
    );
  });
});

Deno.test("interactiveShellPlan() re-points existing links", async () => {
  await withGuest(async ({ home, project, run }) => {
    await Deno.writeTextFile(`${project}/.todo.json`, "[]");
    await Deno.symlink("/old/project", `${home}/host_dir`);
    await Deno.symlink("/old/project/.todo.json", `${home}/.todo.json`); // dangling, ours
    await run(interactiveShellPlan({ workdir: project, hostDirLink: "host_dir" }).script);
    assert.equal(await Deno.readLink(`${home}/host_dir`), project);
    assert.equal(await Deno.readLink(`${home}/.todo.json`), `${project}/.todo.json`);
  });
});

Deno.test("interactiveShellPlan() never replaces a real ~/.todo.json or writes into a real ~/host_dir", async () => {
  await withGuest(async ({ home, project, run }) => {
    await Deno.writeTextFile(`${project}/.todo.json`, "[]");
    await Deno.writeTextFile(`${home}/.todo.json`, "my own todos");
    await Deno.mkdir(`${home}/host_dir`);
    await run(interactiveShellPlan({ workdir: project, hostDirLink: "host_dir" }).script);
    assert.equal(await Deno.readTextFile(`${home}/.todo.json`), "my own todos");
    assert.equal((await Deno.lstat(`${home}/host_dir`)).isDirectory, true);
    assert.deepEqual([...Deno.readDirSync(`${home}/host_dir`)], []);
  });
});

Deno.test("interactiveShellPlan() leaves no dangling ~/.todo.json when the project has none", async () => {
  await withGuest(async ({ home, run, project }) => {
    await run(interactiveShellPlan({ workdir: project, hostDirLink: "host_dir" }).script);
    await assert.rejects(() => Deno.lstat(`${home}/.todo.json`), Deno.errors.NotFound);
    assert.equal(await Deno.readLink(`${home}/host_dir`), project);
  });
});

Deno.test("interactiveShellPlan() drops the link to the previous project's .todo.json", async () => {
  await withGuest(async ({ root, home, run, project }) => {
    const previous = `${root}/work/previous`;
    await Deno.mkdir(previous, { recursive: true });
    await Deno.writeTextFile(`${previous}/.todo.json`, "[]");
    await run(interactiveShellPlan({ workdir: previous, hostDirLink: "host_dir" }).script);
    assert.equal(await Deno.readLink(`${home}/.todo.json`), `${previous}/.todo.json`);
    // Now a project without .todo.json: the old link goes, the old file stays.
    await run(interactiveShellPlan({ workdir: project, hostDirLink: "host_dir" }).script);
    await assert.rejects(() => Deno.lstat(`${home}/.todo.json`), Deno.errors.NotFound);
    assert.equal(await Deno.readTextFile(`${previous}/.todo.json`), "[]");
    // A link the user made to something else is not gamma's to remove.
    await Deno.symlink(`${root}/mine.json`, `${home}/.todo.json`);
    await run(interactiveShellPlan({ workdir: project, hostDirLink: "host_dir" }).script);
    assert.equal(await Deno.readLink(`${home}/.todo.json`), `${root}/mine.json`);
  });
});

Deno.test("interactiveShellPlan() without a link name touches nothing", async () => {
  await withGuest(async ({ home, project, run }) => {
    await Deno.writeTextFile(`${project}/.todo.json`, "[]");
    const { args } = await run(interactiveShellPlan({ workdir: project }).script);
    assert.deepEqual(args, ["-l"]);
    assert.deepEqual([...Deno.readDirSync(home)], []);
  });
});

Deno.test("interactiveShellPlan() keeps a PATH entry after /etc/profile resets PATH", async () => {
  await withGuest(async ({ home, project, run }) => {
    const plan = interactiveShellPlan({
      workdir: project,
      pathPrepend: "/workspace/p/target/release",
    });
    const { args } = await run(plan.script);
    const rc = `${home}/.cache/gamma/bash_login_rc`;
    assert.deepEqual(args, ["--rcfile", rc, "-i"]);
    // Run the real bash with that rc file: Debian's /etc/profile sets PATH from scratch.
    await Deno.writeTextFile(`${home}/.profile`, "PROFILE_READ=yes\n");
    const out = await new Deno.Command("/usr/bin/bash", {
      args: ["--rcfile", rc, "-i", "-c", 'printf "%s|%s" "$PATH" "$PROFILE_READ"'],
      clearEnv: true,
      env: { HOME: home, PATH: "/nonexistent" },
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    const [path, profile] = new TextDecoder().decode(out.stdout).split("|");
    assert.equal(profile, "yes"); // the login files were read
    assert.ok(path!.startsWith("/workspace/p/target/release:"), path);
    assert.ok(!path!.includes("/nonexistent"), path); // /etc/profile really did reset PATH
  });
});

Deno.test("interactiveShellPlan() quotes awkward paths and refuses bad input", () => {
  const plan = interactiveShellPlan({ workdir: "/w/it's $HOME", hostDirLink: "hd" });
  assert.ok(plan.script.includes(`ln -sfn '/w/it'"'"'s $HOME' "$HOME"/'hd'`));
  assert.throws(() => interactiveShellPlan({ workdir: "w" }), TypeError);
  assert.throws(() => interactiveShellPlan({ workdir: "/w", hostDirLink: "../x" }), {
    name: "RangeError",
    message: 'Invalid host directory link name "../x": use letters, digits, "_" and "-"',
  });
});
