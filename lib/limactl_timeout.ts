/**
 * Time-outs for gamma's own `limactl` calls: each kind of call gets a bound that fits what it
 * does, so a hanging `limactl` ends with a message naming the call instead of hanging gamma.
 * `limactl start` keeps Lima's own `--timeout`, and the user's command is never bounded.
 *
 * @module
 */

/**
 * A kind of `limactl` call gamma makes on its own: `version` (`limactl --version`), `list`
 * (`limactl list --json NAME`, also before a start) and `probe` (a short `limactl shell` script:
 * the first-run probe, `gamma doctor`'s guest probe, the toolchain and binary probes).
 *
 * @example Usage
 * ```ts
 * import type { LimactlCall } from "@devshell/gamma/lima";
 *
 * const call: LimactlCall = "list";
 * ```
 */
export type LimactlCall = "version" | "list" | "probe";

/**
 * The default bound of each kind of call, in milliseconds. `version` prints a constant: 10 s
 * covers a cold start on a busy machine. `list` reads the instance's files and asks its host
 * agent, which Lima itself bounds by 3 s (pkg/store/instance.go): 30 s. `probe` starts a guest
 * command over ssh and runs a few shell lines: 60 s, for slow emulated guests too.
 *
 * @example Usage
 * ```ts
 * import { LIMACTL_TIMEOUTS_MS } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * assert.equal(LIMACTL_TIMEOUTS_MS.list, 30_000);
 * ```
 */
export const LIMACTL_TIMEOUTS_MS: Readonly<Record<LimactlCall, number>> = Object.freeze({
  version: 10_000,
  list: 30_000,
  probe: 60_000,
});

/**
 * The bound of one call: `DEVSHELL_VM_LIMACTL_TIMEOUT` (seconds) when set, else the call's
 * default ({@linkcode LIMACTL_TIMEOUTS_MS}).
 *
 * @param call The kind of call.
 * @param overrideSeconds `DEVSHELL_VM_LIMACTL_TIMEOUT`, already validated (positive).
 * @returns Milliseconds.
 *
 * @example Usage
 * ```ts
 * import { limactlTimeoutMs } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * assert.equal(limactlTimeoutMs("version"), 10_000);
 * assert.equal(limactlTimeoutMs("probe", 2.5), 2_500);
 * ```
 */
export function limactlTimeoutMs(call: LimactlCall, overrideSeconds?: number): number {
  return overrideSeconds === undefined
    ? LIMACTL_TIMEOUTS_MS[call]
    : Math.round(overrideSeconds * 1000);
}

/**
 * What to do when a call of this kind did not finish: the likely cause and the next command.
 *
 * @param call The kind of call.
 * @param instance The instance.
 * @returns One line, without a trailing period.
 *
 * @example Usage
 * ```ts
 * import { limactlTimeoutHint } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * assert.match(limactlTimeoutHint("probe", "dev"), /limactl shell --reconnect dev true/);
 * ```
 */
export function limactlTimeoutHint(call: LimactlCall, instance: string): string {
  const more = "or allow more time with DEVSHELL_VM_LIMACTL_TIMEOUT=SECONDS";
  if (call === "version") {
    return `check that limactl runs at all: limactl --version; ${more}`;
  }
  if (call === "list") {
    return `limactl could not read instance ${instance} (a stalled file system under LIMA_HOME?): try limactl list ${instance}; ${more}`;
  }
  return `the guest of instance ${instance} does not answer over ssh (a wedged ssh connection, e.g. after the host slept?): try limactl shell --reconnect ${instance} true, or restart it: limactl stop ${instance} && limactl start ${instance}; ${more}`;
}
