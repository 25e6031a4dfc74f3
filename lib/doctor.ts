/**
 * The verdicts of `gamma doctor`: facts about the host, Lima and the guest in, checks out. Each
 * check has an id, a status (`ok`, `warn` or `fail`), a one-line message naming the real paths,
 * and unless it is ok the exact fix (a command, or a `lima.yaml` fragment). Also the guest probe
 * script the facts come from, and the one-line hints gamma prints after a first run and after a
 * command the guest cannot find or run. No I/O: `lib/session/doctor.ts` gathers the facts.
 *
 * @module
 */

import { coveringMount, type Mount, relativeUnder } from "./guest_path.ts";

// The mount choice belongs to the path mapping; doctor's callers and tests find it here too.
export { coveringMount };
import { bashSingleQuoted } from "./shell_quote.ts";

/**
 * A check's verdict: `ok`, `warn` (works, but not as it should, or could not be checked) or
 * `fail` (gamma cannot work until it is fixed; `gamma doctor` exits 1).
 *
 * @example Usage
 * ```ts
 * import type { CheckStatus } from "@devshell/gamma/doctor";
 *
 * const status: CheckStatus = "warn";
 * ```
 */
export type CheckStatus = "ok" | "warn" | "fail";

/**
 * One check of `gamma doctor`.
 *
 * @example Usage
 * ```ts
 * import type { DoctorCheck } from "@devshell/gamma/doctor";
 *
 * const check: DoctorCheck = {
 *   id: "instance",
 *   status: "fail",
 *   message: "instance dev does not exist in /home/me/.lima",
 *   fix: "limactl create --name=dev template:default",
 * };
 * ```
 */
export interface DoctorCheck {
  /** `limactl`, `instance`, `kvm`, `template`, `last-start`, `mount`, `mount-live`, `writable` or `tools`. */
  id: string;
  /** The verdict. */
  status: CheckStatus;
  /** One line: what was found, with real paths. */
  message: string;
  /** Unless `ok`: the exact fix, a command or a `lima.yaml` fragment (may span lines). */
  fix?: string;
  /** Supporting lines, e.g. the last lines of `ha.stderr.log` after a failed start. */
  details?: string[];
}

/**
 * The result of `gamma doctor`: `ok` when no check failed.
 *
 * @example Usage
 * ```ts
 * import type { DoctorReport } from "@devshell/gamma/doctor";
 *
 * const report: DoctorReport = { ok: true, checks: [] };
 * ```
 */
export interface DoctorReport {
  /** No check has status `fail`. */
  ok: boolean;
  /** The checks, in order. */
  checks: DoctorCheck[];
}

/**
 * What is known about `limactl`.
 *
 * @example Usage
 * ```ts
 * import type { LimactlFacts } from "./doctor.ts";
 *
 * const facts: LimactlFacts = { path: "/usr/local/bin/limactl", version: "2.2.0" };
 * ```
 */
export interface LimactlFacts {
  /** The executable in use; `undefined` when none was found. */
  path?: string | undefined;
  /** Why the configured one is unusable (e.g. `DEVSHELL_VM_LIMACTL` names a missing file). */
  problem?: string | undefined;
  /** The fix for `problem` when it is not installing Lima (e.g. a `limactl` that hung). */
  problemFix?: string | undefined;
  /** The version `limactl --version` printed (`2.2.0`), when it printed one. */
  version?: string | undefined;
  /** The `PATH` that was searched. */
  searchPath?: string | undefined;
}

/**
 * What `limactl list --json NAME` said about the instance.
 *
 * @example Usage
 * ```ts
 * import type { InstanceFacts } from "./doctor.ts";
 *
 * const facts: InstanceFacts = { state: "missing" };
 * ```
 */
export type InstanceFacts =
  | { state: "missing" }
  | { state: "error"; message: string }
  | {
    state: "found";
    /** Lima's status: `Running`, `Stopped`, `Broken`, … */
    status: string;
    /** The instance directory. */
    dir: string;
    /** The errors Lima reports for it. */
    errors: string[];
    /** Its mounts, with Lima's defaults applied. */
    mounts: Mount[];
  };

/**
 * The KVM device as this user sees it (Linux hosts).
 *
 * @example Usage
 * ```ts
 * import type { KvmFacts } from "./doctor.ts";
 *
 * const facts: KvmFacts = { device: "/dev/kvm", access: "denied", detail: "Permission denied", group: "kvm" };
 * ```
 */
export interface KvmFacts {
  /** The device path (normally `/dev/kvm`). */
  device: string;
  /** Opening it for reading and writing: worked, no such file, permission denied, other error. */
  access: "ok" | "absent" | "denied" | "error";
  /** The error text, when it did not work. */
  detail?: string | undefined;
  /** The device's group name, when known. */
  group?: string | undefined;
  /** Whether that group may read and write it. */
  groupReadWrite?: boolean | undefined;
}

/**
 * Where Lima looks for its templates and whether `default.yaml` is there.
 *
 * @example Usage
 * ```ts
 * import type { TemplateFacts } from "./doctor.ts";
 *
 * const facts: TemplateFacts = { source: "limactl", dirs: ["/usr/local/share/lima/templates"] };
 * ```
 */
export interface TemplateFacts {
  /** `LIMA_TEMPLATES_PATH`, or `limactl` (`<dir of limactl>/../share/lima/templates`). */
  source: "LIMA_TEMPLATES_PATH" | "limactl";
  /** The directories searched, in order. */
  dirs: string[];
  /** The first one holding `default.yaml`. */
  found?: string | undefined;
}

