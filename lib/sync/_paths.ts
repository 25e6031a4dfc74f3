/**
 * Small helpers on relative paths shared by the sync modules (not part of the public API).
 *
 * @module
 */

/**
 * The parent of a relative path, or `""` for a top-level name.
 *
 * @param path A valid relative path.
 * @returns Its parent directory's relative path.
 *
 * @example Usage
 * ```ts
 * import { parentPath } from "./_paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parentPath("a/b/c"), "a/b");
 * assert.equal(parentPath("a"), "");
 * ```
 */
export function parentPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? "" : path.slice(0, slash);
}

/**
 * Whether `path` is `root` or lies under it, component by component.
 *
 * @param path A valid relative path.
 * @param root Another valid relative path.
 * @returns `true` for `root` itself and everything below it.
 *
 * @example Usage
 * ```ts
 * import { isAtOrUnder } from "./_paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isAtOrUnder("a/b", "a"), true);
 * assert.equal(isAtOrUnder("ab", "a"), false);
 * ```
 */
export function isAtOrUnder(path: string, root: string): boolean {
  return path === root || (path.startsWith(root) && path.charCodeAt(root.length) === 47);
}

/**
 * Every proper ancestor of a relative path, nearest last (`a/b/c` gives `a`, `a/b`).
 *
 * @param path A valid relative path.
 * @returns Its ancestors from the top down.
 *
 * @example Usage
 * ```ts
 * import { ancestors } from "./_paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(ancestors("a/b/c"), ["a", "a/b"]);
 * ```
 */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  let i = path.indexOf("/");
  while (i !== -1) {
    out.push(path.slice(0, i));
    i = path.indexOf("/", i + 1);
  }
  return out;
}

/**
 * Whether a relative path passes {@linkcode validateRelativePath}, without building an error
 * (the fast check for long lists).
 *
 * @param path A string.
 * @returns `true` when it is a valid relative path.
 *
 * @example Usage
 * ```ts
 * import { isValidPath } from "./_paths.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isValidPath("a/.b/c"), true);
 * assert.equal(isValidPath("a/../c"), false);
 * ```
 */
export function isValidPath(path: string): boolean {
  const n = path.length;
  if (n === 0) return false;
  let start = 0;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? 47 : path.charCodeAt(i);
    if (c === 0) return false;
    if (c !== 47) continue;
    const len = i - start;
    if (len === 0) return false;
    if (
      path.charCodeAt(start) === 46 &&
      (len === 1 || (len === 2 && path.charCodeAt(start + 1) === 46))
    ) {
      return false;
    }
    start = i + 1;
  }
  return true;
}

/**
 * Set `record[key] = value` as an own property, also for the key `__proto__` (a legal file
 * name), which plain assignment would turn into a prototype change.
 *
 * @param record The object.
 * @param key The key.
 * @param value The value.
 *
 * @example Usage
 * ```ts
 * import { setOwn } from "./_paths.ts";
 * import assert from "node:assert/strict";
 *
 * const record: Record<string, number> = {};
 * setOwn(record, "__proto__", 1);
 * assert.deepEqual(Object.keys(record), ["__proto__"]);
 * ```
 */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") {
    Object.defineProperty(record, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    record[key] = value;
  }
}
