/**
 * Reading and writing the sync {@linkcode Manifest} as JSON text (pure; the session stores it).
 *
 * The text is compact JSON on one line: the copy's identity and project when known, then the
 * entries in path order: a file is `[size, mtimeMs, mode]`, a directory `[mode]`, a symbolic
 * link its target string:
 *
 * ```json
 * {"version":1,"entries":{"latest":"src/main.rs","src":[493],"src/main.rs":[13,1700000000000,420]}}
 * ```
 *
 * @module
 */

import { isValidPath, setOwn } from "./_paths.ts";
import { comparePaths, type Manifest, type SyncEntry, validateRelativePath } from "./types.ts";

/**
 * A manifest with no entries: the base of a first sync.
 *
 * @returns `{ version: 1, entries: {} }`.
 *
 * @example Usage
 * ```ts
 * import { emptyManifest } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(emptyManifest(), { version: 1, entries: {} });
 * ```
 */
export function emptyManifest(): Manifest {
  return { version: 1, entries: {} };
}

function isMode(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 0o7777;
}

function decode(value: unknown): SyncEntry | undefined {
  if (typeof value === "string") return { type: "symlink", target: value };
  if (!Array.isArray(value)) return undefined;
  if (value.length === 1) return isMode(value[0]) ? { type: "dir", mode: value[0] } : undefined;
  if (value.length !== 3) return undefined;
  const [size, mtimeMs, mode] = value as unknown[];
  return Number.isSafeInteger(size) && (size as number) >= 0 && typeof mtimeMs === "number" &&
      Number.isFinite(mtimeMs) && isMode(mode)
    ? { type: "file", size: size as number, mtimeMs, mode }
    : undefined;
}

function encode(entry: SyncEntry): number[] | string {
  switch (entry.type) {
    case "file":
      return [entry.size, entry.mtimeMs, entry.mode];
    case "dir":
      return [entry.mode];
    case "symlink":
      return entry.target;
  }
}

/**
 * Parse a manifest's JSON text, checking every entry.
 *
 * @param text The JSON text.
 * @returns The manifest.
 * @throws {SyntaxError} When the text is not JSON or not a valid version 1 manifest.
 *
 * @example Usage
 * ```ts
 * import { parseManifest } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * const manifest = parseManifest('{"version":1,"entries":{"d":[493],"d/f":[2,1000,420]}}');
 * assert.deepEqual(manifest.entries, {
 *   d: { type: "dir", mode: 0o755 },
 *   "d/f": { type: "file", size: 2, mtimeMs: 1000, mode: 0o644 },
 * });
 * assert.throws(
 *   () => parseManifest('{"version":2,"entries":{}}'),
 *   new SyntaxError("Cannot read the sync manifest: it is not version 1"),
 * );
 * ```
 */
export function parseManifest(text: string): Manifest {
  const { entries: raw, copy, project } = parseManifestRecords(text);
  const out: Record<string, SyncEntry> = {};
  for (const path in raw) setOwn(out, path, decodeManifestEntry(path, raw[path]));
  const manifest: Manifest = { version: 1, entries: out };
  if (copy !== undefined) manifest.copy = copy;
  if (project !== undefined) manifest.project = project;
  return manifest;
}

/**
 * A manifest whose entries are still in their stored form (see {@linkcode parseManifestRecords}):
 * a sync that looks at a few paths decodes only those.
 */
export interface ManifestRecords {
  /** The copy's identity. */
  copy?: string | undefined;
  /** The project. */
  project?: string | undefined;
  /** Entries by path, as stored (decode one with {@linkcode decodeManifestEntry}). */
  entries: Record<string, unknown>;
}

/**
 * Parse a manifest's JSON text, checking its head but not its entries.
 *
 * @param text The JSON text.
 * @returns The head and the stored entries.
 * @throws {SyntaxError} When the text is not JSON or not a version 1 manifest.
 */
