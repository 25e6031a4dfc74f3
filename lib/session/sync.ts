/**
 * {@linkcode syncTrees}: one Mode S sync between the host tree and the staging tree, with the
 * manifest (the state of the last sync) and a lock stored beside the staging directory, the
 * `.gammaignore` rules of the host tree, and a progress bar on a terminal.
 *
 * @module
 */

import { posix } from "node:path";
import { normalizeAbsolutePath } from "../guest_path.ts";
import { type ActionOutcome, applyPlan, type ApplyProgress } from "../sync/apply.ts";
import { compileIgnore, IGNORE_FILE } from "../sync/ignore.ts";
import { emptyManifest, parseManifest, stringifyManifest } from "../sync/manifest.ts";
import {
  type Conflict,
  planSync,
  type SyncAction,
  type SyncDirection,
  type SyncSide,
} from "../sync/plan.ts";
import type { Tree } from "../sync/tree.ts";
import type { Manifest } from "../sync/types.ts";
import { HostTree, TEMP_PREFIX } from "./host_tree.ts";

/**
 * Options of {@linkcode syncTrees}.
 *
 * @example Usage
 * ```ts
 * import type { SyncTreesOptions } from "@devshell/gamma";
 *
 * const options: SyncTreesOptions = {
 *   manifestPath: "/home/me/.cache/gamma/sync/app.manifest.json",
 *   dryRun: true,
 * };
 * ```
 */
export interface SyncTreesOptions {
  /**
   * Absolute path of the manifest (JSON), outside the user's project, typically beside the
   * staging directory. Its directory is created when missing.
   */
  manifestPath: string;
  /** Absolute path of the lock file; default `manifestPath` + `.lock`. */
  lockPath?: string | undefined;
  /** Plan and report without changing anything (it still takes the lock, to read a settled state). */
  dryRun?: boolean | undefined;
  /**
   * Show a progress bar on stderr when the sync takes more than half a second: `"auto"` (the
   * default) when stderr is a terminal, `true` always, `false` never.
   */
  progress?: boolean | "auto" | undefined;
  /** Called after every action (for a caller's own progress display). */
  onProgress?: ((progress: ApplyProgress) => void) | undefined;
  /** The time that names conflict copies; default now. */
  now?: Date | undefined;
  /** How many file copies run at once; default 4. */
  concurrency?: number | undefined;
  /** Gitignore patterns added after the host's `.gammaignore` rules (settings `sync.ignore`). */
  extraIgnore?: readonly string[] | undefined;
}

/**
 * What {@linkcode syncTrees} did (or, with `dryRun`, would do), as JSON-able data.
 *
 * @example Usage
 * ```ts
 * import type { SyncReport } from "@devshell/gamma";
 *
 * const report: SyncReport = {
 *   direction: "push",
 *   dryRun: false,
 *   actions: [],
 *   conflicts: [],
 *   deferred: [],
 *   notDone: [],
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
  /** The actions done (dry run: planned), in order. */
  actions: SyncAction[];
  /** Every conflict found (the guest version kept beside the host's, on both sides). */
  conflicts: Conflict[];
  /** Paths with changes this direction does not carry (the other direction will). */
  deferred: string[];
  /** Actions skipped (changed meanwhile, directory holding ignored files) or failed. */
  notDone: ActionOutcome[];
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

/** The relative path of `abs` inside the host tree `tree`, if it is one and `abs` is inside. */
function insidePath(tree: Tree, abs: string): string | undefined {
  if (!(tree instanceof HostTree)) return undefined;
  const rel = posix.relative(tree.root, abs);
  return rel === "" || rel.startsWith("..") || posix.isAbsolute(rel) ? undefined : rel;
}

async function readManifest(path: string): Promise<Manifest> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return emptyManifest();
    throw e;
  }
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

