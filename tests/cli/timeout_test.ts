/**
 * gamma's own limactl calls are bounded (issue 16 item 1): a hanging limactl (the stand-in's
 * `hang` fault) ends gamma with exit 125 and a message naming the call; doctor shows a failed
 * check; the user's own command is never timed out.
 */
import assert from "node:assert/strict";
import { runGamma, setup, waitForFile } from "./_run.ts";

/**
 * A bound short enough for tests, long enough for the stand-in's ordinary calls; these cases are
 * about limactl, so guest probes go through `limactl shell` (the ssh path's bound is tested last).
 */
const BOUND = { DEVSHELL_VM_LIMACTL_TIMEOUT: "5", DEVSHELL_VM_SSH: "off" };
const MORE = "or allow more time with DEVSHELL_VM_LIMACTL_TIMEOUT=SECONDS";
const LIST_HUNG =
  `gamma: limactl list --json dev did not finish within 5 s and was stopped; limactl could not read instance dev (a stalled file system under LIMA_HOME?): try limactl list dev; ${MORE}\n`;

/** Whether the process is gone (or only waits to be reaped). */
function gone(pid: number): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]?.startsWith("Z") ?? true;
  } catch {
    return true;
  }
}

Deno.test("a hanging limactl list ends status, path and exec with 125, naming the call", async () => {
  await using t = await setup({ fault: "hang" });
  const env = { ...t.env, ...BOUND };
  for (const args of [["status"], ["path"], ["exec", "--", "true"]]) {
    const before = (await t.lima.hungPids()).length;
    const r = await runGamma(args, { env, cwd: t.project });
    assert.deepEqual([r.code, r.stdout, r.stderr], [125, "", LIST_HUNG], args.join(" "));
    const hung = await t.lima.hungPids();
    assert.equal(hung.length, before + 1, args.join(" ")); // it really hung, once
    assert.ok(gone(hung.at(-1)!), `gamma ${args.join(" ")} left the hung limactl running`);
  }
});

Deno.test("a hanging probe ends gamma exec with 125 before the command runs", async () => {
  await using t = await setup();
  const env = { ...t.env, ...BOUND };
  // limactl list answers once (gamma keeps the instance's facts), then the guest stops answering
  assert.equal((await runGamma(["path"], { env, cwd: t.project })).code, 0);
  await Deno.writeTextFile(`${t.lima.dir}/dev/standin-fault`, "hang");
  const r = await runGamma(["exec", "--", "touch", "ran"], { env, cwd: t.project });
  assert.equal(r.code, 125);
  assert.equal(
    r.stderr,
    `gamma: limactl shell --workdir / --tty=false dev -- /bin/sh … did not finish within 5 s and was stopped; the guest of instance dev does not answer over ssh (a wedged ssh connection, e.g. after the host slept?): try limactl shell --reconnect dev true, or restart it: limactl stop dev && limactl start dev; ${MORE}\n`,
  );
  assert.equal(await Deno.lstat(`${t.project}/ran`).catch(() => undefined), undefined);
  assert.equal((await t.lima.hungPids()).length, 1);
});

Deno.test("gamma doctor shows a hanging limactl list as a failed check", async () => {
  await using t = await setup({ fault: "hang" });
  const r = await runGamma(["doctor", "--json", "--kvm-device", "/nonexistent/kvm"], {
    env: { ...t.env, ...BOUND },
    cwd: t.project,
  });
  assert.equal(r.code, 1, r.stderr);
  const checks = JSON.parse(r.stdout).checks as { id: string; status: string; message: string }[];
  const instance = checks.find((c) => c.id === "instance")!;
  assert.equal(instance.status, "fail");
  assert.equal(
    instance.message,
    `limactl list dev failed: ${LIST_HUNG.slice("gamma: ".length, -1)}`,
  );
});

Deno.test("the user's own command is never timed out", async () => {
  await using t = await setup();
  await t.lima.addInstance("hung", { mounts: [], running: true, fault: "hang" });
  const env = { ...t.env, ...BOUND };
  const command = runGamma(
    ["exec", "--", "sh", "-c", "touch started; while [ ! -e go ]; do sleep 0.05; done; echo done"],
    { env, cwd: t.project },
  );
  await waitForFile(`${t.project}/started`);
  // a whole bound goes by while the command runs: another gamma's bounded call expires
  const other = await runGamma(["-i", "hung", "path"], { env, cwd: t.project });
  assert.equal(other.code, 125);
  await Deno.writeTextFile(`${t.project}/go`, "");
  const r = await command;
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, "done\n", ""]);
});

Deno.test("a hanging limactl --version ends status with 125, and fails doctor's limactl check", async () => {
  await using t = await setup();
  // a limactl whose executable sits on a stalled file system: every call hangs
  const env = { ...t.env, ...BOUND, LIMACTL_STANDIN_HANG: "1" };
  const VERSION_HUNG =
    `limactl --version did not finish within 5 s and was stopped; check that limactl runs at all: limactl --version; ${MORE}`;
  const r = await runGamma(["status"], { env, cwd: t.project });
  assert.deepEqual([r.code, r.stdout, r.stderr], [125, "", `gamma: ${VERSION_HUNG}\n`]);
  const doctor = await runGamma(["doctor", "--json", "--kvm-device", "/nonexistent/kvm"], {
    env,
    cwd: t.project,
  });
  assert.equal(doctor.code, 1, doctor.stderr);
  const checks = JSON.parse(doctor.stdout).checks as { id: string }[];
  assert.deepEqual(checks.find((c) => c.id === "limactl"), {
    id: "limactl",
    status: "fail",
    message: VERSION_HUNG,
    fix: `${t.lima.limactl} --version    # must print "limactl version X.Y.Z" at once`,
  });
  const hung = await t.lima.hungPids();
  assert.equal(hung.length, 2);
  assert.ok(hung.every(gone));
});

Deno.test("on the ssh path a guest that stops answering ends the probe with 125 too", async () => {
  await using t = await setup({ via: "ssh" });
  const env = { ...t.env, DEVSHELL_VM_LIMACTL_TIMEOUT: "5" };
  assert.equal((await runGamma(["path"], { env, cwd: t.project })).code, 0);
  // the guest's sshd freezes (its connection, the ControlMaster's, stays open): ssh waits forever
  await t.lima.stopSshd("dev", { freeze: true });
  const r = await runGamma(["exec", "--", "touch", "ran"], { env, cwd: t.project });
  assert.equal(r.code, 125);
  assert.equal(
    r.stderr,
    `gamma: limactl shell --workdir / --tty=false dev -- /bin/sh … did not finish within 5 s and was stopped; the guest of instance dev does not answer over ssh (a wedged ssh connection, e.g. after the host slept?): try limactl shell --reconnect dev true, or restart it: limactl stop dev && limactl start dev; ${MORE}\n`,
  );
  assert.equal(await Deno.lstat(`${t.project}/ran`).catch(() => undefined), undefined);
});
