/**
 * {@linkcode runDoctor}: `gamma doctor` for a program, with its own session that always looks at
 * Lima. Kept apart from `./doctor.ts`, which the session's first-run probe uses, so that the
 * session module is imported by this one and never the other way round.
 *
 * @module
 */

import { type DoctorReport, doctorReport } from "../doctor.ts";
import { LimactlNotFoundError } from "../errors.ts";
import { type DoctorOptions, gatherDoctorFacts } from "./doctor.ts";
import { GammaSession } from "./session.ts";
import type { GammaSessionOptions } from "./types.ts";
// runDoctor makes its own sessions, which read the settings files: install their reader.
import "./config_files.ts";

/**
 * Options of {@linkcode runDoctor}: the session's and the doctor's.
 *
 * @example Usage
 * ```ts
 * import type { RunDoctorOptions } from "@devshell/gamma/doctor";
 *
 * const options: RunDoctorOptions = { instance: "dev", tools: ["cargo"] };
 * ```
 */
export interface RunDoctorOptions extends DoctorOptions {
  /** Instance name, overriding `DEVSHELL_VM_LIMA_INSTANCE`. */
  instance?: string | undefined;
  /** `limactl` path, overriding `DEVSHELL_VM_LIMACTL`. */
  limactl?: string | undefined;
  /** The host working directory; default `Deno.cwd()`. */
  cwd?: string | undefined;
  /** Where gamma's notices go. */
  notice?: ((line: string) => void) | undefined;
  /** Receives a `gamma: debug: [...]` line for every `limactl` command (`--debug`). */
  debug?: ((line: string) => void) | undefined;
}

/**
 * `gamma doctor`: make a session that always looks at Lima (`DEVSHELL_VM=off` or
 * `DEVSHELL_VM_BACKEND=host` are ignored here, and a missing `limactl` is a failed check, not
 * an error), gather the facts and judge them. Does not start the VM.
 *
 * @param options Session and doctor options.
 * @returns The report.
 * @throws {ConfigError} For bad `DEVSHELL_VM_*` values.
 *
 * @example Usage
 * ```typescript ignore
 * import { formatDoctorReport, runDoctor } from "@devshell/gamma/doctor";
 *
 * const report = await runDoctor({ instance: "dev" });
 * console.log(formatDoctorReport(report));
 * ```
 */
export async function runDoctor(options: RunDoctorOptions = {}): Promise<DoctorReport> {
  const env: Record<string, string | undefined> = {
    ...(options.env ?? Deno.env.toObject()),
    DEVSHELL_VM: "on",
    DEVSHELL_VM_BACKEND: "auto",
  };
  let session: GammaSession | undefined;
  const sessionOptions: GammaSessionOptions = {
    env,
    cwd: options.cwd,
    instance: options.instance,
    limactl: options.limactl,
    notice: options.notice,
    onLimactl: options.debug === undefined
      ? undefined
      : (argv) => options.debug!(`gamma: debug: ${JSON.stringify([session?.limactl, ...argv])}`),
  };
  let problem: string | undefined;
  try {
    session = new GammaSession(sessionOptions);
  } catch (e) {
    if (!(e instanceof LimactlNotFoundError)) throw e;
    problem = e.message;
    session = new GammaSession({
      ...sessionOptions,
      limactl: undefined,
      env: { ...env, DEVSHELL_VM: "off", DEVSHELL_VM_LIMACTL: undefined },
    });
  }
  const facts = await gatherDoctorFacts(session, { ...options, env });
  if (problem !== undefined) facts.limactl = { problem, searchPath: env["PATH"] ?? "" };
  return doctorReport(facts);
}