async function writeManifest(path: string, manifest: Manifest): Promise<void> {
  const tmp = `${posix.dirname(path)}/${TEMP_PREFIX}${posix.basename(path)}-${
    crypto.randomUUID().slice(0, 8)
  }`;
  try {
    await Deno.writeTextFile(tmp, stringifyManifest(manifest), { createNew: true });
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

async function readIgnoreRules(host: Tree): Promise<string> {
  const entry = await host.stat(IGNORE_FILE);
  if (entry?.type !== "file") return "";
  const data = await host.readFile(IGNORE_FILE);
  return data instanceof Uint8Array
    ? new TextDecoder().decode(data)
    : await new Response(data).text();
}

/** A dax progress bar that appears only after half a second. */
function lateProgressBar(enabled: boolean): {
  update(progress: ApplyProgress): void;
  finish(): void;
} {
  if (!enabled) return { update() {}, finish() {} };
  let latest: ApplyProgress | undefined;
  let bar: { position(n: number): unknown; length(n: number): unknown; finish(): void } | undefined;
  let finished = false;
  const show = (progress: ApplyProgress): void => {
    if (bar === undefined) return;
    if (progress.bytesTotal > 0) {
      bar.length(progress.bytesTotal);
      bar.position(progress.bytesDone);
    } else {
      bar.length(progress.total);
      bar.position(progress.done);
    }
  };
  const timer = setTimeout(async () => {
    let $: typeof import("dax").$;
    try {
      ({ $ } = await import("dax"));
    } catch {
      return; // no progress bar is no reason to fail a sync
    }
    if (finished) return;
    const pb = $.progress("Syncing");
    if ((latest?.bytesTotal ?? 0) > 0) pb.kind("bytes");
    bar = pb;
    if (latest !== undefined) show(latest);
  }, 500);
  return {
    update(progress) {
      latest = progress;
      show(progress);
    },
    finish() {
      finished = true;
      clearTimeout(timer);
      bar?.finish();
    },
  };
}

/**
 * Sync the host tree and the guest (staging) tree once, in `direction`:
 *
 * 1. take the lock (one sync at a time per manifest; a second one waits);
 * 2. read `.gammaignore` from the host tree (gitignore syntax; nothing else is ignored except the
 *    manifest and lock when they lie inside a tree);
 * 3. scan both trees (metadata only) and remove temporary files an interrupted sync left;
 * 4. plan against the manifest ({@linkcode planSync}) and carry it out ({@linkcode applyPlan});
 * 5. store the new manifest atomically when it changed.
 *
 * Per-file problems do not throw: they are in `notDone` (and `ok` is `false` for errors). Running
 * the same sync again converges.
 *
 * @param direction `push` (host changes to the guest), `pull` (guest changes to the host) or
 *   `both`. Conflicts are resolved in every direction.
 * @param host The host tree (a {@linkcode HostTree} or a {@linkcode MemoryTree}).
 * @param guest The staging tree the VM sees.
 * @param options Manifest and lock paths, dry run, progress.
 * @returns The report.
 * @throws {SyntaxError} When the manifest cannot be read.
 * @throws {Deno.errors.NotFound} When a tree's root does not exist.
 *
 * @example Usage
 * ```ts
 * import { HostTree, MemoryTree, syncTrees } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/staging`);
 * const host = new MemoryTree();
 * host.setFile("src/main.rs", "fn main() {}\n");
 * const options = { manifestPath: `${dir}/staging.manifest.json`, progress: false };
 *
 * const pushed = await syncTrees("push", host, new HostTree(`${dir}/staging`), options);
 * assert.equal(pushed.copied, 1);
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
  const manifestPath = normalizeAbsolutePath(options.manifestPath, "Manifest path");
  const lockPath = normalizeAbsolutePath(
    options.lockPath ?? `${manifestPath}.lock`,
    "Lock path",
  );
  const dryRun = options.dryRun ?? false;
  await Deno.mkdir(posix.dirname(manifestPath), { recursive: true });
  await Deno.mkdir(posix.dirname(lockPath), { recursive: true });
  const lock = await Deno.open(lockPath, { read: true, write: true, create: true });
  const progressWanted = options.progress ?? "auto";
  const bar = lateProgressBar(
    progressWanted === "auto" ? Deno.stderr.isTerminal() : progressWanted,
  );
  try {
    await lock.lock(true);
    const own = (tree: Tree): string[] =>
      [manifestPath, lockPath].flatMap((p) => insidePath(tree, p) ?? []);
    const rules = [await readIgnoreRules(host), ...(options.extraIgnore ?? [])].join("\n");
    const hostScan = await host.scan({ ignore: compileIgnore(rules, own(host)) });
    const guestScan = await guest.scan({ ignore: compileIgnore(rules, own(guest)) });
    const debris: { side: SyncSide; path: string }[] = [
      ...hostScan.debris.map((path) => ({ side: "host" as const, path })),
      ...guestScan.debris.map((path) => ({ side: "guest" as const, path })),
    ];
    if (!dryRun) {
      for (const { side, path } of debris) {
        await (side === "host" ? host : guest).remove(path).catch(() => {});
      }
    }
    const base = await readManifest(manifestPath);
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
        actions: plan.actions,
        conflicts: plan.conflicts,
        deferred: plan.deferred,
        notDone: [],
        ...count(plan.actions),
        debrisRemoved: debris,
        ok: true,
      };
    }
    const result = await applyPlan(plan, { host, guest }, base, {
      concurrency: options.concurrency,
      onProgress: (progress) => {
        bar.update(progress);
        options.onProgress?.(progress);
      },
    });
    if (result.manifestChanged) await writeManifest(manifestPath, result.manifest);
    return {
      direction,
      dryRun,
      actions: result.done,
      conflicts: plan.conflicts,
      deferred: plan.deferred,
      notDone: result.notDone,
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
