/**
 * Reading `limactl list --json` output.
 *
 * @module
 */

import type { Mount } from "./guest_path.ts";

/**
 * What gamma uses of one instance from `limactl list --json`.
 *
 * @example Usage
 * ```ts
 * import { type InstanceInfo, parseLimaList } from "@devshell/gamma/lima";
 *
 * const [info]: InstanceInfo[] = parseLimaList('{"name":"dev","status":"Running"}\n');
 * ```
 */
export interface InstanceInfo {
  /** Instance name. */
  name: string;
  /** Lima's status: `Running`, `Stopped`, `Broken`, `Uninitialized`, `Installing` or `""`. */
  status: string;
  /** The instance directory (`$LIMA_HOME/NAME`). */
  dir: string | undefined;
  /** `config.mounts`, with Lima's defaults applied (mount point = location, read-only). */
  mounts: Mount[];
  /** `config.user.home`: the guest home directory. */
  userHome: string | undefined;
  /** `errors` Lima reports for the instance. */
  errors: string[];
}

function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? value as Record<string, unknown>
    : {};
}

function parseMounts(value: unknown): Mount[] {
  if (!Array.isArray(value)) return [];
  const mounts: Mount[] = [];
  for (const item of value) {
    const m = record(item);
    const location = asString(m["location"]);
    if (!location?.startsWith("/")) continue;
    const mountPoint = asString(m["mountPoint"]) || location;
    mounts.push({ location, mountPoint, writable: m["writable"] === true });
  }
  return mounts;
}

/**
 * Parse the NDJSON that `limactl list --json` prints: one JSON object per line, one line per
 * instance (lima-vm/lima#109, #646; not an array). Blank lines are skipped. Mount entries
 * without an absolute location are left out; a missing mount point means the location, and a
 * missing `writable` means read-only, as in Lima.
 *
 * @param text The command's stdout.
 * @returns One entry per instance, in output order.
 * @throws {SyntaxError} If a line is not a JSON object with a string `name`, naming the line.
 *
 * @example Usage
 * ```ts
 * import { parseLimaList } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * const line = JSON.stringify({
 *   name: "dev",
 *   status: "Stopped",
 *   config: { mounts: [{ location: "/home/me" }], user: { home: "/home/me.guest" } },
 * });
 * const [dev] = parseLimaList(line + "\n");
 * assert.deepEqual(dev?.mounts, [{ location: "/home/me", mountPoint: "/home/me", writable: false }]);
 * ```
 */
export function parseLimaList(text: string): InstanceInfo[] {
  const out: InstanceInfo[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new SyntaxError(
        `Cannot parse limactl list output line ${i + 1}: ${(e as Error).message}`,
      );
    }
    const obj = record(value);
    const name = asString(obj["name"]);
    if (name === undefined) {
      throw new SyntaxError(
        `Cannot parse limactl list output line ${i + 1}: it is not an object with a "name"`,
      );
    }
    const config = record(obj["config"]);
    const errors = Array.isArray(obj["errors"])
      ? obj["errors"].map((e) => typeof e === "string" ? e : JSON.stringify(e))
      : [];
    out.push({
      name,
      status: asString(obj["status"]) ?? "",
      dir: asString(obj["dir"]),
      mounts: parseMounts(config["mounts"]),
      userHome: asString(record(config["user"])["home"]),
      errors,
    });
  }
  return out;
}
