/**
 * `gamma doctor` as a library: {@linkcode runDoctor} looks at `limactl`, the instance, its
 * mounts, KVM and the guest's tools without starting the VM, and returns a
 * {@linkcode DoctorReport} of checks, each `ok`, `warn` or `fail` with the fix;
 * {@linkcode formatDoctorReport} renders it as the CLI prints it.
 *
 * @example Check a setup and print the report
 * ```ts
 * import { formatDoctorReport, runDoctor } from "@devshell/gamma/doctor";
 * import assert from "node:assert/strict";
 *
 * // An empty PATH: no limactl, so the limactl check fails and says how to fix it.
 * const dir = await Deno.makeTempDir();
 * const report = await runDoctor({ env: { PATH: "", HOME: dir, LIMA_HOME: `${dir}/lima` } });
 * assert.equal(report.checks.find((c) => c.id === "limactl")?.status, "fail");
 * assert.match(formatDoctorReport(report), /^fail  limactl     limactl not found on PATH/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export {
  type CheckStatus,
  type DoctorCheck,
  type DoctorReport,
  formatDoctorReport,
} from "./lib/doctor.ts";
export { type DoctorOptions } from "./lib/session/doctor.ts";
export { runDoctor, type RunDoctorOptions } from "./lib/session/run_doctor.ts";
