/**
 * Finding the Cargo workspace root without running `cargo metadata`.
 *
 * @module
 */

import { posix } from "node:path";
import { normalizeAbsolutePath } from "./guest_path.ts";

/**
 * Find the Cargo workspace root for a directory, the way Cargo does: the nearest ancestor with a
 * `Cargo.toml` is the package; from there upwards, the first `Cargo.toml` with a `[workspace]`
 * table is the workspace root; without one, the package directory is its own root. Reading is
 * injected, so this is pure; it replaces the original's repeated `cargo metadata` runs.
 *
 * @param start Absolute directory to start from.
 * @param readManifest Returns the text of `<dir>/Cargo.toml`, or `undefined` when there is none.
 * @returns The workspace root, or `undefined` outside any Cargo package.
 *
 * @example Usage
 * ```ts
 * import { findCargoWorkspaceRoot } from "./cargo_root.ts";
 * import assert from "node:assert/strict";
 *
 * const files: Record<string, string> = {
 *   "/repo": '[workspace]\nmembers = ["app"]\n',
 *   "/repo/app": '[package]\nname = "app"\n',
 * };
 * assert.equal(findCargoWorkspaceRoot("/repo/app/src", (dir) => files[dir]), "/repo");
 * ```
 */
export function findCargoWorkspaceRoot(
  start: string,
  readManifest: (dir: string) => string | undefined,
): string | undefined {
  let dir = normalizeAbsolutePath(start);
  let pkg: string | undefined;
  for (;;) {
    const text = readManifest(dir);
    if (text !== undefined) {
      pkg ??= dir;
      if (/^\s*\[workspace\]\s*(#.*)?$/m.test(text)) return dir;
    }
    if (dir === "/") return pkg;
    dir = posix.dirname(dir);
  }
}
