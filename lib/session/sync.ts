/**
 * {@linkcode syncTrees}: one Mode S sync between the host tree and the staging tree, with
 * gamma's state for the pair (manifest, lock, temporary-file tags) in a state directory outside
 * both trees, the host's `.gitignore` and `.gammaignore` rules, an identity kept both in the
 * manifest and in the copy, a safety stop before mass deletions on the host, and progress in
 * human units on a terminal.
 *
 * @module
 */

import { GammaError } from "../errors.ts";
import { normalizeAbsolutePath } from "../guest_path.ts";
import { type ActionOutcome, applyPlan, type ApplyProgress } from "../sync/apply.ts";
import { GITIGNORE_FILE, IGNORE_FILE, type IgnoreReason, IgnoreRules } from "../sync/ignore.ts";
import { emptyManifest, parseManifest, stringifyManifest } from "../sync/manifest.ts";
import {
  type Conflict,
  planSync,
  type SyncAction,
  type SyncDirection,
  type SyncSide,
} from "../sync/plan.ts";
import { formatProgress } from "../sync/progress.ts";
import { type Tree, TreeError } from "../sync/tree.ts";
import { setOwn } from "../sync/_paths.ts";
import { type Manifest, sameEntry, type SyncEntry } from "../sync/types.ts";
import { HostTree, newTempTag } from "./host_tree.ts";

/**
 * The name of the identity file gamma keeps at the root of the copy (the guest tree): the id of
 * the copy and the project it belongs to. It is never synced; a host file of that name at the
 * project root is left out too.
 *
 * @example Usage
 * ```ts
 * import { COPY_ID_FILE } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * assert.equal(COPY_ID_FILE, ".gamma-copy-id");
 * ```
 */
export const COPY_ID_FILE = ".gamma-copy-id";

/**
 * Options of {@linkcode syncTrees}.
 *
 * @example Usage
 * ```ts
 * import type { SyncTreesOptions } from "@devshell/gamma/sync";
 *
 * const options: SyncTreesOptions = {
 *   stateDir: "/home/me/.cache/gamma/sync/app-0123456789ab",
 *   dryRun: true,
 * };
 * ```
 */
export interface SyncTreesOptions {
  /**
   * Absolute path of the directory holding gamma's state for this pair of trees: the manifest
   * (`manifest.json`), the lock (`lock`) and the tags of unfinished runs (`temp-tags`). It must
   * lie outside both trees and outside anything the guest can write; it is created (mode 0700)
   * when missing, and neither it nor any file in it may be a symbolic link.
   */
  stateDir: string;
  /** The project the copy belongs to, recorded in its identity; default the host tree's root. */
  project?: string | undefined;
  /** Plan and report without changing anything (it still takes the lock, to read a settled state). */
  dryRun?: boolean | undefined;
  /**
   * Take a non-empty guest tree that carries no identity of this project as the copy, or the
   * identity of a project that no longer exists on the host (moved or renamed) (its files are
   * merged as on a first sync: nothing is deleted, differing files become conflicts).
   */
  adopt?: boolean | undefined;
  /** Carry out a plan even when it deletes most of the host tree (see {@linkcode MassDeletionError}). */
  force?: boolean | undefined;
  /** Honour `.gitignore` files (all levels, as git does); default `true`. `.gammaignore` always counts. */
  gitignore?: boolean | undefined;
  /**
   * Show progress on stderr when the sync takes more than half a second: `"auto"` (the
   * default) when stderr is a terminal, `true` always, `false` never.
   */
  progress?: boolean | "auto" | undefined;
  /** Called after every action (for a caller's own progress display). */
  onProgress?: ((progress: ApplyProgress) => void) | undefined;
  /** Where waiting for the lock is announced; default stderr. */
  notice?: ((line: string) => void) | undefined;
  /** How long to wait for the lock before saying who holds it; default 2000 ms. */
  lockNoticeMs?: number | undefined;
  /** The time that names conflict copies; default now. */
  now?: Date | undefined;
  /** How many file copies run at once; default 4. */
  concurrency?: number | undefined;
  /**
   * Gitignore patterns that apply from the root after the host's own root `.gitignore` and
   * `.gammaignore` rules (settings `sync.ignore`).
   */
  extraIgnore?: readonly string[] | undefined;
}

/**
 * How {@linkcode syncTrees} found the copy: `same` (the copy of the last sync), `new` (none
 * yet), `replaced` (the copy of the last sync is gone or empty: a first sync again), `relinked`
 * (a copy of this project whose manifest was lost, or whose identity file is gone while the
 * manifest names this project) or `adopted` (taken with `adopt`). Every
 * state but `same` plans like a first sync: nothing is deleted on either side.
 *
 * @example Usage
 * ```ts
 * import type { CopyState } from "@devshell/gamma/sync";
 *
 * const state: CopyState = "replaced";
 * ```
 */
