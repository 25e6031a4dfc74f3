import assert from "node:assert/strict";
import { createLimaHome } from "../support/lima_home.ts";
import { commands, denoEnv, runGamma, testBothPaths, testHome, type Via } from "./_run.ts";

/** A project no mount shows, and a workspace parent mounted writable at /workspace. */
async function syncSetup(via: Via = "ssh") {
  const lima = await createLimaHome();
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-sync-" }));
  const project = `${root}/code/app`;
  const ws = `${root}/ws`;
  await Deno.mkdir(`${project}/.git`, { recursive: true });
  await Deno.mkdir(`${project}/sub`, { recursive: true });
  await Deno.mkdir(ws);
  await Deno.writeTextFile(`${project}/a.txt`, "host a\n");
  await Deno.writeTextFile(`${project}/gone.txt`, "to delete\n");
  await lima.addInstance("dev", {
    mounts: [{ location: ws, mountPoint: "/workspace", writable: true }],
    running: true,
  });
  const env = {
    ...lima.env,
    DEVSHELL_VM_LIMACTL: lima.limactl,
    DEVSHELL_VM_LIMA_INSTANCE: "dev",
    DEVSHELL_VM_WORKSPACE_PARENT: ws,
    XDG_CACHE_HOME: `${root}/cache`,
    ...(via === "limactl" ? { DEVSHELL_VM_SSH: "off" } : {}),
  };
  return {
    lima,
    root,
    project,
    ws,
    env,
    async [Symbol.asyncDispose]() {
      await lima[Symbol.asyncDispose]();
      await Deno.remove(root, { recursive: true });
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

testBothPaths(
  "gamma exec pushes an unmounted project, runs in its copy, and pulls changes back",
  async (via) => {
    await using t = await syncSetup(via);
    const r = await runGamma(
      ["exec", "--", "sh", "-c", "pwd; cat ../a.txt; echo made > ../made.txt; rm ../gone.txt"],
      { env: t.env, cwd: `${t.project}/sub` },
    );
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "/workspace/app/sub\nhost a\n", ""]);
    assert.equal(await Deno.readTextFile(`${t.project}/made.txt`), "made\n");
    assert.equal(await exists(`${t.project}/gone.txt`), false); // deletions come back too
    assert.equal(await Deno.readTextFile(`${t.ws}/app/a.txt`), "host a\n");
    // gamma's state lives in its cache, outside the project and the guest's mount.
    assert.deepEqual([...Deno.readDirSync(t.ws)].map((e) => e.name), ["app"]);
    const [state] = [...Deno.readDirSync(`${t.root}/cache/gamma/sync`)].map((e) => e.name);
    assert.match(state!, /^app-[0-9a-f]{12}$/);
    assert.deepEqual(
      [...Deno.readDirSync(`${t.root}/cache/gamma/sync/${state}`)].map((e) => e.name).sort(),
      ["listing", "listing-guest", "listing-host", "lock", "manifest.json", "temp-tags"],
    );
    assert.deepEqual([...Deno.readDirSync(t.project)].map((e) => e.name).sort(), [
      ".git",
      "a.txt",
      "made.txt",
      "sub",
    ]);
  },
);

testBothPaths(
  "gamma exec keeps the exit code and pulls back after a failure and after Ctrl-C",
  async (via) => {
    await using t = await syncSetup(via);
    const failed = await runGamma(["exec", "--", "sh", "-c", "echo partial > out.txt; exit 3"], {
      env: t.env,
      cwd: t.project,
    });
    assert.deepEqual([failed.code, failed.stderr], [3, ""]);
    assert.equal(await Deno.readTextFile(`${t.project}/out.txt`), "partial\n");
    // SIGINT once the command runs in the staging copy: the relay stops it (nothing after the
    // sleep runs), gamma keeps its 130 and still pulls its changes back.
    const started = async () => {
      while (!(await exists(`${t.ws}/app/started`))) await new Promise((r) => setTimeout(r, 25));
    };
    const interrupted = await runGamma(
      ["exec", "--", "sh", "-c", "echo before-ctrl-c > int.txt; : > started; sleep 30; : > late"],
      { env: t.env, cwd: t.project, signal: { sig: "SIGINT", after: started } },
    );
    assert.deepEqual([interrupted.signal, interrupted.code, interrupted.stderr], [null, 130, ""]);
    assert.equal(await Deno.readTextFile(`${t.project}/int.txt`), "before-ctrl-c\n");
    assert.equal(await exists(`${t.project}/started`), true);
    assert.equal(await exists(`${t.ws}/app/late`), false);
  },
);

Deno.test("gamma sync status, push and pull report changes and conflicts", async () => {
  await using t = await syncSetup();
  const push = await runGamma(["sync", "push"], { env: t.env, cwd: t.project });
  assert.deepEqual([push.code, push.stderr], [0, ""]);
  assert.equal(
    push.stdout,
    `${t.project} <-> ${t.ws}/app (guest /workspace/app)\npush: copied 2 files (17 B), removed 0\n`,
  );
  // Both sides change a.txt; the guest adds b.txt.
  await Deno.writeTextFile(`${t.project}/a.txt`, "host edit\n");
  await Deno.writeTextFile(`${t.ws}/app/a.txt`, "guest edit\n");
  await Deno.writeTextFile(`${t.ws}/app/b.txt`, "guest new\n");
  const status = await runGamma(["sync", "status", "--json"], { env: t.env, cwd: t.project });
  assert.equal(status.code, 1);
  const report = JSON.parse(status.stdout);
  assert.equal(report.dryRun, true);
  assert.deepEqual(report.conflicts.map((c: { path: string }) => c.path), ["a.txt"]);
  assert.match(
    status.stderr,
    /^gamma: sync: conflict at a\.txt: both sides changed it; the host version stays, the guest's would be kept as a\.txt\.gamma-conflict-guest-\d{8}T\d{6}Z\n$/,
  );
  assert.equal(await Deno.readTextFile(`${t.project}/a.txt`), "host edit\n"); // status changes nothing
  const pull = await runGamma(["sync", "pull"], { env: t.env, cwd: t.project });
  assert.equal(pull.code, 1);
  assert.equal(await Deno.readTextFile(`${t.project}/a.txt`), "host edit\n"); // host version stays
  assert.equal(await Deno.readTextFile(`${t.project}/b.txt`), "guest new\n");
  const copies = [...Deno.readDirSync(t.project)].map((e) => e.name)
    .filter((n) => n.startsWith("a.txt.gamma-conflict-guest-"));
  assert.equal(copies.length, 1);
  assert.equal(await Deno.readTextFile(`${t.project}/${copies[0]}`), "guest edit\n");
  assert.deepEqual(await commands(t.lima), ["list"]); // sync never started or entered the VM
});

testBothPaths(
  "gamma exec in sync mode explains a workspace parent that is not mounted",
  async (via) => {
    await using t = await syncSetup(via);
    const elsewhere = `${t.root}/elsewhere`;
    const r = await runGamma(["exec", "--", "true"], {
      env: { ...t.env, DEVSHELL_VM_WORKSPACE_PARENT: elsewhere },
      cwd: t.project,
    });
    assert.equal(r.code, 125);
    assert.equal(
      r.stderr,
      [
        `gamma: cannot run in instance dev: ${t.project} is not under any of its mounts, and sync mode's copy ${elsewhere}/app is not either`,
        `fix: mount the workspace parent (override) by adding to ${t.lima.dir}/dev/lima.yaml:`,
        "    mounts:",
        `    - location: ${JSON.stringify(elsewhere)}`,
        '      mountPoint: "/workspace"',
        "      writable: true",
        "  then restart the instance: limactl stop dev && limactl start dev",
        "  or mount the project itself: gamma mounts --writable --write --restart",
        "  or name a guest directory with -w GUEST_DIR",
        "",
      ].join("\n"),
    );
    assert.equal(await exists(elsewhere), false); // nothing was copied anywhere
  },
);

testBothPaths(
  "sync refuses a staging copy that belongs to another project with the same name",
  async (via) => {
    await using t = await syncSetup(via);
    assert.equal((await runGamma(["sync", "push"], { env: t.env, cwd: t.project })).code, 0);
    const other = `${t.root}/other/app`;
    await Deno.mkdir(`${other}/.git`, { recursive: true });
    const r = await runGamma(["exec", "--", "true"], { env: t.env, cwd: other });
    assert.equal(r.code, 125);
    assert.equal(
      r.stderr,
      `gamma: cannot sync ${other} with ${t.ws}/app: it holds the copy of another project, ${t.project}; rename one of them, or set DEVSHELL_VM_WORKSPACE_PARENT for one\n`,
    );
    // --adopt never takes the copy of a project that still exists.
    const adopt = await runGamma(["sync", "push", "--adopt"], { env: t.env, cwd: other });
    assert.deepEqual([adopt.code, adopt.stderr], [125, r.stderr]);
  },
);

Deno.test("a copy made by an older gamma is named as such, and --adopt takes it", async () => {
  await using t = await syncSetup();
  // The layout before issue 9: the copy, and beside it a marker naming the project.
  await Deno.mkdir(`${t.ws}/app/sub`, { recursive: true });
  await Deno.writeTextFile(`${t.ws}/app/a.txt`, "host a\n");
  await Deno.writeTextFile(`${t.ws}/app.gamma-source`, `${t.project}\n`);
  const r = await runGamma(["exec", "--", "true"], { env: t.env, cwd: t.project });
  assert.deepEqual([r.code, r.stderr], [
    125,
    [
      `gamma: cannot sync ${t.project} with ${t.ws}/app: it was made for this project by an older gamma (${t.ws}/app.gamma-source names it), which kept no identity gamma can trust, and gamma never merges into a directory it cannot tell it made`,
      "  fix: set DEVSHELL_VM_WORKSPACE_PARENT to another directory,",
      `  or, once you have checked that ${t.ws}/app holds this project's files: gamma sync push --adopt`,
      "",
    ].join("\n"),
  ]);
  const adopt = await runGamma(["sync", "push", "--adopt"], { env: t.env, cwd: t.project });
  assert.equal(adopt.code, 0, adopt.stderr);
  assert.deepEqual(names(t.project), [".git", "a.txt", "gone.txt", "sub"]);
});

Deno.test("a project moved on the host can take its copy back with --adopt", async () => {
  await using t = await syncSetup();
  const r1 = await runGamma(["exec", "--", "sh", "-c", "echo guest > g.txt"], {
    env: t.env,
    cwd: t.project,
  });
  assert.equal(r1.code, 0);
  const moved = `${t.root}/moved/app`;
  await Deno.mkdir(`${t.root}/moved`);
  await Deno.rename(t.project, moved);
  const r = await runGamma(["exec", "--", "true"], { env: t.env, cwd: moved });
  assert.deepEqual([r.code, r.stderr], [
    125,
    [
      `gamma: cannot sync ${moved} with ${t.ws}/app: it holds the copy of ${t.project}, which is gone (moved or renamed?)`,
      "  fix: set DEVSHELL_VM_WORKSPACE_PARENT to another directory,",
      `  or, once you have checked that ${t.ws}/app holds this project's files: gamma sync push --adopt`,
      "",
    ].join("\n"),
  ]);
  const adopt = await runGamma(["sync", "push", "--adopt"], { env: t.env, cwd: moved });
  assert.equal(adopt.code, 0, adopt.stderr);
  const again = await runGamma(["exec", "--", "cat", "g.txt"], { env: t.env, cwd: moved });
  assert.deepEqual([again.code, again.stdout, again.stderr], [0, "guest\n", ""]);
  assert.deepEqual(names(moved), [".git", "a.txt", "g.txt", "gone.txt", "sub"]);
});

testBothPaths("guest mode does not sync", async (via) => {
  await using t = await syncSetup(via);
  const r = await runGamma(["exec", "--", "true"], {
    env: { ...t.env, DEVSHELL_VM_WORKSPACE_MODE: "guest" },
    cwd: t.project,
  });
  assert.equal(r.code, 125);
  assert.match(
    r.stderr,
    /^gamma: cannot run in instance dev: the current directory .* is not under any of its mounts\n/,
  );
  assert.equal(await exists(`${t.ws}/app`), false);
});

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("issue 9 item 1: a vanished copy is a first sync: nothing is deleted on the host", async () => {
  await using t = await syncSetup();
  await Deno.writeTextFile(`${t.project}/.git/HEAD`, "ref: refs/heads/main\n");
  assert.equal((await runGamma(["exec", "--", "true"], { env: t.env, cwd: t.project })).code, 0);
  const before = names(t.project);
  // The user clears the cache directory that holds the copy...
  await Deno.remove(`${t.ws}/app`, { recursive: true });
  const r = await runGamma(["exec", "--", "cat", ".git/HEAD"], { env: t.env, cwd: t.project });
  assert.deepEqual([r.code, r.stdout], [0, "ref: refs/heads/main\n"]);
  assert.equal(
    r.stderr,
    `gamma: sync: the copy ${t.ws}/app is gone or was emptied since the last sync; syncing as the first time: everything is pushed again, nothing is deleted on the host\n`,
  );
  assert.deepEqual(names(t.project), before);
  assert.equal(await Deno.readTextFile(`${t.project}/.git/HEAD`), "ref: refs/heads/main\n");
  // ...or a guest command removes it while it runs.
  const gone = await runGamma(["exec", "--", "sh", "-c", "cd / && rm -rf /workspace/app"], {
    env: t.env,
    cwd: t.project,
  });
  assert.equal(gone.code, 0);
  assert.deepEqual(names(t.project), before);
  assert.equal(await Deno.readTextFile(`${t.project}/a.txt`), "host a\n");
});

Deno.test("issue 9: a sync that would delete the whole host project stops and asks for --force", async () => {
  await using t = await syncSetup();
  const r = await runGamma(
    ["exec", "--", "sh", "-c", "rm -rf a.txt gone.txt sub .git"],
    { env: t.env, cwd: t.project },
  );
  assert.equal(r.code, 0); // the command's own exit code
  assert.equal(
    r.stderr,
    [
      `gamma: sync: pulling the guest's changes back failed: stopped: this sync would delete all 4 entries of ${t.project} because they are gone from the guest's copy; nothing was changed. It would delete:`,
      "  .git",
      "  a.txt",
      "  gone.txt",
      "  sub",
      "  if that is what you want: gamma sync pull --force",
      "",
    ].join("\n"),
  );
  assert.deepEqual(names(t.project), [".git", "a.txt", "gone.txt", "sub"]);
  const refused = await runGamma(["sync", "pull"], { env: t.env, cwd: t.project });
  assert.equal(refused.code, 125);
  assert.deepEqual(names(t.project), [".git", "a.txt", "gone.txt", "sub"]);
  const forced = await runGamma(["sync", "pull", "--force"], { env: t.env, cwd: t.project });
  assert.deepEqual([forced.code, forced.stderr], [0, ""]);
  assert.deepEqual(names(t.project), []);
});

Deno.test("issue 9 item 2: a link at the copy's root is refused and nothing is touched", async () => {
  await using t = await syncSetup();
  assert.equal((await runGamma(["sync", "push"], { env: t.env, cwd: t.project })).code, 0);
  // The guest swaps its copy for a link to a host directory no mount shows.
  const secret = `${t.root}/secret`;
  await Deno.mkdir(secret);
  await Deno.writeTextFile(`${secret}/key`, "private");
  await Deno.remove(`${t.ws}/app`, { recursive: true });
  await Deno.symlink(secret, `${t.ws}/app`);
  for (const args of [["exec", "--", "true"], ["sync", "pull"], ["sync", "push"]]) {
    const r = await runGamma(args, { env: t.env, cwd: t.project });
    assert.deepEqual(
      [r.code, r.stderr],
      [
        125,
        `gamma: Cannot sync ${t.ws}/app: it is a symbolic link (to ${secret}), and gamma never follows a link at a tree's root; remove the link\n`,
      ],
      args.join(" "),
    );
  }
  assert.deepEqual(names(secret), ["key"]);
  assert.equal(await Deno.readTextFile(`${secret}/key`), "private");
  assert.deepEqual(names(t.project), [".git", "a.txt", "gone.txt", "sub"]);
});

Deno.test("issue 9 item 3: gamma's state is outside the mount, never read or written through a link", async () => {
  await using t = await syncSetup();
  assert.equal((await runGamma(["sync", "push"], { env: t.env, cwd: t.project })).code, 0);
  // The guest sees only the project's files and the copy's identity.
  assert.deepEqual(names(t.ws), ["app"]);
  assert.deepEqual(names(`${t.ws}/app`), [".gamma-copy-id", ".git", "a.txt", "gone.txt", "sub"]);
  const [key] = names(`${t.root}/cache/gamma/sync`);
  const manifest = `${t.root}/cache/gamma/sync/${key}/manifest.json`;
  const saved = await Deno.readTextFile(manifest);
  const target = `${t.root}/elsewhere.json`;
  await Deno.writeTextFile(target, "not gamma's");
  await Deno.remove(manifest);
  await Deno.symlink(target, manifest);
  const r = await runGamma(["exec", "--", "true"], { env: t.env, cwd: t.project });
  assert.deepEqual(
    [r.code, r.stderr],
    [
      125,
      `gamma: cannot use gamma's sync state ${manifest}: it is a symbolic link; gamma never reads or writes its state through a link. Remove it (gamma then treats the next sync as a first one, deleting nothing)\n`,
    ],
  );
  assert.equal(await Deno.readTextFile(target), "not gamma's");
  await Deno.remove(manifest);
  await Deno.writeTextFile(manifest, saved);
  assert.equal((await runGamma(["exec", "--", "true"], { env: t.env, cwd: t.project })).code, 0);
});

Deno.test("issue 9 item 4: set-user-ID and set-group-ID bits from the guest never reach the host", async () => {
  await using t = await syncSetup();
  const r = await runGamma(["exec", "--", "sh", "-c", "chmod 6755 a.txt && mkdir -m 3777 d"], {
    env: t.env,
    cwd: t.project,
  });
  assert.deepEqual([r.code, r.stderr], [0, ""]);
  assert.equal((await Deno.lstat(`${t.ws}/app/a.txt`)).mode! & 0o7777, 0o6755); // the guest's
  assert.equal((await Deno.lstat(`${t.project}/a.txt`)).mode! & 0o7777, 0o755);
  assert.equal((await Deno.lstat(`${t.project}/d`)).mode! & 0o7777, 0o777);
});

Deno.test("issue 9 item 5: an existing directory is never adopted unless asked", async () => {
  await using t = await syncSetup();
  // The workspace parent already holds an unrelated checkout named like the project.
  await Deno.mkdir(`${t.ws}/app/.git`, { recursive: true });
  await Deno.writeTextFile(`${t.ws}/app/a.txt`, "another checkout\n");
  await Deno.writeTextFile(`${t.ws}/app/main.go`, "package main\n");
  const r = await runGamma(["exec", "--", "true"], { env: t.env, cwd: t.project });
  assert.equal(r.code, 125);
  assert.equal(
    r.stderr,
    [
      `gamma: cannot sync ${t.project} with ${t.ws}/app: that directory already holds files gamma did not put there for this project (.git, a.txt, main.go), and gamma never merges into a directory it did not make`,
      "  fix: set DEVSHELL_VM_WORKSPACE_PARENT to another directory,",
      `  or, once you have checked that ${t.ws}/app holds this project's files: gamma sync push --adopt`,
      "",
    ].join("\n"),
  );
  assert.deepEqual(names(t.project), [".git", "a.txt", "gone.txt", "sub"]);
  assert.equal(await Deno.readTextFile(`${t.project}/a.txt`), "host a\n");
  assert.deepEqual(names(`${t.ws}/app`), [".git", "a.txt", "main.go"]);
  // After checking, the user adopts it: nothing is deleted, the differing a.txt is a conflict.
  const adopt = await runGamma(["sync", "push", "--adopt"], { env: t.env, cwd: t.project });
  assert.equal(adopt.code, 1);
  assert.match(
    adopt.stderr,
    new RegExp(
      `^gamma: sync: adopted ${t.ws}/app as this project's copy: nothing is deleted, files that differ are kept on both sides as conflicts\ngamma: sync: conflict at a\\.txt: `,
    ),
  );
  assert.equal(await Deno.readTextFile(`${t.project}/a.txt`), "host a\n");
  assert.equal(await Deno.readTextFile(`${t.ws}/app/a.txt`), "host a\n");
  assert.equal(await Deno.readTextFile(`${t.ws}/app/main.go`), "package main\n");
});

Deno.test("issue 9 item 9: ignored build output stays on its side; DEVSHELL_VM_SYNC_GITIGNORE=0 and --no-gitignore sync it", async () => {
  await using t = await syncSetup();
  await Deno.writeTextFile(`${t.project}/.gitignore`, "target/\n");
  await Deno.mkdir(`${t.project}/target`);
  await Deno.writeTextFile(`${t.project}/target/host-build`, "host binary");
  const r = await runGamma(
    ["exec", "--", "sh", "-c", "mkdir -p target && echo linux > target/guest-build"],
    { env: t.env, cwd: t.project },
  );
  assert.deepEqual([r.code, r.stderr], [0, ""]);
  assert.deepEqual(names(`${t.project}/target`), ["host-build"]);
  assert.deepEqual(names(`${t.ws}/app/target`), ["guest-build"]);
  assert.deepEqual(names(`${t.ws}/app/.git`), []); // .git itself is synced
  const off = await runGamma(["exec", "--", "true"], {
    env: { ...t.env, DEVSHELL_VM_SYNC_GITIGNORE: "0" },
    cwd: t.project,
  });
  assert.deepEqual([off.code, off.stderr], [0, ""]);
  assert.deepEqual(names(`${t.project}/target`), ["guest-build", "host-build"]);
  await Deno.writeTextFile(`${t.project}/target/more`, "x");
  const push = await runGamma(["sync", "push", "--no-gitignore"], { env: t.env, cwd: t.project });
  assert.equal(push.code, 0);
  assert.deepEqual(names(`${t.ws}/app/target`), ["guest-build", "host-build", "more"]);
});

Deno.test("issue 9 item 10: gamma sync status before the first push says not pushed yet", async () => {
  await using t = await syncSetup();
  const r = await runGamma(["sync", "status"], { env: t.env, cwd: t.project });
  assert.deepEqual(
    [r.code, r.stdout, r.stderr],
    [
      0,
      `${t.project} <-> ${t.ws}/app (guest /workspace/app)\nnot pushed yet: the first push copies 2 files (17 B)\n`,
      "",
    ],
  );
  assert.equal(await exists(`${t.ws}/app`), false);
});

Deno.test("issue 16 item 5: gamma sync in a mounted project says there is nothing to sync", async () => {
  await using t = await syncSetup();
  const mounted = `${t.ws}/mounted`;
  await Deno.mkdir(`${mounted}/.git`, { recursive: true });
  for (const action of ["push", "pull", "status"]) {
    const r = await runGamma(["sync", action], { env: t.env, cwd: mounted });
    assert.deepEqual(
      [r.code, r.stdout, r.stderr],
      [
        0,
        `${mounted} is mounted in instance dev at /workspace/mounted: the guest sees it directly, so there is nothing to sync\n`,
        "",
      ],
      action,
    );
  }
  assert.deepEqual(names(t.ws), ["mounted"]);
});

Deno.test("issue 16 item 5: running from an ignored directory in sync mode names the rule", async () => {
  await using t = await syncSetup();
  await Deno.writeTextFile(`${t.project}/.gitignore`, "# build output\ntarget/\n");
  await Deno.mkdir(`${t.project}/target/debug`, { recursive: true });
  const r = await runGamma(["exec", "--", "true"], {
    env: t.env,
    cwd: `${t.project}/target/debug`,
  });
  assert.deepEqual(
    [r.code, r.stderr],
    [
      125,
      `gamma: cannot run in instance dev: the current directory ${t.project}/target/debug is not in sync mode's copy: target is ignored by "target/" in ${t.project}/.gitignore; run gamma from a directory that is synced, or change that rule (or set DEVSHELL_VM_SYNC_GITIGNORE=0)\n`,
    ],
  );
  assert.equal(await exists(`${t.ws}/app`), false); // nothing was pushed
  const off = await runGamma(["exec", "--", "pwd"], {
    env: { ...t.env, DEVSHELL_VM_SYNC_GITIGNORE: "off" },
    cwd: `${t.project}/target/debug`,
  });
  assert.deepEqual([off.code, off.stdout], [0, "/workspace/app/target/debug\n"]);
});

Deno.test("issue 9 item 3: gamma's state may not lie inside the workspace parent the guest writes", async () => {
  await using t = await syncSetup();
  const r = await runGamma(["exec", "--", "true"], {
    env: { ...t.env, XDG_CACHE_HOME: `${t.ws}/.cache` },
    cwd: t.project,
  });
  assert.equal(r.code, 125);
  assert.match(
    r.stderr,
    new RegExp(
      `^gamma: cannot sync ${t.project} into instance dev: gamma's sync state ${t.ws}/\\.cache/gamma/sync/app-[0-9a-f]{12} would lie inside the workspace parent ${t.ws}, which the guest can write; set XDG_CACHE_HOME or DEVSHELL_VM_WORKSPACE_PARENT so that they are apart\\n$`,
    ),
  );
  assert.equal(await exists(`${t.ws}/app`), false); // nothing was copied
  assert.equal(await exists(`${t.ws}/.cache/gamma/sync`), false);
});

/** A running gamma whose stdout and stderr lines can be waited for. */
function spawnGamma(args: string[], env: Record<string, string>, cwd: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", new URL("../../cli.ts", import.meta.url).pathname, ...args],
    cwd,
    clearEnv: true,
    env: {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: testHome(),
      NO_COLOR: "1",
      ...denoEnv(),
      ...env,
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = (stream: ReadableStream<Uint8Array>) => {
    const state = { text: "", waiters: [] as { re: RegExp; from: number; ok: () => void }[] };
    (async () => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        state.text += chunk;
        state.waiters = state.waiters.filter((w) => {
          if (!w.re.test(state.text.slice(w.from))) return true;
          w.ok();
          return false;
        });
      }
    })();
    return {
      get text() {
        return state.text;
      },
      /** Resolves once `re` matches what arrives from now on. */
      next(re: RegExp): Promise<void> {
        return new Promise((ok) => state.waiters.push({ re, from: state.text.length, ok }));
      },
    };
  };
  const stdout = reader(child.stdout);
  const stderr = reader(child.stderr);
  const writer = child.stdin.getWriter();
  return {
    child,
    stdout,
    stderr,
    send: (line: string) => writer.write(new TextEncoder().encode(`${line}\n`)),
    close: () => writer.close(),
  };
}

