/**
 * `gamma doctor`, the half that does I/O: gathering the facts ({@linkcode gatherDoctorFacts})
 * from files, the KVM device and `limactl` (through {@linkcode GammaSession}'s public methods),
 * and the guest probe ({@linkcode probeGuest}) that the first-run probe shares. The verdicts are
 * the pure ones of `lib/doctor.ts`.
 *
 * @module
 */

import { posix } from "node:path";
import type { Env } from "../config.ts";
import {
  type DoctorFacts,
  type DoctorReport,
  doctorReport,
  guestProbeScript,
  type InstanceFacts,
  type KvmFacts,
  type LiveFacts,
  parseGuestProbe,
  type TemplateFacts,
} from "../doctor.ts";
import { LimactlNotFoundError, LimactlTimeoutError } from "../errors.ts";
import { normalizeAbsolutePath } from "../guest_path.ts";
import { GammaSession, type GammaSessionOptions } from "./session.ts";
// runDoctor makes its own sessions, which read the settings files: install their reader.
import "./config_files.ts";
import { projectTarget } from "./provision.ts";

/**
 * Options of {@linkcode gatherDoctorFacts}.
 *
 * @example Usage
 * ```ts
 * import type { DoctorOptions } from "@devshell/gamma";
 *
 * const options: DoctorOptions = { tools: ["cc", "cargo", "make"], kvmDevice: "/dev/kvm" };
 * ```
 */
export interface DoctorOptions {
  /** The environment (`PATH`, `LIMA_TEMPLATES_PATH`); default `Deno.env`. */
  env?: Env | undefined;
  /** Tools to look for on the guest `PATH`; default `cc` and `cargo` (then a missing one warns). */
  tools?: readonly string[] | undefined;
  /** The KVM device to check; default `/dev/kvm`. */
  kvmDevice?: string | undefined;
  /** The host OS; default `Deno.build.os` (the KVM check runs on `linux`). */
  platform?: string | undefined;
}

/** The tools `gamma doctor` looks for when none are named. */
const DEFAULT_TOOLS = ["cc", "cargo"];

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Open the KVM device for reading and writing, as QEMU does, and describe its group. */
function kvmFacts(device: string): KvmFacts {
  const facts: KvmFacts = { device, access: "ok" };
  try {
    Deno.openSync(device, { read: true, write: true }).close();
  } catch (e) {
    facts.access = e instanceof Deno.errors.NotFound
      ? "absent"
      : e instanceof Deno.errors.PermissionDenied
      ? "denied"
      : "error";
    facts.detail = (e as Error).message.replace(/ \(os error \d+\).*$/, "");
  }
  try {
    const info = Deno.statSync(device);
    if (info.gid !== null) {
      const line = (readText("/etc/group") ?? "").split("\n")
        .find((l) => l.split(":")[2] === String(info.gid));
      facts.group = line?.split(":")[0] ?? String(info.gid);
    }
    if (info.mode !== null) facts.groupReadWrite = (info.mode & 0o060) === 0o060;
  } catch {
    // absent or unreadable: the open above said so
  }
  return facts;
}

function templateFacts(env: Env, limactl: string | undefined): TemplateFacts | undefined {
  const fromEnv = env["LIMA_TEMPLATES_PATH"];
  let facts: TemplateFacts;
  if (fromEnv) {
    facts = { source: "LIMA_TEMPLATES_PATH", dirs: fromEnv.split(":").filter((d) => d !== "") };
  } else if (limactl !== undefined) {
    const prefix = posix.dirname(posix.dirname(limactl));
    facts = { source: "limactl", dirs: [posix.join(prefix, "share", "lima", "templates")] };
  } else {
    return undefined;
  }
  facts.found = facts.dirs.find((d) => isFile(posix.join(d, "default.yaml")));
  return facts;
}

function randomToken(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 16);
}

/**
 * Run the guest probe ({@linkcode guestProbeScript}) once: a marker file is created in
 * `hostDir` on the host and looked for at `guestDir` in the guest; with `write`, the guest
 * creates (and removes) a file there; each tool is looked up on the guest `PATH`. The marker and
 * any file the guest left are removed afterwards. One `limactl shell` call (none when
 * `needMarker` is set and the marker cannot be created); the instance must be running (the
 * session would start it).
 *
 * @param session The session.
 * @param options The directories, whether to test writing, and the tools.
 * @returns What the guest saw, or how the probe failed.
 *
 * @example Usage
 * ```typescript ignore
 * import { GammaSession } from "@devshell/gamma";
 * import { probeGuest } from "./doctor.ts";
 *
 * const session = new GammaSession({ instance: "dev" });
 * const live = await probeGuest(session, { hostDir: session.cwd, guestDir: await session.guestPathOf(), tools: ["cc"] });
 * ```
 */
