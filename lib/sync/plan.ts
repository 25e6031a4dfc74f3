/**
 * The pure planner of a sync ({@linkcode planSync}): a three-way comparison of the host tree, the
 * guest (staging) tree and the state of the last sync, giving the actions that bring the sides
 * together, the conflicts, and the next manifest.
 *
 * @module
 */

import { isAtOrUnder, isValidPath, setOwn } from "./_paths.ts";
import {
  comparePaths,
  type FileEntry,
  type Manifest,
  sameEntry,
  type SyncEntry,
  validateRelativePath,
} from "./types.ts";

/**
 * Which way a sync carries changes: `push` carries host-side changes to the guest, `pull`
 * guest-side changes to the host, `both` either way. Every direction resolves conflicts.
 *
 * @example Usage
 * ```ts
 * import type { SyncDirection } from "@devshell/gamma/sync";
 *
 * const direction: SyncDirection = "push";
 * ```
 */
export type SyncDirection = "push" | "pull" | "both";

/**
 * One side of a sync: `host` (the user's tree) or `guest` (the staging directory the VM sees).
 *
 * @example Usage
 * ```ts
 * import type { SyncSide } from "@devshell/gamma/sync";
 *
 * const side: SyncSide = "guest";
 * ```
 */
export type SyncSide = "host" | "guest";

/**
 * One step of a sync plan, as JSON-able data. `side` is the tree it changes; `unit` is the path
 * of the decision it belongs to (a failed step skips the rest of its unit); `expect` is what the
 * path must still hold when the step runs (`null`: absent), so a concurrent change is never
 * overwritten.
 *
 * - `copy`: write the file `path` with the bytes of `from` and the metadata `entry`.
 * - `mkdir`: create the directory `path` with `mode`.
 * - `symlink`: create or replace the link `path` with `target`.
 * - `remove`: remove the file, link or empty directory `path`.
 * - `chmod`: set the mode of the file or directory `path`.
 *
 * @example Usage
 * ```ts
 * import type { SyncAction } from "@devshell/gamma/sync";
 *
 * const action: SyncAction = {
 *   op: "copy",
 *   side: "guest",
 *   path: "src/main.rs",
 *   from: { side: "host", path: "src/main.rs" },
 *   entry: { type: "file", size: 13, mtimeMs: 1_700_000_000_000, mode: 0o644 },
 *   expect: null,
 *   unit: "src/main.rs",
 * };
 * ```
 */
export type SyncAction =
  | {
    op: "copy";
    side: SyncSide;
    path: string;
    from: { side: SyncSide; path: string };
    entry: FileEntry;
    expect: SyncEntry | null;
    unit: string;
  }
  | { op: "mkdir"; side: SyncSide; path: string; mode: number; unit: string }
  | {
    op: "symlink";
    side: SyncSide;
    path: string;
    target: string;
    expect: SyncEntry | null;
    unit: string;
  }
  | { op: "remove"; side: SyncSide; path: string; expect: SyncEntry; unit: string }
  | { op: "chmod"; side: SyncSide; path: string; mode: number; expect: SyncEntry; unit: string };

/**
 * A path both sides changed differently since the last sync. The host version stays at `path` on
 * both sides; the guest version is kept at `conflictPath` on both sides.
 *
 * @example Usage
 * ```ts
 * import type { Conflict } from "@devshell/gamma/sync";
 *
 * const conflict: Conflict = {
 *   path: "notes.txt",
 *   conflictPath: "notes.txt.gamma-conflict-guest-20250102T030405Z",
 *   host: { type: "file", size: 3, mtimeMs: 1_000, mode: 0o644 },
 *   guest: { type: "file", size: 5, mtimeMs: 2_000, mode: 0o644 },
 * };
 * ```
 */
export interface Conflict {
  /** The path both sides changed. */
  path: string;
  /** Where the guest version is kept (a sibling of `path`). */
  conflictPath: string;
  /** The host's entry at `path`. */
  host: SyncEntry;
  /** The guest's entry at `path` (a directory moves with everything under it). */
  guest: SyncEntry;
}