Deno.test("issue 11: gamma shell in sync mode carries edits both ways while it runs, and ends with both sides equal", async () => {
  await using t = await syncSetup();
  const g = spawnGamma(["shell", "--verbose"], t.env, t.project);
  const ready = g.stdout.next(/ready\n/);
  await g.send("echo ready");
  await ready;
  const read = (path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return undefined;
    }
  };
  /** Wait for batches (their --verbose lines) until `check` holds. */
  const until = async (check: () => boolean) => {
    for (;;) {
      const batch = g.stderr.next(/live: \d+ changes? to the guest, \d+ to the host.*\n/);
      if (check()) return;
      await batch;
    }
  };
  // The host's editor saves a file: it reaches the guest while the shell runs.
  await Deno.writeTextFile(`${t.project}/a.txt`, "saved on the host\n");
  await until(() => read(`${t.ws}/app/a.txt`) === "saved on the host\n");
  const seen = g.stdout.next(/end1\n/);
  await g.send("cat a.txt; echo end1");
  await seen;
  assert.match(g.stdout.text, /saved on the host\nend1\n$/);
  // The guest writes a file: it reaches the host while the shell runs.
  await g.send("echo made in the guest > made.txt");
  await until(() => read(`${t.project}/made.txt`) === "made in the guest\n");
  // A conflict during the session is told at once, both versions kept. (Both edits land
  // within one debounce: the guest's through the copy, which is a host directory.)
  const conflict = g.stderr.next(/conflict at sub\/c\.txt: both sides changed it/);
  Deno.writeTextFileSync(`${t.ws}/app/sub/c.txt`, "guest\n");
  Deno.writeTextFileSync(`${t.project}/sub/c.txt`, "host\n");
  await conflict;
  // Edits just before exit arrive too: the last batch runs when the shell ends.
  await g.send("echo last > last.txt; exit 3");
  await g.close();
  const status = await g.child.status;
  assert.equal(status.code, 3);
  assert.equal(await Deno.readTextFile(`${t.project}/last.txt`), "last\n");
  const list = (root: string) => names(root).filter((n) => n !== ".gamma-copy-id").sort();
  assert.deepEqual(list(t.project), list(`${t.ws}/app`));
  const copies = names(`${t.project}/sub`).filter((n) => n.startsWith("c.txt.gamma-conflict-"));
  assert.equal(copies.length, 1);
  assert.equal(await Deno.readTextFile(`${t.project}/sub/c.txt`), "host\n");
  assert.equal(await Deno.readTextFile(`${t.project}/sub/${copies[0]}`), "guest\n");
  assert.equal(await Deno.readTextFile(`${t.ws}/app/sub/c.txt`), "host\n");
});

