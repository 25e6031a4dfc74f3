/** A project no mount shows is never given an assumed guest path. */
import assert from "node:assert/strict";
import { runGamma, setup } from "./_run.ts";

Deno.test("an unmounted Cargo workspace gets no assumed guest path: 125 with the fix, and status says why", async () => {
  await using t = await setup();
  const cw = `${t.project}/../cw`;
  await Deno.mkdir(`${cw}/app/src`, { recursive: true });
  const root = await Deno.realPath(cw);
  await Deno.writeTextFile(`${root}/Cargo.toml`, '[workspace]\nmembers = ["app"]\n');
  await Deno.writeTextFile(`${root}/app/Cargo.toml`, '[package]\nname = "app"\n');
  const cwd = `${root}/app`;
  const exec = await runGamma(["exec", "--", "pwd"], { env: t.env, cwd });
  assert.equal(exec.code, 125, exec.stderr);
  assert.equal(exec.stdout, "");
  assert.doesNotMatch(exec.stderr, /cd: /);
  // The Cargo root is the workspace parent, so Mode S's copy would be the project itself.
  assert.match(
    exec.stderr,
    new RegExp(`^gamma: cannot sync ${cwd} into instance dev: .*set DEVSHELL_VM_WORKSPACE_PARENT`),
  );
  // With a workspace parent that a mount shows, Mode S engages.
  const synced = await runGamma(["exec", "--", "pwd"], {
    env: { ...t.env, DEVSHELL_VM_WORKSPACE_PARENT: `${t.project}/ws` },
    cwd,
  });
  assert.deepEqual([synced.code, synced.stdout, synced.stderr], [0, "/work/p/ws/app\n", ""]);
  const guest = await runGamma(["exec", "--", "pwd"], {
    env: { ...t.env, DEVSHELL_VM_WORKSPACE_MODE: "guest" },
    cwd,
  });
  assert.equal(guest.code, 125);
  assert.match(guest.stderr, /is not under any of its mounts\n/);
  const path = await runGamma(["path"], { env: t.env, cwd });
  assert.deepEqual([path.code, path.stdout], [1, ""]);
  const status = await runGamma(["status", "--json"], { env: t.env, cwd });
  const s = JSON.parse(status.stdout);
  assert.equal(s.guestCwd, null);
  assert.equal(s.workspaceParentSource, "cargo");
  assert.match(
    s.guestCwdSource,
    /^not under any mount, and no sync copy: cannot sync /,
  );
  const mounted = JSON.parse(
    (await runGamma(["status", "--json"], { env: t.env, cwd: t.project })).stdout,
  );
  assert.deepEqual([mounted.guestCwd, mounted.guestCwdSource], [
    "/work/p",
    `mount ${t.project} -> /work/p`,
  ]);
});
