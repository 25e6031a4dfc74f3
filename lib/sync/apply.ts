/**
 * {@linkcode applyPlan}: carry out a {@linkcode SyncPlan} on two {@linkcode Tree}s and work out
 * the manifest that matches what was done. No I/O of its own: everything goes through the trees.
 *
 * @module
 */

import { isAtOrUnder, setOwn } from "./_paths.ts";
import type { SyncAction, SyncPlan, SyncSide } from "./plan.ts";
import { type IgnoreFilter, type Tree, TreeError } from "./tree.ts";
import { type Manifest, sameEntry, type SyncEntry } from "./types.ts";

/**
 * Progress of {@linkcode applyPlan}, reported after every action.
 *
 * @example Usage
 * ```ts
 * import type { ApplyProgress } from "@devshell/gamma/sync";
 *
 * const progress: ApplyProgress = {
 *   done: 1,
 *   total: 4,
 *   filesDone: 1,
 *   filesTotal: 2,
 *   bytesDone: 10,
 *   bytesTotal: 40,
 * };
 * ```
 */
export interface ApplyProgress {
  /** Actions finished (done, skipped or failed). */
  done: number;
  /** All actions. */
  total: number;
  /** File copies finished. */
  filesDone: number;
  /** All file copies. */
  filesTotal: number;
  /** Bytes of finished copies. */
  bytesDone: number;
  /** Bytes of all copies. */
  bytesTotal: number;
}

/**
 * Options of {@linkcode applyPlan}.
 *
 * @example Usage
 * ```ts
 * import type { ApplyOptions } from "@devshell/gamma/sync";
 *
 * const options: ApplyOptions = { concurrency: 4, onProgress: (p) => void p.done };
 * ```
 */
export interface ApplyOptions {
  /** How many file copies run at once; default 4. */
  concurrency?: number | undefined;
  /** Called after every action. */
  onProgress?: ((progress: ApplyProgress) => void) | undefined;
  /**
   * Per side, the ignored paths that may be removed with a directory the plan removes (see
   * `RemoveOptions.expendable`); by default a directory holding anything stays.
   */
  expendable?: { host?: IgnoreFilter | undefined; guest?: IgnoreFilter | undefined } | undefined;
}

/**
 * An action that was not done, and why. `failed` is `false` for a change made meanwhile by
 * someone else (the sync left it for next time) or a directory that still holds ignored files,
 * `true` for an error.
 *
 * @example Usage
 * ```ts
 * import type { ActionOutcome } from "@devshell/gamma/sync";
 *
 * const outcome: ActionOutcome = {
 *   action: { op: "remove", side: "guest", path: "d", expect: { type: "dir", mode: 0o755 }, unit: "d" },
 *   failed: false,
 *   reason: 'Cannot remove "d": the directory is not empty',
 * };
 * ```
 */
export interface ActionOutcome {
  /** The action. */
  action: SyncAction;
  /** Whether it was an error (as opposed to a change left for the next sync). */
  failed: boolean;
  /** Why, as a sentence naming the path. */
  reason: string;
}

/**
 * What {@linkcode applyPlan} did.
 *
 * @example Usage
 * ```ts
 * import type { ApplyResult } from "@devshell/gamma/sync";
 *
 * const result: ApplyResult = {
 *   done: [],
 *   notDone: [],
 *   bytesCopied: 0,
 *   manifest: { version: 1, entries: {} },
 *   manifestChanged: false,
 * };
 * ```
 */
export interface ApplyResult {
  /** The actions done, in plan order. */
  done: SyncAction[];
  /** The actions skipped or failed (and those of the same unit after them), in plan order. */
  notDone: ActionOutcome[];
  /** Bytes written by copies. */
  bytesCopied: number;
  /** The manifest to store: the plan's, with the base kept for every unit not fully done. */
  manifest: Manifest;
  /** Whether `manifest` differs from the base. */
  manifestChanged: boolean;
}

/**
 * Carry out a plan on the host and guest trees. Conflict copies come first, then removals, new
 * directories, files and links (several copies at once), and directory modes. A failing action
 * does not stop the sync: it is reported, the rest of its unit is skipped, and the manifest
 * keeps the base for that unit so the next sync looks at it again (never losing either side);
 * a host directory that could not be removed because it still holds entries is left out of the
 * manifest, so the next sync takes it as the host's and settles it once.
 *
 * @param plan The plan from {@linkcode planSync}.
 * @param trees The host and guest trees the plan was made from.
 * @param base The manifest the plan was made from.
 * @param options Concurrency and progress.
 * @returns What was done and the manifest to store.
 *
 * @example Usage
 * ```ts
 * import { applyPlan, emptyManifest, MemoryTree, planSync } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * const host = new MemoryTree();
 * const guest = new MemoryTree();
 * host.setFile("src/main.rs", "fn main() {}\n", { mtimeMs: 1_000 });
 * const base = emptyManifest();
 * const plan = planSync(
 *   "push",
 *   base,
 *   (await host.scan()).entries,
 *   (await guest.scan()).entries,
 *   { now: new Date() },
 * );
 * const result = await applyPlan(plan, { host, guest }, base);
 * assert.equal(guest.getText("src/main.rs"), "fn main() {}\n");
 * assert.deepEqual(result.notDone, []);
 * assert.deepEqual(Object.keys(result.manifest.entries), ["src", "src/main.rs"]);
 * ```
 */