export type CopyState = "same" | "new" | "replaced" | "relinked" | "adopted";

/**
 * What {@linkcode syncTrees} did (or, with `dryRun`, would do), as JSON-able data.
 *
 * @example Usage
 * ```ts
 * import type { SyncReport } from "@devshell/gamma/sync";
 *
 * const report: SyncReport = {
 *   direction: "push",
 *   dryRun: false,
 *   copyState: "same",
 *   actions: [],
 *   conflicts: [],
 *   deferred: [],
 *   notDone: [],
 *   skipped: [],
 *   copied: 0,
 *   removed: 0,
 *   bytesCopied: 0,
 *   debrisRemoved: [],
 *   ok: true,
 * };
 * ```
 */
export interface SyncReport {
  /** The direction. */
  direction: SyncDirection;
  /** Whether nothing was changed. */
  dryRun: boolean;
  /** How the copy was found. */
  copyState: CopyState;
  /** The actions done (dry run: planned), in order. */
  actions: SyncAction[];
  /** Every conflict found (the guest version kept beside the host's, on both sides). */
  conflicts: Conflict[];
  /** Paths with changes this direction does not carry (the other direction will). */
  deferred: string[];
  /** Actions skipped (changed meanwhile, directory holding ignored files) or failed. */
  notDone: ActionOutcome[];
  /** Entries left alone because their names are not valid UTF-8 (bad bytes shown as `\\xNN`). */
  skipped: { side: SyncSide; path: string }[];
  /** Files copied (dry run: to copy). */
  copied: number;
  /** Entries removed (dry run: to remove). */
  removed: number;
  /** Bytes copied (dry run: to copy). */
  bytesCopied: number;
  /** Leftover temporary files of an interrupted sync that were removed (dry run: found). */
  debrisRemoved: { side: SyncSide; path: string }[];
  /** `false` when an action failed with an error (see `notDone`, where `failed` is true). */
  ok: boolean;
}

/**
 * A sync refused before changing anything because the guest tree is not this project's copy:
 * it holds files but no identity of the project (or the identity of another project).
 *
 * @example Usage
 * ```ts
 * import { ForeignCopyError } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const error = new ForeignCopyError("/ws/api", "/src/api", undefined, ["main.go"]);
 * assert.equal(error.name, "ForeignCopyError");
 * assert.equal(error.owner, undefined);
 * ```
 */
export class ForeignCopyError extends GammaError {
  /** The guest tree's root. */
  readonly staging: string;
  /** The project being synced. */
  readonly project: string;
  /** The project the identity found names, when there is one. */
  readonly owner: string | undefined;

  /**
   * Make the error.
   *
   * @param staging The guest tree's root.
   * @param project The project being synced.
   * @param owner The project the identity found names, if any.
   * @param sample A few paths found in the guest tree (three are shown; a fourth adds "…").
   * @param why `"gone"`: `owner` no longer exists on the host (the project was moved or
   *   renamed); `"older"`: the marker an older gamma kept beside the copy names this project.
   *   Either way the fix is `--adopt`.
   */
  constructor(
    staging: string,
    project: string,
    owner: string | undefined,
    sample: string[],
    why?: "gone" | "older",
  ) {
    const fixes = [
      "  fix: set DEVSHELL_VM_WORKSPACE_PARENT to another directory,",
      `  or, once you have checked that ${staging} holds this project's files: gamma sync push --adopt`,
    ];
    super(
      why === "older"
        ? [
          `cannot sync ${project} with ${staging}: it was made for this project by an older gamma (${staging}.gamma-source names it), which kept no identity gamma can trust, and gamma never merges into a directory it cannot tell it made`,
          ...fixes,
        ].join("\n")
        : owner !== undefined && why === "gone"
        ? [
          `cannot sync ${project} with ${staging}: it holds the copy of ${owner}, which is gone (moved or renamed?)`,
          ...fixes,
        ].join("\n")
        : owner !== undefined
        ? `cannot sync ${project} with ${staging}: it holds the copy of another project, ${owner}; rename one of them, or set DEVSHELL_VM_WORKSPACE_PARENT for one`
        : [
          `cannot sync ${project} with ${staging}: that directory already holds files gamma did not put there for this project (${
            sample.slice(0, 3).join(", ")
          }${
            sample.length > 3 ? ", …" : ""
          }), and gamma never merges into a directory it did not make`,
          ...fixes,
        ].join("\n"),
    );
    this.name = "ForeignCopyError";
    this.staging = staging;
    this.project = project;
    this.owner = owner;
  }
}

