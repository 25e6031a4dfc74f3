/**
 * The {@linkcode Tree} interface a sync reads and writes through, and its error
 * ({@linkcode TreeError}). {@linkcode MemoryTree} implements it in memory; `HostTree` implements
 * it on a real directory.
 *
 * @module
 */

import { GammaError } from "../errors.ts";
import type { SyncEntry } from "./types.ts";

/**
 * Why a tree operation failed:
 *
 * - `NotFound`: the path (or a parent) does not exist.
 * - `NotDirectory`: a parent on the way is not a directory.
 * - `SymlinkParent`: a parent on the way is a symbolic link (never followed, so no write can land
 *   outside the root).
 * - `IsDirectory`: a file operation met a directory.
 * - `NotEmpty`: a directory to remove still holds something (for example ignored files).
 * - `Changed`: the entry is no longer what the caller expected (someone changed it meanwhile).
 * - `Exists`: something else already occupies the path.
 * - `SymlinkRoot`: the tree's root is a symbolic link, or was replaced during the sync (`path` is
 *   `""`); nothing is read or written through it.
 *
 * @example Usage
 * ```ts
 * import type { TreeErrorKind } from "@devshell/gamma/sync";
 *
 * const kind: TreeErrorKind = "SymlinkParent";
 * ```
 */
export type TreeErrorKind =
  | "NotFound"
  | "NotDirectory"
  | "SymlinkParent"
  | "IsDirectory"
  | "NotEmpty"
  | "Changed"
  | "Exists"
  | "SymlinkRoot";

/**
 * A {@linkcode Tree} operation refused or failed for a reason callers handle: `kind` says which,
 * `path` is the relative path the operation was given.
 *
 * @example Usage
 * ```ts
 * import { TreeError } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * const error = new TreeError("NotFound", "a.txt", 'Cannot read "a.txt": it does not exist');
 * assert.equal(error.name, "TreeError");
 * assert.equal(error.kind, "NotFound");
 * ```
 */
export class TreeError extends GammaError {
  /** Why it failed. */
  readonly kind: TreeErrorKind;
  /** The relative path the operation was given. */
  readonly path: string;

  /**
   * Make the error.
   *
   * @param kind Why it failed.
   * @param path The relative path the operation was given.
   * @param message What failed, naming the path.
   * @param options The underlying cause, if any.
   */
  constructor(kind: TreeErrorKind, path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TreeError";
    this.kind = kind;
    this.path = path;
  }
}

/**
 * Decides whether a relative path is left out of a scan; `isDir` tells a directory (whose whole
 * content is then left out too). See `compileIgnore`.
 *
 * @example Usage
 * ```ts
 * import type { IgnoreFilter } from "@devshell/gamma/sync";
 *
 * const ignore: IgnoreFilter = (path, isDir) => isDir && path === "target";
 * ```
 */
export type IgnoreFilter = (path: string, isDir: boolean) => boolean;

/**
 * Options of {@linkcode Tree.scan}.
 *
 * @example Usage
 * ```ts
 * import type { ScanOptions } from "@devshell/gamma/sync";
 *
 * const options: ScanOptions = { ignore: (path) => path.endsWith(".log") };
 * ```
 */
export interface ScanOptions {
  /** Paths to leave out; none by default. */
  ignore?: IgnoreFilter | undefined;
  /**
   * Names of per-directory ignore files (such as `.gitignore`): in every directory the scan
   * enters, each of these that is a regular file is read and given to `onIgnoreFile` before the
   * directory's entries are filtered, so `ignore` can already follow it.
   */
  ignoreFiles?: readonly string[] | undefined;
  /** Receives each ignore file found: its directory (`""`: the root), its path and its text. */
  onIgnoreFile?: ((dir: string, path: string, text: string) => void) | undefined;
  /**
   * Tags of earlier, interrupted runs: temporary files named with one of them are reported as
   * `debris` (see `tempName`). Every other name is an entry like any other.
   */
  debrisTags?: readonly string[] | undefined;
}

/**
 * What {@linkcode Tree.scan} found.
 *
 * @example Usage
 * ```ts
 * import type { TreeScan } from "@devshell/gamma/sync";
 *
 * const scan: TreeScan = { entries: new Map([["a", { type: "dir", mode: 0o755 }]]), debris: [] };
 * ```
 */
export interface TreeScan {
  /** Every entry by relative path (symbolic links listed as links, never followed). */
  entries: Map<string, SyncEntry>;
  /** Temporary files an interrupted sync left behind, to be removed. */
  debris: string[];
  /**
   * Entries that cannot be synced because their names are not valid UTF-8 (each shown with the
   * bad bytes escaped as `\xNN`); they are left as they are on both sides.
   */
  skipped?: string[] | undefined;
}

/**
 * A file's bytes: all at once, or as a stream (read once).
 *
 * @example Usage
 * ```ts
 * import type { FileData } from "@devshell/gamma/sync";
 *
 * const data: FileData = new TextEncoder().encode("hello\n");
 * ```
 */
export type FileData = Uint8Array | ReadableStream<Uint8Array>;