/**
 * The host directory the checks are about.
 *
 * @example Usage
 * ```ts
 * import type { ProjectFacts } from "./doctor.ts";
 *
 * const facts: ProjectFacts = { cwd: "/home/me/app/src", root: "/home/me/app", guestCwd: "/workspace/src" };
 * ```
 */
export interface ProjectFacts {
  /** The canonical working directory. */
  cwd: string;
  /** The project it belongs to (what `gamma mounts` would mount). */
  root: string;
  /** The guest path gamma would run commands at, `undefined` when unmapped. */
  guestCwd?: string | undefined;
  /** The workspace parent gamma assumes at the guest workspace, when no real mount sits there. */
  assumedWorkspace?: Mount | undefined;
}

/**
 * What the guest probe ({@linkcode guestProbeScript}) found, or how running it failed.
 *
 * @example Usage
 * ```ts
 * import type { LiveFacts } from "./doctor.ts";
 *
 * const facts: LiveFacts = { state: "failed", code: 255, stderr: "ssh: connect to host 127.0.0.1 port 60022: Connection refused" };
 * ```
 */
export type LiveFacts =
  | {
    state: "failed";
    code: number;
    stderr: string;
    /** Why, when it is not an exit code (the probe was stopped after its time-out). */
    message?: string;
  }
  | {
    state: "ran";
    /** Where the marker file was created on the host (the working directory). */
    hostDir: string;
    /** The guest path probed, `undefined` when the working directory is unmapped. */
    guestDir?: string | undefined;
    /** Why no marker file could be created on the host. */
    markerError?: string | undefined;
    /** Whether the guest directory exists. */
    dirExists?: boolean | undefined;
    /** Whether the guest saw the marker, with the right content. */
    markerVisible?: boolean | undefined;
    /** Whether the guest could create a file there. */
    writable?: boolean | undefined;
    /** The guest shell's error when it could not. */
    writeError?: string | undefined;
    /** Each tool asked about and what `command -v` printed (`""`: not found). */
    tools: Record<string, string>;
  };

/**
 * Everything {@linkcode doctorReport} judges.
 *
 * @example Usage
 * ```ts
 * import { doctorReport, type DoctorFacts } from "./doctor.ts";
 *
 * const facts: DoctorFacts = {
 *   instance: "dev",
 *   limaHome: "/home/me/.lima",
 *   platform: "darwin",
 *   limactl: {},
 *   project: { cwd: "/home/me/app", root: "/home/me/app" },
 *   tools: ["cc", "cargo"],
 *   toolsExplicit: false,
 * };
 * doctorReport(facts);
 * ```
 */
export interface DoctorFacts {
  /** The instance name. */
  instance: string;
  /** The real `$LIMA_HOME`. */
  limaHome?: string | undefined;
  /** The host OS (`Deno.build.os`): the KVM check runs on `linux` only. */
  platform: string;
  /** `limactl`. */
  limactl: LimactlFacts;
  /** The instance; `undefined` when `limactl` could not be asked. */
  instanceFacts?: InstanceFacts | undefined;
  /** The KVM device (Linux). */
  kvm?: KvmFacts | undefined;
  /** Lima's templates; `undefined` when there is nowhere to look. */
  templates?: TemplateFacts | undefined;
  /** `ha.stdout.log` and `ha.stderr.log` of the instance, as they are on disk. */
  logs?: { haStdoutLog?: string | undefined; haStderrLog?: string | undefined } | undefined;
  /** The working directory and its project. */
  project: ProjectFacts;
  /** The guest probe, run only when the instance is running. */
  live?: LiveFacts | undefined;
  /** The tools to look for on the guest `PATH`. */
  tools: string[];
  /** Whether the tools were named by the user (`--tool`): then a missing one fails. */
  toolsExplicit: boolean;
}

/** Lines QEMU prints when it cannot use KVM. */
const KVM_PATTERNS = [
  /Could not access KVM kernel module/i,
  /failed to initialize kvm/i,
  /\/dev\/kvm.*(permission denied|no such file)/i,
];

/** The first line the host agent logs in each run (cmd/limactl/hostagent.go). */
const HA_START = /^hostagent socket created at /;

/**
 * The message of one `ha.stderr.log` line: the host agent writes logrus JSON lines
 * (`{"level":…,"msg":…,"time":…}`); anything else is taken as it is.
 */
function logEntry(line: string): { msg: string; level: string | undefined } {
  try {
    const entry = JSON.parse(line);
    if (entry && typeof entry === "object" && typeof entry.msg === "string") {
      return { msg: entry.msg, level: typeof entry.level === "string" ? entry.level : undefined };
    }
  } catch {
    // a plain text line
  }
  return { msg: line, level: undefined };
}

/**
 * The lines of `ha.stderr.log` written since the last start, as messages. Lima truncates the log
 * at each start; when an older run's lines are still there (a start that failed before the host
 * agent came up leaves the log as it was), everything before the last host-agent start line is
 * dropped.
 *
 * @param log The file's text.
 * @returns `current`: the messages since the last start; `older`: those before it.
 *
 * @example Usage
 * ```ts
 * import { haLogSinceStart } from "./doctor.ts";
 * import assert from "node:assert/strict";
 *
 * const log = [
 *   '{"level":"info","msg":"hostagent socket created at /l/dev/ha.sock"}',
 *   '{"level":"debug","msg":"qemu[stderr]: failed to initialize kvm: Permission denied"}',
 *   '{"level":"info","msg":"hostagent socket created at /l/dev/ha.sock"}',
 *   '{"level":"info","msg":"SSH Local Port: 60022"}',
 * ].join("\n");
 * assert.deepEqual(haLogSinceStart(log).current.map((e) => e.msg), [
 *   "hostagent socket created at /l/dev/ha.sock",
 *   "SSH Local Port: 60022",
 * ]);
 * ```
 */