/**
 * A sync stopped before changing anything because it would delete all of the host tree, or more
 * than half of it and more than 50 entries (the guest deleted them, or its copy was emptied).
 * `force` carries it out.
 *
 * @example Usage
 * ```ts
 * import { MassDeletionError } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const error = new MassDeletionError("/src/app", ["a.txt"], 1, "pull");
 * assert.match(error.message, /would delete all 1 entries/);
 * ```
 */
export class MassDeletionError extends GammaError {
  /** The host paths the sync would delete. */
  readonly paths: string[];

  /**
   * Make the error.
   *
   * @param project The host tree's root.
   * @param paths The host paths the sync would delete.
   * @param total How many entries the host tree has.
   * @param direction The direction of the sync.
   */
  constructor(project: string, paths: string[], total: number, direction: SyncDirection) {
    const shown = paths.slice(0, 20).map((path) => `  ${path}`);
    if (paths.length > shown.length) shown.push(`  … and ${paths.length - shown.length} more`);
    super(
      [
        `stopped: this sync would delete ${
          paths.length === total ? `all ${total}` : `${paths.length} of the ${total}`
        } entries of ${project} because they are gone from the guest's copy; nothing was changed. It would delete:`,
        ...shown,
        `  if that is what you want: gamma sync ${
          direction === "both" ? "pull" : direction
        } --force`,
      ].join("\n"),
    );
    this.name = "MassDeletionError";
    this.paths = paths;
  }
}

/**
 * A state file of gamma (manifest, lock, tags) or the state directory is not what gamma made: a
 * symbolic link or not a regular file. Nothing is read or written through it.
 *
 * @example Usage
 * ```ts
 * import { SyncStateError } from "@devshell/gamma";
 *
 * const error = new SyncStateError("/c/sync/app/manifest.json", "it is a symbolic link");
 * ```
 */
export class SyncStateError extends GammaError {
  /** The path. */
  readonly path: string;

  /**
   * Make the error.
   *
   * @param path The state file or directory.
   * @param why What is wrong with it.
   */
  constructor(path: string, why: string) {
    super(
      `cannot use gamma's sync state ${path}: ${why}; gamma never reads or writes its state through a link. Remove it (gamma then treats the next sync as a first one, deleting nothing)`,
    );
    this.name = "SyncStateError";
    this.path = path;
  }
}

/**
 * The notice to print for a sync that did not find the copy of the last sync (see
 * {@linkcode CopyState}), or `undefined` when there is nothing to say.
 *
 * @param report The report of {@linkcode syncTrees}.
 * @param staging The guest tree's root, for the message.
 * @returns One line, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { type SyncReport } from "@devshell/gamma/sync";
 * import { copyStateNote } from "./sync.ts";
 * import assert from "node:assert/strict";
 *
 * const report = { copyState: "replaced" } as SyncReport;
 * assert.equal(
 *   copyStateNote(report, "/ws/app"),
 *   "gamma: sync: the copy /ws/app is gone or was emptied since the last sync; syncing as the first time: everything is pushed again, nothing is deleted on the host",
 * );
 * ```
 */
export function copyStateNote(report: SyncReport, staging: string): string | undefined {
  switch (report.copyState) {
    case "replaced":
      return `gamma: sync: the copy ${staging} is gone or was emptied since the last sync; syncing as the first time: everything is pushed again, nothing is deleted on the host`;
    case "relinked":
      return `gamma: sync: the copy ${staging} and gamma's record of the last sync with it do not match (one was lost); syncing as the first time: nothing is deleted, files that differ are kept on both sides as conflicts`;
    case "adopted":
      return `gamma: sync: adopted ${staging} as this project's copy: nothing is deleted, files that differ are kept on both sides as conflicts`;
    default:
      return undefined;
  }
}

/**
 * Whether a directory inside a project is left out of Mode S by an ignore rule (its own, or one
 * of a directory above it): the first ignored directory on the way and the rule. Reads the
 * `.gitignore` (unless `gitignore` is `false`) and `.gammaignore` files of the project root and
 * of each directory on the way, as a sync would (regular files only, never through a link).
 *
 * @param project The project root (absolute).
 * @param dir A directory inside it, relative (`""`: the root itself, never ignored).
 * @param options `gitignore`: whether `.gitignore` files count (default `true`); `extraIgnore`:
 *   patterns from settings, as in {@linkcode SyncTreesOptions}.
 * @returns The ignored directory (relative) and why, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { ignoredDirectory } from "./sync.ts";
 * import assert from "node:assert/strict";
 *
 * const project = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${project}/.gitignore`, "target/\n");
 * assert.deepEqual(ignoredDirectory(project, "target/debug"), {
 *   path: "target",
 *   reason: { file: ".gitignore", pattern: "target/" },
 * });
 * assert.equal(ignoredDirectory(project, "src"), undefined);
 * await Deno.remove(project, { recursive: true });
 * ```
 */
