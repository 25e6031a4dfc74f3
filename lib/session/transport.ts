/**
 * How guest commands reach a Lima instance: {@linkcode Transport} chooses `ssh` through the
 * instance's `ssh.config` (when Lima's ControlMaster socket exists) or `limactl shell`, builds the
 * same remote script either way, and runs it with SIGINT/SIGTERM/SIGHUP forwarded or ignored.
 * Never imports the session module.
 *
 * @module
 */

import type { CommandBuilder, KillController } from "dax";
import { posix } from "node:path";
import type { Env, GammaConfig } from "../config.ts";
import { LimactlTimeoutError } from "../errors.ts";
import { normalizeAbsolutePath } from "../guest_path.ts";
import { validateInstanceName } from "../instance_name.ts";
import { limaShellScript, sshConfigHost, sshShellArgs } from "../lima_ssh.ts";
import { type LimactlCall, limactlTimeoutHint, limactlTimeoutMs } from "../limactl_timeout.ts";
import { isExecutableFile } from "./_files.ts";
import { dax, type LimaInstance } from "./instance.ts";
import type { ExecOptions, GuestTransport } from "./types.ts";

// deno-fmt-ignore
const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15,
};

/** Filled in by a runner with the way to kill its child (a bounded call's time-out uses it). */
interface Killer {
  kill?: (sig: Deno.Signal) => void;
}

/** What a {@linkcode Transport} needs from the session. */
export interface TransportContext {
  /** The instance name. */
  instance: string;
  /** `$LIMA_HOME/NAME`. */
  instanceDir: string | undefined;
  /** The resolved configuration (`ssh`, `limactlTimeout`). */
  config: GammaConfig;
  /** The environment gamma read (`PATH`, `COLORTERM`). */
  env: Env;
  /** The environment the transport runs with; inherited when `undefined`. */
  childEnv: Record<string, string> | undefined;
  /** The `limactl` executable. */
  limactl: string | undefined;
  /** Called with the transport and argv of every guest command. */
  onGuestCommand: ((transport: GuestTransport, argv: readonly string[]) => void) | undefined;
  /** Called with every `limactl` argv. */
  onLimactl: ((argv: readonly string[]) => void) | undefined;
  /** The instance, for its dax `limactl` builder. */
  lima: LimaInstance;
}

/**
 * The transport of one session's guest commands.
 *
 * @example Usage
 * ```ts
 * import type { Transport } from "./transport.ts";
 *
 * const kindOf = (t: Transport): string => t.choose().kind;
 * ```
 */
export class Transport {
  /** The session's facts. */
  readonly c: TransportContext;

  /**
   * Keep the session's facts; nothing runs.
   *
   * @param c The session's facts.
   */
  constructor(c: TransportContext) {
    this.c = c;
  }

