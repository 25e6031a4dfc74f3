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
  guestProbeScript,
  type InstanceFacts,
  type KvmFacts,
  type LiveFacts,
  parseGuestProbe,
  type TemplateFacts,
} from "../doctor.ts";
import { LimactlTimeoutError } from "../errors.ts";
import { normalizeAbsolutePath } from "../guest_path.ts";
import type { SessionView } from "./_session_view.ts";
import { projectTarget } from "./provision.ts";

/**
 * Options of {@linkcode gatherDoctorFacts}.
 *
 * @example Usage
 * ```ts
 * import type { DoctorOptions } from "@devshell/gamma/doctor";
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
  /** The user the KVM check judges for; default this process's ids from /proc/self/status. */
  kvmUser?: { uid: number; gid: number; groups: number[] } | undefined;
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

/** Run a small host tool (`stat`, `id`) and return its stdout, or its stderr as an error. */
function tool(program: string, args: string[]): { ok: boolean; text: string } {
  let error = `${program} not found`;
  // On the PATH, else where every Linux system has them.
  for (const path of [program, `/usr/bin/${program}`, `/bin/${program}`]) {
    try {
      const out = new Deno.Command(path, { args, stdin: "null", stdout: "piped", stderr: "piped" })
        .outputSync();
      const decode = (b: Uint8Array): string => new TextDecoder().decode(b).trim();
      return out.success
        ? { ok: true, text: decode(out.stdout) }
        : { ok: false, text: decode(out.stderr) };
    } catch (e) {
      error = (e as Error).message;
      if (!(e instanceof Deno.errors.NotFound)) break;
    }
  }
  return { ok: false, text: error };
}

/**
 * The effective uid, gid and groups of this user, from `id` (Deno refuses to read /proc and to
 * stat /dev without --allow-all, so gamma asks the host's own tools).
 */
function processIds(): { uid: number; gid: number; groups: number[] } | undefined {
  const r = tool("id", []);
  if (!r.ok) return undefined;
  const uid = r.text.match(/uid=(\d+)/)?.[1];
  const gid = r.text.match(/gid=(\d+)/)?.[1];
  if (uid === undefined || gid === undefined) return undefined;
  const groups = [...(r.text.match(/groups=(\S*)/)?.[1] ?? "").matchAll(/(\d+)/g)]
    .map((m) => Number(m[1]));
  return { uid: Number(uid), gid: Number(gid), groups };
}

/**
 * Whether this user may read and write the KVM device, judged as the kernel would from its
 * owner, group and mode and this process's ids and groups (a stat, never an open: opening it
 * would need Deno's --allow-all).
 */
function kvmFacts(
  device: string,
  user: { uid: number; gid: number; groups: number[] } | undefined,
): KvmFacts {
  const facts: KvmFacts = { device, access: "ok" };
  // stat(1): mode in hex, owner and group ids.
  const st = tool("stat", ["-L", "-c", "%f %u %g", "--", device]);
  const fields = st.ok ? st.text.split(" ") : [];
  if (fields.length !== 3) {
    facts.access = /No such file/i.test(st.text) ? "absent" : "error";
    facts.detail = st.text.replace(/^stat: /, "");
    return facts;
  }
  const info = {
    mode: Number.parseInt(fields[0]!, 16),
    uid: Number(fields[1]),
    gid: Number(fields[2]) as number | null,
  };
  if (info.gid !== null) {
    const line = (readText("/etc/group") ?? "").split("\n")
      .find((l) => l.split(":")[2] === String(info.gid));
    facts.group = line?.split(":")[0] ?? String(info.gid);
  }
  const mode = info.mode ?? 0;
  facts.groupReadWrite = (mode & 0o060) === 0o060;
  const ids = user ?? processIds();
  if (ids === undefined) {
    facts.access = "error";
    facts.detail = "cannot read this process's user and groups from /proc/self/status";
    return facts;
  }
  const inGroup = info.gid !== null && (ids.gid === info.gid || ids.groups.includes(info.gid));
  const allowed = ids.uid === 0 ||
    (info.uid === ids.uid
      ? (mode & 0o600) === 0o600
      : inGroup
      ? (mode & 0o060) === 0o060
      : (mode & 0o006) === 0o006);
  if (!allowed) {
    facts.access = "denied";
    facts.detail = `mode ${(mode & 0o777).toString(8).padStart(4, "0")}, group ${
      facts.group ?? "?"
    }; this user is ${inGroup ? "in" : "not in"} that group`;
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
  session: SessionView,
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
    ], { workdir: "/" });
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
  session: SessionView,
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
  if (platform === "linux") facts.kvm = kvmFacts(options.kvmDevice ?? "/dev/kvm", options.kvmUser);
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