export function haLogSinceStart(
  log: string | undefined,
): {
  current: { msg: string; level: string | undefined }[];
  older: { msg: string; level: string | undefined }[];
} {
  const entries = (log ?? "").split("\n").filter((l) => l.trim() !== "").map(logEntry);
  let start = -1;
  entries.forEach((e, i) => {
    if (HA_START.test(e.msg)) start = i;
  });
  return start <= 0
    ? { current: entries, older: [] }
    : { current: entries.slice(start), older: entries.slice(0, start) };
}

interface HaEvent {
  running: boolean;
  degraded: boolean;
  exiting: boolean;
  errors: string[];
  time: string | undefined;
}

/** The host agent's events in `ha.stdout.log` (one JSON object per line, `{"time","status"}`). */
function haEvents(log: string | undefined): HaEvent[] {
  const out: HaEvent[] = [];
  for (const line of (log ?? "").split("\n")) {
    if (line.trim() === "") continue;
    try {
      const ev = JSON.parse(line);
      const st = ev?.status;
      if (!st || typeof st !== "object") continue;
      out.push({
        running: st.running === true,
        degraded: st.degraded === true,
        exiting: st.exiting === true,
        errors: Array.isArray(st.errors) ? st.errors.map(String) : [],
        time: typeof ev.time === "string" ? ev.time : undefined,
      });
    } catch {
      // a torn line while the host agent writes
    }
  }
  return out;
}

function check(
  id: string,
  status: CheckStatus,
  message: string,
  fix?: string,
  details?: string[],
): DoctorCheck {
  const c: DoctorCheck = { id, status, message };
  if (status !== "ok" && fix !== undefined) c.fix = fix;
  if (details !== undefined && details.length > 0) c.details = details;
  return c;
}

function major(version: string): number {
  return Number.parseInt(/^v?(\d+)/.exec(version)?.[1] ?? "NaN", 10);
}

const INSTALL_LIMA = "install Lima 2.x: https://lima-vm.io/docs/installation/ " +
  "(or set DEVSHELL_VM_LIMACTL to the absolute path of limactl)";
const UPGRADE_LIMA = "upgrade Lima to 2.x: https://lima-vm.io/docs/installation/ " +
  "(Homebrew: brew upgrade lima)";

/** Why the later checks cannot run, and the fix that unblocks them. */
interface Blocker {
  reason: string;
  fix: string;
}

function limactlBlocker(f: DoctorFacts): Blocker | undefined {
  if (f.limactl.problem !== undefined || f.limactl.path === undefined) {
    return { reason: "limactl is not usable (see the limactl check)", fix: INSTALL_LIMA };
  }
  return undefined;
}

function instanceFix(f: DoctorFacts): string {
  return `limactl create --name=${f.instance} template:default`;
}

function instanceBlocker(f: DoctorFacts): Blocker | undefined {
  const b = limactlBlocker(f);
  if (b) return b;
  const i = f.instanceFacts;
  if (i === undefined || i.state === "error") {
    return { reason: "limactl list failed", fix: `limactl list ${f.instance}` };
  }
  if (i.state === "missing") {
    return { reason: `instance ${f.instance} does not exist`, fix: instanceFix(f) };
  }
  return undefined;
}

function runningBlocker(f: DoctorFacts): Blocker | undefined {
  const b = instanceBlocker(f);
  if (b) return b;
  const i = f.instanceFacts;
  if (i?.state === "found" && i.status !== "Running") {
    return {
      reason: `instance ${f.instance} is ${i.status || "not running"}`,
      fix: `limactl start ${f.instance}`,
    };
  }
  if (f.live === undefined) {
    return { reason: "the guest was not probed", fix: `limactl start ${f.instance}` };
  }
  return undefined;
}

function notChecked(id: string, b: Blocker): DoctorCheck {
  return check(id, "warn", `not checked: ${b.reason}`, b.fix);
}

function limaFile(f: DoctorFacts, name: string): string {
  return `${f.limaHome ?? "$LIMA_HOME"}/${f.instance}/${name}`;
}

/** `limactl`: found, runs, and is recent enough (warn below 2.0, fail below 1.0). */
function limactlCheck(f: DoctorFacts): DoctorCheck {
  const l = f.limactl;
  if (l.problem !== undefined) {
    return check("limactl", "fail", l.problem, l.problemFix ?? INSTALL_LIMA);
  }
  if (l.path === undefined) {
    return check(
      "limactl",
      "fail",
      `limactl not found on PATH (${l.searchPath ?? ""})`,
      INSTALL_LIMA,
    );
  }
  if (l.version === undefined) {
    return check(
      "limactl",
      "fail",
      `${l.path} did not print a version (limactl --version)`,
      `${l.path} --version    # must print "limactl version X.Y.Z"; if not, ${INSTALL_LIMA}`,
    );
  }
  const m = major(l.version);
  if (!(m >= 1)) {
    return check(
      "limactl",
      "fail",
      `${l.path} is Lima ${l.version}; gamma needs Lima 1.0 or later and supports 2.x`,
      UPGRADE_LIMA,
    );
  }
  if (m < 2) {
    return check(
      "limactl",
      "warn",
      `${l.path} is Lima ${l.version}; Lima 1.x has had no upstream support since 2026-02-06 and gamma targets 2.x`,
      UPGRADE_LIMA,
    );
  }
  return check("limactl", "ok", `${l.path} (Lima ${l.version})`);
}

