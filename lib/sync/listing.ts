/**
 * Listings of a tree as GNU `find -printf` writes them ({@linkcode FIND_FORMAT}), read without
 * building an object per entry, and compared with an earlier listing of the same tree: the
 * paths whose records differ are the only ones a sync needs to look at again (pure; the session
 * runs `find` and keeps the listings).
 *
 * @module
 */

import type { SyncEntry } from "./types.ts";

/** One record per entry: type, mode, size, mtime, path, link target, each ending with NUL. */
export const FIND_FORMAT = "%y\\0%m\\0%s\\0%T@\\0%P\\0%l\\0";
const FIELDS = 6;

/** How many records {@linkcode diffListings} looks ahead to find where two listings meet again. */
const LOOKAHEAD = 4096;

/** Permission bits a sync keeps (set-id and sticky bits are never carried). */
const MODE_MASK = 0o777;

/** A name's bytes as text, with every byte that is not part of printable UTF-8 as `\\xNN`. */
export function escapeBytes(name: Uint8Array): string {
  const strict = new TextDecoder("utf-8", { fatal: true });
  let out = "";
  for (let i = 0; i < name.length;) {
    const b = name[i]!;
    const len = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
    if (len > 0) {
      try {
        const text = strict.decode(name.subarray(i, i + len));
        if (!text.includes("\ufffd") && (len > 1 || (b >= 0x20 && b < 0x7f))) {
          out += text === "\\" ? "\\\\" : text;
          i += len;
          continue;
        }
      } catch {
        // not a valid sequence: escape the lead byte
      }
    }
    out += `\\x${b.toString(16).padStart(2, "0")}`;
    i++;
  }
  return out;
}

/** One entry of a `find` listing (see {@linkcode FIND_FORMAT}). */
export interface FindRecord {
  /** `f`, `d`, `l` or another of find's `%y` letters. */
  type: string;
  mode: number;
  size: number;
  mtimeMs: number;
  path: string;
  /** The link's target (links only). */
  target: string;
  /** The path with bad bytes escaped, when it is not valid UTF-8. */
  bad?: string | undefined;
}

/** A decimal integer (optionally negative) in `text[from, to)`, read without a substring. */
function intAt(text: string, from: number, to: number, radix = 10): number {
  let n = 0;
  let sign = 1;
  let i = from;
  if (text.charCodeAt(i) === 45) {
    sign = -1;
    i++;
  }
  for (; i < to; i++) n = n * radix + (text.charCodeAt(i) - 48);
  return sign * n;
}

/**
 * Whole milliseconds of find's `%T@` in `text[from, to)`, rounded down as Deno's `mtime` is. find
 * prints the seconds and then the nanoseconds after them (always positive: -5.5 s is
 * `-6.5000000000`).
 */
function mtimeAt(text: string, from: number, to: number): number {
  const dot = text.indexOf(".", from);
  if (dot === -1 || dot > to) return intAt(text, from, to) * 1000;
  let ms = 0;
  for (let i = dot + 1; i < dot + 4; i++) {
    const c = i < to ? text.charCodeAt(i) - 48 : 0;
    ms = ms * 10 + c;
  }
  return intAt(text, from, dot) * 1000 + ms;
}

/**
 * Call `take` for every record of a `find` listing, in find's order. Only the path (and a link's
 * target) become strings; numbers are read in place. Names that are not valid UTF-8 get their
 * escaped form in `bad`.
 */
export function eachRecord(bytes: Uint8Array, take: (record: FindRecord) => void): void {
  let text: string | undefined;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = undefined; // some name or link target is not UTF-8: decode field by field
  }
  if (text !== undefined) {
    eachRecordOfText(text, take);
    return;
  }
  eachRecordOfBytes(bytes, take);
}

