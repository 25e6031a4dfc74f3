/**
 * {@linkcode MemoryTree}: a {@linkcode Tree} held in memory, so a Deno program that keeps a
 * virtual tree can sync it with a real directory.
 *
 * @module
 */

import { ancestors, isAtOrUnder } from "./_paths.ts";
import { checkExpect, treeError } from "./_tree_check.ts";
import type {
  ExpectOptions,
  FileData,
  RemoveOptions,
  ScanOptions,
  Tree,
  TreeScan,
  WriteFileOptions,
} from "./tree.ts";
import { comparePaths, type SyncEntry, validateRelativePath } from "./types.ts";

type Node =
  | { type: "file"; data: Uint8Array; mode: number; mtimeMs: number }
  | { type: "dir"; mode: number }
  | { type: "symlink"; target: string };

/**
 * Options of {@linkcode MemoryTree}.
 *
 * @example Usage
 * ```ts
 * import type { MemoryTreeOptions } from "@devshell/gamma/sync";
 *
 * let t = 1_000;
 * const options: MemoryTreeOptions = { now: () => t++ };
 * ```
 */
export interface MemoryTreeOptions {
  /** The clock for modification times, in milliseconds; default `Date.now`. */
  now?: (() => number) | undefined;
}

/**
 * Options of {@linkcode MemoryTree.setFile}.
 *
 * @example Usage
 * ```ts
 * import type { SetFileOptions } from "@devshell/gamma/sync";
 *
 * const options: SetFileOptions = { mode: 0o755 };
 * ```
 */
export interface SetFileOptions {
  /** Permission bits; default the replaced file's, else `0o644`. */
  mode?: number | undefined;
  /**
   * Modification time in milliseconds; default the clock, but always later than the replaced
   * file's, so every change is seen by the next sync.
   */
  mtimeMs?: number | undefined;
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? new TextEncoder().encode(data) : data.slice();
}

async function collect(data: FileData): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data.slice();
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = data.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * A directory tree in memory, implementing {@linkcode Tree} (what a sync uses) plus synchronous
 * helpers for the program that owns it ({@linkcode MemoryTree.setFile},
 * {@linkcode MemoryTree.getFile}…). Symbolic links are stored as text and never followed;
 * nothing is written through a link.
 *
 * @example Usage
 * ```ts
 * import { MemoryTree } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * const tree = new MemoryTree({ now: () => 1_000 });
 * tree.setFile("src/main.rs", "fn main() {}\n");
 * assert.equal(tree.getText("src/main.rs"), "fn main() {}\n");
 * assert.deepEqual(tree.get("src"), { type: "dir", mode: 0o755 });
 * assert.deepEqual(tree.get("src/main.rs"), {
 *   type: "file",
 *   size: 13,
 *   mtimeMs: 1_000,
 *   mode: 0o644,
 * });
 * ```
 */
export class MemoryTree implements Tree {
  #nodes = new Map<string, Node>();
  #now: () => number;

  /**
   * Make an empty tree.
   *
   * @param options The clock.
   */
  constructor(options: MemoryTreeOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Check the parents of `path`: each must be a directory; `create` makes missing ones. */
  #checkParents(op: string, path: string, create: boolean): void {
    for (const dir of ancestors(path)) {
      const node = this.#nodes.get(dir);
      if (node === undefined) {
        if (!create) throw treeError("NotFound", op, path, dir);
        this.#nodes.set(dir, { type: "dir", mode: 0o755 });
      } else if (node.type === "symlink") {
        throw treeError("SymlinkParent", op, path, dir);
      } else if (node.type !== "dir") {
        throw treeError("NotDirectory", op, path, dir);
      }
    }
  }

  /**
   * Describe one entry (synchronously).
   *
   * @param path Relative path.
   * @returns The entry, or `undefined`.
   *
   * @example Usage
   * ```ts
   * import { MemoryTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const tree = new MemoryTree();
   * tree.setSymlink("link", "../elsewhere");
   * assert.deepEqual(tree.get("link"), { type: "symlink", target: "../elsewhere" });
   * assert.equal(tree.get("missing"), undefined);
   * ```
   */
  get(path: string): SyncEntry | undefined {
    const node = this.#nodes.get(validateRelativePath(path));
    return node === undefined ? undefined : entryOf(node);
  }

