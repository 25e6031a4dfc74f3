/**
 * {@linkcode HostTree}: a {@linkcode Tree} on a real directory. The only file I/O of the sync
 * engine besides the manifest and lock in `sync.ts`.
 *
 * @module
 */

import { posix } from "node:path";
import { normalizeAbsolutePath } from "../guest_path.ts";
import { ancestors, isValidPath } from "../sync/_paths.ts";
import { checkExpect, treeError } from "../sync/_tree_check.ts";
import type {
  ExpectOptions,
  FileData,
  IgnoreFilter,
  RemoveOptions,
  ScanOptions,
  Tree,
  TreeScan,
  WriteFileOptions,
} from "../sync/tree.ts";
import { TreeError } from "../sync/tree.ts";
import { comparePaths, type SyncEntry, validateRelativePath } from "../sync/types.ts";
import { eachRecord, escapeBytes, FIND_FORMAT } from "../sync/listing.ts";

/**
 * The name prefix of the temporary files a {@linkcode HostTree} writes before renaming them into
 * place: `.gamma-tmp-<tag>-<random>`, where the tag is one per run (see
 * {@linkcode HostTreeOptions.tempTag}). Only names carrying the tag of a run that was interrupted
 * ({@linkcode ScanOptions.debrisTags}) are debris; a user's own `.gamma-tmp-…` file is synced
 * like any other.
 *
 * @example Usage
 * ```ts
 * import { TEMP_PREFIX } from "./host_tree.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(TEMP_PREFIX, ".gamma-tmp-");
 * ```
 */
export const TEMP_PREFIX = ".gamma-tmp-";

/**
 * The most permission bits a sync ever gives a file or directory: no set-user-ID, set-group-ID
 * or sticky bit crosses between the trees.
 */
const MODE_MASK = 0o777;

/** Yield to the event loop after this much synchronous scanning (keeps a progress bar alive). */
const SCAN_SLICE_MS = 50;

/**
 * Files up to this size are copied in this thread, through one buffer of this size (one read, one
 * write): for a small file that costs less than a trip through Deno's thread pool to the kernel's
 * copy. Larger files still get the kernel's copy.
 */
const SMALL_COPY = 256 * 1024;
let copyBuffer: Uint8Array | undefined;

function entryOfStat(info: Deno.FileInfo, abs: string): SyncEntry | undefined {
  const mode = (info.mode ?? 0) & MODE_MASK;
  if (info.isSymlink) return { type: "symlink", target: Deno.readLinkSync(abs) };
  if (info.isDirectory) return { type: "dir", mode };
  if (info.isFile) {
    return { type: "file", size: info.size, mtimeMs: info.mtime?.getTime() ?? 0, mode };
  }
  return undefined;
}

