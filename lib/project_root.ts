/**
 * Finding the project a directory belongs to.
 *
 * @module
 */

import { posix } from "node:path";
import { normalizeAbsolutePath } from "./guest_path.ts";

/**
 * The names whose presence marks a project root.
 *
 * @example Usage
 * ```ts
 * import { PROJECT_MARKERS } from "./project_root.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(PROJECT_MARKERS.includes(".git"));
 * ```
 */
export const PROJECT_MARKERS: readonly string[] = [
  ".git",
  "Cargo.toml",
  "deno.json",
  "package.json",
];

/**
 * The project root of a directory: its nearest ancestor (itself included) that holds `.git`,
 * `Cargo.toml`, `deno.json` or `package.json`; the directory itself when none does. Existence is
 * injected, so this is pure.
 *
 * @param start Absolute directory.
 * @param exists Whether a path exists (file or directory).
 * @returns The project root.
 *
 * @example Usage
 * ```ts
 * import { findProjectRoot } from "./project_root.ts";
 * import assert from "node:assert/strict";
 *
 * const present = new Set(["/home/me/app/.git"]);
 * assert.equal(findProjectRoot("/home/me/app/src/lib", (p) => present.has(p)), "/home/me/app");
 * assert.equal(findProjectRoot("/tmp/scratch", (p) => present.has(p)), "/tmp/scratch");
 * ```
 */
export function findProjectRoot(start: string, exists: (path: string) => boolean): string {
  const first = normalizeAbsolutePath(start);
  for (let dir = first;; dir = posix.dirname(dir)) {
    if (PROJECT_MARKERS.some((m) => exists(posix.join(dir, m)))) return dir;
    if (dir === "/") return first;
  }
}

/**
 * The project settings file (`.gamma.yaml`) that applies to a directory: the nearest one from
 * the directory up to the repository root (the nearest ancestor holding `.git`) or, outside a
 * repository, up to the project root ({@linkcode findProjectRoot}). It is never looked for above
 * that, so a file in a shared parent such as `/tmp` or the home directory is not picked up.
 *
 * @param start Absolute directory.
 * @param exists Whether a path exists.
 * @returns The file's path, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { findProjectFile } from "./project_root.ts";
 * import assert from "node:assert/strict";
 *
 * const present = new Set(["/home/me/mono/.git", "/home/me/mono/.gamma.yaml", "/home/me/mono/web/package.json"]);
 * const exists = (p: string) => present.has(p);
 * assert.equal(findProjectFile("/home/me/mono/web/src", exists), "/home/me/mono/.gamma.yaml");
 * assert.equal(findProjectFile("/home/me/other", exists), undefined);
 * ```
 */
export function findProjectFile(
  start: string,
  exists: (path: string) => boolean,
): string | undefined {
  const first = normalizeAbsolutePath(start);
  let boundary: string | undefined;
  for (let dir = first;; dir = posix.dirname(dir)) {
    if (exists(posix.join(dir, ".git"))) {
      boundary = dir;
      break;
    }
    if (dir === "/") break;
  }
  boundary ??= findProjectRoot(first, exists);
  for (let dir = first;; dir = posix.dirname(dir)) {
    const file = posix.join(dir, ".gamma.yaml");
    if (exists(file)) return file;
    if (dir === boundary || dir === "/") return undefined;
  }
}