/** `instance`: exists, and its Lima status. */
function instanceCheck(f: DoctorFacts): DoctorCheck {
  const b = limactlBlocker(f);
  if (b) return notChecked("instance", b);
  const i = f.instanceFacts;
  if (i === undefined) {
    return notChecked("instance", { reason: "limactl list was not run", fix: "gamma doctor" });
  }
  if (i.state === "error") {
    return check(
      "instance",
      "fail",
      `limactl list ${f.instance} failed: ${i.message.split("\n")[0]}`,
      `limactl list ${f.instance}`,
    );
  }
  if (i.state === "missing") {
    return check(
      "instance",
      "fail",
      `instance ${f.instance} does not exist in ${f.limaHome ?? "$LIMA_HOME"}`,
      instanceFix(f),
    );
  }
  const errors = i.errors.length > 0 ? `: ${i.errors.join("; ")}` : "";
  if (i.status === "Broken") {
    return check(
      "instance",
      "fail",
      `instance ${f.instance} is Broken (${i.dir})${errors}`,
      `limactl stop -f ${f.instance} && limactl start ${f.instance}`,
    );
  }
  if (i.errors.length > 0) {
    return check(
      "instance",
      "fail",
      `instance ${f.instance} has configuration errors (${i.dir}/lima.yaml)${errors}`,
      `limactl edit ${f.instance}`,
    );
  }
  if (i.status === "Running" || i.status === "Stopped") {
    return check("instance", "ok", `instance ${f.instance} is ${i.status} (${i.dir})`);
  }
  return check(
    "instance",
    "warn",
    `instance ${f.instance} is ${i.status || "in no known state"} (${i.dir})`,
    `limactl list ${f.instance}`,
  );
}

/** `kvm` (Linux): the device is usable, and what the log of the last start says about it. */
function kvmCheck(f: DoctorFacts): DoctorCheck | undefined {
  if (f.platform !== "linux" || f.kvm === undefined) return undefined;
  const k = f.kvm;
  const log = haLogSinceStart(f.logs?.haStderrLog);
  const isKvm = (e: { msg: string }): boolean => KVM_PATTERNS.some((p) => p.test(e.msg));
  const current = log.current.filter(isKvm);
  const older = log.older.filter(isKvm).length;
  const file = limaFile(f, "ha.stderr.log");
  const details = current.map((e) => e.msg.replace(/^qemu\[stderr\]: /, ""));
  const lastStart = current.length > 0
    ? `; the last start of ${f.instance} failed on it (${current.length} KVM error${
      current.length === 1 ? "" : "s"
    } in ${file})`
    : "";
  if (k.access === "absent") {
    return check(
      "kvm",
      "fail",
      `${k.device} does not exist: this host offers no KVM${lastStart}`,
      "sudo modprobe kvm_intel    # or kvm_amd; and enable virtualization (VT-x/AMD-V) in the firmware",
      details,
    );
  }
  if (k.access === "denied") {
    const group = k.group && k.group !== "root" && k.groupReadWrite ? k.group : undefined;
    return check(
      "kvm",
      "fail",
      `${k.device} exists but this user cannot open it (${
        k.detail ?? "permission denied"
      })${lastStart}`,
      group
        ? `sudo usermod -aG ${group} "$USER"    # then log out and in again (or: newgrp ${group})`
        : `sudo chgrp kvm ${k.device} && sudo chmod 660 ${k.device} && sudo usermod -aG kvm "$USER"    # then log out and in again`,
      details,
    );
  }
  if (k.access === "error") {
    return check(
      "kvm",
      "warn",
      `cannot open ${k.device}: ${k.detail ?? "unknown error"}${lastStart}`,
      `ls -l ${k.device}`,
      details,
    );
  }
  if (current.length > 0) {
    return check(
      "kvm",
      "warn",
      `${k.device} is usable now${lastStart}`,
      `limactl start ${f.instance}`,
      details,
    );
  }
  const stale = older > 0
    ? `; ${older} KVM error${
      older === 1 ? "" : "s"
    } in ${file} come from an older start and are ignored`
    : "";
  return check("kvm", "ok", `${k.device} is usable by this user${stale}`);
}

/** `template`: Lima's `default.yaml` template can be found (else "template not found"). */
function templateCheck(f: DoctorFacts): DoctorCheck {
  const t = f.templates;
  if (t === undefined) {
    return notChecked("template", limactlBlocker(f) ?? { reason: "", fix: INSTALL_LIMA });
  }
  const where = `${t.dirs.join(", ") || "(no directory)"} (${
    t.source === "LIMA_TEMPLATES_PATH" ? "LIMA_TEMPLATES_PATH" : "next to limactl"
  })`;
  if (t.found !== undefined) {
    return check("template", "ok", `Lima's templates are in ${t.found}`);
  }
  const missing = f.instanceFacts?.state === "missing";
  return check(
    "template",
    missing ? "fail" : "warn",
    `Lima's templates are missing: no default.yaml in ${where}; ${
      missing
        ? `limactl cannot create instance ${f.instance}`
        : "limactl cannot create instances from templates"
    }`,
    t.source === "LIMA_TEMPLATES_PATH"
      ? "export LIMA_TEMPLATES_PATH=/PREFIX/share/lima/templates    # a directory holding default.yaml; or unset it"
      : `reinstall Lima so that ${
        t.dirs[0] ?? "share/lima/templates"
      } exists, or: export LIMA_TEMPLATES_PATH=/PREFIX/share/lima/templates`,
  );
}

