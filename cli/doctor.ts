// deno-lint-ignore-file no-console
/**
 * `gamma doctor`.
 *
 * @module
 */

import { formatDoctorReport } from "../lib/doctor.ts";
import { runDoctor } from "../lib/session/run_doctor.ts";
import { type CommandSpec, LIMA_PERMISSIONS, rejectPositionals, UsageError } from "./_spec.ts";
import { printJson } from "./_json.ts";

/** A tool name `--tool` accepts: what `command -v` can look up, not an option. */
const TOOL = /^[\w.+/][\w.+/-]*$/;

/** `gamma doctor`. */
export const doctorCommand: CommandSpec = {
  name: "doctor",
  summary: "check limactl, the instance, KVM, templates, the last start, mounts and guest tools",
  usage: ["doctor [-i NAME] [--json] [--tool CMD]... [--kvm-device PATH]"],
  description: [
    "Runs these checks in order and prints each one's status (ok, warn, fail), a one-line",
    "message and, unless it is ok, the exact fix: limactl (found, runs, version: warn below 2.0,",
    "fail below 1.0), instance (exists, Lima's status), kvm (Linux: /dev/kvm usable by this user,",
    "KVM errors of the last start in ha.stderr.log), template (Lima's default.yaml template),",
    "last-start (errors of the last start; degraded), mount (the real mount that covers this",
    "project, its guest path, writable), mount-live (a marker file created here is visible at its",
    "guest path), writable (the guest can create a file there), tools (each --tool on the guest",
    "PATH; by default cc and cargo, which only warn when missing). The last three need a running",
    "instance; doctor never starts the VM. A check that cannot run because of an earlier one warns",
    "'not checked' and carries the fix that unblocks it. DEVSHELL_VM=off is ignored here.",
    '--json prints {"schema": 1, "ok": BOOL, "checks": [{"id", "status", "message", "fix"?,',
    '"details"?}]}.',
  ],
  permissions: LIMA_PERMISSIONS,
  options: [
    { name: "json", help: "print the report as JSON" },
    {
      name: "tool",
      value: "CMD",
      multiple: true,
      help: "a command that must be on the guest PATH (repeatable; replaces the defaults)",
      default: "the settings' tools, else cc and cargo",
    },
    {
      name: "kvm-device",
      value: "PATH",
      help: "the KVM device to check on Linux hosts",
      default: "/dev/kvm",
    },
  ],
  examples: [
    "gamma doctor                          # everything, for this directory's project",
    "gamma doctor --tool cargo --tool make # these must be on the guest PATH",
    "gamma doctor --json | jq '.checks[] | select(.status != \"ok\")'",
  ],
  exitCodes: ["0     no check failed", "1     a check failed", "2     usage error"],
  async run(parsed, context) {
    rejectPositionals(this, parsed);
    const tools = parsed.values["tool"] as string[] | undefined;
    for (const tool of tools ?? []) {
      if (!TOOL.test(tool)) {
        throw new UsageError(
          `gamma doctor: --tool ${
            JSON.stringify(tool)
          }: give a command name (letters, digits, ".", "_", "+", "-", "/")`,
          this,
        );
      }
    }
    const kvmDevice = parsed.values["kvm-device"] as string | undefined;
    if (kvmDevice !== undefined && !kvmDevice.startsWith("/")) {
      throw new UsageError(`gamma doctor: --kvm-device must be an absolute path`, this);
    }
    const instance = parsed.values["instance"];
    const limactl = parsed.values["limactl"];
    const report = await runDoctor({
      instance: typeof instance === "string" ? instance : undefined,
      limactl: typeof limactl === "string" ? limactl : undefined,
      notice: context.notice,
      debug: parsed.values["debug"] === true ? context.notice : undefined,
      tools,
      kvmDevice,
    });
    if (parsed.values["json"] === true) printJson({ ...report });
    else console.log(formatDoctorReport(report).replace(/\n$/, ""));
    return report.ok ? 0 : 1;
  },
};
