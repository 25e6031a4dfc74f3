import assert from "node:assert/strict";
import { createLimaHome } from "../support/lima_home.ts";
import { commands, runGamma } from "./_run.ts";

/** A project no mount shows, and a workspace parent mounted writable at /workspace. */
async function syncSetup() {
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

Deno.test("gamma exec pushes an unmounted project, runs in its copy, and pulls changes back", async () => {
  await using t = await syncSetup();
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
    ["lock", "manifest.json", "temp-tags"],
  );
  assert.deepEqual([...Deno.readDirSync(t.project)].map((e) => e.name).sort(), [
    ".git",
    "a.txt",
    "made.txt",
    "sub",
  ]);
});

Deno.test("gamma exec keeps the exit code and pulls back after a failure and after Ctrl-C", async () => {
  await using t = await syncSetup();
  const failed = await runGamma(["exec", "--", "sh", "-c", "echo partial > out.txt; exit 3"], {
    env: t.env,
    cwd: t.project,
  });
  assert.deepEqual([failed.code, failed.stderr], [3, ""]);
  assert.equal(await Deno.readTextFile(`${t.project}/out.txt`), "partial\n");
  const interrupted = await runGamma(
    ["exec", "--", "sh", "-c", "echo before-ctrl-c > int.txt; sleep 30"],
    { env: t.env, cwd: t.project, signal: { sig: "SIGINT", after: 2000 } },
  );
  assert.deepEqual([interrupted.signal, interrupted.code], [null, 130]);
  assert.equal(await Deno.readTextFile(`${t.project}/int.txt`), "before-ctrl-c\n");
});

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

Deno.test("gamma exec in sync mode explains a workspace parent that is not mounted", async () => {
  await using t = await syncSetup();
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
});

Deno.test("sync refuses a staging copy that belongs to another project with the same name", async () => {
  await using t = await syncSetup();
  assert.equal((await runGamma(["sync", "push"], { env: t.env, cwd: t.project })).code, 0);
  const other = `${t.root}/other/app`;
  await Deno.mkdir(`${other}/.git`, { recursive: true });
  const r = await runGamma(["exec", "--", "true"], { env: t.env, cwd: other });
  assert.equal(r.code, 125);
  assert.equal(
    r.stderr,
    `gamma: cannot sync ${other} with ${t.ws}/app: it holds the copy of another project, ${t.project}; rename one of them, or set DEVSHELL_VM_WORKSPACE_PARENT for one\n`,
  );
});

Deno.test("guest mode does not sync", async () => {
  await using t = await syncSetup();
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