/** `last-start`: what the last start left in the logs (errors when not running; degraded). */
function lastStartCheck(f: DoctorFacts): DoctorCheck {
  const b = instanceBlocker(f);
  if (b) return notChecked("last-start", b);
  const i = f.instanceFacts as Extract<InstanceFacts, { state: "found" }>;
  const running = i.status === "Running";
  const events = haEvents(f.logs?.haStdoutLog);
  const log = haLogSinceStart(f.logs?.haStderrLog).current;
  const stdoutFile = limaFile(f, "ha.stdout.log");
  const stderrFile = limaFile(f, "ha.stderr.log");
  const last = events.at(-1);
  const everUp = events.some((e) => e.running);
  const tail = log.slice(-8).map((e) => e.msg);
  if (events.length === 0 && log.length === 0) {
    return running
      ? check("last-start", "ok", `instance ${f.instance} is running (no host agent logs)`)
      : check(
        "last-start",
        "ok",
        `instance ${f.instance} has not been started yet (no ${stderrFile})`,
      );
  }
  const lastUp = [...events].reverse().find((e) => e.running);
  if (running) {
    if (last?.running && last.degraded) {
      return check(
        "last-start",
        "warn",
        `instance ${f.instance} is up but degraded: ${
          last.errors.join("; ") || "see the log"
        }; file sharing and port forwarding may not work (${stderrFile})`,
        `limactl stop ${f.instance} && limactl start ${f.instance}`,
      );
    }
    if (!everUp) {
      return check(
        "last-start",
        "warn",
        `the host agent of ${f.instance} runs, but the VM has not reported ready (no running event in ${stdoutFile})`,
        `limactl stop -f ${f.instance} && limactl start ${f.instance}`,
        tail,
      );
    }
    return check("last-start", "ok", `instance ${f.instance} started cleanly`);
  }
  if (everUp) {
    const note = lastUp?.degraded
      ? ` (it came up degraded: ${lastUp.errors.join("; ") || "see the log"})`
      : "";
    return check(
      "last-start",
      "ok",
      `instance ${f.instance} is stopped; its last start succeeded${note}`,
    );
  }
  const errorLine = [...log].reverse().find((e) =>
    e.level === "error" || e.level === "fatal" || e.level === "panic"
  )?.msg;
  const kvm = log.some((e) => KVM_PATTERNS.some((p) => p.test(e.msg)));
  const cause = last?.errors[0] ?? errorLine ??
    (kvm ? "QEMU could not use KVM" : "the host agent exited before the VM was ready");
  return check(
    "last-start",
    "fail",
    `the last start of ${f.instance} failed: ${cause}${
      kvm ? " (see the kvm check)" : ""
    } (${stderrFile})`,
    `limactl start ${f.instance}    # after fixing the cause; gamma start -i ${f.instance} explains failures`,
    [...(last?.errors ?? []).slice(1), ...tail],
  );
}

/** A word for a command line shown to the user: as it is when safe, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w./+:@%=-]+$/.test(word) ? word : bashSingleQuoted(word);
}

function describeMount(m: Mount): string {
  return `${m.location} -> ${m.mountPoint}`;
}

/**
 * The `gamma mounts` command that mounts the project writable and restarts the instance.
 *
 * @param instance The instance name.
 * @returns The command line.
 *
 * @example Usage
 * ```ts
 * import { mountsFixCommand } from "./doctor.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(mountsFixCommand("dev"), "gamma mounts -i dev --writable --write --restart");
 * ```
 */
export function mountsFixCommand(instance: string): string {
  return `gamma mounts -i ${instance} --writable --write --restart`;
}

/**
 * The `mount` check alone (the first-run probe uses it too): which real mount of the instance
 * covers the project, its guest path, and whether it is writable.
 *
 * @param f The facts.
 * @returns The check.
 *
 * @example Usage
 * ```ts
 * import { mountCheck } from "./doctor.ts";
 * import assert from "node:assert/strict";
 *
 * const check = mountCheck({
 *   instance: "dev",
 *   platform: "linux",
 *   limactl: { path: "/usr/bin/limactl", version: "2.2.0" },
 *   instanceFacts: { state: "found", status: "Running", dir: "/l/dev", errors: [], mounts: [] },
 *   project: { cwd: "/src/app", root: "/src/app" },
 *   tools: [],
 *   toolsExplicit: false,
 * });
 * assert.equal(check.status, "fail");
 * ```
 */
export function mountCheck(f: DoctorFacts): DoctorCheck {
  const b = instanceBlocker(f);
  if (b) return notChecked("mount", b);
  const i = f.instanceFacts as Extract<InstanceFacts, { state: "found" }>;
  const root = f.project.root;
  const cover = coveringMount(root, i.mounts);
  if (cover === undefined) {
    const list = i.mounts.length > 0
      ? ` (its mounts: ${i.mounts.map(describeMount).join(", ")})`
      : " (it has no mounts)";
    const w = f.project.assumedWorkspace;
    const assumed = w && relativeUnder(root, w.location) !== undefined
      ? `; nor does any mount put the workspace parent ${w.location} at ${w.mountPoint}, so gamma has no guest path for it`
      : "";
    return check(
      "mount",
      "fail",
      `the project ${root} is not under any mount of instance ${f.instance}${list}${assumed}`,
      mountsFixCommand(f.instance),
    );
  }
  const { mount, guestPath } = cover;
  if (!mount.writable) {
    return check(
      "mount",
      "warn",
      `the project ${root} is at ${guestPath} in instance ${f.instance}, but its mount ${
        describeMount(mount)
      } is read-only`,
      mountsFixCommand(f.instance),
    );
  }
  return check(
    "mount",
    "ok",
    `the project ${root} is at ${guestPath} in instance ${f.instance} (mount ${
      describeMount(mount)
    }, writable)`,
  );
}

/** The fix when the guest does not show what lima.yaml says: the VM predates the config. */
function liveFix(f: DoctorFacts): string {
  const i = f.instanceFacts;
  const covered = i?.state === "found" && coveringMount(f.project.cwd, i.mounts) !== undefined;
  return covered
    ? `limactl stop ${f.instance} && limactl start ${f.instance}    # the running VM does not have the mounts lima.yaml lists`
    : mountsFixCommand(f.instance);
}

