/**
 * Host ↔ guest path mapping through an instance's Lima mounts.
 *
 * @module
 */

import { posix } from "node:path";

/**
 * One Lima mount, in the shape `limactl list --json` reports under `config.mounts`.
 *
 * @example Usage
 * ```ts
 * import type { Mount } from "@devshell/gamma";
 *
 * const mount: Mount = { location: "/home/me/src", mountPoint: "/workspace", writable: true };
 * ```
 */
export interface Mount {
  /** Absolute host directory that is shared (Lima has already expanded `~`). */
  location: string;
  /** Absolute guest directory where `location` appears. */
  mountPoint: string;
  /** Whether the guest may write to it; Lima's default is `false`. */
  writable?: boolean;
}

/**
 * Lexically normalise an absolute POSIX path: resolve `.` and `..`, fold repeated slashes and
 * drop a trailing slash. `..` above the root stays at the root, as the kernel does.
 *
 * @param path An absolute POSIX path.
 * @param what What the path is, for the error message.
 * @returns The normalised path.
 * @throws {TypeError} If `path` is not absolute or contains a NUL character.
 *
 * @example Usage
 * ```ts
 * import { normalizeAbsolutePath } from "./guest_path.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(normalizeAbsolutePath("/a//b/../c/"), "/a/c");
 * ```
 */
export function normalizeAbsolutePath(path: string, what = "Path"): string {
  if (!path.startsWith("/")) {
    throw new TypeError(`${what} must be an absolute POSIX path: received ${JSON.stringify(path)}`);
  }
  if (path.includes("\0")) {
    throw new TypeError(
      `${what} must not contain a NUL character: received ${JSON.stringify(path)}`,
    );
  }
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith("/") ? normal.slice(0, -1) : normal;
}

/**
 * `path` relative to `root` when `path` is `root` or below it, by whole components (`/a/bc` is
 * not under `/a/b`); both normalised absolute paths.
 *
 * @param path The path.
 * @param root The directory.
 * @returns The relative rest (`""` for `root` itself), or `undefined` when not under it.
 *
 * @example Usage
 * ```ts
 * import { relativeUnder } from "./guest_path.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(relativeUnder("/a/b/c", "/a/b"), "c");
 * assert.equal(relativeUnder("/a/bc", "/a/b"), undefined);
 * ```
 */
export function relativeUnder(path: string, root: string): string | undefined {
  if (path === root) return "";
  const prefix = root === "/" ? "/" : `${root}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
}

interface NormalMount {
  location: string;
  mountPoint: string;
}

function normalMounts(mounts: readonly Mount[]): NormalMount[] {
  return mounts.map((m, i) => ({
    location: normalizeAbsolutePath(m.location, `Mount ${i} location`),
    mountPoint: normalizeAbsolutePath(m.mountPoint, `Mount ${i} mountPoint`),
  }));
}

/** Index of the mount whose `key` is the longest prefix of `path`; first one on a tie. */
function longestCover(
  path: string,
  mounts: readonly NormalMount[],
  key: keyof NormalMount,
): number {
  let best = -1;
  for (const [i, m] of mounts.entries()) {
    if (relativeUnder(path, m[key]) === undefined) continue;
    if (best === -1 || m[key].length > mounts[best]![key].length) best = i;
  }
  return best;
}

/**
 * Map a host path to the guest path where the instance shows it.
 *
 * Every mount is considered (an instance may share several directories and may place them at
 * other guest paths than the host's, lima-vm/lima#5520); the mount with the longest matching
 * `location` wins. A guest path that another, deeper mount point hides is not reachable, so the
 * next covering mount is tried. Matching is by whole path components: `/a/bc` is not under
 * `/a/b`. The function does no I/O: callers resolve symlinks first.
 *
 * @param hostPath Absolute host path; normalised lexically.
 * @param mounts The instance's mounts.
 * @returns The guest path, or `undefined` when no mount shows `hostPath` in the guest.
 * @throws {TypeError} If `hostPath` or a mount path is not absolute.
 *
 * @example Usage
 * ```ts
 * import { toGuestPath } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const mounts = [{ location: "/home/me/src", mountPoint: "/workspace", writable: true }];
 * assert.equal(toGuestPath("/home/me/src/app/lib", mounts), "/workspace/app/lib");
 * assert.equal(toGuestPath("/home/me/srcs", mounts), undefined);
 * ```
 */
export function toGuestPath(hostPath: string, mounts: readonly Mount[]): string | undefined {
  return coveringMount(hostPath, mounts)?.guestPath;
}

/**
 * The mount through which the guest shows a host path, and the guest path: the choice
 * {@linkcode toGuestPath} makes (the longest matching location; a guest path that a deeper mount
 * point hides is skipped).
 *
 * @param hostPath Absolute host path; normalised lexically.
 * @param mounts The instance's mounts.
 * @returns The mount (as given) and the guest path, or `undefined` when no mount shows it.
 * @throws {TypeError} If `hostPath` or a mount path is not absolute.
 *
 * @example Usage
 * ```ts
 * import { coveringMount } from "./guest_path.ts";
 * import assert from "node:assert/strict";
 *
 * const home = { location: "/home/me", mountPoint: "/home/me", writable: false };
 * assert.deepEqual(coveringMount("/home/me/app", [home]), { mount: home, guestPath: "/home/me/app" });
 * ```
 */
export function coveringMount(
  hostPath: string,
  mounts: readonly Mount[],
): { mount: Mount; guestPath: string } | undefined {
  const path = normalizeAbsolutePath(hostPath, "Host path");
  const normal = normalMounts(mounts);
  const candidates = normal
    .map((m, i) => ({ m, i, rest: relativeUnder(path, m.location) }))
    .filter((c) => c.rest !== undefined)
    .sort((a, b) => b.m.location.length - a.m.location.length || a.i - b.i);
  for (const { m, i, rest } of candidates) {
    const guestPath = rest ? posix.join(m.mountPoint, rest) : m.mountPoint;
    // The guest sees, at `guestPath`, whatever the deepest mount point above it shows.
    if (longestCover(guestPath, normal, "mountPoint") === i) {
      return { mount: mounts[i]!, guestPath };
    }
  }
  return undefined;
}

/**
 * Map a guest path back to the host path it shows, through the mount with the longest matching
 * `mountPoint` (the one the guest really sees there).
 *
 * @param guestPath Absolute guest path; normalised lexically.
 * @param mounts The instance's mounts.
 * @returns The host path, or `undefined` when the guest path is on no mount.
 * @throws {TypeError} If `guestPath` or a mount path is not absolute.
 *
 * @example Usage
 * ```ts
 * import { toHostPath } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const mounts = [{ location: "/home/me/src", mountPoint: "/workspace" }];
 * assert.equal(toHostPath("/workspace/app/../lib", mounts), "/home/me/src/lib");
 * assert.equal(toHostPath("/etc/passwd", mounts), undefined);
 * ```
 */
export function toHostPath(guestPath: string, mounts: readonly Mount[]): string | undefined {
  const path = normalizeAbsolutePath(guestPath, "Guest path");
  const normal = normalMounts(mounts);
  const i = longestCover(path, normal, "mountPoint");
  if (i === -1) return undefined;
  const m = normal[i]!;
  const rest = relativeUnder(path, m.mountPoint)!;
  return rest ? posix.join(m.location, rest) : m.location;
}