  /**
   * The bytes of a regular file (a copy), or `undefined` when `path` is not one.
   *
   * @param path Relative path.
   * @returns The bytes.
   *
   * @example Usage
   * ```ts
   * import { MemoryTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const tree = new MemoryTree();
   * tree.setFile("a.bin", new Uint8Array([1, 2]));
   * assert.deepEqual(tree.getFile("a.bin"), new Uint8Array([1, 2]));
   * ```
   */
  getFile(path: string): Uint8Array | undefined {
    const node = this.#nodes.get(validateRelativePath(path));
    return node?.type === "file" ? node.data.slice() : undefined;
  }

  /**
   * The text of a regular file (UTF-8), or `undefined` when `path` is not one.
   *
   * @param path Relative path.
   * @returns The text.
   *
   * @example Usage
   * ```ts
   * import { MemoryTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const tree = new MemoryTree();
   * tree.setFile("a.txt", "hello");
   * assert.equal(tree.getText("a.txt"), "hello");
   * ```
   */
  getText(path: string): string | undefined {
    const data = this.getFile(path);
    return data === undefined ? undefined : new TextDecoder().decode(data);
  }

  /**
   * Create or replace a regular file, creating missing parents (mode `0o755`).
   *
   * @param path Relative path.
   * @param data Text (UTF-8) or bytes.
   * @param options Mode and modification time.
   * @throws {TreeError} When a parent is a file or link, or `path` is a directory.
   *
   * @example Usage
   * ```ts
   * import { MemoryTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const tree = new MemoryTree({ now: () => 5 });
   * tree.setFile("run.sh", "#!/bin/sh\n", { mode: 0o755 });
   * tree.setFile("run.sh", "#!/bin/sh\n"); // same clock value: the time still moves on
   * assert.deepEqual(tree.get("run.sh"), { type: "file", size: 10, mtimeMs: 6, mode: 0o755 });
   * ```
   */
  setFile(path: string, data: string | Uint8Array, options: SetFileOptions = {}): void {
    validateRelativePath(path);
    this.#checkParents("write", path, true);
    const old = this.#nodes.get(path);
    if (old?.type === "dir") throw treeError("IsDirectory", "write", path);
    const oldFile = old?.type === "file" ? old : undefined;
    let mtimeMs = options.mtimeMs ?? this.#now();
    if (options.mtimeMs === undefined && oldFile !== undefined && mtimeMs <= oldFile.mtimeMs) {
      mtimeMs = oldFile.mtimeMs + 1;
    }
    this.#nodes.set(path, {
      type: "file",
      data: toBytes(data),
      mode: options.mode ?? oldFile?.mode ?? 0o644,
      mtimeMs,
    });
  }

  /**
   * Create a directory and its missing parents (`mkdir -p`); an existing one keeps its mode
   * unless `mode` is given.
   *
   * @param path Relative path.
   * @param mode Permission bits; default `0o755` for a new directory.
   * @throws {TreeError} When `path` or a parent is a file or link.
   *
   * @example Usage
   * ```ts
   * import { MemoryTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const tree = new MemoryTree();
   * tree.setDir("a/b", 0o700);
   * assert.deepEqual(tree.get("a"), { type: "dir", mode: 0o755 });
   * assert.deepEqual(tree.get("a/b"), { type: "dir", mode: 0o700 });
   * ```
   */
  setDir(path: string, mode?: number): void {
    validateRelativePath(path);
    this.#checkParents("create directory", path, true);
    const old = this.#nodes.get(path);
    if (old !== undefined && old.type !== "dir") {
      throw treeError("Exists", "create directory", path);
    }
    this.#nodes.set(path, { type: "dir", mode: mode ?? old?.mode ?? 0o755 });
  }

  /**
   * Create or replace a symbolic link, creating missing parents.
   *
   * @param path Relative path.
   * @param target The link's text (not checked, not followed).
   * @throws {TreeError} When a parent is a file or link, or `path` is a directory.
   *
   * @example Usage
   * ```ts
   * import { MemoryTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const tree = new MemoryTree();
   * tree.setSymlink("bin/tool", "/usr/bin/env");
   * assert.deepEqual(tree.get("bin/tool"), { type: "symlink", target: "/usr/bin/env" });
   * ```
   */
  setSymlink(path: string, target: string): void {
    validateRelativePath(path);
    this.#checkParents("create link", path, true);
    if (this.#nodes.get(path)?.type === "dir") throw treeError("IsDirectory", "create link", path);
    this.#nodes.set(path, { type: "symlink", target });
  }

  /**
   * Remove an entry and, for a directory, everything under it (`rm -r`).
   *
   * @param path Relative path.
   * @returns Whether anything was there.
   *
   * @example Usage
   * ```ts
   * import { MemoryTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const tree = new MemoryTree();
   * tree.setFile("a/b/c.txt", "x");
   * assert.equal(tree.delete("a"), true);
   * assert.equal(tree.get("a/b/c.txt"), undefined);
   * assert.equal(tree.delete("a"), false);
   * ```
   */
  delete(path: string): boolean {
    validateRelativePath(path);
    const node = this.#nodes.get(path);
    if (node === undefined) return false;
    if (node.type === "dir") {
      for (const key of [...this.#nodes.keys()]) {
        if (isAtOrUnder(key, path)) this.#nodes.delete(key);
      }
    }
    this.#nodes.delete(path);
    return true;
  }

  /**
   * Move an entry (with everything under a directory) to a new path, keeping modes and times;
   * missing parents of `to` are created, and whatever `to` held is replaced.
   *
   * @param from Relative path of the entry.
   * @param to Its new relative path (not under `from`).
   * @throws {TreeError} When `from` does not exist or `to`'s parents cannot be made.
   * @throws {RangeError} When `to` lies under `from`.
   *
   * @example Usage
   * ```ts
   * import { MemoryTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const tree = new MemoryTree();
   * tree.setFile("old/a.txt", "x");
   * tree.rename("old", "new");
   * assert.equal(tree.getText("new/a.txt"), "x");
   * assert.equal(tree.get("old"), undefined);
   * ```
   */
  rename(from: string, to: string): void {
    validateRelativePath(from);
    validateRelativePath(to);
    if (!this.#nodes.has(from)) throw treeError("NotFound", "rename", from);
    if (isAtOrUnder(to, from)) {
      throw new RangeError(
        `Cannot rename ${JSON.stringify(from)} to ${JSON.stringify(to)}: it lies under itself`,
      );
    }
    this.#checkParents("rename", to, true);
    const moved: [string, Node][] = [];
    for (const [key, node] of this.#nodes) {
      if (isAtOrUnder(key, from)) moved.push([to + key.slice(from.length), node]);
    }
    this.delete(from);
    this.delete(to);
    for (const [key, node] of moved) this.#nodes.set(key, node);
  }

  /**
   * List every entry (see {@linkcode Tree.scan}); a memory tree never has debris.
   *
   * @param options What to leave out.
   * @returns The entries in {@linkcode comparePaths} order.
   *
   * @example Usage
   * ```ts
   * import { MemoryTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const tree = new MemoryTree();
   * tree.setFile("target/out", "x");
   * tree.setFile("src/a.rs", "y", { mtimeMs: 7 });
   * const scan = await tree.scan({ ignore: (path, isDir) => isDir && path === "target" });
   * assert.deepEqual([...scan.entries.keys()], ["src", "src/a.rs"]);
   * assert.deepEqual(scan.debris, []);
   * ```
   */
  scan(options: ScanOptions = {}): Promise<TreeScan> {
    const ignore = options.ignore;
    const entries = new Map<string, SyncEntry>();
    const readIgnoreFiles = (dir: string): void => {
      for (const name of options.ignoreFiles ?? []) {
        const path = dir === "" ? name : `${dir}/${name}`;
        const node = this.#nodes.get(path);
        if (node?.type === "file") {
          options.onIgnoreFile?.(dir, path, new TextDecoder().decode(node.data));
        }
      }
    };
    readIgnoreFiles("");
    let skipUnder: string | undefined;
    for (const path of [...this.#nodes.keys()].sort(comparePaths)) {
      if (skipUnder !== undefined && isAtOrUnder(path, skipUnder)) continue;
      const node = this.#nodes.get(path)!;
      if (ignore !== undefined && ignore(path, node.type === "dir")) {
        if (node.type === "dir") skipUnder = path;
        continue;
      }
      entries.set(path, entryOf(node));
      if (node.type === "dir") readIgnoreFiles(path);
    }
    return Promise.resolve({ entries, debris: [] });
  }

  /**
   * Describe one entry (see {@linkcode Tree.stat}).
   *
   * @param path Relative path.
   * @returns The entry, or `undefined`.
   *
   * @example Usage
   * ```ts
   * import { MemoryTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * assert.equal(await new MemoryTree().stat("nothing"), undefined);
   * ```
   */
  stat(path: string): Promise<SyncEntry | undefined> {
    return Promise.resolve(this.get(path));
  }

  /**
   * Read a regular file (see {@linkcode Tree.readFile}).
   *
   * @param path Relative path.
   * @returns A copy of its bytes.
   * @throws {TreeError} `NotFound`, or `IsDirectory`/`Exists` when it is not a regular file.
   *
   * @example Usage
   * ```ts
   * import { MemoryTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const tree = new MemoryTree();
   * tree.setFile("a", "z");
   * assert.deepEqual(await tree.readFile("a"), new Uint8Array([0x7a]));
   * ```
   */
  readFile(path: string): Promise<FileData> {
    validateRelativePath(path);
    try {
      this.#checkParents("read", path, false);
      const node = this.#nodes.get(path);
      if (node === undefined) throw treeError("NotFound", "read", path);
      if (node.type === "dir") throw treeError("IsDirectory", "read", path);
      if (node.type !== "file") throw treeError("Exists", "read", path);
      return Promise.resolve(node.data.slice());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Create or replace a file atomically (see {@linkcode Tree.writeFile}); the parent must exist.
   *
   * @param path Relative path.
   * @param data The bytes.
   * @param options Mode, modification time, precondition.
   * @throws {TreeError} On a missing or linked parent, a directory at `path`, or a failed
   *   precondition.
   *
   * @example Usage
   * ```ts
   * import { MemoryTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const tree = new MemoryTree();
   * await tree.writeFile("a", new Uint8Array([1]), { mode: 0o600, mtimeMs: 9, expect: null });
   * await assert.rejects(
   *   tree.writeFile("a", new Uint8Array([2]), { mode: 0o600, mtimeMs: 10, expect: null }),
   *   { name: "TreeError", message: 'Cannot write "a": it changed during the sync' },
   * );
   * ```
   */
  async writeFile(path: string, data: FileData, options: WriteFileOptions): Promise<void> {
    try {
      validateRelativePath(path);
      this.#checkParents("write", path, false);
      if (this.#nodes.get(path)?.type === "dir") throw treeError("IsDirectory", "write", path);
    } catch (e) {
      if (!(data instanceof Uint8Array)) await data.cancel().catch(() => {});
      throw e;
    }
    const bytes = await collect(data);
    this.#checkParents("write", path, false);
    const current = this.#nodes.get(path);
    checkExpect(
      "write",
      path,
      current === undefined ? undefined : entryOf(current),
      options.expect,
    );
    if (current?.type === "dir") throw treeError("IsDirectory", "write", path);
    this.#nodes.set(path, {
      type: "file",
      data: bytes,
      mode: options.mode & 0o7777,
      mtimeMs: options.mtimeMs,
    });
  }

  /**
   * Create a directory (see {@linkcode Tree.mkdir}); the parent must exist.
   *
   * @param path Relative path.
   * @param options The mode.
   * @throws {TreeError} On a missing or linked parent, or a non-directory at `path`.
   *
   * @example Usage
   * ```ts
   * import { MemoryTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const tree = new MemoryTree();
   * await tree.mkdir("d", { mode: 0o700 });
   * assert.deepEqual(tree.get("d"), { type: "dir", mode: 0o700 });
   * ```
   */
  mkdir(path: string, options: { mode: number }): Promise<void> {
    try {
      validateRelativePath(path);
      this.#checkParents("create directory", path, false);
      const current = this.#nodes.get(path);
      if (current !== undefined && current.type !== "dir") {
        throw treeError("Exists", "create directory", path);
      }
      if (current === undefined) {
        this.#nodes.set(path, { type: "dir", mode: options.mode & 0o7777 });
      }
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Create or replace a symbolic link (see {@linkcode Tree.symlink}); the parent must exist.
   *
   * @param path Relative path.
   * @param target The link's text.
   * @param options Precondition.
   * @throws {TreeError} On a missing or linked parent, a directory at `path`, or a failed
   *   precondition.
   *
   * @example Usage
   * ```ts
   * import { MemoryTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const tree = new MemoryTree();
   * await tree.symlink("l", "target");
   * assert.deepEqual(tree.get("l"), { type: "symlink", target: "target" });
   * ```
   */
  symlink(path: string, target: string, options: ExpectOptions = {}): Promise<void> {
    try {
      validateRelativePath(path);
      this.#checkParents("create link", path, false);
      const current = this.#nodes.get(path);
      checkExpect(
        "create link",
        path,
        current === undefined ? undefined : entryOf(current),
        options.expect,
      );
      if (current?.type === "dir") throw treeError("IsDirectory", "create link", path);
      this.#nodes.set(path, { type: "symlink", target });
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Remove a file, link or empty directory (see {@linkcode Tree.remove}).
   *
   * @param path Relative path.
   * @param options Precondition.
   * @throws {TreeError} `NotFound`, `NotEmpty`, a linked parent, or a failed precondition.
   *
   * @example Usage
   * ```ts
   * import { MemoryTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const tree = new MemoryTree();
   * tree.setFile("d/f", "x");
   * await assert.rejects(tree.remove("d"), {
   *   name: "TreeError",
   *   message: 'Cannot remove "d": the directory is not empty',
   * });
   * await tree.remove("d/f");
   * await tree.remove("d");
   * assert.equal(tree.get("d"), undefined);
   * ```
   */
  remove(path: string, options: RemoveOptions = {}): Promise<void> {
    try {
      validateRelativePath(path);
      this.#checkParents("remove", path, false);
      const current = this.#nodes.get(path);
      checkExpect(
        "remove",
        path,
        current === undefined ? undefined : entryOf(current),
        options.expect,
      );
      if (current === undefined) throw treeError("NotFound", "remove", path);
      if (current.type === "dir") {
        const prefix = `${path}/`;
        const below = [...this.#nodes].filter(([key]) => key.startsWith(prefix));
        const expendable = options.expendable;
        // Every entry below must be expendable itself or lie under an expendable directory.
        const dirs: string[] = [];
        for (const [key, node] of below.sort(([a], [b]) => comparePaths(a, b))) {
          if (dirs.some((dir) => isAtOrUnder(key, dir))) continue;
          if (expendable === undefined || !expendable(key, node.type === "dir")) {
            throw treeError("NotEmpty", "remove", path);
          }
          if (node.type === "dir") dirs.push(key);
        }
        for (const [key] of below) this.#nodes.delete(key);
      }
      this.#nodes.delete(path);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Change the mode of a file or directory (see {@linkcode Tree.chmod}).
   *
   * @param path Relative path.
   * @param mode The new permission bits.
   * @param options Precondition.
   * @throws {TreeError} `NotFound`, `Exists` for a link, a linked parent, or a failed
   *   precondition.
   *
   * @example Usage
   * ```ts
   * import { MemoryTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const tree = new MemoryTree();
   * tree.setFile("run", "x", { mtimeMs: 1 });
   * await tree.chmod("run", 0o755);
   * assert.deepEqual(tree.get("run"), { type: "file", size: 1, mtimeMs: 1, mode: 0o755 });
   * ```
   */
  chmod(path: string, mode: number, options: ExpectOptions = {}): Promise<void> {
    try {
      validateRelativePath(path);
      this.#checkParents("change mode of", path, false);
      const current = this.#nodes.get(path);
      checkExpect(
        "change mode of",
        path,
        current === undefined ? undefined : entryOf(current),
        options.expect,
      );
      if (current === undefined) throw treeError("NotFound", "change mode of", path);
      if (current.type === "symlink") throw treeError("Exists", "change mode of", path);
      current.mode = mode & 0o7777;
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

function entryOf(node: Node): SyncEntry {
  switch (node.type) {
    case "file":
      return { type: "file", size: node.data.length, mtimeMs: node.mtimeMs, mode: node.mode };
    case "dir":
      return { type: "dir", mode: node.mode };
    case "symlink":
      return { type: "symlink", target: node.target };
  }
}
