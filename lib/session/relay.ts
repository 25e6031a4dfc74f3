/**
 * The host side of gamma's signal relay: run a transport (`limactl shell`, or ssh) whose guest
 * command is wrapped by {@linkcode relayedCommand}, and turn SIGINT, SIGTERM and SIGHUP that
 * reach gamma into the same signal for the guest command's process group.
 *
 * @module
 */

import type { RelaySignal } from "../signal_relay.ts";

/** What {@linkcode runRelayed} needs: the transport, its stdio, and how to reach the guest. */
export interface RelayedRun {
  /** The transport program and its arguments (the guest side wrapped by `relayedCommand`). */
  command: string;
  /** Its arguments. */
  args: string[];
  /** The transport's environment; inherited when `undefined`. */
  env: Record<string, string> | undefined;
  /** `inherit`, `null` or the bytes to feed. */
  stdin: "inherit" | "null" | Uint8Array;
  /** `inherit` or `piped`. */
  stdout: "inherit" | "piped";
  /** `inherit` or `piped`. */
  stderr: "inherit" | "piped";
  /**
   * One short guest call that signals the run's process group (`relaySignalCommand`); resolves
   * to its exit code (0 signalled, 3 no such run, else the transport failed). Aborted when the
   * run is over.
   */
  signalGuest: (signal: RelaySignal, abort: AbortSignal) => Promise<number>;
  /** gamma's notices. */
  notice: (line: string) => void;
  /** How long SIGTERM and SIGHUP wait before SIGKILL; default 5000 ms. */
  graceMs?: number | undefined;
  /** Signals gamma swallows instead (`gamma shell` leaves Ctrl-C to the shell). */
  ignore?: readonly HostSignal[] | undefined;
  /**
   * Stop the guest command when this is aborted (a script's `signal` or `timeout`): as if
   * SIGTERM had reached gamma, so SIGTERM goes to the command's process group and SIGKILL
   * follows `graceMs` later if it is still running.
   */
  stop?: AbortSignal | undefined;
}

/** Signal numbers that Linux and macOS share (128+N is what a shell reports for them). */
const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** The signals gamma relays. */
export type HostSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

/**
 * Run the transport and wait for it, relaying signals to the guest. The transport runs
 * detached (its own session), so a terminal's Ctrl-C reaches gamma, not `limactl` or ssh, and
 * the transport lives to report the guest command's real status: the wrapper exits with the
 * command's own code or 128+N. The first signal is relayed as it is; a second one, or
 * `graceMs` after SIGTERM or SIGHUP, kills the group with SIGKILL and says so. Only when the
 * guest cannot be reached is the signal passed to the transport itself, as before the relay.
 *
 * The run is spawned with `Deno.Command`, not dax: dax cannot detach a child, and its code for
 * a child killed by a signal is not the shell's (it maps SIGHUP to 1, and 0 was observed for a
 * forwarded SIGINT), while `Deno.Command` reports the signal itself.
 *
 * @param run The transport and how to reach the guest.
 * @returns The exit code and the captured output.
 */
export async function runRelayed(
  run: RelayedRun,
): Promise<{ code: number; stdout: Uint8Array; stderr: Uint8Array }> {
  const child = new Deno.Command(run.command, {
    args: run.args,
    ...(run.env === undefined ? {} : { clearEnv: true, env: run.env }),
    stdin: run.stdin instanceof Uint8Array ? "piped" : run.stdin,
    stdout: run.stdout,
    stderr: run.stderr,
    detached: true,
  }).spawn();
  if (run.stdin instanceof Uint8Array) {
    const writer = child.stdin.getWriter();
    writer.write(run.stdin).then(() => writer.close()).catch(() => {});
  }
  const collect = (stream: ReadableStream<Uint8Array> | null, mode: string) =>
    mode === "piped" && stream !== null
      ? new Response(stream).bytes()
      : Promise.resolve(new Uint8Array());
  const stdout = collect(run.stdout === "piped" ? child.stdout : null, run.stdout);
  const stderr = collect(run.stderr === "piped" ? child.stderr : null, run.stderr);

  const over = new AbortController();
  const grace = run.graceMs ?? 5000;
  let first: HostSignal | undefined;
  let killing = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const calls: Promise<unknown>[] = [];
  const relay = (signal: RelaySignal, fallback: Deno.Signal) => {
    calls.push(
      run.signalGuest(signal, over.signal).then((code) => {
        if (code === 0 || over.signal.aborted) return;
        // The guest could not be asked (no relay there, or no connection): do what gamma did
        // before the relay, and end the transport.
        run.notice(
          `gamma: could not pass SIG${signal} to the guest command (exit ${code}); ending the connection with ${fallback} instead, so the command may run on in the guest`,
        );
        try {
          child.kill(fallback);
        } catch {
          // Already gone.
        }
      }, () => {}),
    );
  };
  const escalate = (why: string) => {
    if (killing) return;
    killing = true;
    clearTimeout(timer);
    run.notice(`gamma: ${why}: killing the guest command's process group (SIGKILL)`);
    relay("KILL", "SIGKILL");
  };
  const received = (sig: HostSignal) => {
    if (first === undefined) {
      first = sig;
      relay(sig.slice(3) as RelaySignal, sig);
      if (sig !== "SIGINT") {
        timer = setTimeout(
          () => escalate(`the guest command did not end within ${grace / 1000} s of ${sig}`),
          grace,
        );
      }
    } else {
      escalate(
        sig === "SIGINT" && first === "SIGINT" ? "second interrupt" : `${sig} after ${first}`,
      );
    }
  };
  const listeners = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((sig) => {
    const fn = () => {
      if (!run.ignore?.includes(sig)) received(sig);
    };
    Deno.addSignalListener(sig, fn);
    return [sig, fn] as const;
  });
  const stopped = () => received("SIGTERM");
  run.stop?.addEventListener("abort", stopped, { once: true });
  if (run.stop?.aborted) stopped();
  try {
    const status = await child.status;
    // The transport itself ended by a signal (only when the relay fell back on it): the
    // shell's 128+N; 255, ssh's code for a lost session, for a signal without a shared number.
    const number = status.signal === null ? undefined : SIGNAL_NUMBERS[status.signal];
    const code = status.signal === null ? status.code : number === undefined ? 255 : 128 + number;
    return { code, stdout: await stdout, stderr: await stderr };
  } finally {
    clearTimeout(timer);
    over.abort();
    run.stop?.removeEventListener("abort", stopped);
    for (const [sig, fn] of listeners) Deno.removeSignalListener(sig, fn);
    await Promise.allSettled(calls);
  }
}