export function ignoredDirectory(
  project: string,
  dir: string,
  options: { gitignore?: boolean; extraIgnore?: readonly string[] } = {},
): { path: string; reason: IgnoreReason } | undefined {
  if (dir === "") return undefined;
  const rules = new IgnoreRules();
  if (options.extraIgnore !== undefined && options.extraIgnore.length > 0) {
    rules.add("", "(settings sync.ignore)", options.extraIgnore.join("\n"), { last: true });
  }
  const files = (options.gitignore ?? true) ? [GITIGNORE_FILE, IGNORE_FILE] : [IGNORE_FILE];
  const read = (rel: string): void => {
    for (const name of files) {
      const path = rel === "" ? name : `${rel}/${name}`;
      try {
        if (!Deno.lstatSync(`${project}/${path}`).isFile) continue;
        rules.add(rel, path, Deno.readTextFileSync(`${project}/${path}`));
      } catch {
        // absent or unreadable: no rules from it
      }
    }
  };
  read("");
  const parts = dir.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const path = parts.slice(0, i).join("/");
    const reason = rules.explain(path, true);
    if (reason !== undefined) return { path, reason };
    read(path);
  }
  return undefined;
}

/**
 * Whether the marker the layout before gamma kept its state in its cache (`<copy>.gamma-source`)
 * names `project`. Only read for a message: a small regular file, never through a link.
 */
function oldMarkerNames(path: string, project: string): boolean {
  try {
    const info = Deno.lstatSync(path);
    if (!info.isFile || info.size > 4096) return false;
    return Deno.readTextFileSync(path).trim() === project;
  } catch {
    return false;
  }
}

/** Files larger than this are not compared by content on a first sync. */
const SEED_COMPARE_MAX = 64 * 1024 * 1024;

async function readAll(tree: Tree, path: string): Promise<Uint8Array | undefined> {
  try {
    const data = await tree.readFile(path);
    return data instanceof Uint8Array
      ? data
      : new Uint8Array(await new Response(data).arrayBuffer());
  } catch {
    return undefined;
  }
}

/**
 * A base for a first sync of two full trees: each file both have with the same size and the
 * same bytes but another time or mode is recorded as the guest's, so the plan carries the
 * host's time and mode over instead of reporting a conflict.
 */
async function seedSameContent(
  host: Tree,
  guest: Tree,
  hostEntries: ReadonlyMap<string, SyncEntry>,
  guestEntries: ReadonlyMap<string, SyncEntry>,
): Promise<Manifest> {
  const seeded = emptyManifest();
  for (const [path, h] of hostEntries) {
    const g = guestEntries.get(path);
    if (
      h.type !== "file" || g?.type !== "file" || h.size !== g.size || h.size > SEED_COMPARE_MAX ||
      sameEntry(h, g)
    ) continue;
    const [a, b] = await Promise.all([readAll(host, path), readAll(guest, path)]);
    if (a === undefined || b === undefined || a.length !== b.length) continue;
    if (a.every((byte, i) => byte === b[i])) setOwn(seeded.entries, path, g);
  }
  return seeded;
}

/**
 * What identifies the state of a pair of trees for the quiet-run check: digests of both raw
 * listings, the manifest file's identity and the options that decide what is synced; `undefined`
 * when a listing or the manifest is not available.
 */
async function fingerprintOf(
  host: HostTree,
  guest: HostTree,
  manifestPath: string,
  settings: unknown[],
): Promise<string | undefined> {
  const [h, g] = await Promise.all([host.listingDigest(), guest.listingDigest()]);
  if (h === undefined || g === undefined) return undefined;
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(manifestPath);
  } catch {
    return undefined;
  }
  if (!info.isFile) return undefined;
  const stamp = `${info.dev}:${info.ino}:${info.size}:${info.mtime?.getTime()}`;
  return `${JSON.stringify([1, host.root, guest.root, h, g, stamp, settings])}\n`;
}

