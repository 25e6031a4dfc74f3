/**
 * The host backend's process runner: the program itself (PATH lookup, no shell, no built-ins),
 * stdio passed through or captured, and SIGINT/SIGTERM/SIGHUP relayed while it runs.
 *
 * @module
 */

import { constants } from "node:os";

/** How {@linkcode runHostProgram} wires one child. */
export interface HostRunOptions {
  /** The working directory. */
  cwd: string;
  /** The whole environment of the child; `undefined` inherits gamma's, plus `extraEnv`. */
  env: Record<string, string> | undefined;
  /** Variables added on top. */
  extraEnv: Readonly<Record<string, string>>;
  /** `inherit`, `null`, or bytes to feed. */
  stdin: "inherit" | "null" | Uint8Array;
  /** `inherit` or `piped`. */
  stdout: "inherit" | "piped";
  /** `inherit` or `piped`. */
  stderr: "inherit" | "piped";
  /** Signals passed on to the child while it runs. */
  forward: Deno.Signal[];
  /** Signals swallowed while it runs (the child handles them itself, e.g. an interactive shell). */
  ignore: Deno.Signal[];
  /** Where gamma's own line about a program that cannot start goes. */
  notice: (line: string) => void;
  /** Stop the child when this is aborted: SIGTERM, then SIGKILL 5 s later if it still runs. */
  stop?: AbortSignal | undefined;
}

/** What the child did: the shell's exit status convention (128+N after signal N). */
export interface HostRunResult {
  /** Exit code, 128+N when it died of signal N, 127 not found, 126 not executable. */
  code: number;
  /** Captured stdout (empty unless piped). */
  stdout: Uint8Array;
  /** Captured stderr (empty unless piped). */
  stderr: Uint8Array;
}

/**
 * The signal number of a signal name (`SIGTERM` → 15), for the 128+N exit status.
 *
 * @param signal The name.
 * @returns The number, or 0 when unknown.
 */
export function signalNumber(signal: string): number {
  return (constants.signals as Record<string, number>)[signal] ?? 0;
}

async function collect(stream: ReadableStream<Uint8Array> | null): Promise<Uint8Array> {
  if (stream === null) return new Uint8Array();
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Run a program on the host like a shell would run a simple command, but without a shell: the
 * program is found on the child's PATH (a name containing `/` is used as it is), its arguments
 * are passed untouched, and its exit status comes back as the shell reports it.
 *
 * @param argv Program and arguments.
 * @param options Working directory, environment, stdio and signals.
 * @returns The exit code and captured output.
 */
export async function runHostProgram(
  argv: readonly string[],
  options: HostRunOptions,
): Promise<HostRunResult> {
  const [program, ...args] = argv;
  if (program === undefined || program === "") throw new TypeError("Cannot run an empty command");
  // Listen before the child exists, so a signal that arrives while it starts is not lost.
  let child: Deno.ChildProcess | undefined;
  const early: Deno.Signal[] = [];
  const pass = (sig: Deno.Signal): void => {
    if (child === undefined) {
      early.push(sig);
      return;
    }
    try {
      child.kill(sig);
    } catch {
      // Already gone.
    }
  };
  const listeners: [Deno.Signal, () => void][] = [
    ...options.forward.map((sig): [Deno.Signal, () => void] => [sig, () => pass(sig)]),
    ...options.ignore.map((sig): [Deno.Signal, () => void] => [sig, () => {}]),
  ];
  for (const [sig, fn] of listeners) Deno.addSignalListener(sig, fn);
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const stopped = (): void => {
    pass("SIGTERM");
    killTimer = setTimeout(() => pass("SIGKILL"), 5000);
  };
  options.stop?.addEventListener("abort", stopped, { once: true });
  if (options.stop?.aborted) stopped();
  try {
    return await spawnAndWait(program, args, options, (spawned) => {
      child = spawned;
      for (const sig of early.splice(0)) pass(sig);
    });
  } finally {
    clearTimeout(killTimer);
    options.stop?.removeEventListener("abort", stopped);
    for (const [sig, fn] of listeners) Deno.removeSignalListener(sig, fn);
  }
}

async function spawnAndWait(
  program: string,
  args: string[],
  options: HostRunOptions,
  spawned: (child: Deno.ChildProcess) => void,
): Promise<HostRunResult> {
  const stdinBytes = options.stdin instanceof Uint8Array ? options.stdin : undefined;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      cwd: options.cwd,
      ...(options.env === undefined
        ? { env: { ...options.extraEnv } }
        : { clearEnv: true, env: { ...options.env, ...options.extraEnv } }),
      stdin: options.stdin instanceof Uint8Array ? "piped" : options.stdin,
      stdout: options.stdout,
      stderr: options.stderr,
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      const what = program.includes("/") ? "No such file or directory" : "command not found";
      // A missing working directory is reported the same way by Deno; say which it is.
      let cwdMissing = false;
      try {
        Deno.statSync(options.cwd);
      } catch {
        cwdMissing = true;
      }
      options.notice(
        cwdMissing
          ? `gamma: cannot run ${program}: working directory ${options.cwd}: No such file or directory`
          : `gamma: ${program}: ${what}`,
      );
      return { code: cwdMissing ? 126 : 127, stdout: new Uint8Array(), stderr: new Uint8Array() };
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      options.notice(`gamma: ${program}: Permission denied`);
      return { code: 126, stdout: new Uint8Array(), stderr: new Uint8Array() };
    }
    throw e;
  }
  spawned(child);
  {
    const feeding = stdinBytes === undefined ? Promise.resolve() : (async () => {
      const writer = child.stdin.getWriter();
      try {
        await writer.write(stdinBytes);
        await writer.close();
      } catch {
        // The program stopped reading: like a shell pipeline, that is not gamma's error.
      }
    })();
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      options.stdout === "piped" ? collect(child.stdout) : Promise.resolve(new Uint8Array()),
      options.stderr === "piped" ? collect(child.stderr) : Promise.resolve(new Uint8Array()),
      feeding,
    ]);
    const code = status.signal !== null ? 128 + signalNumber(status.signal) : status.code;
    return { code, stdout, stderr };
  }
}