export async function probeGuest(
  session: GammaSession,
  options: {
    hostDir: string;
    guestDir?: string | undefined;
    write?: boolean | undefined;
    tools?: readonly string[] | undefined;
    /** Do not run the guest probe when no marker file could be created on the host. */
    needMarker?: boolean | undefined;
  },
): Promise<LiveFacts> {
  const token = randomToken();
  const markerName = `.gamma-marker-${token}`;
  const marker = posix.join(options.hostDir, markerName);
  let markerError: string | undefined;
  let created = false;
  if (options.guestDir !== undefined) {
    try {
      await Deno.writeTextFile(marker, `${token}\n`, { createNew: true });
      created = true;
    } catch (e) {
      markerError = (e as Error).message.replace(/ \(os error \d+\)/, "");
    }
  }
  if (markerError !== undefined && options.needMarker) {
    return {
      state: "ran",
      hostDir: options.hostDir,
      guestDir: options.guestDir,
      markerError,
      tools: {},
    };
  }
  try {
    const r = await session.capture([
      "/bin/sh",
      "-c",
      guestProbeScript(),
      "sh",
      options.guestDir ?? "",
      created ? markerName : "",
      token,
      options.write ? "1" : "0",
      ...(options.tools ?? []),
    ]);
    const parsed = r.code === 0 ? parseGuestProbe(new TextDecoder().decode(r.stdout)) : undefined;
    if (parsed === undefined) return { state: "failed", code: r.code, stderr: r.stderr };
    const live: LiveFacts = { state: "ran", hostDir: options.hostDir, ...parsed };
    if (options.guestDir !== undefined) live.guestDir = options.guestDir;
    if (markerError !== undefined) live.markerError = markerError;
    return live;
  } finally {
    if (created) await Deno.remove(marker).catch(() => {});
    await Deno.remove(posix.join(options.hostDir, `.gamma-write-${token}`)).catch(() => {});
  }
}

/**
 * Gather everything `gamma doctor` judges, without starting the VM: `limactl` and its version,
 * the instance (`limactl list`, fresh), the KVM device (Linux) and the KVM lines of
 * `ha.stderr.log`, Lima's templates, both host-agent logs, the project and its guest path, and
 * — only when the instance is running — one guest probe (marker, write test, tools).
 *
 * @param session The session (its backend must be Lima for anything `limactl` says).
 * @param options Environment, tools, KVM device and host OS.
 * @returns The facts.
 *
 * @example Usage
 * ```typescript ignore
 * import { GammaSession } from "@devshell/gamma";
 * import { doctorReport } from "../doctor.ts";
 * import { gatherDoctorFacts } from "./doctor.ts";
 *
 * const facts = await gatherDoctorFacts(new GammaSession({ instance: "dev" }));
 * console.log(doctorReport(facts).ok);
 * ```
 */
export async function gatherDoctorFacts(
  session: GammaSession,
  options: DoctorOptions = {},
): Promise<DoctorFacts> {
  const env = options.env ?? Deno.env.toObject();
  const platform = options.platform ?? Deno.build.os;
  // --tool beats the settings files' `tools`, which beat the defaults; both are explicit.
  const named = options.tools ?? session.config.tools;
  const tools = [...(named ?? DEFAULT_TOOLS)];
  const target = projectTarget(session);
  const cwd = session.canonicalHostPath(session.cwd);
  const lima = session.backend === "lima" && session.limactl !== undefined;
  const facts: DoctorFacts = {
    instance: session.instance,
    limaHome: session.config.limaHome,
    platform,
    limactl: { path: session.limactl, searchPath: env["PATH"] ?? "" },
    project: { cwd, root: target.path },
    tools,
    toolsExplicit: named !== undefined,
  };
  let instance: InstanceFacts | undefined;
  if (lima) {
    try {
      const status = await session.status();
      facts.limactl.version = status.limactlVersion;
      const info = await session.instanceInfo();
      instance = info === undefined ? { state: "missing" } : {
        state: "found",
        status: info.status,
        dir: info.dir ?? session.instanceDir ?? "",
        errors: info.errors,
        mounts: info.mounts,
      };
      facts.project.guestCwd = status.guestCwd;
    } catch (e) {
      if (e instanceof LimactlTimeoutError && e.call === "version") {
        // the limactl check fails; the rest cannot run
        facts.limactl.problem = e.message;
        facts.limactl.problemFix =
          `${session.limactl} --version    # must print "limactl version X.Y.Z" at once`;
      } else {
        instance = { state: "error", message: (e as Error).message };
      }
    }
    facts.instanceFacts = instance;
  }
  if (platform === "linux") facts.kvm = kvmFacts(options.kvmDevice ?? "/dev/kvm");
  facts.templates = templateFacts(env, lima ? session.limactl : undefined);
  const dir = session.instanceDir;
  if (dir !== undefined) {
    facts.logs = {
      haStdoutLog: readText(`${dir}/ha.stdout.log`),
      haStderrLog: readText(`${dir}/ha.stderr.log`),
    };
  }
  if (instance?.state === "found") {
    const gw = session.config.guestWorkspace;
    if (!instance.mounts.some((m) => normalizeAbsolutePath(m.mountPoint) === gw)) {
      facts.project.assumedWorkspace = {
        location: session.canonicalHostPath(session.workspaceParent().path),
        mountPoint: gw,
        writable: true,
      };
    }
    if (instance.status === "Running" && session.isRunning()) {
      try {
        facts.live = await probeGuest(session, {
          hostDir: cwd,
          guestDir: facts.project.guestCwd,
          write: true,
          tools,
        });
      } catch (e) {
        if (!(e instanceof LimactlTimeoutError)) throw e;
        facts.live = { state: "failed", code: 124, stderr: "", message: e.message };
      }
    }
  }
  return facts;
}

/**
 * Options of {@linkcode runDoctor}: the session's and the doctor's.
 *
 * @example Usage
 * ```ts
 * import type { RunDoctorOptions } from "@devshell/gamma";
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
 * import { formatDoctorReport, runDoctor } from "@devshell/gamma";
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
