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
import type { IgnoreReason, IgnoreRules } from "../sync/ignore.ts";
import { GITIGNORE_FILE, IGNORE_FILE } from "../sync/ignore_files.ts";
import {
  diffListings,
  entryOfRecord,
  type FindRecord,
  listingAfterWrites,
  recordsOf,
} from "../sync/listing.ts";
import {
  decodeManifestEntry,
  emptyManifest,
  encodeManifestEntry,
  manifestChunks,
  type ManifestRecords,
  ManifestText,
  parseManifest,
  parseManifestRecords,
  stringifyManifestRecords,
} from "../sync/manifest.ts";
import {
  type Conflict,
  planSync,
  type SyncAction,
  type SyncDirection,
  type SyncPlan,
  type SyncSide,
} from "../sync/plan.ts";
import { formatProgress } from "../sync/progress.ts";
import { type IgnoreFilter, type Tree, TreeError } from "../sync/tree.ts";
import { ancestors, isValidPath, setOwn } from "../sync/_paths.ts";
import { comparePaths, type Manifest, sameEntry, type SyncEntry } from "../sync/types.ts";
import { HostTree, newTempTag } from "./host_tree.ts";
import { checkState, readStateText, SyncStateError, writeState } from "./sync_state.ts";

export { SyncStateError } from "./sync_state.ts";

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
   * (`manifest.json`), the lock (`lock`), the tags of unfinished runs (`temp-tags`) and the
   * listings the last sync planned from (`listing`, `listing-host`, `listing-guest`). It must
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
 * assert.deepEqual(await ignoredDirectory(project, "target/debug"), {
 *   path: "target",
 *   reason: { file: ".gitignore", pattern: "target/" },
 * });
 * assert.equal(await ignoredDirectory(project, "src"), undefined);
 * await Deno.remove(project, { recursive: true });
 * ```
 */
export async function ignoredDirectory(
  project: string,
  dir: string,
  options: { gitignore?: boolean; extraIgnore?: readonly string[] } = {},
): Promise<{ path: string; reason: IgnoreReason } | undefined> {
  const texts = ignoreTextsOnTheWay(project, dir, options);
  if (texts === undefined) return undefined;
  const { IgnoreRules } = await import("../sync/ignore.ts");
  return explainOnTheWay(new IgnoreRules(), dir, texts, options.extraIgnore ?? []);
}

/**
 * {@linkcode ignoredDirectory} for a caller that has loaded the matcher already (a live sync).
 *
 * @param rules Empty rules to fill.
 * @param project The project root (absolute).
 * @param dir A directory inside it, relative.
 * @param options As for {@linkcode ignoredDirectory}.
 * @returns The ignored directory (relative) and why, or `undefined`.
 */
export function ignoredDirectoryWith(
  rules: IgnoreRules,
  project: string,
  dir: string,
  options: { gitignore?: boolean; extraIgnore?: readonly string[] } = {},
): { path: string; reason: IgnoreReason } | undefined {
  const texts = ignoreTextsOnTheWay(project, dir, options);
  if (texts === undefined) return undefined;
  return explainOnTheWay(rules, dir, texts, options.extraIgnore ?? []);
}

/** The ignore files of the directories above `dir` (and the root), or `undefined` when no rule can apply. */
function ignoreTextsOnTheWay(
  project: string,
  dir: string,
  options: { gitignore?: boolean; extraIgnore?: readonly string[] },
): { dir: string; path: string; text: string }[] | undefined {
  if (dir === "") return undefined;
  const files = (options.gitignore ?? true) ? [GITIGNORE_FILE, IGNORE_FILE] : [IGNORE_FILE];
  const dirs = [""];
  const parts = dir.split("/");
  for (let i = 1; i < parts.length; i++) dirs.push(parts.slice(0, i).join("/"));
  const texts = ignoreTexts(project, dirs, files);
  return texts.length === 0 && (options.extraIgnore ?? []).length === 0 ? undefined : texts;
}

function explainOnTheWay(
  rules: IgnoreRules,
  dir: string,
  texts: { dir: string; path: string; text: string }[],
  extra: readonly string[],
): { path: string; reason: IgnoreReason } | undefined {
  if (extra.length > 0) rules.add("", "(settings sync.ignore)", extra.join("\n"), { last: true });
  const add = (rel: string) => {
    for (const t of texts) if (t.dir === rel) rules.add(t.dir, t.path, t.text);
  };
  add("");
  const parts = dir.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const path = parts.slice(0, i).join("/");
    const reason = rules.explain(path, true);
    if (reason !== undefined) return { path, reason };
    add(path);
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

/** Rules as the scans use them; the matcher package is loaded only where some rule exists. */
type Rules = Pick<IgnoreRules, "filter" | "add">;

/**
 * A maker of ignore rules. Without ignore files nothing but exact paths is ever left out, and
 * the `ignore` package (whose loading costs more than a small sync) stays unloaded.
 */
async function loadRules(needed: boolean): Promise<(always?: readonly string[]) => Rules> {
  if (needed) {
    const { IgnoreRules } = await import("../sync/ignore.ts");
    return (always = []) => new IgnoreRules(always);
  }
  return (always = []) => {
    const exact = new Set(always);
    return {
      filter: (path: string) => exact.has(path),
      add: () => {
        throw new Error("internal: ignore rules were added after the listing said there were none");
      },
    };
  };
}

/** Whether a listing names an ignore file anywhere (a link's target may say so falsely: harmless). */
function mentionsIgnoreFile(listing: Uint8Array, names: readonly string[]): boolean {
  const text = new TextDecoder().decode(listing);
  return names.some((name) => text.includes(`\0${name}\0`) || text.includes(`/${name}\0`));
}

/**
 * The texts of the ignore files in the given directories of a tree: regular files only, in real
 * directories only (a directory that is a link, or lies under one, is never looked into).
 */
function ignoreTexts(
  root: string,
  dirs: Iterable<string>,
  names: readonly string[],
): { dir: string; path: string; text: string }[] {
  const out = [];
  const real = new Set<string>([""]);
  for (const dir of [...dirs].sort(comparePaths)) {
    if (dir !== "") {
      const slash = dir.lastIndexOf("/");
      if (!real.has(slash === -1 ? "" : dir.slice(0, slash))) continue;
      try {
        if (!Deno.lstatSync(`${root}/${dir}`).isDirectory) continue;
      } catch {
        continue; // gone, or not a directory on this side
      }
      real.add(dir);
    }
    for (const name of names) {
      const path = dir === "" ? name : `${dir}/${name}`;
      try {
        if (!Deno.lstatSync(`${root}/${path}`).isFile) continue;
        out.push({ dir, path, text: Deno.readTextFileSync(`${root}/${path}`) });
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
  }
  return out;
}

/** Both trees' listings (raw), when both are host directories that `find` can list. */
async function listBoth(
  host: Tree,
  guest: Tree,
  scratch: string,
): Promise<{ host: Uint8Array; guest: Uint8Array } | undefined> {
  if (!(host instanceof HostTree && guest instanceof HostTree)) return undefined;
  host.prefetch(scratch);
  let guestMissing = false;
  try {
    Deno.lstatSync(guest.root);
    guest.prefetch(scratch);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    guestMissing = true; // nothing there yet: an empty listing is the truth
  }
  const [h, g] = await Promise.all([
    host.listing(),
    guestMissing ? new Uint8Array() : guest.listing(),
  ]);
  return h === undefined || g === undefined ? undefined : { host: h, guest: g };
}

/** Both listings when every name in them is UTF-8, else `undefined` (the scans say which). */
function validListings(raw: { host: Uint8Array; guest: Uint8Array }): Listings | undefined {
  return isUtf8(raw.host) && isUtf8(raw.guest) ? raw : undefined;
}

/** Whether bytes are valid UTF-8 (a plain ASCII scan first). */
function isUtf8(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && bytes[i]! < 0x80) i++;
  if (i === bytes.length) return true;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(i - (i > 3 ? 3 : i)));
    return true;
  } catch {
    return false;
  }
}

/** Whether two byte strings are equal (eight bytes at a time). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  const n = a.length;
  let i = 0;
  if (a.byteOffset % 8 === 0 && b.byteOffset % 8 === 0) {
    const wa = new BigUint64Array(a.buffer, a.byteOffset, n >> 3);
    const wb = new BigUint64Array(b.buffer, b.byteOffset, n >> 3);
    for (let k = 0; k < wa.length; k++) if (wa[k] !== wb[k]) return false;
    i = wa.length * 8;
  }
  for (; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The listings a sync planned from, and what it left unsettled (see {@linkcode writeListings}). */
interface StoredListings {
  host: Uint8Array;
  guest: Uint8Array;
  unsettled: string[];
}

function manifestStamp(path: string): string | undefined {
  try {
    const info = Deno.lstatSync(path);
    if (!info.isFile) return undefined;
    return `${info.dev}:${info.ino}:${info.size}:${info.mtime?.getTime()}`;
  } catch {
    return undefined;
  }
}

/**
 * The listings stored by the last sync of this pair (`listing`, `listing-host`,
 * `listing-guest` in the state directory), when they were stored for the same roots and
 * options together with the manifest as it is now; `undefined` otherwise.
 */
function readListings(
  stateDir: string,
  key: string,
  manifestPath: string,
): StoredListings | undefined {
  const metaText = readStateText(`${stateDir}/listing`);
  if (metaText === undefined) return undefined;
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(metaText);
  } catch {
    return undefined;
  }
  if (
    typeof meta !== "object" || meta === null || meta.key !== key ||
    meta.manifest !== manifestStamp(manifestPath) || !Array.isArray(meta.unsettled) ||
    !meta.unsettled.every((p) => typeof p === "string" && isValidPath(p))
  ) return undefined;
  const read = (name: string): Uint8Array | undefined =>
    checkState(`${stateDir}/${name}`, "file")
      ? Deno.readFileSync(`${stateDir}/${name}`)
      : undefined;
  const host = read("listing-host");
  const guest = read("listing-guest");
  if (host === undefined || guest === undefined) return undefined;
  if (host.length !== meta.hostLength || guest.length !== meta.guestLength) return undefined;
  return { host, guest, unsettled: meta.unsettled as string[] };
}

/** Store the listings a sync planned from (after its manifest): the next sync compares with them. */
async function writeListings(
  stateDir: string,
  key: string,
  listings: Listings,
  unsettled: string[],
  manifestPath: string,
): Promise<void> {
  const stamp = manifestStamp(manifestPath);
  if (stamp === undefined) return;
  await writeState(`${stateDir}/listing-host`, listings.host);
  await writeState(`${stateDir}/listing-guest`, listings.guest);
  await writeState(
    `${stateDir}/listing`,
    `${
      JSON.stringify({
        key,
        manifest: stamp,
        hostLength: listings.host.length,
        guestLength: listings.guest.length,
        unsettled,
      })
    }\n`,
  );
}

/** Below this many writes to a tree, the next sync looks at each written path again. */
const RELIST_AFTER = 1000;

/**
 * The listing of one tree to keep after a run: the one it planned from, where what the run
 * wrote is either confirmed by a new listing (many writes: a first sync) or marked unsettled
 * (a few), so that the next run looks at those paths again; what the run wrote never counts
 * as a change of the user's, and a change the user made meanwhile always does.
 */
async function listingAfterRun(
  scratch: string,
  tree: HostTree,
  side: SyncSide,
  done: SyncAction[],
  before: Uint8Array,
  unsettled: Set<string>,
): Promise<Uint8Array> {
  const written = new Map<string, SyncEntry | null>();
  for (const action of done) {
    if (action.side !== side) continue;
    switch (action.op) {
      case "copy":
        written.set(action.path, action.entry);
        break;
      case "mkdir":
        written.set(action.path, { type: "dir", mode: action.mode });
        break;
      case "symlink":
        written.set(action.path, { type: "symlink", target: action.target });
        break;
      case "remove":
        written.set(action.path, null);
        break;
      case "chmod":
        written.set(
          action.path,
          action.expect.type === "symlink"
            ? action.expect
            : { ...action.expect, mode: action.mode },
        );
        break;
    }
  }
  if (written.size === 0) return before;
  let after: Uint8Array | undefined;
  if (written.size >= RELIST_AFTER) {
    tree.prefetch(scratch);
    after = await tree.listing();
    tree.dropListing();
    if (after !== undefined && !isUtf8(after)) after = undefined;
  }
  if (after === undefined) {
    for (const path of written.keys()) unsettled.add(path);
    return before;
  }
  const { listing, unconfirmed } = listingAfterWrites(before, after, written);
  for (const path of unconfirmed) unsettled.add(path);
  return listing;
}

/** Forget the stored listings (before a sync writes anything). */
function dropListings(stateDir: string): void {
  if (checkState(`${stateDir}/listing`, "file")) Deno.removeSync(`${stateDir}/listing`);
}

/** The report of a sync that found nothing to do. */
function emptyReport(direction: SyncDirection, dryRun: boolean): SyncReport {
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

const ENTRY_KIND: Record<string, string> = { f: "file", d: "dir", l: "symlink" };

/**
 * Plan from the paths whose records differ from the stored listings (and those the last sync
 * left unsettled), with the same engine and rules as a whole scan: only those paths, their
 * directories and their manifest entries are read. `undefined` (plan from whole scans instead)
 * for anything out of the ordinary: an ignore file changed, the copy's identity is not the
 * manifest's, an entry changed kind, a conflict, or a deletion on the host (whose safety stop
 * counts the whole tree) or of a directory.
 */
async function prepareChanged(
  direction: SyncDirection,
  host: HostTree,
  guest: HostTree,
  o: {
    listings: Listings;
    stored: StoredListings;
    manifestPath: string;
    project: string;
    ignoreFiles: string[];
    extraIgnore: readonly string[];
    now: Date;
  },
): Promise<Prepared | undefined> {
  const changed = diffListings(o.stored.host, o.listings.host);
  for (const path of diffListings(o.stored.guest, o.listings.guest)) changed.add(path);
  for (const path of o.stored.unsettled) changed.add(path);
  const ignoreNames = [GITIGNORE_FILE, IGNORE_FILE];
  const dirs = new Set<string>([""]);
  for (const path of changed) {
    if (ignoreNames.includes(path.slice(path.lastIndexOf("/") + 1))) return undefined;
    for (const dir of ancestors(path)) dirs.add(dir);
  }
  const paths = new Set([...changed, ...dirs]);
  paths.delete("");
  const text = readStateText(o.manifestPath);
  if (text === undefined) return undefined;
  // The entries of these paths are found in the manifest's text; the rest is never parsed.
  let lazy: ManifestText | undefined;
  let records: ManifestRecords | undefined;
  try {
    lazy = ManifestText.from(text);
    if (lazy === undefined) records = parseManifestRecords(text);
    else lazy.find(paths);
  } catch {
    return undefined; // the whole path reports it
  }
  const head = lazy?.head ?? records!;
  if (head.copy === undefined || head.project !== o.project) return undefined;
  const found = await readCopyId(guest);
  if (found === undefined || found.copy !== head.copy || found.project !== o.project) {
    return undefined;
  }
  const sorted = [...paths].sort(comparePaths);
  const hostRecords = recordsOf(o.listings.host, paths);
  const guestRecords = recordsOf(o.listings.guest, paths);
  const baseEntries: Record<string, SyncEntry> = {};
  for (const path of sorted) {
    let entry: SyncEntry | undefined;
    try {
      entry = lazy !== undefined
        ? lazy.get(path)
        : Object.hasOwn(records!.entries, path)
        ? decodeManifestEntry(path, records!.entries[path])
        : undefined;
    } catch {
      return undefined;
    }
    if (entry === undefined) continue;
    const h = hostRecords.get(path);
    const g = guestRecords.get(path);
    setOwn(baseEntries, path, entry);
    if (
      (h !== undefined && ENTRY_KIND[h.type] !== entry.type) ||
      (g !== undefined && ENTRY_KIND[g.type] !== entry.type)
    ) return undefined;
  }
  for (const path of sorted) {
    const h = hostRecords.get(path);
    const g = guestRecords.get(path);
    if (h !== undefined && g !== undefined && h.type !== g.type) return undefined;
  }
  // The rules of the directories on the way (the same files a whole scan reads for them).
  const hostTexts = ignoreTexts(host.root, dirs, o.ignoreFiles);
  const guestTexts = ignoreTexts(guest.root, dirs, o.ignoreFiles);
  const make = await loadRules(
    o.extraIgnore.length > 0 || hostTexts.length > 0 || guestTexts.length > 0,
  );
  const rules = make([COPY_ID_FILE]);
  if (o.extraIgnore.length > 0) {
    rules.add("", "(settings sync.ignore)", o.extraIgnore.join("\n"), { last: true });
  }
  for (const { dir, path, text } of hostTexts) rules.add(dir, path, text);
  const guestOwn = make();
  for (const { dir, path, text } of guestTexts) guestOwn.add(dir, path, text);
  const pick = (
    found: Map<string, FindRecord>,
    filter: IgnoreFilter,
    into: Map<string, SyncEntry>,
  ): void => {
    const excluded = new Map<string, boolean>();
    const left = (path: string): boolean => {
      for (const dir of ancestors(path)) {
        let out = excluded.get(dir);
        if (out === undefined) excluded.set(dir, out = filter(dir, true));
        if (out) return true;
      }
      return false;
    };
    for (const path of sorted) {
      const record = found.get(path);
      if (record === undefined || left(path) || filter(path, record.type === "d")) continue;
      const entry = entryOfRecord(record);
      if (entry !== undefined) into.set(path, entry);
    }
  };
  const hostEntries = new Map<string, SyncEntry>();
  pick(hostRecords, rules.filter, hostEntries);
  // Outside the paths looked at, what the host has is what the manifest records (else the path
  // would have been unsettled or changed).
  const recorded = (path: string): boolean => {
    if (Object.hasOwn(baseEntries, path)) return true;
    if (paths.has(path)) return false;
    try {
      return lazy !== undefined
        ? lazy.get(path) !== undefined
        : Object.hasOwn(records!.entries, path);
    } catch {
      return true;
    }
  };
  const known = (path: string) => hostEntries.has(path) || recorded(path);
  const guestFilter = (path: string, isDir: boolean): boolean =>
    rules.filter(path, isDir) || (!known(path) && guestOwn.filter(path, isDir));
  const guestEntries = new Map<string, SyncEntry>();
  pick(guestRecords, guestFilter, guestEntries);
  const base: Manifest = {
    version: 1,
    copy: head.copy,
    project: head.project,
    entries: baseEntries,
  };
  const plan = planSync(direction, base, hostEntries, guestEntries, {
    now: o.now,
    validated: true,
  });
  // Removing a directory weighs what it holds, ignored files included, with the rules of every
  // directory below it: that is a whole scan's work.
  if (
    plan.conflicts.length > 0 ||
    plan.actions.some((a) => a.op === "remove" && (a.side === "host" || a.expect?.type === "dir"))
  ) return undefined;
  return {
    plan,
    base,
    copyState: "same",
    debris: [],
    skipped: [],
    guestFilter,
    hostTotal: undefined,
    manifestText: (manifest) => {
      const changes = new Map<string, SyncEntry | undefined>();
      for (const path of sorted) {
        const now = Object.hasOwn(manifest.entries, path) ? manifest.entries[path] : undefined;
        const was = Object.hasOwn(baseEntries, path) ? baseEntries[path] : undefined;
        if (!sameEntry(now, was)) changes.set(path, now);
      }
      const spliced = lazy?.with(changes);
      if (spliced !== undefined) return spliced;
      records ??= parseManifestRecords(text);
      for (const [path, entry] of changes) {
        if (entry !== undefined) setOwn(records.entries, path, encodeManifestEntry(entry));
        else delete records.entries[path];
      }
      return stringifyManifestRecords({
        copy: head.copy,
        project: o.project,
        entries: records.entries,
      });
    },
  };
}

/** What a sync plans from, and how it stores the manifest afterwards. */
interface Prepared {
  plan: SyncPlan;
  /** The base of the plan (all of the manifest, or the entries of the paths looked at). */
  base: Manifest;
  copyState: CopyState;
  debris: { side: SyncSide; path: string }[];
  skipped: { side: SyncSide; path: string }[];
  /** The guest's filter: the host's rules, and the guest's own for paths only it has. */
  guestFilter: IgnoreFilter;
  /** How many entries the host tree has (for the mass-deletion stop), when it was scanned whole. */
  hostTotal: number | undefined;
  /** The text of the manifest to store after the plan's {@linkcode applyPlan} (or its pieces). */
  manifestText(manifest: Manifest, copyId: string): string | Iterable<string>;
}

/** Both trees' listings (valid UTF-8 only). */
interface Listings {
  host: Uint8Array;
  guest: Uint8Array;
}

interface PrepareOptions {
  listings: Listings | undefined;
  manifestPath: string;
  project: string;
  ignoreFiles: string[];
  extraIgnore: readonly string[];
  oldTags: string[];
  dryRun: boolean;
  adopt: boolean;
  now: Date;
}

/** Plan from a scan of both whole trees (the first sync, and whenever the listings cannot be compared). */
async function prepareFull(
  direction: SyncDirection,
  host: Tree,
  guest: Tree,
  o: PrepareOptions,
): Promise<Prepared> {
  let base = readManifest(o.manifestPath);

  const make = await loadRules(
    o.listings === undefined || o.extraIgnore.length > 0 ||
      mentionsIgnoreFile(o.listings.host, o.ignoreFiles) ||
      mentionsIgnoreFile(o.listings.guest, o.ignoreFiles),
  );
  const rules = make([COPY_ID_FILE]);
  if (o.extraIgnore.length > 0) {
    rules.add("", "(settings sync.ignore)", o.extraIgnore.join("\n"), { last: true });
  }
  const ignoreFiles = o.ignoreFiles;
  // The copy was listed while the host tree was: its scan needs the host's ignore rules, so it
  // is filtered once the host's scan is done.
  if (guest instanceof HostTree && o.listings === undefined) guest.prefetch();
  const hostScan = await host.scan({
    ignore: rules.filter,
    ignoreFiles,
    onIgnoreFile: (dir, path, text) => rules.add(dir, path, text),
    debrisTags: o.oldTags,
  });
  if (guest instanceof HostTree && !o.dryRun) {
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
  const guestOwn = make();
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
      debrisTags: o.oldTags,
    });
  } catch (e) {
    if (!(o.dryRun && e instanceof Deno.errors.NotFound)) throw e;
    guestScan = { entries: new Map(), debris: [] as string[] };
  }
  // Is the guest tree the copy the manifest describes?
  const found = await readCopyId(guest);
  let copyState: CopyState = "same";
  const root = guest instanceof HostTree ? guest.root : "the guest tree";
  let adoptOther = false;
  if (found !== undefined && found.project !== o.project) {
    // A copy of a project that is gone (moved or renamed) may be adopted; one of a project
    // that still exists is refused even then (two projects would share one copy).
    let gone = false;
    try {
      Deno.lstatSync(found.project);
    } catch (e) {
      gone = e instanceof Deno.errors.NotFound;
    }
    if (!(gone && o.adopt)) {
      throw new ForeignCopyError(root, o.project, found.project, [], gone ? "gone" : undefined);
    }
    adoptOther = true;
  }
  if (adoptOther || base.copy === undefined || found?.copy !== base.copy) {
    if (guestScan.entries.size === 0) {
      copyState = Object.keys(base.entries).length > 0 ? "replaced" : "new";
    } else if (adoptOther) copyState = "adopted";
    else if (found !== undefined || (base.copy !== undefined && base.project === o.project)) {
      // This project's copy whose manifest was lost, or whose identity file the guest removed
      // (git clean -x does): merge as a first sync, deleting nothing.
      copyState = "relinked";
    } else if (o.adopt) copyState = "adopted";
    else {
      const sample = [...guestScan.entries.keys()].filter((p) => !p.includes("/")).slice(0, 4);
      throw new ForeignCopyError(
        root,
        o.project,
        undefined,
        sample,
        guest instanceof HostTree && oldMarkerNames(`${root}.gamma-source`, o.project)
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
    now: o.now,
    validated: true,
  });
  return {
    plan,
    base,
    copyState,
    debris,
    skipped,
    guestFilter,
    hostTotal: hostScan.entries.size,
    manifestText: (manifest, copyId) =>
      manifestChunks({ ...manifest, copy: copyId, project: o.project }),
  };
}

/**
 * Sync the host tree and the guest (staging) tree once, in `direction`:
 *
 * 1. check the state directory and its files with `lstat` (never a link), take the lock (one
 *    sync at a time per state directory; after `lockNoticeMs` it says who holds it);
 * 2. list both trees at once (on Linux with GNU `find`, in two processes); when both listings
 *    are those the last sync kept and it left nothing unsettled, stop here: nothing changed.
 *    When only some records differ (and nothing unusual happened: no ignore file changed, no
 *    entry changed kind), look only at those paths, their directories and their entries of the
 *    manifest, with the same rules as below, and go on with step 4 (a conflict, or a deletion
 *    on the host or of a directory, takes the whole scan instead). Otherwise
 *    scan both trees, reading
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
 * 5. store the new manifest atomically, then the listings it planned from (with what it wrote
 *    confirmed by a new listing after many writes, or left unsettled for the next sync to look
 *    at again).
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
    // Both trees are listed at once (in other processes where that is available). A sync keeps
    // the listings it planned from: when both are as recorded and nothing was left unsettled,
    // nothing changed since (the run is over before any listing is parsed); otherwise only the
    // paths whose records differ are looked at again.
    const key = JSON.stringify([
      2,
      host instanceof HostTree ? host.root : "",
      guest instanceof HostTree ? guest.root : "",
      project,
      options.gitignore ?? true,
      options.extraIgnore ?? [],
    ]);
    // Never through a link, whether or not this run reads or writes them.
    for (const name of ["listing", "listing-host", "listing-guest"]) {
      checkState(`${stateDir}/${name}`, "file");
    }
    const raw = await listBoth(host, guest, stateDir);
    const previous = raw !== undefined && oldTags.length === 0
      ? readListings(stateDir, key, manifestPath)
      : undefined;
    if (
      previous !== undefined && previous.unsettled.length === 0 &&
      sameBytes(previous.host, raw!.host) && sameBytes(previous.guest, raw!.guest)
    ) {
      return emptyReport(direction, dryRun);
    }
    const listings = raw === undefined ? undefined : validListings(raw);
    const stored = listings === undefined ? undefined : previous;
    const ignoreFiles = (options.gitignore ?? true) ? [GITIGNORE_FILE, IGNORE_FILE] : [IGNORE_FILE];
    const prepared = (stored !== undefined
      ? await prepareChanged(direction, host as HostTree, guest as HostTree, {
        listings: listings!,
        stored,
        manifestPath,
        project,
        ignoreFiles,
        extraIgnore: options.extraIgnore ?? [],
        now: options.now ?? new Date(),
      })
      : undefined) ??
      await prepareFull(direction, host, guest, {
        listings,
        manifestPath,
        project,
        ignoreFiles,
        extraIgnore: options.extraIgnore ?? [],
        oldTags,
        dryRun,
        adopt: options.adopt ?? false,
        now: options.now ?? new Date(),
      });
    const { plan, base, copyState, debris, skipped } = prepared;
    const count = (actions: SyncAction[]) => {
      let copied = 0;
      let removed = 0;
      let bytesCopied = 0;
      for (const a of actions) {
        if (a.op === "copy") {
          copied++;
          bytesCopied += a.entry.size;
        } else if (a.op === "remove") {
          removed++;
        }
      }
      return { copied, removed, bytesCopied };
    };
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
    if (!options.force && prepared.hostTotal !== undefined) {
      const doomed = plan.actions.filter((a) =>
        a.op === "remove" && a.side === "host"
      )
        .map((a) => a.path);
      const total = prepared.hostTotal;
      const n = doomed.length;
      if (n > 0 && (n >= total || (n * 2 > total && n > 50))) {
        throw new MassDeletionError(project, doomed.reverse(), total, direction);
      }
    }

    // Every check is done: from here on the sync writes. The record of the listings goes
    // first (a run that stops half-way leaves none: the next one looks at everything); then the
    // tags of this run's temporary files, so that a run killed from now on is cleaned up after.
    const writes = plan.actions.length > 0 || debris.length > 0 || copyState !== "same" ||
      oldTags.length > 0;
    const copyId = copyState === "same" ? base.copy! : newTempTag();
    try {
      dropListings(stateDir);
      if (writes) {
        await writeState(tagsPath, [...oldTags, ...myTags].map((t) => `${t}\n`).join(""));
      }
    } catch (e) {
      if (e instanceof SyncStateError) throw e;
      throw new GammaError(
        `cannot sync: gamma could not write its list of this run's temporary files to ${tagsPath}: ${
          (e as Error).message
        }; nothing was changed (is the disk full?)`,
        { cause: e },
      );
    }
    if (writes) {
      for (const { side, path } of debris) {
        await (side === "host" ? host : guest).remove(path).catch(() => {});
      }
      if (copyState !== "same") {
        await guest.writeFile(
          COPY_ID_FILE,
          new TextEncoder().encode(`${JSON.stringify({ copy: copyId, project })}\n`),
          { mode: 0o644, mtimeMs: Date.now() },
        );
      }
    }
    const result = await applyPlan(plan, { host, guest }, base, {
      concurrency: options.concurrency,
      expendable: { guest: prepared.guestFilter },
      onProgress: (progress) => {
        bar.update(progress);
        options.onProgress?.(progress);
      },
    });
    try {
      if (result.manifestChanged || copyState !== "same" || base.project !== project) {
        await writeState(manifestPath, prepared.manifestText(result.manifest, copyId));
      }
      // Every temporary file of this run and the earlier ones is gone now.
      if (writes) await writeState(tagsPath, "");
      if (listings !== undefined) {
        // What this run planned from, and the paths it left unsettled: the next run looks again
        // at those and at every path whose record differs.
        const unsettled = new Set<string>(plan.deferred);
        for (const { path, conflictPath } of plan.conflicts) {
          unsettled.add(path);
          unsettled.add(conflictPath);
        }
        for (const { action } of result.notDone) unsettled.add(action.path);
        const kept = { ...listings };
        for (const side of ["host", "guest"] as const) {
          const tree = (side === "host" ? host : guest) as HostTree;
          const text = await listingAfterRun(
            stateDir,
            tree,
            side,
            result.done,
            side === "host" ? kept.host : kept.guest,
            unsettled,
          );
          if (side === "host") kept.host = text;
          else kept.guest = text;
        }
        await writeListings(stateDir, key, kept, [...unsettled], manifestPath);
      }
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
    // A listing taken for this run must not serve a later scan.
    for (const tree of [host, guest]) if (tree instanceof HostTree) tree.dropListing();
  }
}
