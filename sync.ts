/**
 * The sync engine behind gamma's Mode S, usable on its own: two {@linkcode Tree}s (a real
 * directory as a {@linkcode HostTree}, a virtual one as a {@linkcode MemoryTree}, or your own
 * implementation), a three-way planner against the manifest of the last sync
 * ({@linkcode planSync}), an atomic apply with preconditions ({@linkcode applyPlan}), and
 * {@linkcode syncTrees}, which does all of it under a lock, and {@linkcode LiveSync}, which keeps two
 * trees in step while they change. Deletions propagate; a file changed
 * on both sides keeps both versions. `.gammaignore` rules are read by {@linkcode compileIgnore}.
 *
 * To sync the working directory's project with its copy in a Lima instance, use
 * `GammaSession.syncProject` from `@devshell/gamma`; this module is for other trees.
 *
 * @example Sync a directory with a tree held in memory
 * ```ts
 * import { HostTree, MemoryTree, syncTrees } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const source = new MemoryTree();
 * source.setFile("src/main.rs", "fn main() {}\n");
 * const options = { stateDir: `${dir}/state`, progress: false };
 *
 * await Deno.mkdir(`${dir}/copy`);
 * const report = await syncTrees("push", source, new HostTree(`${dir}/copy`), options);
 * assert.equal(report.copied, 1);
 * assert.equal(await Deno.readTextFile(`${dir}/copy/src/main.rs`), "fn main() {}\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export { HostTree, type HostTreeOptions } from "./lib/session/host_tree.ts";
export {
  type LiveBatch,
  liveLine,
  LiveSync,
  type LiveSyncOptions,
} from "./lib/session/live_sync.ts";
export {
  COPY_ID_FILE,
  type CopyState,
  type SyncReport,
  syncTrees,
  type SyncTreesOptions,
} from "./lib/session/sync.ts";
export {
  type ActionOutcome,
  type ApplyOptions,
  applyPlan,
  type ApplyProgress,
  type ApplyResult,
} from "./lib/sync/apply.ts";
export {
  compileIgnore,
  GITIGNORE_FILE,
  IGNORE_FILE,
  type IgnoreReason,
  IgnoreRules,
} from "./lib/sync/ignore.ts";
export { emptyManifest, parseManifest, stringifyManifest } from "./lib/sync/manifest.ts";
export { MemoryTree, type MemoryTreeOptions, type SetFileOptions } from "./lib/sync/memory_tree.ts";
export {
  type Conflict,
  conflictStamp,
  type PlanOptions,
  planSync,
  type SyncAction,
  type SyncDirection,
  type SyncPlan,
  type SyncSide,
} from "./lib/sync/plan.ts";
export {
  type Expectation,
  type ExpectOptions,
  type FileData,
  type IgnoreFilter,
  type RemoveOptions,
  type ScanOptions,
  type Tree,
  TreeError,
  type TreeErrorKind,
  type TreeScan,
  type WriteFileOptions,
} from "./lib/sync/tree.ts";
export {
  comparePaths,
  type DirEntry,
  type FileEntry,
  type Manifest,
  sameEntry,
  type SymlinkEntry,
  type SyncEntry,
  validateRelativePath,
} from "./lib/sync/types.ts";