/**
 * What {@linkcode planSync} decided.
 *
 * @example Usage
 * ```ts
 * import type { SyncPlan } from "@devshell/gamma/sync";
 *
 * const plan: SyncPlan = {
 *   direction: "push",
 *   actions: [],
 *   conflicts: [],
 *   deferred: [],
 *   manifest: { version: 1, entries: {} },
 *   manifestChanged: false,
 * };
 * ```
 */
export interface SyncPlan {
  /** The direction planned. */
  direction: SyncDirection;
  /**
   * The steps in order: conflict copies, removals (deepest first), new directories (parents
   * first), files and links, then directory modes.
   */
  actions: SyncAction[];
  /** Every conflict, in path order. */
  conflicts: Conflict[];
  /** Paths with changes this direction does not carry (the other direction will). */
  deferred: string[];
  /** The manifest to store once every action has succeeded. */
  manifest: Manifest;
  /** Whether `manifest` differs from the base. */
  manifestChanged: boolean;
}

/**
 * Options of {@linkcode planSync}.
 *
 * @example Usage
 * ```ts
 * import type { PlanOptions } from "@devshell/gamma/sync";
 *
 * const options: PlanOptions = { now: new Date("2025-01-02T03:04:05Z") };
 * ```
 */
export interface PlanOptions {
  /** The time that names conflict copies. */
  now: Date;
  /**
   * The trees come from {@linkcode Tree.scan} (valid paths, parents listed, in
   * {@linkcode comparePaths} order) and the base from {@linkcode parseManifest}: skip checking
   * them again. Default `false`.
   */
  validated?: boolean | undefined;
}

/**
 * The UTC time stamp in conflict names: `yyyymmddThhmmssZ`.
 *
 * @param date The time.
 * @returns The stamp.
 *
 * @example Usage
 * ```ts
 * import { conflictStamp } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * assert.equal(conflictStamp(new Date("2025-01-02T03:04:05.678Z")), "20250102T030405Z");
 * ```
 */
export function conflictStamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "");
}

type Flow = "toGuest" | "toHost";

interface Target {
  /** What the path will hold; `undefined` removes it. */
  entry: SyncEntry | undefined;
  from?: { side: SyncSide; path: string };
  unit: string;
  preserve?: boolean;
}

/** What a side will hold where it changes (no key: it keeps what it has). */
type Targets = Map<string, Target>;

const STAGES = 5;

/**
 * Plan a sync between the host tree and the guest (staging) tree, with `base` (the state of the
 * last sync) as the common ancestor:
 *
 * - a path changed on one side only takes that side's state (when `direction` carries it);
 * - a path changed on both sides the same way is simply recorded;
 * - deleted on one side and modified on the other: the modified version is kept;
 * - the guest has only empty directories where the host has files or links, or the host only
 *   empty directories left from the last sync where the guest has files or links: the files and
 *   links win (a conflict copy is never made of empty directories);
 * - changed differently on both sides: a conflict. The host version stays at the path on both
 *   sides and the guest version is kept on both sides as
 *   `name.gamma-conflict-guest-<yyyymmddThhmmssZ>`; nothing is lost.
 *
 * A file counts as changed when its size, modification time or mode differ from the base.
 * Directories are compared by mode and compared per entry below them, except where a side has a
 * file or link in place of a directory: then the whole subtree is one decision.
 *
 * @param direction Which way to carry changes.
 * @param base The manifest of the last sync (empty for the first).
 * @param host The host tree's entries.
 * @param guest The guest tree's entries.
 * @param options The time for conflict names.
 * @returns The plan.
 * @throws {RangeError} When a path is not a valid relative path, or a tree lists an entry
 *   without the directory above it.
 *
 * @example Usage
 * ```ts
 * import { planSync, type SyncEntry } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * const file: SyncEntry = { type: "file", size: 3, mtimeMs: 1_000, mode: 0o644 };
 * const plan = planSync(
 *   "push",
 *   { version: 1, entries: {} },
 *   new Map([["a.txt", file]]),
 *   new Map(),
 *   { now: new Date("2025-01-02T03:04:05Z") },
 * );
 * assert.deepEqual(plan.actions, [{
 *   op: "copy",
 *   side: "guest",
 *   path: "a.txt",
 *   from: { side: "host", path: "a.txt" },
 *   entry: file,
 *   expect: null,
 *   unit: "a.txt",
 * }]);
 * assert.deepEqual(plan.manifest.entries, { "a.txt": file });
 * ```
 */
