/**
 * {@linkcode LiveSync}: Mode S kept live while a shell or a long command runs: both trees are
 * watched, and after each burst of changes the same three-way sync as `gamma sync` runs in both
 * directions, with the same conflict rules and safety checks.
 *
 * @module
 */

import { formatBytes } from "../sync/progress.ts";
import { HostTree } from "./host_tree.ts";
import { IgnoreRules } from "../sync/ignore.ts";
import { ignoredDirectoryWith, type SyncReport, syncTrees, type SyncTreesOptions } from "./sync.ts";

/**
 * The one line a live batch that changed something is told by (with `--verbose`): what went to
 * the guest's copy and what came back to the host.
 *
 * @param report The batch's report.
 * @returns The line.
 *
 * @example Usage
 * ```ts
 * import { liveLine, type SyncReport } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * const report = {
 *   actions: [{ op: "copy", side: "guest", path: "a.txt" }],
 *   conflicts: [],
 *   bytesCopied: 12,
 * } as unknown as SyncReport;
 * assert.equal(liveLine(report), "gamma: sync: live: 1 change to the guest, 0 to the host (12 B)");
 * ```
 */
export function liveLine(report: SyncReport): string {
  const toGuest = report.actions.filter((a) => a.side === "guest").length;
  const toHost = report.actions.length - toGuest;
  return `gamma: sync: live: ${toGuest} change${
    toGuest === 1 ? "" : "s"
  } to the guest, ${toHost} to the host (${formatBytes(report.bytesCopied)})${
    report.conflicts.length > 0
      ? `, ${report.conflicts.length} conflict${report.conflicts.length === 1 ? "" : "s"}`
      : ""
  }`;
}

/**
 * Options of {@linkcode LiveSync}: those of {@linkcode syncTrees} (without `dryRun`), and when
 * and whom to tell.
 *
 * @example Usage
 * ```ts
 * import type { LiveSyncOptions } from "@devshell/gamma/sync";
 *
 * const options: LiveSyncOptions = { stateDir: "/tmp/state", debounceMs: 100 };
 * ```
 */
export interface LiveSyncOptions extends Omit<SyncTreesOptions, "dryRun" | "now"> {
  /** Quiet time after a change before the batch runs; default 150 ms. */
  debounceMs?: number | undefined;
  /** Longest a batch waits for changes to stop; default 600 ms (so a batch runs within ~1 s). */
  maxDelayMs?: number | undefined;
  /** Called after every batch with its report, or the error that stopped it. */
  onBatch?: ((result: LiveBatch) => void) | undefined;
}

/**
 * The outcome of one batch of a {@linkcode LiveSync}: its report, or the error that stopped it
 * (nothing was changed then: a refused sync, such as a mass deletion, changes nothing).
 *
 * @example Usage
 * ```ts
 * import type { LiveBatch } from "@devshell/gamma/sync";
 *
 * function copied(batch: LiveBatch): number {
 *   return batch.report?.copied ?? 0;
 * }
 * ```
 */
export interface LiveBatch {
  /** The number of the batch, from 1. */
  n: number;
  /** What the sync did. */
  report?: SyncReport | undefined;
  /** Why it stopped, when it did. */
  error?: Error | undefined;
  /** Whether the watcher lost events (overflow): the batch rescanned both trees anyway. */
  rescan: boolean;
}