/** `lstat` a state path: absent, or of the wanted kind and never a link. */
function checkState(path: string, kind: "file" | "dir"): boolean {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  if (info.isSymlink) throw new SyncStateError(path, "it is a symbolic link");
  if (kind === "file" ? !info.isFile : !info.isDirectory) {
    throw new SyncStateError(path, `it is not a ${kind === "file" ? "regular file" : "directory"}`);
  }
  return true;
}

function readStateText(path: string): string | undefined {
  if (!checkState(path, "file")) return undefined;
  return Deno.readTextFileSync(path);
}

/** Write a state file atomically: a new file beside it, renamed over it (never through a link). */
async function writeState(path: string, text: string): Promise<void> {
  checkState(path, "file");
  const tmp = `${path}.tmp-${newTempTag().slice(0, 8)}`;
  try {
    await Deno.writeTextFile(tmp, text, { createNew: true, mode: 0o600 });
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

function readManifest(path: string): Manifest {
  const text = readStateText(path);
  if (text === undefined) return emptyManifest();
  try {
    return parseManifest(text);
  } catch (e) {
    throw new SyntaxError(
      `${
        (e as Error).message
      } (${path}; remove it to start over: the next sync then keeps both sides' differing files as conflicts)`,
    );
  }
}

/** The identity in the copy, or `undefined` when there is none (or it is not a readable file). */
async function readCopyId(guest: Tree): Promise<{ copy: string; project: string } | undefined> {
  try {
    // A small regular file only: the guest can plant anything there (a sparse file of
    // gigabytes would take the host's memory).
    const info = await guest.stat(COPY_ID_FILE);
    if (info?.type !== "file" || info.size > 4096) return undefined;
    const data = await guest.readFile(COPY_ID_FILE);
    const text = data instanceof Uint8Array
      ? new TextDecoder().decode(data)
      : await new Response(data).text();
    const parsed = JSON.parse(text) as Record<string, unknown>;
    if (typeof parsed.copy !== "string" || typeof parsed.project !== "string") return undefined;
    return { copy: parsed.copy, project: parsed.project };
  } catch (e) {
    if (
      e instanceof SyntaxError || e instanceof TreeError || e instanceof Deno.errors.NotFound
    ) return undefined;
    throw e;
  }
}

/** Take the lock file, saying who holds it when that takes long. */
async function takeLock(
  path: string,
  notice: (line: string) => void,
  noticeMs: number,
): Promise<Deno.FsFile> {
  checkState(path, "file");
  const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  try {
    const opened = await file.stat();
    const now = Deno.lstatSync(path);
    if (now.isSymlink || now.ino !== opened.ino) {
      throw new SyncStateError(path, "it was replaced while gamma opened it");
    }
    if (!(await file.tryLock(true))) {
      // A lock held by a process that died is free again (the kernel drops it): only a live
      // holder gets here. Say who it is after a while, and keep waiting visibly.
      const timer = setTimeout(() => {
        let holder = "another gamma";
        try {
          const info = JSON.parse(Deno.readTextFileSync(path)) as { pid?: number; since?: string };
          if (typeof info.pid === "number") {
            holder = `another gamma (pid ${info.pid}, syncing since ${info.since ?? "?"})`;
          }
        } catch {
          // no holder information written yet
        }
        notice(
          `gamma: sync: waiting for ${holder} to finish syncing this project (lock ${path}); gamma goes on when it is done, or stop it with Ctrl-C`,
        );
      }, noticeMs);
      try {
        await file.lock(true);
      } finally {
        clearTimeout(timer);
      }
    }
    await file.truncate(0);
    await file.write(
      new TextEncoder().encode(
        `${JSON.stringify({ pid: Deno.pid, since: new Date().toISOString() })}\n`,
      ),
    );
    return file;
  } catch (e) {
    file.close();
    throw e;
  }
}

/** A progress line on stderr that appears only after half a second, at most ten times a second. */
function lateProgress(enabled: boolean): {
  update(progress: ApplyProgress): void;
  finish(): void;
} {
  if (!enabled) return { update() {}, finish() {} };
  const started = performance.now();
  let shown = false;
  let last = 0;
  const encoder = new TextEncoder();
  return {
    update(progress) {
      const now = performance.now();
      if (now - started < 500 || (now - last < 100 && progress.done < progress.total)) return;
      last = now;
      shown = true;
      Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${formatProgress(progress, now - started)}`));
    },
    finish() {
      if (shown) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
    },
  };
}

/**
 * Sync the host tree and the guest (staging) tree once, in `direction`:
 *
 * 1. check the state directory and its files with `lstat` (never a link), take the lock (one
 *    sync at a time per state directory; after `lockNoticeMs` it says who holds it);
 * 2. scan both trees at once (the guest tree is listed while the host tree is), reading
 *    `.gitignore` (unless `gitignore` is `false`) and `.gammaignore` files at every level as git
 *    does and applying the host's rules to both (the guest's own ignore files leave out only
 *    paths neither the host nor the manifest has); remove the
 *    temporary files of interrupted runs (only names carrying their recorded tags);
 * 3. compare the copy's identity ({@linkcode COPY_ID_FILE}) with the manifest's: when the copy
 *    is gone, empty or another one, plan as a first sync (nothing deleted on either side) and
 *    say so in `copyState`; refuse a non-empty guest tree without this project's identity
 *    ({@linkcode ForeignCopyError}) unless `adopt`;
 * 4. plan against the manifest ({@linkcode planSync}); stop before deleting all or most of the
 *    host tree unless `force` ({@linkcode MassDeletionError}); carry it out
 *    ({@linkcode applyPlan}), removing ignored leftovers in guest directories that must go;
 * 5. store the new manifest atomically.
 *
 * Per-file problems do not throw: they are in `notDone` (and `ok` is `false` for errors). Running
 * the same sync again converges, and a run with no edits changes nothing.
 *
 * @param direction `push` (host changes to the guest), `pull` (guest changes to the host) or
 *   `both`. Conflicts are resolved in every direction.
 * @param host The host tree (a {@linkcode HostTree} or a {@linkcode MemoryTree}).
 * @param guest The staging tree the VM sees; a missing {@linkcode HostTree} root is created
 *   (its parent must exist), or read as empty in a dry run.
 * @param options State directory, dry run, adopt, force, ignore rules, progress.
 * @returns The report.
 * @throws {SyntaxError} When the manifest cannot be read.
 * @throws {SyncStateError} When a state path is a link or of the wrong kind.
 * @throws {ForeignCopyError} When the guest tree is not this project's copy.
 * @throws {MassDeletionError} When the sync would delete most of the host tree.
 * @throws {TreeError} Of kind `SymlinkRoot` when a tree's root is a link.
 *
 * @example Usage
 * ```ts
 * import { HostTree, MemoryTree, syncTrees } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const host = new MemoryTree();
 * host.setFile("src/main.rs", "fn main() {}\n");
 * const options = { stateDir: `${dir}/state`, project: "/src/app", progress: false };
 *
 * const pushed = await syncTrees("push", host, new HostTree(`${dir}/staging`), options);
 * assert.equal(pushed.copied, 1);
 * assert.equal(pushed.copyState, "new");
 * assert.equal(await Deno.readTextFile(`${dir}/staging/src/main.rs`), "fn main() {}\n");
 *
 * await Deno.writeTextFile(`${dir}/staging/out.txt`, "built in the guest\n");
 * const pulled = await syncTrees("pull", host, new HostTree(`${dir}/staging`), options);
 * assert.equal(pulled.copied, 1);
 * assert.equal(host.getText("out.txt"), "built in the guest\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function syncTrees(
  direction: SyncDirection,
  host: Tree,
  guest: Tree,
  options: SyncTreesOptions,
): Promise<SyncReport> {
  const stateDir = normalizeAbsolutePath(options.stateDir, "Sync state directory");
  const project = options.project ?? (host instanceof HostTree ? host.root : "");
  const dryRun = options.dryRun ?? false;
  const notice = options.notice ??
    ((line: string) => Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`)));
  if (!checkState(stateDir, "dir")) {
    await Deno.mkdir(stateDir, { recursive: true, mode: 0o700 });
    checkState(stateDir, "dir");
  }
  const manifestPath = `${stateDir}/manifest.json`;
  const tagsPath = `${stateDir}/temp-tags`;
  const listingPath = `${stateDir}/listing`;
  const lock = await takeLock(`${stateDir}/lock`, notice, options.lockNoticeMs ?? 2000);
  const progressWanted = options.progress ?? "auto";
  const bar = lateProgress(progressWanted === "auto" ? Deno.stderr.isTerminal() : progressWanted);
  try {
    // Tags of runs that did not finish: their temporary files are debris. This run's tags are
    // recorded before it writes anything.
    const oldTags = (readStateText(tagsPath) ?? "").split("\n").filter((t) =>
      /^[0-9a-f]{32}$/.test(t)
    );
    const myTags = [host, guest].flatMap((t) => t instanceof HostTree ? [t.tempTag] : []);
    // Both trees are listed at once (in other processes where that is available). When both
    // listings, the options and the manifest are exactly what a sync that found nothing to do
    // recorded, nothing changed since: the run is over before any listing is parsed.
    let fingerprint: string | undefined;
    if (host instanceof HostTree && guest instanceof HostTree) {
      host.prefetch();
      guest.prefetch();
      fingerprint = await fingerprintOf(host, guest, manifestPath, [
        project,
        options.gitignore ?? true,
        options.extraIgnore ?? [],
      ]);
      if (
        fingerprint !== undefined && oldTags.length === 0 &&
        readStateText(listingPath) === fingerprint
      ) {
        return {
          direction,
          dryRun,
          copyState: "same",
          actions: [],
          conflicts: [],
          deferred: [],
          notDone: [],
          skipped: [],
          copied: 0,
          removed: 0,
          bytesCopied: 0,
          debrisRemoved: [],
          ok: true,
        };
      }
    }
    let base = readManifest(manifestPath);

    const rules = new IgnoreRules([COPY_ID_FILE]);
    if (options.extraIgnore !== undefined && options.extraIgnore.length > 0) {
      rules.add("", "(settings sync.ignore)", options.extraIgnore.join("\n"), { last: true });
    }
    const ignoreFiles = (options.gitignore ?? true) ? [GITIGNORE_FILE, IGNORE_FILE] : [IGNORE_FILE];
    // The copy was listed while the host tree was: its scan needs the host's ignore rules, so it
    // is filtered once the host's scan is done.
    if (guest instanceof HostTree && fingerprint === undefined) guest.prefetch();
    const hostScan = await host.scan({
      ignore: rules.filter,
      ignoreFiles,
      onIgnoreFile: (dir, path, text) => rules.add(dir, path, text),
      debrisTags: oldTags,
    });
    if (guest instanceof HostTree && !dryRun) {
      try {
        Deno.lstatSync(guest.root);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        await Deno.mkdir(guest.root, { mode: 0o755 });
      }
    }
    // The guest's own ignore files (a .gitignore of "*" that pytest or venv put in a directory
    // they made, a pattern the guest added) leave out only what exists in the guest alone: a
    // path the host has or the last sync recorded is never hidden, so they cannot delete on
    // the host.
    const guestOwn = new IgnoreRules();
    const recorded = base.entries;
    const known = (path: string) => hostScan.entries.has(path) || Object.hasOwn(recorded, path);
    const guestFilter = (path: string, isDir: boolean): boolean =>
      rules.filter(path, isDir) || (!known(path) && guestOwn.filter(path, isDir));
    let guestScan;
    try {
      guestScan = await guest.scan({
        ignore: guestFilter,
        ignoreFiles,
        onIgnoreFile: (dir, path, text) => guestOwn.add(dir, path, text),
        debrisTags: oldTags,
      });
    } catch (e) {
      if (!(dryRun && e instanceof Deno.errors.NotFound)) throw e;
      guestScan = { entries: new Map(), debris: [] as string[] };
    }
    // Is the guest tree the copy the manifest describes?
    const found = await readCopyId(guest);
    let copyState: CopyState = "same";
    const root = guest instanceof HostTree ? guest.root : "the guest tree";
    let adoptOther = false;
    if (found !== undefined && found.project !== project) {
      // A copy of a project that is gone (moved or renamed) may be adopted; one of a project
      // that still exists is refused even then (two projects would share one copy).
      let gone = false;
      try {
        Deno.lstatSync(found.project);
      } catch (e) {
        gone = e instanceof Deno.errors.NotFound;
      }
      if (!(gone && options.adopt)) {
        throw new ForeignCopyError(root, project, found.project, [], gone ? "gone" : undefined);
      }
      adoptOther = true;
    }
    if (adoptOther || base.copy === undefined || found?.copy !== base.copy) {
      if (guestScan.entries.size === 0) {
        copyState = Object.keys(base.entries).length > 0 ? "replaced" : "new";
      } else if (adoptOther) copyState = "adopted";
      else if (found !== undefined || (base.copy !== undefined && base.project === project)) {
        // This project's copy whose manifest was lost, or whose identity file the guest removed
        // (git clean -x does): merge as a first sync, deleting nothing.
        copyState = "relinked";
      } else if (options.adopt) copyState = "adopted";
      else {
        const sample = [...guestScan.entries.keys()].filter((p) => !p.includes("/")).slice(0, 4);
        throw new ForeignCopyError(
          root,
          project,
          undefined,
          sample,
          guest instanceof HostTree && oldMarkerNames(`${root}.gamma-source`, project)
            ? "older"
            : undefined,
        );
      }
      base = emptyManifest();
    }
    if (copyState === "relinked" || copyState === "adopted") {
      // A first sync with both sides full: files whose content is the same (only the time or
      // mode differ, as after a plain cp -r or a git checkout in the guest) are no conflict;
      // the host's time and mode win.
      base = await seedSameContent(host, guest, hostScan.entries, guestScan.entries);
    }
    const debris: { side: SyncSide; path: string }[] = [
      ...hostScan.debris.map((path) => ({ side: "host" as const, path })),
      ...guestScan.debris.map((path) => ({ side: "guest" as const, path })),
    ];
    const skipped = [
      ...(hostScan.skipped ?? []).map((path) => ({ side: "host" as const, path })),
      ...(guestScan.skipped ?? []).map((path) => ({ side: "guest" as const, path })),
    ];
    const plan = planSync(direction, base, hostScan.entries, guestScan.entries, {
      now: options.now ?? new Date(),
      validated: true,
    });
    const count = (actions: SyncAction[]) => ({
      copied: actions.filter((a) => a.op === "copy").length,
      removed: actions.filter((a) => a.op === "remove").length,
      bytesCopied: actions.reduce((n, a) => n + (a.op === "copy" ? a.entry.size : 0), 0),
    });
    if (dryRun) {
      return {
        direction,
        dryRun,
        copyState,
        actions: plan.actions,
        conflicts: plan.conflicts,
        deferred: plan.deferred,
        notDone: [],
        skipped,
        ...count(plan.actions),
        debrisRemoved: debris,
        ok: true,
      };
    }
    if (!options.force) {
      const doomed = plan.actions.filter((a) => a.op === "remove" && a.side === "host")
        .map((a) => a.path);
      const total = hostScan.entries.size;
      const n = doomed.length;
      if (n > 0 && (n >= total || (n * 2 > total && n > 50))) {
        throw new MassDeletionError(project, doomed.reverse(), total, direction);
      }
    }

    // Every check is done: from here on the sync writes. First the tags of this run's
    // temporary files, so that a run killed from now on is cleaned up after; and the record of
    // the last quiet state goes.
    const quiet = fingerprint !== undefined && copyState === "same" && base.project === project &&
      plan.actions.length === 0 && plan.conflicts.length === 0 && plan.deferred.length === 0 &&
      debris.length === 0 && skipped.length === 0 && oldTags.length === 0;
    try {
      if (quiet) {
        // Nothing to do: the listings are the state after this run.
        await writeState(listingPath, fingerprint!);
      } else if (checkState(listingPath, "file")) await Deno.remove(listingPath);
      await writeState(tagsPath, [...oldTags, ...myTags].map((t) => `${t}\n`).join(""));
    } catch (e) {
      if (e instanceof SyncStateError) throw e;
      throw new GammaError(
        `cannot sync: gamma could not write its list of this run's temporary files to ${tagsPath}: ${
          (e as Error).message
        }; nothing was changed (is the disk full?)`,
        { cause: e },
      );
    }
    for (const { side, path } of debris) {
      await (side === "host" ? host : guest).remove(path).catch(() => {});
    }
    const copyId = copyState === "same" ? base.copy! : newTempTag();
    if (copyState !== "same") {
      await guest.writeFile(
        COPY_ID_FILE,
        new TextEncoder().encode(`${JSON.stringify({ copy: copyId, project })}\n`),
        { mode: 0o644, mtimeMs: Date.now() },
      );
    }
    const result = await applyPlan(plan, { host, guest }, base, {
      concurrency: options.concurrency,
      expendable: { guest: guestFilter },
      onProgress: (progress) => {
        bar.update(progress);
        options.onProgress?.(progress);
      },
    });
    try {
      if (result.manifestChanged || copyState !== "same" || base.project !== project) {
        await writeState(
          manifestPath,
          stringifyManifest({ ...result.manifest, copy: copyId, project }),
        );
      }
      // Every temporary file of this run and the earlier ones is gone now.
      await writeState(tagsPath, "");
    } catch (e) {
      if (e instanceof SyncStateError) throw e;
      throw new GammaError(
        `the files are synced, but gamma could not write its record of this sync (the manifest ${manifestPath}): ${
          (e as Error).message
        }; nothing was lost: both sides keep their files, and the next sync finds what this one carried equal on both sides and records it without conflicts (is the disk full?)`,
        { cause: e },
      );
    }
    return {
      direction,
      dryRun,
      copyState,
      actions: result.done,
      conflicts: plan.conflicts,
      deferred: plan.deferred,
      notDone: result.notDone,
      skipped,
      ...count(result.done),
      bytesCopied: result.bytesCopied,
      debrisRemoved: debris,
      ok: result.notDone.every((outcome) => !outcome.failed),
    };
  } finally {
    bar.finish();
    lock.close();
  }
}