export function planSync(
  direction: SyncDirection,
  base: Manifest,
  host: ReadonlyMap<string, SyncEntry>,
  guest: ReadonlyMap<string, SyncEntry>,
  options: PlanOptions,
): SyncPlan {
  const baseEntries = base.entries;
  // Looked up in place (no second copy of the manifest): own keys only, "__proto__" included.
  const hasOwn = Object.prototype.hasOwnProperty;
  const baseOf = (path: string): SyncEntry | undefined =>
    hasOwn.call(baseEntries, path) ? baseEntries[path] : undefined;

  const validated = options.validated ?? false;
  const baseKeys = Object.keys(baseEntries);
  if (!validated) {
    checkTree("host", host);
    checkTree("guest", guest);
    for (const path of baseKeys) {
      if (!isValidPath(path)) validateRelativePath(path);
    }
  }
  if (
    baseKeys.length === 0 && guest.size === 0 && host.size > 0 && direction !== "pull" &&
    (validated || isSorted([...host.keys()]))
  ) return pushAll(direction, host);
  const paths = mergePaths([[...host.keys()], [...guest.keys()], baseKeys], validated ? 2 : 0);
  let all: Set<string> | undefined;

  const targets: Record<SyncSide, Targets> = { host: new Map(), guest: new Map() };
  const conflicts: Conflict[] = [];
  const deferred: string[] = [];
  const extraPaths: string[] = [];
  const usedNames = new Set<string>();
  const stamp = conflictStamp(options.now);
  const allows = (flow: Flow): boolean =>
    direction === "both" || (flow === "toGuest" ? direction === "push" : direction === "pull");

  /** Make side `to` hold what the other side holds over `paths[from..end]`. */
  const carry = (flow: Flow, unit: string, start: number, end: number): void => {
    const [fromSide, toSide]: [SyncSide, SyncSide] = flow === "toGuest"
      ? ["host", "guest"]
      : ["guest", "host"];
    const source = fromSide === "host" ? host : guest;
    const sink = targets[toSide];
    for (let i = start; i <= end; i++) {
      const path = paths[i]!;
      const entry = source.get(path);
      sink.set(path, { entry, from: { side: fromSide, path }, unit });
    }
  };

  const conflictName = (path: string): string => {
    const stem = `${path}.gamma-conflict-guest-${stamp}`;
    let name = stem;
    all ??= new Set(paths);
    for (let n = 2; all.has(name) || usedNames.has(name); n++) name = `${stem}-${n}`;
    usedNames.add(name);
    return name;
  };

  /** Decide the path at index `i` (something changed there); returns the last index decided. */
  const decide = (i: number): number => {
    const path = paths[i]!;
    const h = host.get(path);
    const g = guest.get(path);
    const b = baseOf(path);
    if ((h === undefined || h.type === "dir") && (g === undefined || g.type === "dir")) {
      // Directories (or nothing) on both sides: this entry alone; what is below decides itself.
      const hc = !sameEntry(h, b);
      const gc = !sameEntry(g, b);
      if (!hc && !gc) return i;
      if (hc && gc && sameEntry(h, g)) return i;
      let flow: Flow;
      if (hc && !gc) flow = "toGuest";
      else if (!hc && gc) flow = "toHost";
      else flow = h !== undefined ? "toGuest" : "toHost"; // the host's mode wins; a kept dir wins
      if (allows(flow)) carry(flow, path, i, i);
      else deferred.push(path);
      return i;
    }
    // A file or link on at least one side: the whole subtree is one decision.
    let end = i;
    while (end + 1 < paths.length && isAtOrUnder(paths[end + 1]!, path)) end++;
    let hc = false;
    let gc = false;
    let same = true;
    let guestHasAny = false;
    let hostHasAny = false;
    let guestHasContent = false;
    let hostHasContent = false;
    let hostDirsKnown = true; // every host directory here was there at the last sync

    for (let j = i; j <= end; j++) {
      const q = paths[j]!;
      const hq = host.get(q);
      const gq = guest.get(q);
      const bq = baseOf(q);
      if (hq !== undefined) hostHasAny = true;
      if (gq !== undefined) guestHasAny = true;
      if (hq !== undefined && hq.type !== "dir") hostHasContent = true;
      if (hq?.type === "dir" && bq?.type !== "dir") hostDirsKnown = false;
      if (gq !== undefined && gq.type !== "dir") guestHasContent = true;
      if (!hc && !sameEntry(hq, bq)) hc = true;
      if (!gc && !sameEntry(gq, bq)) gc = true;
      if (same && !sameEntry(hq, gq)) same = false;
    }
    if ((!hc && !gc) || same) return end;
    let flow: Flow | undefined;
    if (hc && !gc) flow = "toGuest";
    else if (!hc && gc) flow = "toHost";
    else if (!guestHasAny) flow = "toGuest"; // deleted on the guest, modified on the host
    else if (!hostHasAny) flow = "toHost"; // deleted on the host, modified on the guest
    // Only empty directories on the guest, or empty directories left over on the host: nothing
    // worth a conflict copy there. (A directory the host made since stays.)
    else if (!guestHasContent) flow = "toGuest";
    else if (!hostHasContent && hostDirsKnown) flow = "toHost";
    if (flow !== undefined) {
      if (allows(flow)) carry(flow, path, i, end);
      else deferred.push(path);
      return end;
    }
    // Changed differently on both sides: keep the host's at the path, the guest's beside it.
    const name = conflictName(path);
    conflicts.push({ path, conflictPath: name, host: h!, guest: g! });
    carry("toGuest", path, i, end);
    for (let j = i; j <= end; j++) {
      const q = paths[j]!;
      const gq = guest.get(q);
      if (gq === undefined) continue;
      const moved = name + q.slice(path.length);
      extraPaths.push(moved);
      const target: Target = {
        entry: gq,
        from: { side: "guest", path: q },
        unit: path,
        preserve: true,
      };
      targets.host.set(moved, target);
      targets.guest.set(moved, target);
    }
    return end;
  };

  // Paths where something changed; everywhere else host, guest and base agree.
  const touched: string[] = [];
  for (let i = 0; i < paths.length; i++) {
    // The common case first: nothing changed on either side.
    const path = paths[i]!;
    const b = baseOf(path);
    const h = host.get(path);
    if (h === b || sameEntry(h, b)) {
      const g = guest.get(path);
      if (g === b || sameEntry(g, b)) continue;
    }
    const end = decide(i);
    for (let j = i; j <= end; j++) touched.push(paths[j]!);
    i = end;
  }
  if (touched.length === 0) {
    return {
      direction,
      actions: [],
      conflicts,
      deferred,
      manifest: base,
      manifestChanged: false,
    };
  }

  const allPaths = extraPaths.length === 0 ? paths : [...paths, ...extraPaths].sort(comparePaths);
  const current: Record<SyncSide, ReadonlyMap<string, SyncEntry>> = { host, guest };
  for (const side of ["host", "guest"] as const) {
    fixParents(side, allPaths, current, targets, baseOf);
  }
  const relevant = new Set<string>(touched);
  for (const path of extraPaths) relevant.add(path);
  for (const path of targets.host.keys()) relevant.add(path);
  for (const path of targets.guest.keys()) relevant.add(path);

  // The next manifest: every path where both sides will agree; the base elsewhere.
  const finalOf = (side: SyncSide, path: string): SyncEntry | undefined => {
    const t = targets[side].get(path);
    return t === undefined ? current[side].get(path) : t.entry;
  };
  const changed = new Map<string, SyncEntry | undefined>();
  for (const path of relevant) {
    const fh = finalOf("host", path);
    const fg = finalOf("guest", path);
    const b = baseOf(path);
    const next = sameEntry(fh, fg) ? fh : b;
    if (!sameEntry(next, b)) changed.set(path, next);
  }
  let entries = baseEntries;
  if (changed.size > 0) {
    // Rebuilt in path order, so the stored manifest stays sorted.
    entries = {};
    for (const path of allPaths) {
      const next = changed.has(path) ? changed.get(path) : baseOf(path);
      if (next !== undefined) setOwn(entries, path, next);
    }
  }
  const manifestChanged = changed.size > 0;

  const stages: SyncAction[][] = Array.from({ length: STAGES }, () => []);
  const ordered = relevant.size * 4 < allPaths.length
    ? [...relevant].sort(comparePaths)
    : allPaths.filter((path) => relevant.has(path));
  for (const path of ordered) {
    for (const side of ["host", "guest"] as const) {
      const t = targets[side].get(path);
      if (t !== undefined) addActions(stages, side, path, current[side].get(path), t);
    }
  }
  stages[1]!.reverse();
  stages[4]!.reverse();
  return {
    direction,
    actions: stages.flat(),
    conflicts,
    deferred,
    manifest: { version: 1, entries },
    manifestChanged,
  };
}