function lstatOrUndefined(abs: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(abs);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/**
 * A fresh tag for one run's temporary files: 16 random bytes, so no user's file and no other
 * run's can carry it.
 *
 * @returns 32 hexadecimal digits.
 *
 * @example Usage
 * ```ts
 * import { newTempTag } from "./host_tree.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(newTempTag(), /^[0-9a-f]{32}$/);
 * ```
 */
export function newTempTag(): string {
  return randomHex(16);
}

/**
 * The name bytes of a directory's entries whose names are not valid UTF-8, escaped (`\xNN` for
 * each bad byte, `\\` for a backslash), by the lossy name Deno gives them. Deno decodes names
 * lossily and has no byte-exact API, so `find` lists them.
 */
function escapedBadNames(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  let bytes: Uint8Array;
  try {
    const r = new Deno.Command("find", {
      args: [dir, "-mindepth", "1", "-maxdepth", "1", "-print0"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    bytes = r.stdout;
  } catch {
    return out;
  }
  const prefix = new TextEncoder().encode(`${dir}/`).length;
  const strict = new TextDecoder("utf-8", { fatal: true });
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0) continue;
    const name = bytes.subarray(start + prefix, i);
    start = i + 1;
    try {
      strict.decode(name);
      continue; // valid UTF-8
    } catch {
      out.set(new TextDecoder().decode(name), escapeBytes(name));
    }
  }
  return out;
}

/** Whether `find -printf` (GNU find) is available; `undefined` until tried. */
let findPrintf: boolean | undefined = Deno.build.os === "linux" ? undefined : false;

/**
 * {@linkcode listWithFind} through a pipe, for when no file can be written (a full disk): the
 * listing is read into one buffer of our own (a pipe's chunks would each pin a larger buffer).
 */
async function listWithFindPiped(root: string): Promise<Uint8Array | undefined> {
  if (findPrintf === false) return undefined;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("find", {
      args: [root, "-mindepth", "1", "-printf", FIND_FORMAT],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch {
    findPrintf = false;
    return undefined;
  }
  const errText = new Response(child.stderr).text();
  let buffer = new Uint8Array(1 << 20);
  let length = 0;
  const reader = child.stdout.getReader({ mode: "byob" });
  for (;;) {
    if (length === buffer.length) {
      const bigger = new Uint8Array(buffer.length * 2);
      bigger.set(buffer);
      buffer = bigger;
    }
    const { done, value } = await reader.read(buffer.subarray(length));
    // The view was handed over to the read: take the buffer back from what it returns.
    if (value !== undefined) buffer = new Uint8Array(value.buffer);
    if (done) break;
    length += value!.length;
  }
  const [status, errOut] = await Promise.all([child.status, errText]);
  return findResult(root, status.success, errOut, buffer.subarray(0, length));
}

/**
 * The listing of a finished `find`, or `undefined` when this `find` has no `-printf` (busybox,
 * BSD: the caller walks the tree itself).
 *
 * @throws {Error} When `find` could not read part of the tree (a partial listing would read as
 *   deletions); entries removed while it ran are simply gone.
 */
function findResult(
  root: string,
  success: boolean,
  errOut: string,
  listing: Uint8Array,
): Uint8Array | undefined {
  if (!success) {
    const err = errOut.trim();
    if (err.includes("printf") || findPrintf === undefined && listing.length === 0 && !err) {
      findPrintf = false;
      return undefined;
    }
    const real = err.split("\n").filter((line) => !/: No such file or directory$/.test(line));
    if (real.length > 0) {
      throw new Error(`Cannot list ${root}: ${real.slice(0, 3).join("; ")}`);
    }
  }
  findPrintf = true;
  return listing;
}

/**
 * List a tree below `root` (not following links) with GNU `find -printf`, in another process: the
 * listing costs what the kernel's calls cost, and two trees can be listed at once. `undefined`
 * when `find -printf` is not available (the caller walks the tree itself).
 */
async function listWithFind(root: string, scratch?: string): Promise<Uint8Array | undefined> {
  if (findPrintf === false) return undefined;
  // find writes the listing to a file of our own (made exclusively, mode 0600), read back in one
  // piece: no stream of small chunks through JavaScript, no buffer grown by doubling.
  let out: string;
  try {
    out = Deno.makeTempFileSync(
      scratch === undefined
        ? { prefix: "gamma-listing-" }
        : { prefix: "gamma-listing-", dir: scratch },
    );
  } catch {
    return undefined;
  }
  try {
    let status: Deno.CommandOutput;
    try {
      status = await new Deno.Command("find", {
        args: [root, "-mindepth", "1", "-fprintf", out, FIND_FORMAT],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
    } catch {
      findPrintf = false;
      return undefined;
    }
    const errOut = new TextDecoder().decode(status.stderr);
    // The listing could not be written (a full disk): read it through a pipe instead.
    if (!status.success && errOut.includes(out)) return await listWithFindPiped(root);
    return findResult(root, status.success, errOut, Deno.readFileSync(out));
  } finally {
    try {
      Deno.removeSync(out);
    } catch {
      // already gone
    }
  }
}

/** A {@linkcode TreeScan} from a `find` listing, with the same rules as the walk. */
function scanListing(root: string, bytes: Uint8Array, options: ScanOptions): TreeScan {
  const ignore = options.ignore;
  const debris: string[] = [];
  const skipped: string[] = [];
  const debrisPrefixes = (options.debrisTags ?? []).map((tag) => `${TEMP_PREFIX}${tag}-`);
  const ignoreFiles = options.onIgnoreFile === undefined ? [] : options.ignoreFiles ?? [];
  const readIgnoreFiles = (dir: string): void => {
    for (const name of ignoreFiles) {
      // In the order given (later files win), and only regular files: never through a link.
      const path = dir === "" ? name : `${dir}/${name}`;
      const info = lstatOrUndefined(`${root}/${path}`);
      if (info === undefined || !info.isFile) continue;
      try {
        options.onIgnoreFile!(dir, path, Deno.readTextFileSync(`${root}/${path}`));
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
  };
  // Which directories hold an ignore file (find lists it anywhere among the directory's
  // entries; its rules must be known before any of them is filtered).
  const withIgnoreFiles = new Set<string>();
  if (ignoreFiles.length > 0) {
    eachRecord(bytes, ({ type, path }) => {
      if (type !== "f") return;
      for (const name of ignoreFiles) {
        if (path === name) withIgnoreFiles.add("");
        else if (path.endsWith(name) && path[path.length - name.length - 1] === "/") {
          withIgnoreFiles.add(path.slice(0, path.length - name.length - 1));
        }
      }
    });
  }
  if (withIgnoreFiles.has("")) readIgnoreFiles("");
  const paths: string[] = [];
  const found: SyncEntry[] = [];
  // find lists a directory right before everything under it: a left-out directory's content
  // follows it, and is left out with it.
  let excluded: string | undefined;
  eachRecord(bytes, (record) => {
    const path = record.path;
    if (excluded !== undefined) {
      if (path.startsWith(excluded)) return;
      excluded = undefined;
    }
    const type = record.type;
    const isDir = type === "d";
    if (!isDir && debrisPrefixes.length > 0) {
      const name = path.slice(path.lastIndexOf("/") + 1);
      if (debrisPrefixes.some((p) => name.startsWith(p))) {
        debris.push(path);
        return;
      }
    }
    if (ignore !== undefined && ignore(path, isDir)) {
      if (isDir) excluded = `${path}/`;
      return;
    }
    if (record.bad !== undefined) {
      // Not valid UTF-8: Deno could not name it. Say so, never drop it silently.
      skipped.push(record.bad);
      if (isDir) excluded = `${path}/`;
      return;
    }
    let entry: SyncEntry;
    if (type === "f") {
      entry = {
        type: "file",
        size: record.size,
        mtimeMs: record.mtimeMs,
        mode: record.mode & MODE_MASK,
      };
    } else if (isDir) {
      entry = { type: "dir", mode: record.mode & MODE_MASK };
      if (withIgnoreFiles.has(path)) readIgnoreFiles(path);
    } else if (type === "l") {
      entry = { type: "symlink", target: record.target };
    } else return; // sockets, FIFOs, devices
    paths.push(path);
    found.push(entry);
  });
  // In path order (find lists each directory in the file system's order).
  const order = Array.from(paths.keys()).sort((a, b) => comparePaths(paths[a]!, paths[b]!));
  const entries = new Map<string, SyncEntry>();
  for (const k of order) entries.set(paths[k]!, found[k]!);
  return skipped.length > 0 ? { entries, debris, skipped } : { entries, debris };
}

/**
 * Options of {@linkcode HostTree}.
 *
 * @example Usage
 * ```ts
 * import type { HostTreeOptions } from "@devshell/gamma/sync";
 *
 * const options: HostTreeOptions = { tempTag: "0123456789abcdef0123456789abcdef" };
 * ```
 */
export interface HostTreeOptions {
  /**
   * The tag in this tree's temporary file names (`.gamma-tmp-<tag>-<random>`); default a fresh
   * {@linkcode newTempTag}. A caller that cleans up after interrupted runs records it first.
   */
  tempTag?: string | undefined;
}

/**
 * Copy the regular file `from` (found by `before`, an `lstat` of it) to the new file `tmp` in
 * this thread: the file opened must be the one `before` describes (a link swapped in meanwhile
 * is refused, never read through); `tmp` is private while it is written, then gets the mode
 * (without set-id and sticky bits) and the modification time of `options` (the time set on the
 * open file). `tmp` is gone again on any failure.
 */
function copySmall(
  from: string,
  before: Deno.FileInfo,
  sourcePath: string,
  tmp: string,
  options: WriteFileOptions,
): void {
  const mode = options.mode & MODE_MASK;
  const input = Deno.openSync(from, { read: true });
  let output: Deno.FsFile | undefined;
  try {
    const opened = input.statSync();
    if (!opened.isFile || opened.ino !== before.ino || opened.dev !== before.dev) {
      throw treeError("Changed", "read", sourcePath);
    }
    output = Deno.openSync(tmp, { write: true, createNew: true, mode: 0o600 });
    const buffer = copyBuffer ??= new Uint8Array(SMALL_COPY);
    let total = 0;
    for (;;) {
      const n = input.readSync(buffer);
      if (n === null) break;
      for (let done = 0; done < n;) done += output.writeSync(buffer.subarray(done, n));
      total += n;
      // A short read at the size the open file had is its end (no second read to learn that).
      if (n < buffer.length && total >= opened.size) break;
    }
    // Set even when it is 0o600: the umask may have taken bits (it can change at any time).
    Deno.chmodSync(tmp, mode);
    output.utimeSync(new Date(), new Date(options.mtimeMs));
  } catch (e) {
    if (output !== undefined) {
      output.close();
      output = undefined;
      removeQuietly(tmp);
    }
    throw e;
  } finally {
    input.close();
    output?.close();
  }
}

function removeQuietly(abs: string): void {
  try {
    Deno.removeSync(abs);
  } catch {
    // already gone
  }
}

/**
 * A directory on this machine as a {@linkcode Tree}: the host project, or the staging directory
 * the VM sees.
 *
 * - Nothing is followed: a scan lists links as links, and every operation checks each parent on
 *   the way with `lstat`, refusing a link or non-directory (`SymlinkParent`, `NotDirectory`), so
 *   no write lands outside the root. Relative paths are checked by
 *   {@linkcode validateRelativePath}.
 * - Files and links are written to a temporary sibling (`.gamma-tmp-…`) with their mode and
 *   modification time, then renamed into place: a file is complete at its name or absent.
 * - Copies between two host trees go through one 256 KiB buffer in this thread for files up to
 *   that size, and use the kernel's copy (`Deno.copyFile`) for larger ones; other copies stream.
 *   No file larger than that buffer is ever held in memory whole.
 * - A file that must be new (nothing at its path, `expect: null`) is put in place with a hard
 *   link, which fails when anything (even a link) has appeared there; where the file system has
 *   no hard links, with a check and a rename.
 *
 * @example Usage
 * ```ts
 * import { HostTree } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const tree = new HostTree(dir);
 * await tree.mkdir("src", { mode: 0o755 });
 * await tree.writeFile("src/a.txt", new TextEncoder().encode("hi"), { mode: 0o640, mtimeMs: 1_000 });
 * const scan = await tree.scan();
 * assert.deepEqual([...scan.entries], [
 *   ["src", { type: "dir", mode: 0o755 }],
 *   ["src/a.txt", { type: "file", size: 2, mtimeMs: 1_000, mode: 0o640 }],
 * ]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class HostTree implements Tree {
  /** The absolute path of the root directory, as given (normalised). */
  readonly root: string;
  /** The tag of this tree's temporary files. */
  readonly tempTag: string;
  #real: string | undefined;
  #rootId: { dev: number; ino: number | null } | undefined;
  #prefetched: { root: string; listing: Promise<Uint8Array | undefined> } | undefined;
  /** Whether hard links work here (see `#commit`); set `false` at the first that does not. */
  #links = true;

  /**
   * A tree rooted at `root` (which must exist when the tree is used).
   *
   * @param root Absolute path of the directory.
   * @param options The tag of temporary files.
   * @throws {TypeError} When `root` is not absolute.
   */
  constructor(root: string, options: HostTreeOptions = {}) {
    this.root = normalizeAbsolutePath(root, "Tree root");
    this.tempTag = options.tempTag ?? newTempTag();
  }

  /**
   * The root with its parents' links resolved (such as /tmp on macOS). The root itself must be a
   * real directory, never a link (a link there could point anywhere), and must stay the same
   * directory for the tree's life: every operation checks it with `lstat`.
   */
  #realRoot(): string {
    if (this.#real === undefined) {
      const info = Deno.lstatSync(this.root);
      if (info.isSymlink) {
        throw new TreeError(
          "SymlinkRoot",
          "",
          `Cannot sync ${this.root}: it is a symbolic link (to ${
            Deno.readLinkSync(this.root)
          }), and gamma never follows a link at a tree's root; remove the link`,
        );
      }
      if (!info.isDirectory) {
        throw new TreeError("NotDirectory", "", `Cannot sync ${this.root}: it is not a directory`);
      }
      this.#real = this.root === "/"
        ? "/"
        : posix.join(Deno.realPathSync(posix.dirname(this.root)), posix.basename(this.root));
      this.#rootId = { dev: info.dev, ino: info.ino };
      return this.#real;
    }
    const now = lstatOrUndefined(this.#real);
    if (
      now === undefined || now.isSymlink || !now.isDirectory || now.dev !== this.#rootId!.dev ||
      now.ino !== this.#rootId!.ino
    ) {
      throw new TreeError(
        "SymlinkRoot",
        "",
        `Cannot sync ${this.root}: it was replaced during the sync; nothing more is written there`,
      );
    }
    return this.#real;
  }

  #tempPath(abs: string): string {
    return `${posix.dirname(abs)}/${TEMP_PREFIX}${this.tempTag}-${randomHex(4)}`;
  }

  /** Absolute path of `path`, after checking the root and that every parent is a real directory. */
  #resolve(op: string, path: string): string {
    if (!isValidPath(path)) validateRelativePath(path);
    const root = this.#realRoot();
    const slash = path.lastIndexOf("/");
    if (slash === -1) return `${root}/${path}`;
    // One realpath() checks every parent at C speed; the slow walk only explains a mismatch.
    const parent = `${root}/${path.slice(0, slash)}`;
    let real: string | undefined;
    try {
      real = Deno.realPathSync(`${parent}/.`); // "/." also requires a directory
    } catch {
      real = undefined;
    }
    if (real !== parent) {
      for (const dir of ancestors(path)) {
        const info = lstatOrUndefined(`${root}/${dir}`);
        if (info === undefined) throw treeError("NotFound", op, path, dir);
        if (info.isSymlink) throw treeError("SymlinkParent", op, path, dir);
        if (!info.isDirectory) throw treeError("NotDirectory", op, path, dir);
      }
      throw treeError("Changed", op, path);
    }
    return `${root}/${path}`;
  }

  /**
   * The absolute path of a relative path in this tree (no checks; for messages and tests).
   *
   * @param path Relative path.
   * @returns `root/path`.
   *
   * @example Usage
   * ```ts
   * import { HostTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new HostTree("/work/app/").absolute("src/a.rs"), "/work/app/src/a.rs");
   * ```
   */
  absolute(path: string): string {
    return posix.join(this.root, validateRelativePath(path));
  }

  /**
   * List the tree without following links (on Linux with GNU `find -printf` in another process,
   * elsewhere with `readDir` and `lstat`; sockets, FIFOs and devices are left out; modes without
   * set-id and sticky bits); leftovers named {@linkcode TEMP_PREFIX}`<tag>-…`
   * with a tag of `debrisTags` are reported as debris, names that are not UTF-8 as `skipped`.
   *
   * @param options What to leave out, which ignore files to read, which tags are debris.
   * @returns The entries in {@linkcode comparePaths} order.
   * @throws {Deno.errors.NotFound} When the root does not exist; any other error reading a
   *   directory (a partial listing would look like deletions).
   * @throws {TreeError} Of kind `SymlinkRoot` when the root is a link.
   *
   * @example Usage
   * ```ts
   * import { HostTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * const tag = "0123456789abcdef0123456789abcdef";
   * await Deno.symlink("/etc", `${dir}/etc`);
   * await Deno.writeTextFile(`${dir}/.gamma-tmp-${tag}-01`, "half");
   * const scan = await new HostTree(dir).scan({ debrisTags: [tag] });
   * assert.deepEqual([...scan.entries], [["etc", { type: "symlink", target: "/etc" }]]);
   * assert.deepEqual(scan.debris, [`.gamma-tmp-${tag}-01`]);
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  async scan(options: ScanOptions = {}): Promise<TreeScan> {
    const root = this.#realRoot();
    const prefetched = this.#prefetched;
    this.#prefetched = undefined;
    const listing = prefetched !== undefined && prefetched.root === root
      ? await prefetched.listing
      : await listWithFind(root);
    if (listing !== undefined) return scanListing(root, listing, options);
    return await this.#walk(root, options);
  }

  /**
   * Start listing the tree now, in another process, so that a {@linkcode HostTree.scan} that
   * follows (for example after the other tree's) finds the listing ready: two trees are then
   * read at once, as rsync's sender and receiver do. Does nothing where the fast listing is not
   * available (the scan then walks the tree itself) or when the root is missing or a link (the
   * scan then reports that).
   *
   * @param scratch A private directory for the listing's temporary file (removed as soon as it
   *   is read); default the system's temporary directory.
   *
   * @example Usage
   * ```ts
   * import { HostTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
   * const tree = new HostTree(dir);
   * tree.prefetch();
   * assert.deepEqual([...(await tree.scan()).entries.keys()], ["a.txt"]);
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  prefetch(scratch?: string): void {
    let root: string;
    try {
      root = this.#realRoot();
    } catch {
      return;
    }
    const listing = listWithFind(root, scratch);
    listing.catch(() => {}); // the scan that takes it reports the error
    this.#prefetched = { root, listing };
  }

  /**
   * A digest (SHA-256, hex) of the tree's raw listing: every entry's type, mode, size,
   * modification time, path and link target, ignored ones included. Equal digests mean no entry
   * changed in what a sync compares. Starts the listing when no {@linkcode HostTree.prefetch}
   * did, and keeps it for the next {@linkcode HostTree.scan}.
   *
   * @returns The digest, or `undefined` where the fast listing is not available.
   *
   * @example Usage
   * ```ts
   * import { HostTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * const digest = await new HostTree(dir).listingDigest();
   * assert.ok(digest === undefined || /^[0-9a-f]{64}$/.test(digest));
   * await Deno.remove(dir);
   * ```
   */
  async listingDigest(): Promise<string | undefined> {
    if (this.#prefetched === undefined) this.prefetch();
    const listing = await this.#prefetched?.listing.catch(() => undefined);
    if (listing === undefined) return undefined;
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", listing as Uint8Array<ArrayBuffer>),
    );
    return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /**
   * The raw listing the next {@linkcode HostTree.scan} uses: GNU `find -printf` records (type,
   * mode, size, modification time, path, link target, each ending with NUL), ignored entries
   * included. Starts the listing when no {@linkcode HostTree.prefetch} did, and keeps it for
   * the scan.
   *
   * @returns The listing, or `undefined` where the fast listing is not available or failed
   *   (the scan then reports why).
   *
   * @example Usage
   * ```ts
   * import { HostTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * await Deno.writeTextFile(`${dir}/a.txt`, "hi");
   * const listing = await new HostTree(dir).listing();
   * if (listing !== undefined) {
   *   const fields = new TextDecoder().decode(listing).split("\0");
   *   assert.deepEqual([fields[0], fields[2], fields[4]], ["f", "2", "a.txt"]);
   * }
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  async listing(): Promise<Uint8Array | undefined> {
    if (this.#prefetched === undefined) this.prefetch();
    return await this.#prefetched?.listing.catch(() => undefined);
  }

  /**
   * Forget a listing that {@linkcode HostTree.prefetch} started and no scan used, so that a
   * later scan lists the tree afresh.
   *
   * @example Usage
   * ```ts
   * import { HostTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * const tree = new HostTree(dir);
   * tree.prefetch();
   * await Deno.writeTextFile(`${dir}/late.txt`, "written after the listing");
   * tree.dropListing();
   * assert.deepEqual([...(await tree.scan()).entries.keys()], ["late.txt"]);
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  dropListing(): void {
    this.#prefetched?.listing.catch(() => {});
    this.#prefetched = undefined;
  }

  /** The portable scan: `readDir` and one `lstat` per entry, pruning ignored directories. */
  async #walk(root: string, options: ScanOptions): Promise<TreeScan> {
    const ignore = options.ignore;
    const entries = new Map<string, SyncEntry>();
    const debris: string[] = [];
    const skipped: string[] = [];
    const debrisPrefixes = (options.debrisTags ?? []).map((tag) => `${TEMP_PREFIX}${tag}-`);
    const ignoreFiles = options.ignoreFiles ?? [];
    let slice = performance.now();
    const walk = async (abs: string, rel: string): Promise<void> => {
      const list: Deno.DirEntry[] = [];
      for (const entry of Deno.readDirSync(abs)) list.push(entry);
      list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const name of ignoreFiles) {
        // In the order given (later files win), and only regular files: never through a link.
        if (!list.some((item) => item.isFile && item.name === name)) continue;
        const path = rel === "" ? name : `${rel}/${name}`;
        // Checked again just before reading (the guest may swap it meanwhile); a file over
        // 1 MiB is no ignore file anyone wrote.
        const info = lstatOrUndefined(`${abs}/${name}`);
        if (info === undefined || !info.isFile || info.size > 1 << 20) continue;
        try {
          options.onIgnoreFile?.(rel, path, Deno.readTextFileSync(`${abs}/${name}`));
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
      }
      let bad: Map<string, string> | undefined;
      for (const item of list) {
        const path = rel === "" ? item.name : `${rel}/${item.name}`;
        const full = `${abs}/${item.name}`;
        if (!item.isDirectory && debrisPrefixes.some((p) => item.name.startsWith(p))) {
          debris.push(path);
          continue;
        }
        if (ignore !== undefined && ignore(path, item.isDirectory)) continue;
        const info = lstatOrUndefined(full);
        if (info === undefined) {
          if (item.name.includes("\ufffd")) {
            // Not valid UTF-8: Deno gave a lossy name that names nothing. Say so, never drop it.
            bad ??= escapedBadNames(abs);
            const shown = bad.get(item.name) ?? item.name;
            skipped.push(rel === "" ? shown : `${rel}/${shown}`);
          }
          continue; // removed meanwhile
        }
        const entry = entryOfStat(info, full);
        if (entry === undefined) continue;
        entries.set(path, entry);
        if (entry.type === "dir") {
          if (performance.now() - slice > SCAN_SLICE_MS) {
            await new Promise((resolve) => setTimeout(resolve, 0));
            slice = performance.now();
          }
          await walk(full, path);
        }
      }
    };
    await walk(root, "");
    return skipped.length > 0 ? { entries, debris, skipped } : { entries, debris };
  }

  /**
   * Describe one entry without following it (see {@linkcode Tree.stat}).
   *
   * @param path Relative path.
   * @returns The entry, or `undefined` when nothing (or a socket, FIFO, device) is there.
   * @throws {TreeError} When a parent is a link or not a directory.
   *
   * @example Usage
   * ```ts
   * import { HostTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * assert.equal(await new HostTree(dir).stat("missing"), undefined);
   * await Deno.remove(dir);
   * ```
   */
  stat(path: string): Promise<SyncEntry | undefined> {
    try {
      return Promise.resolve(this.#current("stat", path).entry);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The checked absolute path and what is there now; a missing parent means nothing is. */
  #current(op: string, path: string): { abs: string; entry: SyncEntry | undefined } {
    let abs: string;
    try {
      abs = this.#resolve(op, path);
    } catch (e) {
      if (e instanceof TreeError && e.kind === "NotFound") {
        return { abs: this.absolute(path), entry: undefined };
      }
      throw e;
    }
    const info = lstatOrUndefined(abs);
    return { abs, entry: info === undefined ? undefined : entryOfStat(info, abs) };
  }

  /**
   * Open a regular file for reading as a stream (see {@linkcode Tree.readFile}). The file that was
   * opened is checked to be the one at the path, so a link swapped in meanwhile is refused.
   *
   * @param path Relative path.
   * @returns A stream of its bytes.
   * @throws {TreeError} When it is missing, not a regular file, or replaced meanwhile.
   *
   * @example Usage
   * ```ts
   * import { HostTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * await Deno.writeTextFile(`${dir}/a.txt`, "hello");
   * const data = await new HostTree(dir).readFile("a.txt");
   * assert.equal(await new Response(data as ReadableStream<Uint8Array>).text(), "hello");
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  async readFile(path: string): Promise<FileData> {
    const abs = this.#resolve("read", path);
    const before = lstatOrUndefined(abs);
    if (before === undefined) throw treeError("NotFound", "read", path);
    if (before.isDirectory) throw treeError("IsDirectory", "read", path);
    if (!before.isFile) throw treeError("Changed", "read", path);
    const file = await Deno.open(abs, { read: true });
    try {
      const opened = await file.stat();
      const now = lstatOrUndefined(abs);
      if (now === undefined || !now.isFile || now.ino !== opened.ino || now.dev !== opened.dev) {
        throw treeError("Changed", "read", path);
      }
    } catch (e) {
      file.close();
      throw e;
    }
    return file.readable;
  }

  /**
   * Rename `tmp` (in the checked parent of `abs`) into place once the precondition holds; always
   * removes `tmp` on failure. The parent is not checked again: if it was swapped for a link
   * meanwhile, `tmp` cannot be found through the link and the rename fails.
   */
  #commit(
    op: string,
    path: string,
    abs: string,
    tmp: string,
    expect: WriteFileOptions["expect"],
    file = false,
  ): void {
    if (file && expect === null && this.#links) {
      // Nothing may be at the path: a hard link puts the file there only if nothing (not even a
      // link) is, in one step and without an lstat; then the temporary name goes.
      try {
        Deno.linkSync(tmp, abs);
        removeQuietly(tmp);
        return;
      } catch (e) {
        // Something is there (the lstat below says what), or this file system has no hard
        // links: the rename below then does it, for this file and the next.
        if (!(e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.NotFound)) {
          this.#links = false;
        }
      }
    }
    try {
      const info = lstatOrUndefined(abs);
      const entry = info === undefined ? undefined : entryOfStat(info, abs);
      checkExpect(op, path, entry, expect);
      if (entry?.type === "dir") throw treeError("IsDirectory", op, path);
      Deno.renameSync(tmp, abs);
    } catch (e) {
      removeQuietly(tmp);
      throw e;
    }
  }

  #setMeta(tmp: string, options: WriteFileOptions, mode?: number): void {
    if (mode !== (options.mode & MODE_MASK)) Deno.chmodSync(tmp, options.mode & MODE_MASK);
    Deno.utimeSync(tmp, new Date(), new Date(options.mtimeMs));
  }

  /**
   * Create or replace a file atomically (see {@linkcode Tree.writeFile}): the bytes go to a
   * temporary sibling, which gets the mode and time and is then renamed into place.
   *
   * @param path Relative path.
   * @param data Bytes or a stream.
   * @param options Mode, modification time, precondition.
   * @throws {TreeError} On a missing or linked parent, a directory at the path, or a failed
   *   precondition.
   *
   * @example Usage
   * ```ts
   * import { HostTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * await Deno.mkdir(`${dir}/real`);
   * await Deno.symlink(`${dir}/real`, `${dir}/link`);
   * await assert.rejects(
   *   new HostTree(dir).writeFile("link/x", new Uint8Array(), { mode: 0o644, mtimeMs: 0 }),
   *   { name: "TreeError", message: 'Cannot write "link/x": "link" is a symbolic link' },
   * );
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  async writeFile(path: string, data: FileData, options: WriteFileOptions): Promise<void> {
    let tmp: string;
    let abs: string;
    try {
      abs = this.#resolve("write", path);
      tmp = this.#tempPath(abs);
    } catch (e) {
      if (!(data instanceof Uint8Array)) await data.cancel().catch(() => {});
      throw e;
    }
    try {
      if (data instanceof Uint8Array) {
        await Deno.writeFile(tmp, data, { createNew: true, mode: 0o600 });
      } else {
        const file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o600 });
        await data.pipeTo(file.writable);
      }
      this.#setMeta(tmp, options);
    } catch (e) {
      removeQuietly(tmp);
      if (!(data instanceof Uint8Array)) await data.cancel().catch(() => {});
      throw e;
    }
    this.#commit("write", path, abs, tmp, options.expect, true);
  }

  /**
   * Copy a file from another {@linkcode HostTree} (up to 256 KiB in this thread, larger ones
   * with the kernel's copy), atomically as
   * {@linkcode HostTree.writeFile} does (see {@linkcode Tree.copyFrom}).
   *
   * @param source The tree to copy from.
   * @param sourcePath Relative path in `source`.
   * @param path Relative path here.
   * @param options Mode, modification time, precondition.
   * @returns `false` when `source` is not a host tree.
   * @throws {TreeError} When the source is not a regular file or was replaced meanwhile, or as
   *   for {@linkcode HostTree.writeFile}.
   *
   * @example Usage
   * ```ts
   * import { HostTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const a = await Deno.makeTempDir();
   * const b = await Deno.makeTempDir();
   * await Deno.writeTextFile(`${a}/f`, "data");
   * const copied = await new HostTree(b).copyFrom(new HostTree(a), "f", "g", {
   *   mode: 0o600,
   *   mtimeMs: 5_000,
   * });
   * assert.equal(copied, true);
   * assert.equal(await Deno.readTextFile(`${b}/g`), "data");
   * assert.equal((await Deno.stat(`${b}/g`)).mtime?.getTime(), 5_000);
   * await Deno.remove(a, { recursive: true });
   * await Deno.remove(b, { recursive: true });
   * ```
   */
  async copyFrom(
    source: Tree,
    sourcePath: string,
    path: string,
    options: WriteFileOptions,
  ): Promise<boolean> {
    if (!(source instanceof HostTree)) return false;
    const from = source.#resolve("read", sourcePath);
    const before = lstatOrUndefined(from);
    if (before === undefined) throw treeError("NotFound", "read", sourcePath);
    if (before.isDirectory) throw treeError("IsDirectory", "read", sourcePath);
    if (!before.isFile) throw treeError("Changed", "read", sourcePath);
    const abs = this.#resolve("write", path);
    const tmp = this.#tempPath(abs);
    if (before.size <= SMALL_COPY) {
      copySmall(from, before, sourcePath, tmp, options);
      this.#commit("write", path, abs, tmp, options.expect, true);
      return true;
    }
    try {
      await Deno.copyFile(from, tmp);
      const after = lstatOrUndefined(from);
      if (after === undefined || !after.isFile || after.ino !== before.ino) {
        throw treeError("Changed", "read", sourcePath);
      }
      // The kernel copy already gave the temporary file the source's mode.
      this.#setMeta(tmp, options, (before.mode ?? 0) & 0o7777);
    } catch (e) {
      removeQuietly(tmp);
      throw e;
    }
    this.#commit("write", path, abs, tmp, options.expect, true);
    return true;
  }

  /**
   * Create a directory with exactly `mode` (see {@linkcode Tree.mkdir}).
   *
   * @param path Relative path.
   * @param options The mode.
   * @throws {TreeError} On a missing or linked parent, or a non-directory at the path.
   *
   * @example Usage
   * ```ts
   * import { HostTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * await new HostTree(dir).mkdir("d", { mode: 0o750 });
   * assert.equal((await Deno.stat(`${dir}/d`)).mode! & 0o7777, 0o750);
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  mkdir(path: string, options: { mode: number }): Promise<void> {
    try {
      const abs = this.#resolve("create directory", path);
      try {
        Deno.mkdirSync(abs, { mode: 0o700 });
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
        if (!Deno.lstatSync(abs).isDirectory) throw treeError("Exists", "create directory", path);
        return Promise.resolve();
      }
      Deno.chmodSync(abs, options.mode & MODE_MASK);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Create or replace a symbolic link atomically (see {@linkcode Tree.symlink}).
   *
   * @param path Relative path.
   * @param target The link's text.
   * @param options Precondition.
   * @throws {TreeError} On a missing or linked parent, a directory at the path, or a failed
   *   precondition.
   *
   * @example Usage
   * ```ts
   * import { HostTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * await new HostTree(dir).symlink("l", "../outside");
   * assert.equal(await Deno.readLink(`${dir}/l`), "../outside");
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  symlink(path: string, target: string, options: ExpectOptions = {}): Promise<void> {
    try {
      const abs = this.#resolve("create link", path);
      const tmp = this.#tempPath(abs);
      Deno.symlinkSync(target, tmp);
      this.#commit("create link", path, abs, tmp, options.expect);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Remove a file, link or empty directory (see {@linkcode Tree.remove}); a link is removed
   * itself, never what it points to.
   *
   * @param path Relative path.
   * @param options Precondition.
   * @throws {TreeError} `NotFound`, `NotEmpty`, a linked parent, or a failed precondition.
   *
   * @example Usage
   * ```ts
   * import { HostTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * await Deno.mkdir(`${dir}/d`);
   * await Deno.writeTextFile(`${dir}/d/keep`, "");
   * await assert.rejects(new HostTree(dir).remove("d"), {
   *   name: "TreeError",
   *   message: 'Cannot remove "d": the directory is not empty',
   * });
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  remove(path: string, options: RemoveOptions = {}): Promise<void> {
    try {
      const { abs, entry } = this.#current("remove", path);
      checkExpect("remove", path, entry, options.expect);
      if (entry === undefined) throw treeError("NotFound", "remove", path);
      try {
        Deno.removeSync(abs);
      } catch (e) {
        if (!(entry.type === "dir" && isNotEmpty(e))) throw e;
        const expendable = options.expendable;
        if (expendable === undefined || !allExpendable(abs, path, expendable)) {
          throw treeError("NotEmpty", "remove", path);
        }
        // Only ignored entries are left (git treats those as expendable): they go too. The
        // recursive removal never follows a link.
        Deno.removeSync(abs, { recursive: true });
      }
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Change the mode of a file or directory (see {@linkcode Tree.chmod}); links have none.
   *
   * @param path Relative path.
   * @param mode The new permission bits.
   * @param options Precondition.
   * @throws {TreeError} `NotFound`, `Exists` for a link, a linked parent, or a failed
   *   precondition.
   *
   * @example Usage
   * ```ts
   * import { HostTree } from "@devshell/gamma/sync";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * await Deno.writeTextFile(`${dir}/run`, "");
   * await new HostTree(dir).chmod("run", 0o755);
   * assert.equal((await Deno.stat(`${dir}/run`)).mode! & 0o7777, 0o755);
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  chmod(path: string, mode: number, options: ExpectOptions = {}): Promise<void> {
    try {
      const { abs, entry } = this.#current("change mode of", path);
      checkExpect("change mode of", path, entry, options.expect);
      if (entry === undefined) throw treeError("NotFound", "change mode of", path);
      if (entry.type === "symlink") throw treeError("Exists", "change mode of", path);
      Deno.chmodSync(abs, mode & MODE_MASK);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

/** Whether every entry below the directory `abs` is expendable or under an expendable one. */
function allExpendable(abs: string, rel: string, expendable: IgnoreFilter): boolean {
  for (const item of Deno.readDirSync(abs)) {
    const path = `${rel}/${item.name}`;
    const info = lstatOrUndefined(`${abs}/${item.name}`);
    if (info === undefined) return false; // a name that is not UTF-8, or gone: keep it all
    if (expendable(path, info.isDirectory)) continue;
    if (!info.isDirectory || !allExpendable(`${abs}/${item.name}`, path, expendable)) return false;
  }
  return true;
}

function isNotEmpty(e: unknown): boolean {
  return e instanceof Error &&
    ((e as { code?: string }).code === "ENOTEMPTY" || /not empty/i.test(e.message));
}