export function parseManifestRecords(text: string): ManifestRecords {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(`Cannot read the sync manifest: ${(e as Error).message}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new SyntaxError("Cannot read the sync manifest: it is not a JSON object");
  }
  const { version, entries, copy, project } = data as Record<string, unknown>;
  if (version !== 1) throw new SyntaxError("Cannot read the sync manifest: it is not version 1");
  if (copy !== undefined && typeof copy !== "string") {
    throw new SyntaxError('Cannot read the sync manifest: "copy" is not a string');
  }
  if (project !== undefined && typeof project !== "string") {
    throw new SyntaxError('Cannot read the sync manifest: "project" is not a string');
  }
  if (typeof entries !== "object" || entries === null || Array.isArray(entries)) {
    throw new SyntaxError('Cannot read the sync manifest: "entries" is not an object');
  }
  return { copy, project, entries: entries as Record<string, unknown> };
}

/**
 * Check and decode one stored entry of a manifest.
 *
 * @param path Its path.
 * @param value Its stored form.
 * @returns The entry.
 * @throws {SyntaxError} When the path or the entry is malformed.
 */
export function decodeManifestEntry(path: string, value: unknown): SyncEntry {
  if (!isValidPath(path)) {
    try {
      validateRelativePath(path);
    } catch (e) {
      throw new SyntaxError(`Cannot read the sync manifest: ${(e as Error).message}`);
    }
  }
  const entry = decode(value);
  if (entry === undefined) {
    throw new SyntaxError(
      `Cannot read the sync manifest: the entry of ${JSON.stringify(path)} is malformed`,
    );
  }
  return entry;
}

/**
 * The stored form of an entry (see the module documentation).
 *
 * @param entry The entry.
 * @returns What the manifest's JSON holds for it.
 */
export function encodeManifestEntry(entry: SyncEntry): number[] | string {
  return encode(entry);
}

/**
 * The JSON text of a manifest whose entries are in their stored form, in
 * {@linkcode comparePaths} order (as {@linkcode stringifyManifest} writes).
 *
 * @param records The manifest.
 * @returns JSON text ending with a newline.
 */
export function stringifyManifestRecords(records: ManifestRecords): string {
  const keys = Object.keys(records.entries);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) {
    if (comparePaths(keys[i - 1]!, keys[i]!) >= 0) sorted = false;
  }
  let entries = records.entries;
  if (!sorted) {
    keys.sort(comparePaths);
    entries = {};
    for (const path of keys) setOwn(entries, path, records.entries[path]);
  }
  const head: Record<string, unknown> = { version: 1 };
  if (records.copy !== undefined) head.copy = records.copy;
  if (records.project !== undefined) head.project = records.project;
  return `${JSON.stringify({ ...head, entries })}\n`;
}

/**
 * The JSON text of a manifest (see the module documentation for the format), on one line, entries
 * in {@linkcode comparePaths} order (names that are array indices, such as `10`, come first, as
 * JSON objects keep them).
 *
 * @param manifest The manifest.
 * @returns JSON text ending with a newline.
 *
 * @example Usage
 * ```ts
 * import { stringifyManifest } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   stringifyManifest({
 *     version: 1,
 *     entries: {
 *       "d/l": { type: "symlink", target: "../x" },
 *       d: { type: "dir", mode: 0o755 },
 *     },
 *   }),
 *   '{"version":1,"entries":{"d":[493],"d/l":"../x"}}\n',
 * );
 * ```
 */
export function stringifyManifest(manifest: Manifest): string {
  let text = "";
  for (const chunk of manifestChunks(manifest)) text += chunk;
  return text;
}

/** Whether a key is an array index, which a JSON object lists before its other keys. */
function isArrayIndex(key: string): boolean {
  return /^(?:0|[1-9][0-9]*)$/.test(key) && Number(key) < 4294967295;
}

/**
 * The text of {@linkcode stringifyManifest} in pieces of about `size` characters, made one piece
 * at a time from the entries themselves: no second object of 100,000 entries is built, and a
 * caller that writes each piece as it comes never holds the whole text.
 *
 * @param manifest The manifest.
 * @param size About how many characters each piece holds (the last may be shorter).
 * @returns The pieces; joined, exactly the text of {@linkcode stringifyManifest}.
 *
 * @example Usage
 * ```ts
 * import { manifestChunks } from "./manifest.ts";
 * import assert from "node:assert/strict";
 *
 * const manifest = {
 *   version: 1 as const,
 *   entries: { d: { type: "dir" as const, mode: 0o755 }, "d/l": { type: "symlink" as const, target: "x" } },
 * };
 * assert.deepEqual([...manifestChunks(manifest, 1)], [
 *   '{"version":1,"entries":{"d":[493]',
 *   ',"d/l":"x"',
 *   "}}\n",
 * ]);
 * ```
 */
export function* manifestChunks(manifest: Manifest, size = 1 << 16): Generator<string> {
  const entries = manifest.entries;
  const keys = Object.keys(entries);
  // Array indices come first, ascending, in every JSON object (and in Object.keys): the rest
  // follow in path order.
  let indices = 0;
  while (indices < keys.length && isArrayIndex(keys[indices]!)) indices++;
  let sorted = true;
  for (let i = indices + 1; i < keys.length && sorted; i++) {
    if (comparePaths(keys[i - 1]!, keys[i]!) >= 0) sorted = false;
  }
  if (!sorted) {
    const rest = keys.slice(indices).sort(comparePaths);
    for (let i = 0; i < rest.length; i++) keys[indices + i] = rest[i]!;
  }
  let chunk = '{"version":1';
  if (manifest.copy !== undefined) chunk += `,"copy":${JSON.stringify(manifest.copy)}`;
  if (manifest.project !== undefined) chunk += `,"project":${JSON.stringify(manifest.project)}`;
  chunk += ',"entries":{';
  for (let i = 0; i < keys.length; i++) {
    const path = keys[i]!;
    const entry = entries[path]!;
    chunk += `${i === 0 ? "" : ","}${JSON.stringify(path)}:${
      entry.type === "file"
        ? `[${entry.size},${entry.mtimeMs},${entry.mode}]`
        : entry.type === "dir"
        ? `[${entry.mode}]`
        : JSON.stringify(entry.target)
    }`;
    if (chunk.length >= size) {
      yield chunk;
      chunk = "";
    }
  }
  yield `${chunk}}}\n`;
}

/**
 * A manifest's text read only where asked: the head parsed, the entries of the paths wanted
 * found in the text (a few by searching for their keys, more in one pass over it), so that a
 * sync that looks at a few paths neither parses nor rewrites the rest. Keys are matched as the
 * writer wrote them (`JSON.stringify` of the path, after `{` or `,`), which no string value
 * can contain unescaped.
 */
export class ManifestText {
  readonly #text: string;
  /** Index of the `{` that opens the entries. */
  readonly #entries: number;
  readonly #spans = new Map<string, { key: number; start: number; end: number }>();
  readonly #looked = new Set<string>();
  /** The head: copy and project. */
  readonly head: Omit<ManifestRecords, "entries">;

  private constructor(text: string, entries: number, head: Omit<ManifestRecords, "entries">) {
    this.#text = text;
    this.#entries = entries;
    this.head = head;
  }

  /**
   * Read the head of a manifest written by {@linkcode stringifyManifest} (entries last).
   *
   * @param text The manifest's text.
   * @returns The reader, or `undefined` when the text is laid out otherwise.
   * @throws {SyntaxError} When the head is not that of a version 1 manifest.
   */
  static from(text: string): ManifestText | undefined {
    const at = text.indexOf(',"entries":{');
    if (at === -1 || !text.trimEnd().endsWith("}}")) return undefined;
    const { copy, project } = parseManifestRecords(`${text.slice(0, at)},"entries":{}}`);
    return new ManifestText(text, at + ',"entries":'.length, { copy, project });
  }

  /**
   * Find the entries of these paths (once each).
   *
   * @param paths The paths.
   * @throws {SyntaxError} When the entries are not laid out as the writer lays them out.
   */
  find(paths: Iterable<string>): void {
    const want = new Map<string, string>();
    const lengths = new Set<number>();
    for (const path of paths) {
      if (this.#looked.has(path)) continue;
      this.#looked.add(path);
      const key = JSON.stringify(path);
      want.set(key, path);
      lengths.add(key.length);
    }
    if (want.size === 0) return;
    const text = this.#text;
    if (want.size <= 4) {
      // A few: search for each key (after "{" or ",": never inside a string value).
      for (const [key, path] of want) {
        let at = text.indexOf(`${key}:`, this.#entries);
        while (at !== -1 && text[at - 1] !== "," && at - 1 !== this.#entries) {
          at = text.indexOf(`${key}:`, at + 1);
        }
        if (at !== -1) this.#spans.set(path, this.#span(at, at + key.length - 1));
      }
      return;
    }
    // More: one pass over the entries, cutting out only keys of a wanted length.
    let pos = this.#entries + 1;
    while (text[pos] === '"') {
      const keyEnd = stringEnd(text, pos);
      const span = this.#span(pos, keyEnd);
      if (lengths.has(keyEnd + 1 - pos)) {
        const path = want.get(text.slice(pos, keyEnd + 1));
        if (path !== undefined) this.#spans.set(path, span);
      }
      if (text[span.end] !== ",") break;
      pos = span.end + 1;
    }
  }

  /** The span of the entry whose key runs from `key` to the quote at `keyEnd`. */
  #span(key: number, keyEnd: number): { key: number; start: number; end: number } {
    const text = this.#text;
    const start = keyEnd + 2;
    const end = text[start] === "[" ? text.indexOf("]", start) + 1 : stringEnd(text, start) + 1;
    if (text[keyEnd + 1] !== ":" || end <= start) {
      throw new SyntaxError("Cannot read the sync manifest: its entries are malformed");
    }
    return { key, start, end };
  }

  /**
   * One entry, decoded.
   *
   * @param path Its path.
   * @returns The entry, or `undefined` when there is none.
   * @throws {SyntaxError} When it is malformed.
   */
  get(path: string): SyncEntry | undefined {
    this.find([path]);
    const span = this.#spans.get(path);
    if (span === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(this.#text.slice(span.start, span.end));
    } catch {
      throw new SyntaxError(
        `Cannot read the sync manifest: the entry of ${JSON.stringify(path)} is malformed`,
      );
    }
    return decodeManifestEntry(path, value);
  }

  /**
   * The text with some entries replaced, removed or added (added ones go last: the next whole
   * rewrite puts them in path order; readers do not depend on the order). `undefined` in the
   * rare layouts this does not handle (the caller writes the whole manifest then).
   *
   * @param changes New entries by path (`undefined`: remove).
   * @returns The new text.
   */
  with(changes: ReadonlyMap<string, SyncEntry | undefined>): string | undefined {
    this.find(changes.keys());
    const text = this.#text;
    const first = this.#entries + 1;
    const spans: { start: number; end: number; text: string }[] = [];
    const added: string[] = [];
    for (const [path, entry] of changes) {
      const span = this.#spans.get(path);
      if (span === undefined) {
        if (entry !== undefined) {
          added.push(`${JSON.stringify(path)}:${JSON.stringify(encode(entry))}`);
        }
        continue;
      }
      if (entry !== undefined) {
        spans.push({ start: span.start, end: span.end, text: JSON.stringify(encode(entry)) });
      } else if (span.key !== first) {
        spans.push({ start: span.key - 1, end: span.end, text: "" }); // with the comma before
      } else {
        // The first entry: with the comma after it (if the next one goes too, rewrite whole).
        const after = text[span.end] === "," ? span.end + 1 : span.end;
        spans.push({ start: span.key, end: after, text: "" });
      }
    }
    spans.sort((a, b) => a.start - b.start);
    for (let i = 1; i < spans.length; i++) {
      if (spans[i]!.start < spans[i - 1]!.end) return undefined;
    }
    const close = text.trimEnd().length - 2; // the "}" that closes the entries
    let out = "";
    let at = 0;
    for (const span of spans) {
      out += text.slice(at, span.start) + span.text;
      at = span.end;
    }
    if (added.length === 0) return out + text.slice(at);
    out += text.slice(at, close);
    const empty = out.endsWith("{");
    return `${out}${empty ? "" : ","}${added.join(",")}${text.slice(close)}`;
  }
}

/** The index of the quote that closes the JSON string opening at `quote`. */
function stringEnd(text: string, quote: number): number {
  let at = text.indexOf('"', quote + 1);
  while (at !== -1) {
    let slashes = 0;
    while (text[at - 1 - slashes] === "\\") slashes++;
    if (slashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
  throw new SyntaxError("Cannot read the sync manifest: a string does not end");
}
