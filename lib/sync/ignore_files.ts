/**
 * The names of the ignore files a sync reads, apart from the matcher (which loads an npm
 * package): code that only needs to know whether a tree has ignore files loads nothing else.
 *
 * @module
 */

/**
 * The name of the ignore file a sync reads at the host root.
 *
 * @example Usage
 * ```ts
 * import { IGNORE_FILE } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * assert.equal(IGNORE_FILE, ".gammaignore");
 * ```
 */
export const IGNORE_FILE = ".gammaignore";

/**
 * The name of git's per-directory ignore file, which a sync honours by default.
 *
 * @example Usage
 * ```ts
 * import { GITIGNORE_FILE } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * assert.equal(GITIGNORE_FILE, ".gitignore");
 * ```
 */
export const GITIGNORE_FILE = ".gitignore";