export async function applyPlan(
  plan: SyncPlan,
  trees: { host: Tree; guest: Tree },
  base: Manifest,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const actions = plan.actions;
  const failedUnits = new Set<string>();
  const kept = new Set<string>();
  const notDone: ActionOutcome[] = [];
  let bytesCopied = 0;
  let filesDone = 0;
  const bytesTotal = actions.reduce((n, a) => n + (a.op === "copy" ? a.entry.size : 0), 0);
  const filesTotal = actions.reduce((n, a) => n + (a.op === "copy" ? 1 : 0), 0);
  let finished = 0;
  const report = (): void => {
    finished++;
    options.onProgress?.({
      done: finished,
      total: actions.length,
      filesDone,
      filesTotal,
      bytesDone: bytesCopied,
      bytesTotal,
    });
  };

  const run = async (action: SyncAction): Promise<void> => {
    if (failedUnits.has(action.unit)) {
      notDone.push({ action, failed: false, reason: "An earlier step of the same change failed" });
      report();
      return;
    }
    try {
      await perform(action, trees, options.expendable?.[action.side]);
      if (action.op === "copy") {
        bytesCopied += action.entry.size;
        filesDone++;
      }
    } catch (e) {
      failedUnits.add(action.unit);
      if (
        e instanceof TreeError && e.kind === "NotEmpty" && action.op === "remove" &&
        action.side === "host"
      ) {
        // The host directory still holds what the sync does not carry (ignored files, or new
        // ones): it stays. Forgetting it in the manifest makes the next sync see it as the
        // host's own (never a reason to delete), so that run settles it once.
        kept.add(action.path);
      }
      const expected = e instanceof TreeError && (e.kind === "Changed" || e.kind === "NotEmpty");
      notDone.push({
        action,
        failed: !expected,
        reason: kept.has(action.path)
          ? `the guest removed or replaced the directory ${action.path}, but on the host it still holds files this sync does not carry (ignored or new ones), which gamma never deletes; the host's directory stays, and the next sync settles it`
          : e instanceof Error
          ? e.message
          : String(e),
      });
    }
    report();
  };

  for (let i = 0; i < actions.length;) {
    const action = actions[i]!;
    if (action.op !== "copy") {
      await run(action);
      i++;
      continue;
    }
    // Copies run several at once, but never conflict copies (which read what later copies
    // replace) together with the others.
    const relocated = (a: SyncAction): boolean => a.op === "copy" && a.from.path !== a.path;
    let j = i;
    while (
      j < actions.length && actions[j]!.op === "copy" &&
      relocated(actions[j]!) === relocated(action)
    ) j++;
    let next = i;
    const worker = async (): Promise<void> => {
      while (next < j) await run(actions[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, j - i) }, worker));
    i = j;
  }

  // Every action is either done or in notDone (no set of the done ones: there may be 100,000).
  let done = actions;
  if (notDone.length > 0) {
    const missed = new Set(notDone.map((outcome) => outcome.action));
    done = actions.filter((a) => !missed.has(a));
  }
  if (notDone.length > 1) {
    const order = new Map(actions.map((a, i) => [a, i]));
    notDone.sort((x, y) => order.get(x.action)! - order.get(y.action)!);
  }
  if (failedUnits.size === 0) {
    return {
      done,
      notDone,
      bytesCopied,
      manifest: plan.manifest,
      manifestChanged: plan.manifestChanged,
    };
  }
  // Keep the base for everything a failed unit touches (its subtree and its conflict copy).
  const roots = [...failedUnits];
  for (const conflict of plan.conflicts) {
    if (failedUnits.has(conflict.path)) roots.push(conflict.conflictPath);
  }
  const touched = (path: string): boolean => roots.some((root) => isAtOrUnder(path, root));
  const entries: Record<string, SyncEntry> = {};
  let manifestChanged = false;
  const keys = new Set([...Object.keys(plan.manifest.entries), ...Object.keys(base.entries)]);
  for (const path of keys) {
    const b = Object.hasOwn(base.entries, path) ? base.entries[path] : undefined;
    const next = kept.has(path)
      ? undefined
      : touched(path)
      ? b
      : Object.hasOwn(plan.manifest.entries, path)
      ? plan.manifest.entries[path]
      : undefined;
    if (next !== undefined) setOwn(entries, path, next);
    if (!sameEntry(next, b)) manifestChanged = true;
  }
  return { done, notDone, bytesCopied, manifest: { version: 1, entries }, manifestChanged };
}

function treeOf(trees: { host: Tree; guest: Tree }, side: SyncSide): Tree {
  return side === "host" ? trees.host : trees.guest;
}

async function perform(
  action: SyncAction,
  trees: { host: Tree; guest: Tree },
  expendable: IgnoreFilter | undefined,
): Promise<void> {
  const tree = treeOf(trees, action.side);
  switch (action.op) {
    case "copy": {
      const source = treeOf(trees, action.from.side);
      const options = {
        mode: action.entry.mode,
        mtimeMs: action.entry.mtimeMs,
        expect: action.expect,
      };
      if (tree.copyFrom !== undefined) {
        if (await tree.copyFrom(source, action.from.path, action.path, options)) return;
      }
      const data = await source.readFile(action.from.path);
      await tree.writeFile(action.path, data, options);
      return;
    }
    case "mkdir":
      return await tree.mkdir(action.path, { mode: action.mode });
    case "symlink":
      return await tree.symlink(action.path, action.target, { expect: action.expect });
    case "remove":
      return await tree.remove(
        action.path,
        expendable === undefined
          ? { expect: action.expect }
          : { expect: action.expect, expendable },
      );
    case "chmod":
      return await tree.chmod(action.path, action.mode, { expect: action.expect });
  }
}