  /**
   * Which transport a guest command takes now, and why. Reads two small files, runs nothing.
   *
   * @returns The transport and why.
   */
  choose(): GuestTransport {
    const limactl = (reason: string): GuestTransport => ({ kind: "limactl", reason });
    if (!this.c.config.ssh) return limactl("DEVSHELL_VM_SSH=off");
    const dir = this.c.instanceDir;
    if (dir === undefined) return limactl("no LIMA_HOME");
    const configFile = `${dir}/ssh.config`;
    let text: string;
    try {
      text = Deno.readTextFileSync(configFile);
    } catch {
      return limactl(`no ${configFile}`);
    }
    const host = sshConfigHost(text);
    if (host === undefined) return limactl(`${configFile} names no Host`);
    const controlPath = /^\s*ControlPath\s+"?([^"\n]*?)"?\s*$/m.exec(text)?.[1];
    if (!controlPath) return limactl(`${configFile} names no ControlPath`);
    try {
      if (!Deno.lstatSync(controlPath).isSocket) return limactl(`${controlPath} is not a socket`);
    } catch {
      return limactl(`no ControlMaster socket ${controlPath}`);
    }
    const program = (this.c.env["PATH"] ?? "").split(":")
      .filter((d) => d.startsWith("/"))
      .map((d) => posix.join(d, "ssh"))
      .find(isExecutableFile);
    if (program === undefined) return limactl("no ssh on PATH");
    return {
      kind: "ssh",
      reason: `${configFile} and ${controlPath}`,
      ssh: { program, configFile, host },
    };
  }

  /**
   * Run a guest argv (from {@linkcode guestArgv}) at `workdir` through the transport of
   * {@linkcode choose}: the same argv and the same remote script either way, only the
   * process that carries it differs. SIGINT/SIGTERM/SIGHUP are forwarded or ignored as asked.
   */
  async run(
    argv: readonly string[],
    options: GuestRunOptions & {
      /** Bound the call by this time-out (`probe`); the user's command is never bounded. */
      call?: LimactlCall | undefined;
    },
  ): Promise<{ code: number; stdout: Uint8Array; stderr: Uint8Array }> {
    const limactlArgv = ["shell", "--workdir", normalizeAbsolutePath(options.workdir)];
    if (options.noTty) limactlArgv.push("--tty=false");
    limactlArgv.push(validateInstanceName(this.c.instance), "--", ...argv);
    const killer: Killer = {};
    const running = this.#spawn(argv, limactlArgv, options, killer);
    if (options.call === undefined) return await running;
    const call = options.call;
    const ms = limactlTimeoutMs(call, this.c.config.limactlTimeout);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<"expired">((done) => timer = setTimeout(done, ms, "expired"));
    const first = await Promise.race([running, expired]).finally(() => clearTimeout(timer));
    if (first !== "expired") return first;
    killer.kill?.("SIGKILL");
    // Wait a moment for it to go (a process stuck in the kernel may never), then report. The
    // error names the call as limactl shell's arguments on either transport.
    let grace: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([running, new Promise((go) => grace = setTimeout(go, 2000))]);
    clearTimeout(grace);
    throw new LimactlTimeoutError(limactlArgv, call, ms, limactlTimeoutHint(call, this.c.instance));
  }

  async #spawn(
    argv: readonly string[],
    limactlArgv: string[],
    options: GuestRunOptions,
    killer: Killer,
  ): Promise<{ code: number; stdout: Uint8Array; stderr: Uint8Array }> {
    const transport = this.choose();
    if (transport.kind === "ssh" && transport.ssh) {
      const script = limaShellScript(argv, options.workdir);
      const args = sshShellArgs(transport.ssh.configFile, transport.ssh.host, script, {
        // Lima's rule (cmd/limactl/shell.go): a pseudo-terminal exactly when stdout is one.
        tty: options.stdout === "inherit" && !options.noTty && Deno.stdout.isTerminal(),
        colorterm: this.c.env["COLORTERM"] !== undefined,
      });
      this.c.onGuestCommand?.(transport, [transport.ssh.program, ...args]);
      return await spawnForwarding(transport.ssh.program, args, {
        env: this.c.childEnv,
        stdin: options.stdin,
        stdout: options.stdout,
        stderr: options.stderr,
        forward: options.forward,
        ignore: options.ignore ?? [],
        killer,
      });
    }
    this.c.onGuestCommand?.(transport, [this.c.limactl!, ...limactlArgv]);
    const builder = (await this.c.lima.command(limactlArgv)).builder.stdin(options.stdin)
      .stdout(options.stdout).stderr(options.stderr);
    return await runForwarding(builder, options.forward, options.ignore ?? [], killer);
  }

  /**
   * The process that runs a guest argv at `workdir` on the current transport: `ssh …` with the
   * script Lima would send, or `limactl shell …` (with `--tty=false` for `noTty`).
   * Reports it to `onGuestCommand` / `onLimactl`.
   */
  command(
    argv: readonly string[],
    workdir: string,
    options: { tty: boolean; noTty?: boolean },
  ): { program: string; args: string[] } {
    const transport = this.choose();
    if (transport.kind === "ssh" && transport.ssh) {
      const args = sshShellArgs(
        transport.ssh.configFile,
        transport.ssh.host,
        limaShellScript(argv, workdir),
        {
          tty: options.tty && Deno.stdout.isTerminal(),
          colorterm: this.c.env["COLORTERM"] !== undefined,
        },
      );
      this.c.onGuestCommand?.(transport, [transport.ssh.program, ...args]);
      return { program: transport.ssh.program, args };
    }
    const args = ["shell", "--workdir", normalizeAbsolutePath(workdir)];
    if (options.noTty) args.push("--tty=false");
    args.push(validateInstanceName(this.c.instance), "--", ...argv);
    this.c.onGuestCommand?.(transport, [this.c.limactl!, ...args]);
    this.c.onLimactl?.(args);
    return { program: this.c.limactl!, args };
  }
}

/**
 * Whether the transport would get a pty: Lima asks ssh for one (`-t`) when stdout is a terminal,
 * and ssh allocates it only when stdin is one too. Then the terminal carries Ctrl-C itself.
 */
export function hasTerminal(options: Pick<ExecOptions, "stdin" | "stdout">): boolean {
  return (options.stdin ?? "inherit") === "inherit" && Deno.stdin.isTerminal() &&
    (options.stdout ?? "inherit") === "inherit" && Deno.stdout.isTerminal();
}

