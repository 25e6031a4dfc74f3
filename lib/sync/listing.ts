/**
 * Listings of a tree as GNU `find -printf` writes them ({@linkcode FIND_FORMAT}), read without
 * building an object per entry, and compared with an earlier listing of the same tree: the
 * paths whose records differ are the only ones a sync needs to look at again (pure; the session
 * runs `find` and keeps the listings).
 *
 * @module
 */

import { sameEntry, type SyncEntry } from "./types.ts";

/** One record per entry: type, mode, size, mtime, path, link target, each ending with NUL. */
export const FIND_FORMAT = "%y\\0%m\\0%s\\0%T@\\0%P\\0%l\\0";
const FIELDS = 6;

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

/** The index just after the record that starts at `pos` (its sixth NUL), or -1. */
function recordEnd(text: string, pos: number): number {
  let end = pos - 1;
  for (let k = 0; k < FIELDS; k++) {
    end = text.indexOf("\0", end + 1);
    if (end === -1) return -1;
  }
  return end + 1;
}

/** The path field of the record `text[pos, end)`. */
function recordPath(text: string, pos: number): string {
  let start = pos - 1;
  for (let k = 0; k < 4; k++) start = text.indexOf("\0", start + 1);
  return text.slice(start + 1, text.indexOf("\0", start + 1));
}

/**
 * The paths whose records differ between two listings of one tree (added, removed, or with
 * another type, mode, size, time or link target), whatever order `find` listed them in. Runs of
 * equal records cost a string comparison each; only differing records are keyed by path.
 *
 * @param before The earlier listing (decoded text).
 * @param after The later one.
 * @returns The paths that differ.
 */
export function diffListings(before: string, after: string): Set<string> {
  const changed = new Set<string>();
  if (before === after) return changed;
  // Records of one side not yet matched with the other's, by path.
  const early = new Map<string, string>();
  const late = new Map<string, string>();
  const settle = (
    path: string,
    record: string,
    own: Map<string, string>,
    other: Map<string, string>,
  ) => {
    const seen = other.get(path);
    if (seen === undefined) {
      own.set(path, record);
      return;
    }
    other.delete(path);
    if (seen !== record) changed.add(path);
  };
  let a = 0;
  let b = 0;
  while (a < before.length || b < after.length) {
    const ea = a < before.length ? recordEnd(before, a) : -1;
    const eb = b < after.length ? recordEnd(after, b) : -1;
    if (ea !== -1 && eb !== -1 && ea - a === eb - b && before.startsWith(after.slice(b, eb), a)) {
      a = ea;
      b = eb;
      continue;
    }
    if (ea !== -1) {
      settle(recordPath(before, a), before.slice(a, ea), early, late);
      a = ea;
    } else a = before.length;
    if (eb !== -1) {
      settle(recordPath(after, b), after.slice(b, eb), late, early);
      b = eb;
    } else b = after.length;
  }
  for (const path of early.keys()) changed.add(path);
  for (const path of late.keys()) changed.add(path);
  return changed;
}

/**
 * The records of the given paths in a listing.
 *
 * @param text The listing (decoded text).
 * @param paths The paths wanted.
 * @returns Each wanted path that is listed, with its record.
 */
export function recordsOf(text: string, paths: ReadonlySet<string>): Map<string, FindRecord> {
  const out = new Map<string, FindRecord>();
  if (paths.size === 0) return out;
  // Only a path of a wanted length is cut out and looked up; only a wanted record is parsed.
  const lengths = new Set<number>();
  for (const path of paths) lengths.add(path.length);
  let pos = 0;
  while (pos < text.length) {
    const end = recordEnd(text, pos);
    if (end === -1) break;
    let start = pos - 1;
    for (let k = 0; k < 4; k++) start = text.indexOf("\0", start + 1);
    const stop = text.indexOf("\0", start + 1);
    if (lengths.has(stop - start - 1)) {
      const path = text.slice(start + 1, stop);
      if (paths.has(path)) {
        eachRecordOfText(text.slice(pos, end), (record) => out.set(path, { ...record }));
      }
    }
    pos = end;
  }
  return out;
}

/**
 * The listing to keep after a sync wrote to a tree: the listing `before` it wrote, with the
 * records of what it wrote taken from a listing `after` — only where `after` shows exactly what
 * was written (anything else there, such as a change made meanwhile by someone else, keeps its
 * earlier record, so the next sync sees it as changed).
 *
 * @param before The listing the sync planned from.
 * @param after A listing taken after it wrote.
 * @param written What each written path should hold now (`null`: removed).
 * @returns The listing to keep, and the written paths `after` did not confirm.
 */
export function listingAfterWrites(
  before: string,
  after: string,
  written: ReadonlyMap<string, SyncEntry | null>,
): { listing: string; unconfirmed: string[] } {
  const changed = diffListings(before, after);
  const earlier = new Map<string, string>();
  eachRecordSpan(before, (path, start, end) => {
    if (changed.has(path)) earlier.set(path, before.slice(start, end));
  });
  const parts: string[] = [];
  const confirmed = new Set<string>();
  const placed = new Set<string>();
  let run = 0; // start of the current run of unchanged records in `after`
  eachRecordSpan(after, (path, start, end) => {
    if (!changed.has(path)) return;
    if (start > run) parts.push(after.slice(run, start));
    run = end;
    placed.add(path);
    const want = written.get(path);
    if (want !== undefined && want !== null) {
      let now: SyncEntry | undefined;
      eachRecordOfText(after.slice(start, end), (record) => now = entryOfRecord(record));
      if (now !== undefined && sameEntry(now, want)) {
        parts.push(after.slice(start, end));
        confirmed.add(path);
        return;
      }
    }
    const old = earlier.get(path);
    if (old !== undefined) parts.push(old);
  });
  parts.push(after.slice(run));
  for (const [path, old] of earlier) {
    if (placed.has(path)) continue;
    if (written.get(path) === null) confirmed.add(path);
    else parts.push(old);
  }
  for (const path of written.keys()) {
    if (written.get(path) === null && !placed.has(path) && !earlier.has(path)) {
      confirmed.add(path); // removed, and not listed before either (inside a removed directory)
    }
  }
  const unconfirmed = [...written.keys()].filter((path) => !confirmed.has(path));
  return { listing: parts.join(""), unconfirmed };
}

/** Call `take` with the path and the span of every record of a listing. */
function eachRecordSpan(
  text: string,
  take: (path: string, start: number, end: number) => void,
): void {
  let pos = 0;
  while (pos < text.length) {
    const end = recordEnd(text, pos);
    if (end === -1) return;
    take(recordPath(text, pos), pos, end);
    pos = end;
  }
}