function probeFailure(f: DoctorFacts, live: Extract<LiveFacts, { state: "failed" }>): string {
  if (live.message !== undefined) {
    return `could not run a command in instance ${f.instance}: ${live.message}`;
  }
  const why = live.stderr.split("\n").map((l) => l.trim()).find((l) => l !== "");
  return `could not run a command in instance ${f.instance}: limactl shell exited ${live.code}${
    why ? ` (${why})` : ""
  }`;
}

/**
 * The `mount-live` check alone (the first-run probe uses it too): a marker file created in the
 * host working directory is visible at its guest path.
 *
 * @param f The facts.
 * @returns The check.
 *
 * @example Usage
 * ```ts
 * import { mountLiveCheck } from "./doctor.ts";
 * import assert from "node:assert/strict";
 *
 * const check = mountLiveCheck({
 *   instance: "dev",
 *   platform: "linux",
 *   limactl: { path: "/usr/bin/limactl", version: "2.2.0" },
 *   instanceFacts: { state: "found", status: "Running", dir: "/l/dev", errors: [], mounts: [] },
 *   project: { cwd: "/src/app", root: "/src/app", guestCwd: "/workspace" },
 *   live: { state: "ran", hostDir: "/src/app", guestDir: "/workspace", dirExists: true, markerVisible: true, tools: {} },
 *   tools: [],
 *   toolsExplicit: false,
 * });
 * assert.equal(check.status, "ok");
 * ```
 */
export function mountLiveCheck(f: DoctorFacts): DoctorCheck {
  const b = runningBlocker(f);
  if (b) return notChecked("mount-live", b);
  const live = f.live!;
  if (live.state === "failed") {
    return check(
      "mount-live",
      "fail",
      probeFailure(f, live),
      `limactl stop ${f.instance} && limactl start ${f.instance}`,
    );
  }
  if (live.guestDir === undefined) {
    return notChecked("mount-live", {
      reason: `${live.hostDir} has no guest path in instance ${f.instance}`,
      fix: mountsFixCommand(f.instance),
    });
  }
  if (live.markerError !== undefined) {
    return check(
      "mount-live",
      "warn",
      `not checked: could not create a marker file in ${live.hostDir}: ${live.markerError}`,
      `cd A_DIRECTORY_YOU_CAN_WRITE && gamma doctor -i ${f.instance}`,
    );
  }
  if (!live.dirExists) {
    return check(
      "mount-live",
      "fail",
      `${live.hostDir} should be at ${live.guestDir} in instance ${f.instance}, but the guest has no such directory`,
      liveFix(f),
    );
  }
  if (!live.markerVisible) {
    return check(
      "mount-live",
      "fail",
      `a marker file created in ${live.hostDir} is not visible at ${live.guestDir} in instance ${f.instance}: the guest shows other files there`,
      liveFix(f),
    );
  }
  return check(
    "mount-live",
    "ok",
    `a marker file created in ${live.hostDir} is visible at ${live.guestDir} in the guest`,
  );
}

/** `writable`: the guest can create a file at the mapped directory. */
function writableCheck(f: DoctorFacts): DoctorCheck {
  const b = runningBlocker(f);
  if (b) return notChecked("writable", b);
  const live = f.live!;
  if (live.state === "failed") {
    return notChecked("writable", {
      reason: "the guest probe failed (see mount-live)",
      fix: `limactl stop ${f.instance} && limactl start ${f.instance}`,
    });
  }
  if (live.guestDir === undefined) {
    return notChecked("writable", {
      reason: `${live.hostDir} has no guest path in instance ${f.instance}`,
      fix: mountsFixCommand(f.instance),
    });
  }
  if (!live.dirExists) {
    return check(
      "writable",
      "fail",
      `the guest cannot create files in ${live.guestDir}: no such directory in instance ${f.instance}`,
      liveFix(f),
    );
  }
  if (live.writable) {
    return check("writable", "ok", `the guest can create files in ${live.guestDir}`);
  }
  const i = f.instanceFacts as Extract<InstanceFacts, { state: "found" }>;
  const cover = coveringMount(f.project.cwd, i.mounts);
  return check(
    "writable",
    "fail",
    `the guest cannot create files in ${live.guestDir}: ${live.writeError || "permission denied"}`,
    cover && !cover.mount.writable
      ? mountsFixCommand(f.instance)
      : `ls -ld ${
        shellWord(live.hostDir)
      }    # the host user running the VM must be able to write it`,
  );
}

/** The command that installs a missing guest tool. */
function toolFix(instance: string, tool: string): string {
  if (tool === "cc" || tool === "gcc" || tool === "ld" || tool === "make") {
    return `limactl shell ${instance} -- sh -c 'sudo apt-get update && sudo apt-get install -y build-essential'`;
  }
  if (["cargo", "rustc", "rustup"].includes(tool)) {
    return `limactl shell ${instance} -- sh -c "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y"`;
  }
  return `limactl shell ${instance} -- sudo apt-get install -y ${tool}    # or the package that provides ${tool}`;
}