/**
 * A precondition on what a path holds just before a tree changes it: `undefined` checks nothing,
 * `null` requires the path to be absent, an entry requires the same state ({@linkcode sameEntry}).
 * When it does not hold the operation throws a {@linkcode TreeError} of kind `Changed`.
 *
 * @example Usage
 * ```ts
 * import type { Expectation } from "@devshell/gamma/sync";
 *
 * const mustBeAbsent: Expectation = null;
 * ```
 */
export type Expectation = SyncEntry | null | undefined;

/**
 * Options of {@linkcode Tree.writeFile}.
 *
 * @example Usage
 * ```ts
 * import type { WriteFileOptions } from "@devshell/gamma/sync";
 *
 * const options: WriteFileOptions = { mode: 0o755, mtimeMs: 1_700_000_000_000, expect: null };
 * ```
 */
export interface WriteFileOptions {
  /** Permission bits the file gets. */
  mode: number;
  /** Modification time the file gets, in milliseconds. */
  mtimeMs: number;
  /** What the path must hold just before it is replaced. */
  expect?: Expectation;
}

/**
 * Options of the {@linkcode Tree} operations that take only a precondition.
 *
 * @example Usage
 * ```ts
 * import type { ExpectOptions } from "@devshell/gamma/sync";
 *
 * const options: ExpectOptions = { expect: { type: "dir", mode: 0o755 } };
 * ```
 */
export interface ExpectOptions {
  /** What the path must hold just before it is changed. */
  expect?: Expectation;
}

/**
 * Options of {@linkcode Tree.remove}.
 *
 * @example Usage
 * ```ts
 * import type { RemoveOptions } from "@devshell/gamma/sync";
 *
 * const options: RemoveOptions = { expendable: (path) => path.endsWith(".log") };
 * ```
 */
export interface RemoveOptions extends ExpectOptions {
  /**
   * When a directory to remove still holds entries and every one of them is expendable (an
   * ignored path, as git treats ignored files), remove them too instead of failing `NotEmpty`.
   */
  expendable?: IgnoreFilter | undefined;
}

/**
 * A directory tree a sync reads and writes. Paths are relative ({@linkcode validateRelativePath});
 * no operation follows a symbolic link, and none writes outside the tree's root. Writes are
 * atomic: a file or link appears complete at its name or not at all.
 *
 * @example Usage
 * ```ts
 * import { MemoryTree, type Tree } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * const tree: Tree = new MemoryTree();
 * await tree.writeFile("a.txt", new TextEncoder().encode("hi"), { mode: 0o644, mtimeMs: 1000 });
 * assert.deepEqual(await tree.stat("a.txt"), { type: "file", size: 2, mtimeMs: 1000, mode: 0o644 });
 * ```
 */
export interface Tree {
  /**
   * List every entry (without following links), leaving out ignored paths.
   *
   * @param options What to leave out.
   * @returns The entries, and leftovers of interrupted syncs.
   */
  scan(options?: ScanOptions): Promise<TreeScan>;
  /**
   * Describe one entry without following a final link.
   *
   * @param path Relative path.
   * @returns The entry, or `undefined` when nothing is there.
   */
  stat(path: string): Promise<SyncEntry | undefined>;
  /**
   * Read a regular file.
   *
   * @param path Relative path.
   * @returns Its bytes (a stream must be read or cancelled by the caller).
   */
  readFile(path: string): Promise<FileData>;
  /**
   * Create or replace a file (or link) atomically, with the given mode and modification time. The
   * parent directory must exist. A stream is consumed, or cancelled on failure.
   *
   * @param path Relative path.
   * @param data The bytes.
   * @param options Mode, modification time and precondition.
   */
  writeFile(path: string, data: FileData, options: WriteFileOptions): Promise<void>;
  /**
   * Create a directory with the given mode; the parent must exist. An existing directory is
   * accepted and left as it is.
   *
   * @param path Relative path.
   * @param options The mode.
   */
  mkdir(path: string, options: { mode: number }): Promise<void>;
  /**
   * Create or replace (atomically) a symbolic link; the parent must exist.
   *
   * @param path Relative path.
   * @param target The link's text.
   * @param options Precondition.
   */
  symlink(path: string, target: string, options?: ExpectOptions): Promise<void>;
  /**
   * Remove a file, a link or an empty directory (or one holding only expendable entries).
   *
   * @param path Relative path.
   * @param options Precondition, and what may go with a directory.
   */
  remove(path: string, options?: RemoveOptions): Promise<void>;
  /**
   * Change the permission bits of a file or directory.
   *
   * @param path Relative path.
   * @param mode The new bits.
   * @param options Precondition.
   */
  chmod(path: string, mode: number, options?: ExpectOptions): Promise<void>;
  /**
   * Optional fast path: copy a file from another tree of the same kind without passing its bytes
   * through JavaScript. Returns `false` when it cannot (the caller then reads and writes).
   *
   * @param source The tree to copy from.
   * @param sourcePath Relative path in `source`.
   * @param path Relative path in this tree.
   * @param options As for {@linkcode Tree.writeFile}.
   * @returns Whether it copied.
   */
  copyFrom?(
    source: Tree,
    sourcePath: string,
    path: string,
    options: WriteFileOptions,
  ): Promise<boolean>;
}