/**
 * The plan of a first sync into an empty guest tree (no base, nothing on the guest, the host's
 * entries in path order): every host entry goes to the guest as it is. It is the plan the
 * three-way comparison makes there, without its bookkeeping per path (targets, the set of
 * relevant paths, the changes): a first sync of 100,000 files holds none of those.
 */
function pushAll(direction: SyncDirection, host: ReadonlyMap<string, SyncEntry>): SyncPlan {
  const stages: SyncAction[][] = Array.from({ length: STAGES }, () => []);
  const entries: Record<string, SyncEntry> = {};
  host.forEach((entry, path) => {
    setOwn(entries, path, entry);
    addActions(stages, "guest", path, undefined, {
      entry,
      from: { side: "host", path },
      unit: path,
    });
  });
  stages[4]!.reverse();
  return {
    direction,
    actions: stages.flat(),
    conflicts: [],
    deferred: [],
    manifest: { version: 1, entries },
    manifestChanged: true,
  };
}

/**
 * Make every path that will exist on `side` have directories above it: cancel the removal of a
 * directory that keeps something, create one that is missing.
 */
function fixParents(
  side: SyncSide,
  paths: readonly string[],
  current: Record<SyncSide, ReadonlyMap<string, SyncEntry>>,
  targets: Record<SyncSide, Targets>,
  baseOf: (path: string) => SyncEntry | undefined,
): void {
  const mine = targets[side];
  if (mine.size === 0) return;
  const have = current[side];
  const other: SyncSide = side === "host" ? "guest" : "host";
  const finalOf = (path: string): SyncEntry | undefined => {
    const t = mine.get(path);
    return t === undefined ? have.get(path) : t.entry;
  };
  // 1. A directory to remove stays when something below it stays or arrives (deepest first).
  // (The maps are walked with forEach: no [path, target] pair per entry.)
  const dirRemovals: string[] = [];
  mine.forEach((t, path) => {
    if (t.entry === undefined && have.get(path)?.type === "dir") dirRemovals.push(path);
  });
  dirRemovals.sort(comparePaths).reverse();
  if (dirRemovals.length > 0) {
    const index = new Map(paths.map((path, i) => [path, i]));
    for (const dir of dirRemovals) {
      for (let i = index.get(dir)! + 1; i < paths.length && isAtOrUnder(paths[i]!, dir); i++) {
        if (finalOf(paths[i]!) !== undefined) {
          mine.delete(dir);
          break;
        }
      }
    }
  }
  // 2. Whatever arrives gets its missing directories.
  const arrivals: string[] = [];
  mine.forEach((t, path) => {
    if (t.entry !== undefined) arrivals.push(path);
  });
  // The directory the last arrival found in place: its siblings need no look-up.
  let settled = "";
  for (const path of arrivals) {
    const last = path.lastIndexOf("/");
    if (last !== -1 && last === settled.length && path.startsWith(settled)) continue;
    for (
      let slash = path.lastIndexOf("/");
      slash !== -1;
      slash = path.lastIndexOf("/", slash - 1)
    ) {
      const dir = path.slice(0, slash);
      const final = finalOf(dir);
      if (final?.type === "dir") break;
      if (final !== undefined) {
        throw new Error(`Internal error: sync plan puts a non-directory above ${path}`);
      }
      const otherT = targets[other].get(dir);
      const candidates = [otherT?.entry, current[other].get(dir), baseOf(dir)];
      const found = candidates.find((e) => e?.type === "dir");
      const mode = found?.type === "dir" ? found.mode : 0o755;
      mine.set(dir, { entry: { type: "dir", mode }, unit: dir });
    }
    if (last !== -1) settled = path.slice(0, last);
  }
}