/** {@linkcode eachRecord} of a listing already decoded (valid UTF-8). */
export function eachRecordOfText(text: string, take: (record: FindRecord) => void): void {
  const record: FindRecord = { type: "", mode: 0, size: 0, mtimeMs: 0, path: "", target: "" };
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    const e0 = text.indexOf("\0", pos);
    const e1 = text.indexOf("\0", e0 + 1);
    const e2 = text.indexOf("\0", e1 + 1);
    const e3 = text.indexOf("\0", e2 + 1);
    const e4 = text.indexOf("\0", e3 + 1);
    const e5 = text.indexOf("\0", e4 + 1);
    if (e5 === -1) break;
    record.type = e0 - pos === 1 ? text[pos]! : text.slice(pos, e0);
    record.mode = intAt(text, e0 + 1, e1, 8);
    record.size = intAt(text, e1 + 1, e2);
    record.mtimeMs = mtimeAt(text, e2 + 1, e3);
    record.path = text.slice(e3 + 1, e4);
    record.target = record.type === "l" ? text.slice(e4 + 1, e5) : "";
    take(record);
    pos = e5 + 1;
  }
}

function eachRecordOfBytes(bytes: Uint8Array, take: (record: FindRecord) => void): void {
  const strict = new TextDecoder("utf-8", { fatal: true });
  const lossy = new TextDecoder();
  const fields: string[] = [];
  let bad: string | undefined;
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0) continue;
    const field = bytes.subarray(start, i);
    start = i + 1;
    try {
      fields.push(strict.decode(field));
    } catch {
      if (fields.length === 4) bad = escapeBytes(field);
      fields.push(lossy.decode(field));
    }
    if (fields.length < FIELDS) continue;
    const [type, mode, size, mtime, path, target] = fields as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    take({
      type,
      mode: intAt(mode, 0, mode.length, 8),
      size: intAt(size, 0, size.length),
      mtimeMs: mtimeAt(mtime, 0, mtime.length),
      path,
      target,
      bad,
    });
    fields.length = 0;
    bad = undefined;
  }
}

/**
 * The {@linkcode SyncEntry} of a record, or `undefined` for a socket, FIFO or device (not
 * synced).
 */
export function entryOfRecord(record: FindRecord): SyncEntry | undefined {
  switch (record.type) {
    case "f":
      return {
        type: "file",
        size: record.size,
        mtimeMs: record.mtimeMs,
        mode: record.mode & MODE_MASK,
      };
    case "d":
      return { type: "dir", mode: record.mode & MODE_MASK };
    case "l":
      return { type: "symlink", target: record.target };
    default:
      return undefined;
  }
}

const utf8 = new TextDecoder();

/** Where the record starting at `pos` ends (just after its sixth NUL), and its path's span. */
interface Span {
  end: number;
  pathStart: number;
  pathEnd: number;
}

/** The span of the record that starts at `pos`, or `undefined` when it is cut short. */
function spanAt(bytes: Uint8Array, pos: number): Span | undefined {
  // A plain loop: records are short, and a call per field costs more than the bytes.
  let fields = 0;
  let pathStart = 0;
  let pathEnd = 0;
  for (let i = pos; i < bytes.length; i++) {
    if (bytes[i] !== 0) continue;
    fields++;
    if (fields === 4) pathStart = i + 1;
    else if (fields === 5) pathEnd = i;
    else if (fields === FIELDS) return { end: i + 1, pathStart, pathEnd };
  }
  return undefined;
}

/** The end of the record at `a` in `before` when the record at `b` in `after` is the same, else -1. */
function sameRecordAt(before: Uint8Array, a: number, after: Uint8Array, b: number): number {
  let fields = 0;
  const n = Math.min(before.length - a, after.length - b);
  for (let k = 0; k < n; k++) {
    const x = before[a + k];
    if (x !== after[b + k]) return -1;
    if (x === 0 && ++fields === FIELDS) return a + k + 1;
  }
  return -1;
}

/** Whether `a[i, i + n)` and `b[j, j + n)` hold the same bytes. */
function sameRun(a: Uint8Array, i: number, b: Uint8Array, j: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[i + k] !== b[j + k]) return false;
  return true;
}

/** Whether two records (views) hold the same bytes. */
function sameRecord(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && sameRun(a, 0, b, 0, a.length);
}

/**
 * The paths whose records differ between two listings of one tree (added, removed, or with
 * another type, mode, size, time or link target), whatever order `find` listed them in. Runs of
 * equal records are compared byte for byte in place; only differing records are keyed by path.
 *
 * @param before The earlier listing (valid UTF-8).
 * @param after The later one (valid UTF-8).
 * @returns The paths that differ.
 */