Deno.test("issue 11: gamma sync watch syncs both ways until Ctrl-C, then exits 0 with both sides equal", async () => {
  await using t = await syncSetup();
  const g = spawnGamma(["sync", "watch", "--verbose"], t.env, t.project);
  await g.stderr.next(/watching .* Ctrl-C stops\n/);
  const batch = g.stderr.next(/live: 0 changes to the guest, 1 to the host/);
  // The first sync is done before watching starts: the copy is there to write to.
  // (Written whole, then renamed in: one change, as an editor saves.)
  await Deno.writeTextFile(`${t.root}/from-guest.txt`, "g\n");
  await Deno.rename(`${t.root}/from-guest.txt`, `${t.ws}/app/from-guest.txt`);
  await batch;
  assert.equal(await Deno.readTextFile(`${t.project}/from-guest.txt`), "g\n");
  await Deno.writeTextFile(`${t.project}/from-host.txt`, "h\n");
  g.child.kill("SIGINT");
  await g.close().catch(() => {});
  const status = await g.child.status;
  assert.equal(status.code, 0);
  // Stopping ran a last batch: the host's late edit is in the copy.
  assert.equal(await Deno.readTextFile(`${t.ws}/app/from-host.txt`), "h\n");
  assert.doesNotMatch(g.stderr.text, /conflict|failed/);
});

Deno.test("issue 11: gamma exec --live carries a host edit to a running command, and its output back", async () => {
  await using t = await syncSetup();
  // The command waits for a file that only the live sync can bring, then answers through the copy.
  const g = spawnGamma(
    [
      "exec",
      "--live",
      "--verbose",
      "--",
      "sh",
      "-c",
      "echo started > started.txt; while [ ! -e go.txt ]; do sleep 0.05; done; cat go.txt > answer.txt",
    ],
    t.env,
    t.project,
  );
  await g.close();
  // The guest's first write comes back while the command runs...
  for (;;) {
    const batch = g.stderr.next(/live: .*\n/);
    if (await Deno.readTextFile(`${t.project}/started.txt`).catch(() => "") === "started\n") break;
    await batch;
  }
  // ...and the host's edit reaches it (without live sync the command would wait forever).
  await Deno.writeTextFile(`${t.root}/go.txt`, "go\n");
  await Deno.rename(`${t.root}/go.txt`, `${t.project}/go.txt`);
  const status = await g.child.status;
  assert.equal(status.code, 0);
  assert.equal(await Deno.readTextFile(`${t.project}/answer.txt`), "go\n");
});