/** The actions that turn `have` into `want` on `side`, by stage. */
function addActions(
  stages: SyncAction[][],
  side: SyncSide,
  path: string,
  have: SyncEntry | undefined,
  want: Target,
): void {
  const [preserve, removals, dirs, files, dirModes] = stages as [
    SyncAction[],
    SyncAction[],
    SyncAction[],
    SyncAction[],
    SyncAction[],
  ];
  const unit = want.unit;
  const entry = want.entry;
  if (entry === undefined) {
    if (have !== undefined) removals.push({ op: "remove", side, path, expect: have, unit });
    return;
  }
  const create = want.preserve === true ? preserve : undefined;
  let expect: SyncEntry | null = have ?? null;
  if (have !== undefined && have.type === "dir" && entry.type !== "dir") {
    removals.push({ op: "remove", side, path, expect: have, unit });
    expect = null;
  }
  switch (entry.type) {
    case "dir": {
      if (have?.type === "dir") {
        if (have.mode !== entry.mode) {
          dirModes.push({ op: "chmod", side, path, mode: entry.mode, expect: have, unit });
        }
        return;
      }
      if (have !== undefined) removals.push({ op: "remove", side, path, expect: have, unit });
      const writable = (entry.mode & 0o700) === 0o700;
      (create ?? dirs).push({
        op: "mkdir",
        side,
        path,
        mode: writable ? entry.mode : entry.mode | 0o700,
        unit,
      });
      if (!writable) {
        dirModes.push({
          op: "chmod",
          side,
          path,
          mode: entry.mode,
          expect: { type: "dir", mode: entry.mode | 0o700 },
          unit,
        });
      }
      return;
    }
    case "file": {
      if (
        have?.type === "file" && have.size === entry.size && have.mtimeMs === entry.mtimeMs
      ) {
        if (have.mode !== entry.mode) {
          files.push({ op: "chmod", side, path, mode: entry.mode, expect: have, unit });
        }
        return;
      }
      const from = want.from ?? { side: side === "host" ? "guest" : "host", path };
      (create ?? files).push({ op: "copy", side, path, from, entry, expect, unit });
      return;
    }
    case "symlink": {
      if (have?.type === "symlink" && have.target === entry.target) return;
      (create ?? files).push({ op: "symlink", side, path, target: entry.target, expect, unit });
      return;
    }
  }
}

