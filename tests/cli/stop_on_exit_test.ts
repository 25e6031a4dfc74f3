/** DEVSHELL_VM_STOP_ON_EXIT with several gamma processes in one instance. */
import assert from "node:assert/strict";
import { GammaSession } from "../../lib/session/session.ts";
import { commands, runGamma, setup, testHome, waitForFile } from "./_run.ts";

Deno.test("stop-on-exit leaves the VM to the last gamma process using it; stale user files are ignored", async () => {
  await using t = await setup({ running: false });
  const env = { ...t.env, DEVSHELL_VM_STOP_ON_EXIT: "yes" };
  // A crashed gamma's user file: its pid is gone, so it does not count.
  const home = testHome();
  const users = new GammaSession({
    env: { ...t.env, HOME: home, XDG_CACHE_HOME: `${home}/.cache`, PATH: "/usr/bin:/bin" },
  }).cacheFile("users", "d");
  const dead = new Deno.Command("true").spawn();
  await dead.status;
  await Deno.mkdir(users, { recursive: true });
  await Deno.writeTextFile(`${users}/${dead.pid}-crashed.user`, `${dead.pid}\n`);

  // A starts the VM and runs until released; B runs in it meanwhile.
  const wait = (name: string) =>
    `touch ${name}-ready; while [ ! -e ${name}-go ]; do sleep 0.05; done`;
  const a = runGamma(["exec", "--", "sh", "-c", wait("a")], { env, cwd: t.project });
  await waitForFile(`${t.project}/a-ready`);
  const b = runGamma(["exec", "--", "sh", "-c", wait("b")], { env, cwd: t.project });
  await waitForFile(`${t.project}/b-ready`);
  await Deno.writeTextFile(`${t.project}/a-go`, "");
  const first = await a;
  assert.equal(first.code, 0);
  assert.match(
    first.stderr,
    /\ngamma: not stopping instance dev: 1 other gamma process is using it\n$/,
  );
  assert.equal((await commands(t.lima)).includes("stop"), false);
  // B leaves last: it stops the VM that A started.
  await Deno.writeTextFile(`${t.project}/b-go`, "");
  const second = await b;
  assert.equal(second.code, 0);
  assert.match(
    second.stderr,
    /\ngamma: stopped instance dev \(stopOnExit, variable DEVSHELL_VM_STOP_ON_EXIT\)\n$/,
  );
  assert.equal((await commands(t.lima)).filter((c) => c === "stop").length, 1);
  assert.deepEqual([...Deno.readDirSync(users)].map((e) => e.name), []);
});
