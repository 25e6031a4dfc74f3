import assert from "node:assert/strict";
import { runRelayed } from "../../lib/session/relay.ts";
import type { RelaySignal } from "../../lib/signal_relay.ts";
import { waitForFile } from "../cli/_run.ts";

// The "transport" here is a local sh standing for limactl and its guest command: runRelayed
// spawns it detached, so its pid leads its own process group, which the fake guest call signals.

async function tempDir(): Promise<string> {
  return await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-relay-run-" }));
}

/** The pid of the process whose argv holds `marker`, once it runs. */
async function pidOf(marker: string): Promise<number> {
  for (;;) {
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      try {
        const argv = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0");
        if (argv[0]?.endsWith("sh") && argv.some((a) => a.includes(marker))) return Number(e.name);
      } catch {
        // Gone meanwhile.
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("runRelayed: SIGTERM that the command ignores escalates to SIGKILL after the grace", async () => {
  const dir = await tempDir();
  try {
    const marker = `relay-${crypto.randomUUID()}`;
    const notices: string[] = [];
    const sent: RelaySignal[] = [];
    const running = runRelayed({
      command: "sh",
      args: ["-c", `trap '' TERM; echo > "$0/started"; while :; do sleep 1; done # ${marker}`, dir],
      env: undefined,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      notice: (line) => notices.push(line),
      graceMs: 200,
      signalGuest: async (signal) => {
        sent.push(signal);
        Deno.kill(-(await pidOf(marker)), `SIG${signal}`);
        return 0;
      },
    });
    await waitForFile(`${dir}/started`);
    Deno.kill(Deno.pid, "SIGTERM"); // gamma's own SIGTERM; runRelayed holds it
    const r = await running;
    assert.equal(r.code, 137);
    assert.deepEqual(sent, ["TERM", "KILL"]);
    assert.deepEqual(notices, [
      "gamma: the guest command did not end within 0.2 s of SIGTERM: killing the guest command's process group (SIGKILL)",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runRelayed: when the guest cannot be asked, the transport gets the signal and says so", async () => {
  const dir = await tempDir();
  try {
    const notices: string[] = [];
    const running = runRelayed({
      command: "sh",
      args: ["-c", 'echo > "$0/started"; exec sleep 30', dir],
      env: undefined,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      notice: (line) => notices.push(line),
      signalGuest: () => Promise.resolve(255),
    });
    await waitForFile(`${dir}/started`);
    // (SIGHUP: the test runner keeps SIGINT for itself.)
    Deno.kill(Deno.pid, "SIGHUP");
    const r = await running;
    assert.equal(r.code, 129);
    assert.deepEqual(notices, [
      "gamma: could not pass SIGHUP to the guest command (exit 255); ending the connection with SIGHUP instead, so the command may run on in the guest",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runRelayed: captures output and stdin bytes, and reports the command's own code", async () => {
  const stdin = new Uint8Array(200000).map((_, i) => (i * 31) % 256);
  const r = await runRelayed({
    command: "sh",
    args: ["-c", "cat; echo err >&2; exit 7"],
    env: { PATH: "/usr/bin:/bin" },
    stdin,
    stdout: "piped",
    stderr: "piped",
    notice: () => {},
    signalGuest: () => Promise.resolve(0),
  });
  assert.equal(r.code, 7);
  assert.deepEqual(r.stdout, stdin);
  assert.equal(new TextDecoder().decode(r.stderr), "err\n");
});