/** Every path valid, and every entry's parent listed as a directory. */
function checkTree(side: SyncSide, tree: ReadonlyMap<string, SyncEntry>): void {
  for (const path of tree.keys()) {
    if (!isValidPath(path)) validateRelativePath(path);
    const slash = path.lastIndexOf("/");
    if (slash !== -1 && tree.get(path.slice(0, slash))?.type !== "dir") {
      throw new RangeError(
        `Cannot plan a sync: the ${side} tree lists ${JSON.stringify(path)} without the directory ${
          JSON.stringify(path.slice(0, slash))
        }`,
      );
    }
  }
}

/**
 * The sorted union of path lists (each usually already in {@linkcode comparePaths} order); the
 * first `trusted` lists are known to be sorted.
 */
function mergePaths(lists: string[][], trusted: number): string[] {
  const [first, ...rest] = lists as [string[], ...string[][]];
  if (rest.every((list) => sameList(list, first)) && (trusted > 0 || isSorted(first))) {
    return first;
  }
  const sorted = lists.map((list, k) =>
    k < trusted || isSorted(list) ? list : [...list].sort(comparePaths)
  );
  const out: string[] = [];
  const at = sorted.map(() => 0);
  for (;;) {
    let min: string | undefined;
    for (let k = 0; k < sorted.length; k++) {
      const candidate = sorted[k]![at[k]!];
      if (candidate !== undefined && (min === undefined || comparePaths(candidate, min) < 0)) {
        min = candidate;
      }
    }
    if (min === undefined) return out;
    out.push(min);
    for (let k = 0; k < sorted.length; k++) {
      if (sorted[k]![at[k]!] === min) at[k]!++;
    }
  }
}

function sameList(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isSorted(list: string[]): boolean {
  for (let i = 1; i < list.length; i++) {
    if (comparePaths(list[i - 1]!, list[i]!) >= 0) return false;
  }
  return true;
}
