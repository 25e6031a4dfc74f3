/**
 * Explaining a failed `limactl start` from what Lima left behind.
 *
 * @module
 */

/**
 * What {@linkcode diagnoseStart} reads; the session collects it after the start.
 *
 * @example Usage
 * ```ts
 * import { diagnoseStart, type StartEvidence } from "@devshell/gamma/lima";
 *
 * const evidence: StartEvidence = {
 *   instance: "dev",
 *   limaHome: "/home/me/.lima",
 *   exitCode: 1,
 *   startStderr: "",
 *   existed: true,
 * };
 * diagnoseStart(evidence);
 * ```
 */
export interface StartEvidence {
  /** The instance name. */
  instance: string;
  /** The real `$LIMA_HOME`. */
  limaHome: string;
  /** `limactl start`'s exit code. */
  exitCode: number;
  /** What `limactl start` printed on stderr; `""` when it wrote to the terminal itself. */
  startStderr: string;
  /** `ha.stderr.log`, only when Lima rewrote it during this start (else `undefined`: stale). */
  haStderrLog?: string | undefined;
  /** `ha.stdout.log` (JSON-lines events), only when rewritten during this start. */
  haStdoutLog?: string | undefined;
  /** Whether the instance had a `lima.yaml` before the start. */
  existed: boolean;
}

/**
 * The verdict on a failed start.
 *
 * @example Usage
 * ```ts
 * import { diagnoseStart, type StartDiagnosis } from "@devshell/gamma/lima";
 *
 * const d: StartDiagnosis = diagnoseStart({
 *   instance: "dev",
 *   limaHome: "/lima",
 *   exitCode: 1,
 *   startStderr: "",
 *   existed: true,
 * });
 * if (d.degraded) console.log("the VM is up, but degraded");
 * ```
 */
export interface StartDiagnosis {
  /** Lima said `degraded`: the exit code is 1 but the VM is up. */
  degraded: boolean;
  /** One-line hints, most likely cause first. */
  hints: string[];
  /** The errors of the last `ha.stdout.log` event. */
  eventErrors: string[];
  /** The last lines of `ha.stderr.log` from this start. */
  logTail: string[];
}

/** Lines QEMU prints when this user cannot use /dev/kvm. */
const KVM_PATTERNS = [/Could not access KVM kernel module/i, /failed to initialize kvm/i];

function lastEvent(log: string | undefined): Record<string, unknown> | undefined {
  const lines = (log ?? "").split("\n").filter((l) => l.trim() !== "");
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const event = JSON.parse(lines[i]!);
      if (event && typeof event === "object") {
        const status = (event as Record<string, unknown>)["status"];
        if (status && typeof status === "object") return status as Record<string, unknown>;
      }
    } catch {
      // A torn last line while the host agent writes: look at the one before.
    }
  }
  return undefined;
}

/** The message of a log line: Lima's host agent writes logrus JSON lines. */
function logMessage(line: string): string {
  try {
    const entry = JSON.parse(line);
    if (entry && typeof entry.msg === "string") return entry.msg;
  } catch {
    // A plain text line.
  }
  return line;
}

/**
 * Work out why `limactl start` failed (gamma-behaviour §12.1, fixed as §18.8 asks): only logs
 * written by this start count (a KVM error from an older start is not reported again), the
 * instance directory is named under the real `$LIMA_HOME`, and `degraded` is recognised as a VM
 * that is up with file sharing or port forwarding broken. Log lines in logrus JSON form are shown
 * by their message.
 *
 * @param evidence What the start left behind.
 * @returns The diagnosis.
 *
 * @example Usage
 * ```ts
 * import { diagnoseStart } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * const d = diagnoseStart({
 *   instance: "dev",
 *   limaHome: "/lima",
 *   exitCode: 1,
 *   startStderr: "",
 *   haStderrLog: "qemu-system-x86_64: failed to initialize kvm: Permission denied\n",
 *   existed: true,
 * });
 * assert.match(d.hints[0]!, /kvm/);
 * ```
 */
export function diagnoseStart(evidence: StartEvidence): StartDiagnosis {
  const log = evidence.haStderrLog ?? "";
  const status = lastEvent(evidence.haStdoutLog);
  const degraded = status?.["degraded"] === true && status?.["running"] === true;
  const eventErrors = Array.isArray(status?.["errors"])
    ? (status["errors"] as unknown[]).map(String)
    : [];
  const logFile = `${evidence.limaHome}/${evidence.instance}/ha.stderr.log`;
  const hints: string[] = [];
  if (degraded) {
    hints.push(
      `the VM is up but degraded: file sharing and port forwarding may not work (see ${logFile})`,
    );
  }
  if (KVM_PATTERNS.some((p) => p.test(log))) {
    hints.push(
      "this user cannot use /dev/kvm: run `sudo usermod -aG kvm $USER`, then log in again (or `newgrp kvm`)",
    );
  }
  const text = `${evidence.startStderr}\n${log}`;
  if (/template/i.test(text) && /not found/i.test(text)) {
    hints.push(
      "Lima's templates are missing: reinstall Lima so that share/lima/templates sits next to limactl's bin directory, or set LIMA_TEMPLATES_PATH",
    );
  } else if (!evidence.existed) {
    hints.push(
      `instance ${evidence.instance} did not exist: limactl start tried to create it from template:default; check ${evidence.limaHome}/${evidence.instance}/lima.yaml or create it with \`limactl create --name=${evidence.instance}\``,
    );
  }
  // Lima's own words when gamma saw them; else its last event: a host agent still waiting for
  // the guest (not running, not exiting) is what start's --timeout leaves behind.
  const waiting = evidence.startStderr === "" && status !== undefined &&
    status["running"] !== true && status["exiting"] !== true;
  if (
    waiting || /did not receive an event with the .running. status/.test(evidence.startStderr)
  ) {
    hints.push(
      `the VM did not become ready in time: see ${logFile}, or start it by hand with \`limactl start --timeout 30m ${evidence.instance}\``,
    );
  }
  const logTail = log.split("\n").filter((l) => l.trim() !== "").map(logMessage).slice(-8);
  if (!degraded && hints.length === 0) {
    hints.push(`see ${logFile} and \`limactl list\``);
  }
  return { degraded, hints, eventErrors, logTail };
}
