import assert from "node:assert/strict";
import { limaShellScript } from "../../lib/lima_ssh.ts";
import { terminalCommand } from "../../lib/signal_relay.ts";
import { gammaEnv, setup, sleeping, testBothPaths, uniqueDigits, waitForFile } from "./_run.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/**
 * gamma without a terminal (stdin closed, stdout and stderr piped), for a test that sends it
 * signals itself.
 */
function spawnGamma(args: string[], env: Record<string, string>, cwd: string, stdin?: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", CLI, ...args],
    cwd,
    clearEnv: true,
    env: gammaEnv(env),
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(stdin)).then(() => writer.close()).catch(() => {});
  }
  return child;
}

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

// The guest sh reports its own foreground sleep's death (dash: "Terminated", "Hangup"; nothing
// for SIGINT); the relay's wrapper adds nothing.
const REPORTS = { SIGINT: "", SIGTERM: "Terminated\n", SIGHUP: "Hangup\n" };

for (const [sig, n] of [["SIGINT", 2], ["SIGTERM", 15], ["SIGHUP", 1]] as const) {
  Deno.test(`gamma exec without a pty: ${sig} stops the guest command, which ends 128+${n}`, async () => {
    await using t = await setup();
    const name = sig.slice(3);
    const marker = `${30 + n}.${uniqueDigits()}`;
    // The guest's trap records the signal and dies of it again; the sleep is its process group.
    const script = `trap 'echo ${name} > trapped; trap - ${name}; kill -${name} $$' ${name}; ` +
      `echo > started; sleep ${marker}; echo late > late.txt`;
    const child = spawnGamma(["exec", "--", "sh", "-c", script], t.env, t.project);
    await waitForFile(`${t.project}/started`);
    child.kill(sig);
    const out = await child.output();
    assert.deepEqual([out.signal, out.code, decode(out.stdout), decode(out.stderr)], [
      null,
      128 + n,
      "",
      REPORTS[sig],
    ]);
    assert.equal(await Deno.readTextFile(`${t.project}/trapped`), `${name}\n`);
    // Nothing of the guest command is left to write later.
    assert.deepEqual(sleeping(marker), []);
    await assert.rejects(Deno.lstat(`${t.project}/late.txt`), Deno.errors.NotFound);
  });
}

Deno.test("gamma exec without a pty: a guest command that traps SIGINT and exits 3 gives 3", async () => {
  await using t = await setup();
  const script = `trap 'echo cleaned > cleanup.txt; exit 3' INT; echo > started; ` +
    `sleep 41.${uniqueDigits()}; echo late > late.txt`;
  const child = spawnGamma(["exec", "--", "sh", "-c", script], t.env, t.project);
  await waitForFile(`${t.project}/started`);
  child.kill("SIGINT");
  const out = await child.output();
  assert.deepEqual([out.code, decode(out.stderr)], [3, ""]);
  assert.equal(await Deno.readTextFile(`${t.project}/cleanup.txt`), "cleaned\n");
  await assert.rejects(Deno.lstat(`${t.project}/late.txt`), Deno.errors.NotFound);
});

Deno.test("gamma exec without a pty: a second SIGINT kills the guest command's group", async () => {
  await using t = await setup();
  const marker = `42.${uniqueDigits()}`;
  // The command shrugs off SIGINT (each one only ends the current sleep).
  const script = `trap 'echo int >> ints' INT; echo > started; ` +
    `while :; do sleep ${marker}; done`;
  const child = spawnGamma(["exec", "--", "sh", "-c", script], t.env, t.project);
  await waitForFile(`${t.project}/started`);
  child.kill("SIGINT");
  await waitForFile(`${t.project}/ints`);
  child.kill("SIGINT");
  const out = await child.output();
  assert.deepEqual([out.signal, out.code, decode(out.stderr)], [
    null,
    137,
    "gamma: second interrupt: killing the guest command's process group (SIGKILL)\n",
  ]);
  assert.deepEqual(sleeping(marker), []);
});