export function diffListings(before: Uint8Array, after: Uint8Array): Set<string> {
  const changed = new Set<string>();
  // Records of one side not yet matched with the other's, by path.
  const early = new Map<string, Uint8Array>();
  const late = new Map<string, Uint8Array>();
  const settle = (
    path: string,
    record: Uint8Array,
    own: Map<string, Uint8Array>,
    other: Map<string, Uint8Array>,
  ) => {
    const seen = other.get(path);
    if (seen === undefined) {
      own.set(path, record);
      return;
    }
    other.delete(path);
    if (!sameRecord(seen, record)) changed.add(path);
  };
  /** Key the record at `pos` of one listing by its path; returns where the next one starts. */
  const take = (from: Uint8Array, pos: number): number => {
    const span = spanAt(from, pos);
    if (span === undefined) return from.length;
    const path = utf8.decode(from.subarray(span.pathStart, span.pathEnd));
    const record = from.subarray(pos, span.end);
    if (from === before) settle(path, record, early, late);
    else settle(path, record, late, early);
    return span.end;
  };
  // Records added or removed shift one listing against the other: look ahead on each side for
  // the other's record (a directory's whole content may be gone), and take the ones skipped as
  // changed.
  // All the looking ahead of one diff costs at most about what keying every record would.
  let budget = (before.length + after.length) >> 4;
  const skipTo = (from: Uint8Array, at: number, other: number) => {
    let next = at;
    for (let d = 0; d < LOOKAHEAD && budget-- > 0; d++) {
      const span = next < from.length ? spanAt(from, next) : undefined;
      if (span === undefined) return -1;
      next = span.end;
      if (
        from === before
          ? sameRecordAt(before, next, after, other) !== -1
          : sameRecordAt(before, other, after, next) !== -1
      ) return next;
    }
    return -1;
  };
  let a = 0;
  let b = 0;
  while (a < before.length || b < after.length) {
    const end = sameRecordAt(before, a, after, b);
    if (end !== -1) {
      b += end - a;
      a = end;
      continue;
    }
    // The same path with another record: a change in place, the listings stay in step.
    const sa = a < before.length ? spanAt(before, a) : undefined;
    const sb = b < after.length ? spanAt(after, b) : undefined;
    if (
      sa !== undefined && sb !== undefined &&
      sa.pathEnd - sa.pathStart === sb.pathEnd - sb.pathStart &&
      sameRun(before, sa.pathStart, after, sb.pathStart, sa.pathEnd - sa.pathStart)
    ) {
      a = take(before, a);
      b = take(after, b);
      continue;
    }
    const aheadA = skipTo(before, a, b);
    if (aheadA !== -1) {
      while (a < aheadA) a = take(before, a);
      continue;
    }
    const aheadB = skipTo(after, b, a);
    if (aheadB !== -1) {
      while (b < aheadB) b = take(after, b);
      continue;
    }
    if (a < before.length) a = take(before, a);
    if (b < after.length) b = take(after, b);
  }
  for (const path of early.keys()) changed.add(path);
  for (const path of late.keys()) changed.add(path);
  return changed;
}

/** Call `take` with the path and the span of every record of a listing. */
function eachSpan(
  bytes: Uint8Array,
  take: (start: number, span: Span) => void,
): void {
  let pos = 0;
  while (pos < bytes.length) {
    const span = spanAt(bytes, pos);
    if (span === undefined) return;
    take(pos, span);
    pos = span.end;
  }
}

/** The record of one whole record's bytes. */
function parseRecord(record: Uint8Array): FindRecord | undefined {
  let found: FindRecord | undefined;
  eachRecordOfText(utf8.decode(record), (r) => found = { ...r });
  return found;
}

