/**
 * The data of a sync: what one entry of a tree is ({@linkcode SyncEntry}), the state of the last
 * sync ({@linkcode Manifest}), and the rules for relative paths inside a tree.
 *
 * @module
 */

/**
 * A regular file as a sync sees it: its size, modification time and permission bits. Two files
 * with the same three values are taken to hold the same bytes (the rule `rsync` uses too), so an
 * unchanged file is never read.
 *
 * @example Usage
 * ```ts
 * import type { FileEntry } from "@devshell/gamma/sync";
 *
 * const entry: FileEntry = { type: "file", size: 12, mtimeMs: 1_700_000_000_000, mode: 0o644 };
 * ```
 */
export interface FileEntry {
  /** A regular file. */
  type: "file";
  /** Length in bytes. */
  size: number;
  /** Modification time in whole milliseconds since the epoch. */
  mtimeMs: number;
  /** Permission bits (`0o7777` at most). */
  mode: number;
}

/**
 * A directory as a sync sees it: only its permission bits (its modification time changes with
 * its contents and is not compared).
 *
 * @example Usage
 * ```ts
 * import type { DirEntry } from "@devshell/gamma/sync";
 *
 * const entry: DirEntry = { type: "dir", mode: 0o755 };
 * ```
 */
export interface DirEntry {
  /** A directory. */
  type: "dir";
  /** Permission bits (`0o7777` at most). */
  mode: number;
}

/**
 * A symbolic link as a sync sees it: the text it holds. A sync copies links as links and never
 * follows them.
 *
 * @example Usage
 * ```ts
 * import type { SymlinkEntry } from "@devshell/gamma/sync";
 *
 * const entry: SymlinkEntry = { type: "symlink", target: "../shared/config.toml" };
 * ```
 */
export interface SymlinkEntry {
  /** A symbolic link. */
  type: "symlink";
  /** The link's target, exactly as stored (it may be relative, absolute or dangling). */
  target: string;
}

/**
 * One entry of a tree, keyed elsewhere by its relative path (see
 * {@linkcode validateRelativePath}). Other kinds of file (sockets, FIFOs, devices) are not
 * synced.
 *
 * @example Usage
 * ```ts
 * import type { SyncEntry } from "@devshell/gamma/sync";
 *
 * const entries: Map<string, SyncEntry> = new Map([
 *   ["src", { type: "dir", mode: 0o755 }],
 *   ["src/main.rs", { type: "file", size: 13, mtimeMs: 1_700_000_000_000, mode: 0o644 }],
 *   ["latest", { type: "symlink", target: "src/main.rs" }],
 * ]);
 * ```
 */
export type SyncEntry = FileEntry | DirEntry | SymlinkEntry;

/**
 * The state both sides had in common after the last sync, path by path: the base of the
 * three-way comparison. A path whose sides disagree after a sync (a change that sync did not
 * carry) keeps its previous base entry.
 *
 * @example Usage
 * ```ts
 * import type { Manifest } from "@devshell/gamma/sync";
 *
 * const manifest: Manifest = {
 *   version: 1,
 *   entries: { "Cargo.toml": { type: "file", size: 120, mtimeMs: 1_700_000_000_000, mode: 0o644 } },
 * };
 * ```
 */
export interface Manifest {
  /** Format version; always `1`. */
  version: 1;
  /**
   * The identity of the copy this manifest describes: the same id is kept inside the copy, so a
   * copy that vanished or was replaced is told from one whose files the guest deleted.
   */
  copy?: string | undefined;
  /** The project the copy belongs to (a host path), for messages. */
  project?: string | undefined;
  /** Entries by relative path. */
  entries: Record<string, SyncEntry>;
}

/**
 * Check a path relative to a tree's root: POSIX separators, no leading or trailing `/`, no empty,
 * `.` or `..` component, no NUL. Such a path can never name anything outside the root by itself
 * (symbolic links on the way are the trees' business).
 *
 * @param path The relative path.
 * @returns `path` unchanged.
 * @throws {RangeError} If `path` is not a valid relative path.
 *
 * @example Usage
 * ```ts
 * import { validateRelativePath } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * assert.equal(validateRelativePath("src/main.rs"), "src/main.rs");
 * assert.throws(
 *   () => validateRelativePath("../etc/passwd"),
 *   new RangeError('Cannot use path "../etc/passwd": it has a ".." component'),
 * );
 * ```
 */
export function validateRelativePath(path: string): string {
  const reason = relativePathProblem(path);
  if (reason !== undefined) {
    throw new RangeError(`Cannot use path ${JSON.stringify(path)}: ${reason}`);
  }
  return path;
}

function relativePathProblem(path: string): string | undefined {
  if (path === "") return "it is empty";
  if (path.includes("\0")) return "it contains a NUL character";
  if (path.startsWith("/")) return "it is absolute";
  if (path.endsWith("/")) return "it ends with a slash";
  for (const part of path.split("/")) {
    if (part === "") return "it has an empty component";
    if (part === ".") return 'it has a "." component';
    if (part === "..") return 'it has a ".." component';
  }
  return undefined;
}

/**
 * Whether two entries describe the same state: same type and, for a file, the same size,
 * modification time and mode; for a directory the same mode; for a link the same target.
 * `undefined` (absent) equals only `undefined`.
 *
 * @param a One entry or `undefined`.
 * @param b The other entry or `undefined`.
 * @returns `true` when they are the same state.
 *
 * @example Usage
 * ```ts
 * import { sameEntry } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sameEntry({ type: "dir", mode: 0o755 }, { type: "dir", mode: 0o700 }), false);
 * assert.equal(sameEntry(undefined, undefined), true);
 * ```
 */
export function sameEntry(a: SyncEntry | undefined, b: SyncEntry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  switch (a.type) {
    case "file":
      return b.type === "file" && a.size === b.size && a.mtimeMs === b.mtimeMs &&
        a.mode === b.mode;
    case "dir":
      return b.type === "dir" && a.mode === b.mode;
    case "symlink":
      return b.type === "symlink" && a.target === b.target;
  }
}

/**
 * Order relative paths so that a directory comes right before everything under it
 * (`a`, `a/b`, `a.txt`: `/` sorts before every other character). Use it with `Array.sort`.
 *
 * @param a One relative path.
 * @param b The other.
 * @returns Negative, zero or positive, as `Array.sort` expects.
 *
 * @example Usage
 * ```ts
 * import { comparePaths } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(["a.txt", "a/b", "a"].sort(comparePaths), ["a", "a/b", "a.txt"]);
 * ```
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca === 47) return -1;
    if (cb === 47) return 1;
    return ca - cb;
  }
  return a.length - b.length;
}