/** How a guest run are wired: where, stdio, and the signals. */
export interface GuestRunOptions {
  workdir: string;
  stdin: "inherit" | "null" | Uint8Array;
  stdout: "inherit" | "piped";
  stderr: "inherit" | "piped";
  noTty?: boolean;
  forward: Deno.Signal[];
  ignore?: Deno.Signal[];
}

/**
 * Run a command while gamma holds SIGINT/SIGTERM/SIGHUP: `forward` ones go to the child, `ignore`
 * ones are swallowed, so gamma never dies before its child.
 */
async function runForwarding(
  builder: CommandBuilder,
  forward: Deno.Signal[],
  ignore: Deno.Signal[] = [],
  killer: Killer = {},
): Promise<{ code: number; stdout: Uint8Array; stderr: Uint8Array }> {
  const controller: KillController = new (await dax()).KillController();
  killer.kill = (sig) => controller.kill(sig as NonNullable<Parameters<KillController["kill"]>[0]>);
  let forwarded: Deno.Signal | undefined;
  const listeners: [Deno.Signal, () => void][] = [
    ...forward.map((sig): [Deno.Signal, () => void] => [sig, () => {
      forwarded = sig;
      controller.kill(sig as NonNullable<Parameters<KillController["kill"]>[0]>);
    }]),
    ...ignore.map((sig): [Deno.Signal, () => void] => [sig, () => {}]),
  ];
  for (const [sig, fn] of listeners) Deno.addSignalListener(sig, fn);
  try {
    const r = await builder.signal(controller.signal).noThrow();
    let code = r.code;
    // dax maps a child it killed with SIGHUP to exit code 1; report it the shell's way.
    if (forwarded === "SIGHUP" && code === 1) code = 128 + SIGNAL_NUMBERS.SIGHUP!;
    const piped = (get: () => Uint8Array): Uint8Array => {
      try {
        return get();
      } catch {
        return new Uint8Array();
      }
    };
    return { code, stdout: piped(() => r.stdoutBytes), stderr: piped(() => r.stderrBytes) };
  } finally {
    for (const [sig, fn] of listeners) Deno.removeSignalListener(sig, fn);
  }
}

/**
 * The ssh path's runner: spawn with `Deno.Command` (dax is not loaded for it: about 90 ms of
 * start-up, more than the whole warm exec over ssh costs; bench/README.md) while gamma holds
 * SIGINT/SIGTERM/SIGHUP like {@linkcode runForwarding}. ssh ends with 255 when a forwarded signal
 * stops it ("Killed by signal N"); that is reported as 128+N, as the `limactl` path reports the
 * signal death of `limactl`.
 */
async function spawnForwarding(
  program: string,
  args: string[],
  options: {
    env: Record<string, string> | undefined;
    stdin: "inherit" | "null" | Uint8Array;
    stdout: "inherit" | "piped";
    stderr: "inherit" | "piped";
    forward: Deno.Signal[];
    ignore: Deno.Signal[];
    killer: Killer;
  },
): Promise<{ code: number; stdout: Uint8Array; stderr: Uint8Array }> {
  const child = new Deno.Command(program, {
    args,
    ...(options.env === undefined ? {} : { clearEnv: true, env: options.env }),
    stdin: options.stdin instanceof Uint8Array ? "piped" : options.stdin,
    stdout: options.stdout,
    stderr: options.stderr,
  }).spawn();
  options.killer.kill = (sig) => {
    try {
      child.kill(sig);
    } catch {
      // already gone
    }
  };
  let forwarded: Deno.Signal | undefined;
  const listeners: [Deno.Signal, () => void][] = [
    ...options.forward.map((sig): [Deno.Signal, () => void] => [sig, () => {
      forwarded = sig;
      try {
        child.kill(sig);
      } catch {
        // already gone
      }
    }]),
    ...options.ignore.map((sig): [Deno.Signal, () => void] => [sig, () => {}]),
  ];
  for (const [sig, fn] of listeners) Deno.addSignalListener(sig, fn);
  try {
    if (options.stdin instanceof Uint8Array) {
      const writer = child.stdin.getWriter();
      writer.write(options.stdin).then(() => writer.close()).catch(() => {});
    }
    const empty = new Uint8Array();
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      options.stdout === "piped" ? new Response(child.stdout).bytes() : empty,
      options.stderr === "piped" ? new Response(child.stderr).bytes() : empty,
    ]);
    let code = status.code;
    const signo = forwarded === undefined ? undefined : SIGNAL_NUMBERS[forwarded];
    if (signo !== undefined && (code === 255 || status.signal === forwarded)) code = 128 + signo;
    else if (status.signal !== null) code = 128 + (SIGNAL_NUMBERS[status.signal] ?? 0);
    return { code, stdout, stderr };
  } finally {
    for (const [sig, fn] of listeners) Deno.removeSignalListener(sig, fn);
  }
}
