/**
 * Script ergonomics: every run method takes an AbortSignal and a timeout that stop the command
 * in the guest (through the signal relay) and report a GammaError subclass.
 */

import assert from "node:assert/strict";
import { CommandAbortedError, CommandTimeoutError, GammaError } from "../../lib/errors.ts";
import { GammaSession } from "../../lib/session/session.ts";
import { setup, sleeping, testSession, uniqueDigits, waitForFile } from "../cli/_run.ts";

const marker = (n: number): string => `${n}.${uniqueDigits()}`;
const decode = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

Deno.test("GammaSession.exec() with an aborted signal stops the guest command and rejects", async () => {
  await using t = await setup();
  const { session } = testSession(t);
  const m = marker(51);
  const controller = new AbortController();
  const running = session.exec(
    ["sh", "-c", `echo started; echo > started; sleep ${m}; echo late > late.txt`],
    { stdin: "null", stdout: "piped", stderr: "piped", signal: controller.signal },
  );
  await waitForFile(`${t.project}/started`);
  controller.abort("enough");
  const e = await running.then(() => assert.fail("expected a rejection"), (e: unknown) => e);
  assert.ok(e instanceof CommandAbortedError);
  assert.ok(e instanceof GammaError);
  assert.deepEqual(
    [e.instance, e.argv.slice(0, 2), e.workdir, e.exitCode, e.cause, decode(e.stdout)],
    ["dev", ["sh", "-c"], "/work/p", 143, "enough", "started\n"],
  );
  assert.match(
    e.message,
    /^sh -c .* in instance dev \(in \/work\/p\) was aborted \(exit code 143\)$/,
  );
  // The guest command is gone, not just the local process.
  assert.deepEqual(sleeping(m), []);
  await assert.rejects(Deno.lstat(`${t.project}/late.txt`), Deno.errors.NotFound);
});

Deno.test("GammaSession.exec() with a timeout stops the guest command and rejects", async () => {
  await using t = await setup();
  const { session } = testSession(t, `${t.project}/sub`);
  const m = marker(52);
  const e = await session.exec(["sleep", m], { stdin: "null", timeout: 300 })
    .then(() => assert.fail("expected a rejection"), (e: unknown) => e);
  assert.ok(e instanceof CommandTimeoutError);
  assert.deepEqual([e.instance, e.argv, e.workdir, e.exitCode, e.timeoutMs, e.stdout], [
    "dev",
    ["sleep", m],
    "/work/p/sub",
    143,
    300,
    undefined,
  ]);
  assert.equal(
    e.message,
    `sleep ${m} in instance dev (in /work/p/sub) did not finish within 0.3 s and was stopped (exit code 143)`,
  );
  assert.deepEqual(sleeping(m), []);
});

Deno.test("GammaSession.exec() that finishes in time returns its result as usual", async () => {
  await using t = await setup();
  const { session } = testSession(t);
  const controller = new AbortController();
  const r = await session.exec(["sh", "-c", "echo hi; exit 4"], {
    stdin: "null",
    stdout: "piped",
    signal: controller.signal,
    timeout: 60_000,
  });
  assert.deepEqual([r.code, decode(r.stdout)], [4, "hi\n"]);
  // Aborting afterwards changes nothing.
  controller.abort();
});

Deno.test("GammaSession run methods reject an already aborted signal before anything runs", async () => {
  await using t = await setup({ running: false });
  const { session, argvs } = testSession(t);
  const signal = AbortSignal.abort("not now");
  for (
    const run of [
      () => session.exec(["true"], { signal }),
      () => session.capture(["true"], { signal }),
      () => session.output("true", { signal }),
      () => session.shell({ signal }),
    ]
  ) {
    await assert.rejects(run, (e: unknown) => {
      assert.ok(e instanceof CommandAbortedError);
      assert.deepEqual([e.workdir, e.exitCode, e.cause], [undefined, undefined, "not now"]);
      assert.match(e.message, / in instance dev was aborted before it started$/);
      return true;
    });
  }
  // The VM was not even started.
  assert.deepEqual(argvs, []);
  await assert.rejects(() => session.exec(["true"], { timeout: 0 }), {
    name: "RangeError",
    message: "Invalid timeout 0: use a positive number of milliseconds, or leave it out",
  });
});

Deno.test("GammaSession.output() and capture() with a timeout stop the guest command", async () => {
  await using t = await setup();
  const { session } = testSession(t);
  const m = marker(53);
  await assert.rejects(() => session.output(`echo partial; sleep ${m}`, { timeout: 300 }), (e) => {
    assert.ok(e instanceof CommandTimeoutError);
    assert.deepEqual([e.workdir, e.exitCode, decode(e.stdout)], ["/work/p", 143, "partial\n"]);
    return true;
  });
  assert.deepEqual(sleeping(m), []);
  const controller = new AbortController();
  const running = session.capture(["sh", "-c", `echo > started; sleep ${m}`], {
    signal: controller.signal,
  });
  await waitForFile(`${t.project}/started`);
  controller.abort();
  await assert.rejects(running, { name: "CommandAbortedError", exitCode: 143 });
  assert.deepEqual(sleeping(m), []);
  // Unstopped, the relayed capture gives the plain result.
  const r = await session.capture(["sh", "-c", "pwd; echo e >&2"], { timeout: 60_000 });
  assert.deepEqual([r.code, decode(r.stdout), r.stderr], [0, "/work/p\n", "e\n"]);
});

Deno.test("GammaSession.exec() on the host backend stops the command on a timeout", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gamma-stop-" });
  try {
    const session = new GammaSession({
      env: { DEVSHELL_VM: "off", PATH: "/usr/bin:/bin" },
      cwd: dir,
      notice: () => {},
    });
    const m = marker(54);
    await assert.rejects(() => session.exec(["sleep", m], { stdin: "null", timeout: 300 }), (e) => {
      assert.ok(e instanceof CommandTimeoutError);
      assert.deepEqual([e.instance, e.workdir, e.exitCode], ["", dir, 143]);
      assert.equal(
        e.message,
        `sleep ${m} on the host (in ${dir}) did not finish within 0.3 s and was stopped (exit code 143)`,
      );
      return true;
    });
    assert.deepEqual(sleeping(m), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
