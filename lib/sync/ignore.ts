/**
 * `.gammaignore` rules: gitignore syntax, matched with the `ignore` package.
 *
 * @module
 */

import ignore from "ignore";
import type { IgnoreFilter } from "./tree.ts";

/**
 * The name of the ignore file a sync reads at the host root.
 *
 * @example Usage
 * ```ts
 * import { IGNORE_FILE } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * assert.equal(IGNORE_FILE, ".gammaignore");
 * ```
 */
export const IGNORE_FILE = ".gammaignore";

/**
 * Compile ignore rules in gitignore syntax (`#` comments, `!` negation, trailing `/` for
 * directories only, `**`, anchoring with a leading `/`) into a filter for {@linkcode Tree.scan},
 * plus exact relative paths that are always left out (for example the manifest, when it lies
 * inside a tree). As in git, a path under an ignored directory cannot be re-included.
 *
 * @param rules The text of a `.gammaignore` file (may be empty).
 * @param always Exact relative paths to leave out too.
 * @returns The filter, or `undefined` when nothing is ignored.
 *
 * @example Usage
 * ```ts
 * import { compileIgnore } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const ignored = compileIgnore("target/\n*.log\n!keep.log\n")!;
 * assert.equal(ignored("target", true), true);
 * assert.equal(ignored("target", false), false); // a file named target is not a directory
 * assert.equal(ignored("sub/build.log", false), true);
 * assert.equal(ignored("keep.log", false), false);
 * assert.equal(compileIgnore(""), undefined);
 * ```
 */
export function compileIgnore(
  rules: string,
  always: readonly string[] = [],
): IgnoreFilter | undefined {
  const exact = new Set(always);
  const hasRules = rules.split(/\r?\n/).some((line) => line.trim() !== "" && !line.startsWith("#"));
  if (!hasRules && exact.size === 0) return undefined;
  const matcher = hasRules ? ignore({ allowRelativePaths: false }).add(rules) : undefined;
  return (path: string, isDir: boolean): boolean => {
    if (exact.has(path)) return true;
    if (matcher === undefined) return false;
    try {
      return matcher.ignores(isDir ? `${path}/` : path);
    } catch {
      return false; // a name the package refuses (such as "..." followed by "/") is kept
    }
  };
}