/** gamma on a pseudo-terminal (`script -qec`), with `--debug`; stdin goes to the terminal. */
function onPty(t: { env: Record<string, string>; project: string }, args: string[]) {
  const quote = (s: string) => `'${s.replaceAll("'", `'"'"'`)}'`;
  const gamma = [Deno.execPath(), "run", "-A", "--quiet", CLI, "--debug", ...args];
  return new Deno.Command("script", {
    args: ["-qec", gamma.map(quote).join(" "), "/dev/null"],
    cwd: t.project,
    clearEnv: true,
    env: gammaEnv({ TERM: "dumb", ...t.env }),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/**
 * Check the guest side of the last guest call gamma --debug printed: the argv after `--` of
 * `limactl shell`, or, on the ssh path, the script Lima would send for that argv.
 */
function assertLastGuest(stdout: Uint8Array, argv: string[], workdir: string): void {
  const debug = decode(stdout).split(/\r?\n/).filter((l) => l.startsWith("gamma: debug: "));
  const line = debug.at(-1)!;
  const spawned = JSON.parse(line.slice(line.indexOf("["))) as string[];
  if (line.startsWith("gamma: debug: ssh path (")) {
    assert.equal(spawned.at(-1), limaShellScript(argv, workdir));
  } else {
    assert.deepEqual(spawned.slice(spawned.indexOf("--") + 1), argv);
  }
}

testBothPaths(
  "gamma exec on a pty (script -qec): Ctrl-C is the terminal's, as before the relay",
  async (via) => {
    await using t = await setup({ via });
    const marker = `43.${uniqueDigits()}${via === "ssh" ? 1 : 2}`; // unique per path
    const guest = `echo > started; sleep ${marker}; echo late > late.txt`;
    const child = onPty(t, ["exec", "--", "sh", "-c", guest]);
    const writer = child.stdin.getWriter();
    await waitForFile(`${t.project}/started`);
    await writer.write(new Uint8Array([3])); // Ctrl-C typed on the terminal
    await writer.close();
    const out = await child.output();
    // The terminal interrupted the command itself (the stand-in shares gamma's terminal, so
    // limactl is interrupted with it, and gamma reports 130 as it did before the relay).
    assert.equal(out.code, 130);
    assert.deepEqual(sleeping(marker), []);
    await assert.rejects(Deno.lstat(`${t.project}/late.txt`), Deno.errors.NotFound);
    // No relay on a terminal: no run file, no process group of its own.
    assertLastGuest(out.stdout, terminalCommand(["sh", "-c", guest]), "/work/p");
  },
);

testBothPaths(
  "gamma exec on a pty: a command killed by signal N exits 128+N, not ssh's 255",
  async (via) => {
    await using t = await setup({ via });
    const child = onPty(t, ["exec", "--", "sh", "-c", "kill -TERM $$"]);
    await child.stdin.close();
    const out = await child.output();
    assert.equal(out.code, 143);
    assertLastGuest(out.stdout, terminalCommand(["sh", "-c", "kill -TERM $$"]), "/work/p");
    assert.ok(!decode(out.stdout).includes("cannot reach instance"), decode(out.stdout));
  },
);

Deno.test("gamma shell with a piped script: SIGINT is the shell's, SIGTERM reaches its group", async () => {
  await using t = await setup();
  const marker = `44.${uniqueDigits()}`;
  const script =
    `trap 'echo int >> ints' INT\necho > started\nsleep ${marker}\necho late > late.txt\n`;
  const child = spawnGamma(["shell"], t.env, t.project, script);
  await waitForFile(`${t.project}/started`);
  child.kill("SIGINT"); // swallowed: without a terminal nothing types Ctrl-C for the shell
  child.kill("SIGTERM");
  const out = await child.output();
  assert.deepEqual([out.signal, out.code, decode(out.stderr)], [null, 143, ""]);
  assert.deepEqual(sleeping(marker), []);
  await assert.rejects(Deno.lstat(`${t.project}/ints`), Deno.errors.NotFound);
  await assert.rejects(Deno.lstat(`${t.project}/late.txt`), Deno.errors.NotFound);
});