/**
 * Live two-way sync between a host tree and its copy: `Deno.watchFs` on both roots (the copy is
 * a host directory, so the guest's writes are seen too), a short debounce, then
 * {@linkcode syncTrees} in direction `both` over both trees (a watcher overflow costs nothing
 * more: every batch rescans). Changes inside ignored directories (`target/`, `node_modules/`, as
 * the host's ignore files say) start no batch. Batches never overlap, and a change made during a batch starts
 * another. {@linkcode LiveSync.stop} closes the watcher and runs a last batch, so both sides
 * are equal afterwards (but for conflicts, whose both versions are kept).
 *
 * @example Usage
 * ```ts
 * import { HostTree, LiveSync, syncTrees } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/host`);
 * const options = { stateDir: `${dir}/state`, progress: false as const };
 * await syncTrees("push", new HostTree(`${dir}/host`), new HostTree(`${dir}/copy`), options);
 *
 * const live = new LiveSync(`${dir}/host`, `${dir}/copy`, options);
 * live.start();
 * const arrived = live.waitFor((b) => (b.report?.copied ?? 0) > 0);
 * await Deno.writeTextFile(`${dir}/host/a.txt`, "saved in the editor\n");
 * await arrived;
 * assert.equal(await Deno.readTextFile(`${dir}/copy/a.txt`), "saved in the editor\n");
 * await live.stop();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class LiveSync {
  readonly #host: string;
  readonly #guest: string;
  readonly #options: LiveSyncOptions;
  #watcher: Deno.FsWatcher | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #firstChange: number | undefined;
  #dirty = false;
  #rescan = false;
  #running: Promise<LiveBatch> | undefined;
  #held = false;
  #stopped = false;
  #n = 0;
  #ignoredDirs = new Map<string, boolean>();
  #changeWaiters: ((paths: string[]) => void)[] = [];
  #waiters: { test: (batch: LiveBatch) => boolean; resolve: (batch: LiveBatch) => void }[] = [];

  /**
   * Live sync between two trees that were synced before (a first push done).
   *
   * @param host The host project's root (absolute).
   * @param guest The root of the copy the guest sees (absolute).
   * @param options As for {@linkcode syncTrees}, plus debounce and a batch callback.
   */
  constructor(host: string, guest: string, options: LiveSyncOptions) {
    this.#host = host;
    this.#guest = guest;
    this.#options = options;
  }

  /** How many batches have run. */
  get batches(): number {
    return this.#n;
  }

  /**
   * Start watching both roots. Changes from now on are synced.
   *
   * @throws {Deno.errors.NotFound} When a root is missing.
   */
  start(): void {
    if (this.#watcher !== undefined || this.#stopped) return;
    const watcher = Deno.watchFs([this.#host, this.#guest], { recursive: true });
    this.#watcher = watcher;
    (async () => {
      try {
        for await (const event of watcher) {
          if (event.flag === "rescan") this.#rescan = true;
          else if (event.paths.every((path) => this.#ignored(path))) continue;
          this.#changed();
          for (const resolve of this.#changeWaiters.splice(0)) resolve(event.paths);
        }
      } catch {
        // closed
      }
    })();
  }

  /**
   * Wait for the first batch (from now) that `test` accepts.
   *
   * @param test Which batch to wait for; default any.
   * @returns That batch.
   */
  waitFor(test: (batch: LiveBatch) => boolean = () => true): Promise<LiveBatch> {
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  /**
   * Wait for the next change the watcher notes (one that can start a batch: changes in ignored
   * directories are not noted).
   *
   * @returns The absolute paths of that change.
   */
  nextChange(): Promise<string[]> {
    return new Promise((resolve) => this.#changeWaiters.push(resolve));
  }

  /**
   * Start no batch until {@linkcode LiveSync.release} (changes are still noted); waits for a
   * running batch to end.
   */
  async hold(): Promise<void> {
    this.#held = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }

  /** Let batches run again; changes noted while held start one. */
  release(): void {
    this.#held = false;
    if (this.#dirty) this.#schedule();
  }

  /**
   * Run a batch now (after a running one), whether or not a change was seen, as the watcher would.
   *
   * @returns The batch.
   */
  async runNow(): Promise<LiveBatch> {
    await this.#running?.catch(() => {});
    return await this.#run();
  }

  /**
   * Stop watching and run a last batch, so that both sides are equal.
   *
   * @returns The last batch.
   */
  async stop(): Promise<LiveBatch> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      this.#watcher?.close();
    } catch {
      // already closed
    }
    this.#watcher = undefined;
    await this.#running?.catch(() => {});
    return await this.#run();
  }

  /**
   * Whether a changed path lies in a directory the ignore rules leave out (a guest build writing
   * to `target/` starts no batch). Answers are kept until the next batch.
   */
  #ignored(abs: string): boolean {
    const root = abs.startsWith(`${this.#host}/`)
      ? this.#host
      : abs.startsWith(`${this.#guest}/`)
      ? this.#guest
      : undefined;
    if (root === undefined) return false;
    const rel = abs.slice(root.length + 1);
    const slash = rel.lastIndexOf("/");
    if (slash === -1) return false;
    const dir = rel.slice(0, slash);
    let ignored = this.#ignoredDirs.get(dir);
    if (ignored === undefined) {
      try {
        ignored = ignoredDirectoryWith(new IgnoreRules(), this.#host, dir, {
          gitignore: this.#options.gitignore ?? true,
          extraIgnore: this.#options.extraIgnore ?? [],
        }) !== undefined;
      } catch {
        ignored = false;
      }
      this.#ignoredDirs.set(dir, ignored);
    }
    return ignored;
  }

  #changed(): void {
    if (this.#stopped) return;
    this.#dirty = true;
    this.#firstChange ??= performance.now();
    if (!this.#held && this.#running === undefined) this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const debounce = this.#options.debounceMs ?? 150;
    const maxDelay = this.#options.maxDelayMs ?? 600;
    const waited = performance.now() - (this.#firstChange ?? performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#held || this.#stopped || this.#running !== undefined) return;
      this.#run().catch(() => {});
    }, Math.max(0, Math.min(debounce, maxDelay - waited)));
  }

  #run(): Promise<LiveBatch> {
    const rescan = this.#rescan;
    this.#dirty = false;
    this.#rescan = false;
    this.#firstChange = undefined;
    this.#ignoredDirs.clear(); // ignore files may have changed
    const run = (async (): Promise<LiveBatch> => {
      const n = ++this.#n;
      let batch: LiveBatch;
      try {
        const { debounceMs: _d, maxDelayMs: _m, onBatch: _o, ...sync } = this.#options;
        // Fresh trees per batch, as every sync makes them (a tree keeps its root's identity).
        const report = await syncTrees(
          "both",
          new HostTree(this.#host),
          new HostTree(this.#guest),
          {
            ...sync,
            progress: sync.progress ?? false,
          },
        );
        batch = { n, report, rescan };
      } catch (e) {
        batch = { n, error: e instanceof Error ? e : new Error(String(e)), rescan };
      }
      return batch;
    })();
    this.#running = run;
    return run.then((batch) => {
      this.#running = undefined;
      this.#options.onBatch?.(batch);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.test(batch)) return true;
        w.resolve(batch);
        return false;
      });
      // A change seen during the batch (its own writes too) starts the next one.
      if (this.#dirty && !this.#held && !this.#stopped) this.#schedule();
      return batch;
    });
  }
}