/** FNV-1a of `bytes[from, to)`, mixed with the length. */
function hashOf(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5 ^ (to - from);
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * The records of the given paths in a listing.
 *
 * @param bytes The listing (valid UTF-8).
 * @param paths The paths wanted.
 * @returns Each wanted path that is listed, with its record.
 */
export function recordsOf(bytes: Uint8Array, paths: ReadonlySet<string>): Map<string, FindRecord> {
  const out = new Map<string, FindRecord>();
  if (paths.size === 0) return out;
  // Paths are compared as bytes, by a hash of them first; only a wanted record is parsed.
  const encoder = new TextEncoder();
  const byHash = new Map<number, { path: string; bytes: Uint8Array }[]>();
  for (const path of paths) {
    const encoded = encoder.encode(path);
    const key = hashOf(encoded, 0, encoded.length);
    const list = byHash.get(key);
    if (list === undefined) byHash.set(key, [{ path, bytes: encoded }]);
    else list.push({ path, bytes: encoded });
  }
  eachSpan(bytes, (start, span) => {
    const list = byHash.get(hashOf(bytes, span.pathStart, span.pathEnd));
    if (list === undefined) return;
    for (const wanted of list) {
      if (wanted.bytes.length !== span.pathEnd - span.pathStart) continue;
      if (!sameRun(bytes, span.pathStart, wanted.bytes, 0, wanted.bytes.length)) continue;
      const record = parseRecord(bytes.subarray(start, span.end));
      if (record !== undefined) out.set(wanted.path, record);
      return;
    }
  });
  return out;
}

/** Whether a record shows exactly `want` (compared field by field, no entry made). */
function recordShows(record: Uint8Array, want: SyncEntry): boolean {
  let shows = false;
  eachRecordOfText(utf8.decode(record), (r) => {
    const mode = r.mode & MODE_MASK;
    shows = want.type === "file"
      ? r.type === "f" && r.size === want.size && r.mtimeMs === want.mtimeMs && mode === want.mode
      : want.type === "dir"
      ? r.type === "d" && mode === want.mode
      : r.type === "l" && r.target === want.target;
  });
  return shows;
}

/**
 * The listing to keep after a sync wrote to a tree: the listing `before` it wrote, with the
 * records of what it wrote taken from a listing `after` — only where `after` shows exactly what
 * was written (anything else there, such as a change made meanwhile by someone else, keeps its
 * earlier record, so the next sync sees it as changed).
 *
 * @param before The listing the sync planned from.
 * @param after A listing taken after it wrote.
 * @param written What each written path should hold now (`null`: removed); confirmed paths are
 *   taken out of it as they are found (it is a first sync's whole plan: no copy is made).
 * @returns The listing to keep, and the written paths `after` did not confirm.
 */
export function listingAfterWrites(
  before: Uint8Array,
  after: Uint8Array,
  written: Map<string, SyncEntry | null>,
): { listing: Uint8Array; unconfirmed: string[] } {
  // Nothing listed before (a first sync): every record of `after` is new, no map is needed.
  const changed = before.length === 0 ? undefined : diffListings(before, after);
  const earlier = new Map<string, Uint8Array>();
  if (changed !== undefined) {
    eachSpan(before, (start, span) => {
      if (changed.size === earlier.size) return;
      const path = utf8.decode(before.subarray(span.pathStart, span.pathEnd));
      if (changed.has(path)) earlier.set(path, before.subarray(start, span.end));
    });
  }
  // Confirmed writes leave `written` as they are found: what stays is unconfirmed.
  const confirmedEarlier = new Set<string>();
  const parts: Uint8Array[] = [];
  const placed = new Set<string>();
  let run = 0; // start of the current run of records of `after` kept as they are
  eachSpan(after, (start, span) => {
    const path = utf8.decode(after.subarray(span.pathStart, span.pathEnd));
    if (changed !== undefined && !changed.has(path)) return;
    const want = written.get(path);
    if (want !== undefined && want !== null) {
      if (recordShows(after.subarray(start, span.end), want)) {
        written.delete(path);
        if (earlier.has(path)) confirmedEarlier.add(path);
        return; // kept in the run
      }
    }
    if (start > run) parts.push(after.subarray(run, start));
    run = span.end;
    placed.add(path);
    const old = earlier.get(path);
    if (old !== undefined) parts.push(old);
  });
  parts.push(after.subarray(run));
  for (const [path, old] of earlier) {
    if (placed.has(path) || confirmedEarlier.has(path)) continue;
    if (written.get(path) === null) written.delete(path); // removed, as written
    else parts.push(old);
  }
  for (const [path, want] of written) {
    // Removed, and listed neither before nor after (inside a removed directory).
    if (want === null && !earlier.has(path) && !placed.has(path)) written.delete(path);
  }
  let size = 0;
  for (const part of parts) size += part.length;
  const listing = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    listing.set(part, at);
    at += part.length;
  }
  return { listing, unconfirmed: [...written.keys()] };
}