/** `tools`: each tool is on the guest `PATH`. */
function toolsCheck(f: DoctorFacts): DoctorCheck {
  const b = runningBlocker(f);
  if (b) return notChecked("tools", b);
  const live = f.live!;
  if (live.state === "failed") {
    return notChecked("tools", {
      reason: "the guest probe failed (see mount-live)",
      fix: `limactl stop ${f.instance} && limactl start ${f.instance}`,
    });
  }
  const found = f.tools.filter((t) => live.tools[t]);
  const missing = f.tools.filter((t) => !live.tools[t]);
  const foundText = found.map((t) => `${t} (${live.tools[t]})`).join(", ");
  if (missing.length === 0) {
    return check(
      "tools",
      "ok",
      f.tools.length === 0 ? "no tools to look for" : `on the guest PATH: ${foundText}`,
    );
  }
  return check(
    "tools",
    f.toolsExplicit ? "fail" : "warn",
    `not on the guest PATH of instance ${f.instance}: ${missing.join(", ")}${
      found.length > 0 ? `; found: ${foundText}` : ""
    }`,
    missing.map((t) => toolFix(f.instance, t)).join("\n"),
  );
}

/**
 * Judge the facts: every check of `gamma doctor`, in order (`limactl`, `instance`, `kvm` on
 * Linux, `template`, `last-start`, `mount`, `mount-live`, `writable`, `tools`). A check that
 * cannot run because an earlier one failed says so (`warn`, "not checked: …") and carries the
 * fix that unblocks it.
 *
 * @param f The facts.
 * @returns The report; `ok` when no check failed.
 *
 * @example Usage
 * ```ts
 * import { doctorReport } from "./doctor.ts";
 * import assert from "node:assert/strict";
 *
 * const report = doctorReport({
 *   instance: "dev",
 *   limaHome: "/home/me/.lima",
 *   platform: "darwin",
 *   limactl: { searchPath: "/usr/bin:/bin" },
 *   project: { cwd: "/home/me/app", root: "/home/me/app" },
 *   tools: ["cc"],
 *   toolsExplicit: false,
 * });
 * assert.equal(report.ok, false);
 * assert.deepEqual(report.checks[0], {
 *   id: "limactl",
 *   status: "fail",
 *   message: "limactl not found on PATH (/usr/bin:/bin)",
 *   fix: "install Lima 2.x: https://lima-vm.io/docs/installation/ (or set DEVSHELL_VM_LIMACTL to the absolute path of limactl)",
 * });
 * ```
 */
export function doctorReport(f: DoctorFacts): DoctorReport {
  const checks = [
    limactlCheck(f),
    instanceCheck(f),
    kvmCheck(f),
    templateCheck(f),
    lastStartCheck(f),
    mountCheck(f),
    mountLiveCheck(f),
    writableCheck(f),
    toolsCheck(f),
  ].filter((c): c is DoctorCheck => c !== undefined);
  return { ok: checks.every((c) => c.status !== "fail"), checks };
}

/**
 * The report as text: one line per check (status, id, message), its details and fix indented
 * below it, and a summary line.
 *
 * @param report The report.
 * @returns The text, ending in a newline.
 *
 * @example Usage
 * ```ts
 * import { formatDoctorReport } from "@devshell/gamma/doctor";
 * import assert from "node:assert/strict";
 *
 * const text = formatDoctorReport({
 *   ok: false,
 *   checks: [{ id: "tools", status: "fail", message: "not on the guest PATH of instance dev: cargo", fix: "install it" }],
 * });
 * assert.equal(
 *   text,
 *   "fail  tools       not on the guest PATH of instance dev: cargo\n" +
 *     "                  fix: install it\n" +
 *     "\n1 check failed, 0 warnings\n",
 * );
 * ```
 */
export function formatDoctorReport(report: DoctorReport): string {
  const pad = " ".repeat(18);
  const lines: string[] = [];
  for (const c of report.checks) {
    lines.push(`${c.status.padEnd(4)}  ${c.id.padEnd(10)}  ${c.message}`);
    for (const d of c.details ?? []) lines.push(`${pad}| ${d}`);
    if (c.fix !== undefined) {
      c.fix.split("\n").forEach((l, i) => lines.push(`${pad}${i === 0 ? "fix: " : "     "}${l}`));
    }
  }
  const failed = report.checks.filter((c) => c.status === "fail").length;
  const warned = report.checks.filter((c) => c.status === "warn").length;
  lines.push(
    "",
    failed === 0 && warned === 0
      ? "all checks passed"
      : `${failed} check${failed === 1 ? "" : "s"} failed, ${warned} warning${
        warned === 1 ? "" : "s"
      }`,
  );
  return lines.map((l) => `${l}\n`).join("");
}

/** The first line the guest probe prints, so a login banner or a broken probe is told apart. */
const PROBE_HEADER = "gamma-probe-1";

/**
 * The POSIX `sh` script of the guest probe, run as `sh -c SCRIPT sh DIR MARKER TOKEN WRITE
 * TOOL…`: whether `DIR` exists, whether the file `DIR/MARKER` holds `TOKEN`, whether a file can
 * be created in `DIR` (when `WRITE` is `1`; the file is removed again), and `command -v` of each
 * tool. An empty `DIR` or `MARKER` skips those parts. Only shell built-ins are used for the
 * answers, so the probe works with any `PATH`; values arrive as arguments, never as script text.
 *
 * @returns The script.
 *
 * @example Usage
 * ```ts
 * import { guestProbeScript } from "./doctor.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(guestProbeScript(), /command -v/);
 * ```
 */
export function guestProbeScript(): string {
  return [
    "d=$1 m=$2 t=$3 w=$4",
    "shift 4",
    `echo ${PROBE_HEADER}`,
    'if [ -n "$d" ]; then',
    '  if [ -d "$d" ]; then echo dir=1; else echo dir=0; fi',
    '  if [ -n "$m" ]; then',
    "    got=",
    '    if [ -f "$d/$m" ]; then IFS= read -r got <"$d/$m" || :; fi',
    '    if [ "$got" = "$t" ]; then echo marker=1; else echo marker=0; fi',
    "  fi",
    '  if [ "$w" = 1 ] && [ -d "$d" ]; then',
    '    f="$d/.gamma-write-$t"',
    '    if err=$( { : >"$f"; } 2>&1 ); then',
    '      echo write=1; rm -f "$f" 2>/dev/null || :',
    "    else",
    "      echo write=0; printf 'writeerr=%s\\n' \"$err\"",
    "    fi",
    "  fi",
    "fi",
    'for x in "$@"; do',
    '  p=$(command -v "$x" 2>/dev/null) || p=',
    '  printf \'tool=%s=%s\\n\' "$x" "$p"',
    "done",
  ].join("\n");
}

