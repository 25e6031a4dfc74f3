/**
 * Canonical host paths for paths that do not exist yet: symbolic links are resolved in the
 * longest prefix that exists, and the rest is appended as it is.
 *
 * @module
 */

import { posix } from "node:path";
import { normalizeAbsolutePath } from "./guest_path.ts";

/**
 * The canonical form of an absolute path whose last components may not exist yet: the longest
 * existing prefix goes through `realPath` (which resolves its symbolic links), and the missing
 * rest is joined on unchanged. So `LINK/not-yet-created` maps like `LINK`'s target does.
 *
 * @param path An absolute path (normalised first; `..` is resolved lexically).
 * @param realPath Resolves an existing path, or returns `undefined` when it does not exist
 * (`Deno.realPathSync` with the error caught).
 * @returns The canonical path.
 *
 * @example Usage
 * ```ts
 * import { realPathOfPrefix } from "./real_prefix.ts";
 * import assert from "node:assert/strict";
 *
 * const links: Record<string, string> = { "/": "/", "/home": "/home", "/home/me": "/home/me", "/home/me/app": "/src/app" };
 * assert.equal(realPathOfPrefix("/home/me/app/new/file", (p) => links[p]), "/src/app/new/file");
 * ```
 */
export function realPathOfPrefix(
  path: string,
  realPath: (path: string) => string | undefined,
): string {
  const absolute = normalizeAbsolutePath(path);
  const parts = absolute.split("/").filter((p) => p !== "");
  for (let n = parts.length; n >= 0; n--) {
    const prefix = `/${parts.slice(0, n).join("/")}`;
    const real = realPath(prefix);
    if (real !== undefined) return posix.join(real, ...parts.slice(n));
  }
  return absolute;
}