/**
 * Read the guest probe's output.
 *
 * @param stdout What the probe printed.
 * @returns The answers, or `undefined` when the output is not the probe's.
 *
 * @example Usage
 * ```ts
 * import { parseGuestProbe } from "./doctor.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseGuestProbe("gamma-probe-1\ndir=1\nmarker=1\ntool=cc=/usr/bin/cc\n"), {
 *   dirExists: true,
 *   markerVisible: true,
 *   tools: { cc: "/usr/bin/cc" },
 * });
 * ```
 */
export function parseGuestProbe(stdout: string): {
  dirExists?: boolean;
  markerVisible?: boolean;
  writable?: boolean;
  writeError?: string;
  tools: Record<string, string>;
} | undefined {
  const lines = stdout.split("\n");
  const start = lines.indexOf(PROBE_HEADER);
  if (start === -1) return undefined;
  const out: ReturnType<typeof parseGuestProbe> & object = { tools: {} };
  for (const line of lines.slice(start + 1)) {
    const eq = line.indexOf("=");
    if (eq === -1) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === "dir") out.dirExists = value === "1";
    else if (key === "marker") out.markerVisible = value === "1";
    else if (key === "write") out.writable = value === "1";
    else if (key === "writeerr" && out.writeError === undefined) out.writeError = value;
    else if (key === "tool") {
      const at = value.indexOf("=");
      if (at > 0) out.tools[value.slice(0, at)] = value.slice(at + 1);
    }
  }
  return out;
}

/**
 * The one-line hint of the first-run probe: the first problem among the `mount` and
 * `mount-live` checks, pointing to `gamma doctor`; `undefined` when both are ok (or only could
 * not be checked).
 *
 * @param instance The instance name.
 * @param checks The `mount` and `mount-live` checks.
 * @returns The line, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { probeHint } from "./doctor.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   probeHint("dev", [{ id: "mount", status: "warn", message: "the project /a is read-only" }]),
 *   "gamma: hint: the project /a is read-only; run `gamma doctor -i dev` for the fix",
 * );
 * ```
 */
export function probeHint(instance: string, checks: readonly DoctorCheck[]): string | undefined {
  const problem = checks.find((c) => c.status !== "ok" && !c.message.startsWith("not checked"));
  return problem
    ? `gamma: hint: ${problem.message}; run \`gamma doctor -i ${instance}\` for the fix`
    : undefined;
}

/** Programs that run other commands: their exit 126/127 is about a command they ran. */
const LAUNCHERS = new Set([
  "sh",
  "bash",
  "dash",
  "zsh",
  "ash",
  "ksh",
  "env",
  "sudo",
  "xargs",
  "nice",
  "time",
  "nohup",
]);

/**
 * The one-line hint after a guest command exits 126 (found but not runnable) or 127 (not
 * found): about the guest's toolchain, pointing to `gamma doctor --tool`. Other exit codes, the
 * host backend and `DEVSHELL_VM_LIMA_HINTS=off` give none: an ordinary failure (a compile error)
 * is not a toolchain problem, and the hint costs no guest round trip.
 *
 * @param failure The command, its exit code, the instance, the backend and the hints switch.
 * @returns The line, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { failureHint } from "./doctor.ts";
 * import assert from "node:assert/strict";
 *
 * const base = { command: "cargo", instance: "dev", backend: "lima" as const, limaHints: true };
 * assert.equal(
 *   failureHint({ ...base, code: 127 }),
 *   "gamma: hint: cargo is not on the PATH of instance dev (exit 127): install it in the guest; `gamma doctor -i dev --tool cargo` checks the guest toolchain",
 * );
 * assert.equal(failureHint({ ...base, code: 101 }), undefined);
 * ```
 */
export function failureHint(failure: {
  command: string;
  code: number;
  instance: string;
  backend: "lima" | "host";
  limaHints: boolean;
}): string | undefined {
  if (failure.backend !== "lima" || !failure.limaHints) return undefined;
  const cmd = shellWord(failure.command);
  // A shell or launcher did not fail itself: a command it ran did, and its name is unknown here.
  const base = failure.command.slice(failure.command.lastIndexOf("/") + 1);
  if (LAUNCHERS.has(base) && (failure.code === 126 || failure.code === 127)) {
    const what = failure.code === 127
      ? "was not found"
      : "was found but cannot run (a binary for another OS or CPU, or no execute permission)";
    return `gamma: hint: a command run by ${cmd} ${what} in instance ${failure.instance} (exit ${failure.code}); \`gamma doctor -i ${failure.instance} --tool NAME\` checks the guest toolchain`;
  }
  const doctor = `\`gamma doctor -i ${failure.instance} --tool ${cmd}\``;
  if (failure.code === 127) {
    return `gamma: hint: ${cmd} is not on the PATH of instance ${failure.instance} (exit 127): install it in the guest; ${doctor} checks the guest toolchain`;
  }
  if (failure.code === 126) {
    return `gamma: hint: ${cmd} was found in instance ${failure.instance} but cannot run there (exit 126): a binary for another OS or CPU, or a file without execute permission; ${doctor} shows which one the guest finds`;
  }
  return undefined;
}
