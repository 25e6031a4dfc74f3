/**
 * Editing an instance's `lima.yaml` without disturbing it: the `mounts:` entries and `env.PATH`
 * that `gamma mounts` adds, merged into the file's own text so that every comment, blank line,
 * quote style and indentation outside the edited spots stays byte for byte as it was.
 *
 * The YAML Document API (`parseDocument`) finds where each node sits in the text; the edits are
 * spliced in at those places, and the result is parsed again and checked before it is returned.
 * (Re-serialising the whole document would move comments: Lima's own templates do not survive
 * that unchanged.)
 *
 * @module
 */

import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Node,
  parseDocument,
  type YAMLMap,
} from "yaml";
import { posix } from "node:path";
import { normalizeAbsolutePath } from "./guest_path.ts";

/**
 * One `mounts:` entry gamma writes: an absolute host directory, where the guest sees it, and
 * whether the guest may write to it.
 *
 * @example Usage
 * ```ts
 * import type { LimaMountEntry } from "@devshell/gamma/lima";
 *
 * const entry: LimaMountEntry = { location: "/home/me/src/app", mountPoint: "/workspace", writable: true };
 * ```
 */
export interface LimaMountEntry {
  /** Absolute host directory. */
  location: string;
  /** Absolute guest directory; Lima's default (the same path as `location`) when omitted. */
  mountPoint?: string | undefined;
  /** Whether the guest may write to it. */
  writable: boolean;
}

/**
 * What {@linkcode mergeLimaYaml} adds to a `lima.yaml`.
 *
 * @example Usage
 * ```ts
 * import type { LimaYamlEdit } from "@devshell/gamma/lima";
 *
 * const edit: LimaYamlEdit = {
 *   mounts: [{ location: "/home/me/app/target/release", mountPoint: "/host-bin", writable: false }],
 *   pathPrepend: ["/host-bin"],
 * };
 * ```
 */
export interface LimaYamlEdit {
  /** Mount entries that must be present (matched to existing ones by their guest path). */
  mounts: readonly LimaMountEntry[];
  /** Guest directories that must lead the `env.PATH` entry, in this order. */
  pathPrepend?: readonly string[] | undefined;
}

/**
 * What {@linkcode mergeLimaYaml} did.
 *
 * @example Usage
 * ```ts
 * import { mergeLimaYaml, type LimaYamlMerge } from "@devshell/gamma/lima";
 *
 * const merge: LimaYamlMerge = mergeLimaYaml("mounts: []\n", { mounts: [] }, { home: "/home/me" });
 * ```
 */
export interface LimaYamlMerge {
  /** The new text (the input itself when nothing changed). */
  text: string;
  /** Whether `text` differs from the input. */
  changed: boolean;
  /** One line per change made, e.g. `added mount /a -> /b (writable)`. */
  changes: string[];
  /** One line per requested item that was already there. */
  unchanged: string[];
}

/**
 * Ubuntu's `/etc/environment` `PATH`, which Lima's Ubuntu guests give ssh sessions. Lima writes
 * `env:` entries into `/etc/environment` literally (no `$PATH` expansion), so a `PATH` entry
 * must spell out the whole search path; this is the base gamma prepends to when `lima.yaml` has
 * no `env.PATH` yet.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_GUEST_PATH } from "./lima_yaml.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(DEFAULT_GUEST_PATH.split(":").includes("/usr/bin"));
 * ```
 */
export const DEFAULT_GUEST_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games:/usr/local/games:/snap/bin";

/**
 * Parse a `--add` mount spec, `HOST:GUEST[:ro|:rw]`: a host directory (relative ones are taken
 * from `cwd`, `~/` from `home`), an absolute guest directory, and `ro` for a read-only mount
 * (the default is writable). The guest part is the last `:/`-separated field, so host paths may
 * contain colons.
 *
 * @param spec The spec.
 * @param context The working directory and home directory to resolve the host path against.
 * @returns The mount entry (paths normalised).
 * @throws {RangeError} When the spec has no absolute guest directory or a bad mode.
 *
 * @example Usage
 * ```ts
 * import { parseMountSpec } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseMountSpec("target/release:/host-bin:ro", { cwd: "/home/me/app", home: "/home/me" }), {
 *   location: "/home/me/app/target/release",
 *   mountPoint: "/host-bin",
 *   writable: false,
 * });
 * ```
 */
export function parseMountSpec(
  spec: string,
  context: { cwd: string; home?: string | undefined },
): LimaMountEntry {
  let rest = spec;
  let writable = true;
  const mode = /:(ro|rw)$/.exec(rest);
  if (mode) {
    writable = mode[1] === "rw";
    rest = rest.slice(0, mode.index);
  }
  const at = rest.lastIndexOf(":/");
  if (at <= 0 || rest.slice(at + 1).includes(":")) {
    throw new RangeError(
      `Invalid mount ${
        JSON.stringify(spec)
      }: expected HOST:GUEST[:ro], with GUEST an absolute guest directory`,
    );
  }
  let host = rest.slice(0, at);
  const guest = rest.slice(at + 1);
  if (host === "~" || host.startsWith("~/")) {
    if (!context.home?.startsWith("/")) {
      throw new RangeError(`Invalid mount ${JSON.stringify(spec)}: HOME is not known for "~"`);
    }
    host = context.home + host.slice(1);
  }
  return {
    location: normalizeAbsolutePath(
      host.startsWith("/") ? host : posix.join(context.cwd, host),
      "Mount location",
    ),
    mountPoint: normalizeAbsolutePath(guest, "Mount guest path"),
    writable,
  };
}

/**
 * The `PATH` value after putting `dirs` in front of `base`, leaving out those already in it.
 *
 * @param base The current `PATH` value.
 * @param dirs Directories to lead it, in order.
 * @returns The new value (`base` itself when every directory is already there).
 *
 * @example Usage
 * ```ts
 * import { prependPath } from "./lima_yaml.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(prependPath("/usr/bin:/bin", ["/host-bin", "/bin"]), "/host-bin:/usr/bin:/bin");
 * ```
 */
export function prependPath(base: string, dirs: readonly string[]): string {
  const present = new Set(base.split(":"));
  const added: string[] = [];
  for (const dir of dirs) {
    if (!present.has(dir)) {
      present.add(dir);
      added.push(dir);
    }
  }
  return added.length === 0 ? base : [...added, base].filter((p) => p !== "").join(":");
}

function quoted(value: string): string {
  // A JSON string is a valid YAML double-quoted scalar.
  return JSON.stringify(value);
}

function entryLines(entry: LimaMountEntry): string[] {
  const lines = [`location: ${quoted(entry.location)}`];
  if (entry.mountPoint !== undefined && entry.mountPoint !== entry.location) {
    lines.push(`mountPoint: ${quoted(entry.mountPoint)}`);
  }
  lines.push(`writable: ${entry.writable}`);
  return lines;
}

function flowEntry(entry: LimaMountEntry): string {
  return `{${entryLines(entry).join(", ")}}`;
}

function describe(entry: LimaMountEntry): string {
  const guest = entry.mountPoint ?? entry.location;
  return `${entry.location} -> ${guest} (${entry.writable ? "writable" : "read-only"})`;
}

/**
 * The `lima.yaml` fragment that holds `entries` (and an `env.PATH` led by `pathPrepend`, built
 * on {@linkcode DEFAULT_GUEST_PATH}), in Lima's template style: list items at the key's
 * indentation, strings double-quoted.
 *
 * @param entries The mounts.
 * @param pathPrepend Guest directories to put first on `PATH`.
 * @returns The fragment, ending in a newline.
 *
 * @example Usage
 * ```ts
 * import { limaYamlFragment } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   limaYamlFragment([{ location: "/home/me/app", mountPoint: "/workspace", writable: true }]),
 *   'mounts:\n- location: "/home/me/app"\n  mountPoint: "/workspace"\n  writable: true\n',
 * );
 * ```
 */
export function limaYamlFragment(
  entries: readonly LimaMountEntry[],
  pathPrepend: readonly string[] = [],
): string {
  const lines: string[] = [];
  if (entries.length > 0) {
    lines.push("mounts:");
    for (const entry of entries) {
      entryLines(entry).forEach((line, i) => lines.push(`${i === 0 ? "- " : "  "}${line}`));
    }
  }
  if (pathPrepend.length > 0) {
    lines.push("env:", `  PATH: ${quoted(prependPath(DEFAULT_GUEST_PATH, pathPrepend))}`);
  }
  return lines.map((l) => `${l}\n`).join("");
}

/** One text edit on the original: replace `[start, end)` with `text`. */
interface Edit {
  start: number;
  end: number;
  text: string;
}

function rangeOf(node: Node | null | undefined): [number, number, number] | undefined {
  return node?.range ?? undefined;
}

/** Offset just after the line holding `pos - 1` (or `pos` itself when it starts a line). */
function lineEndAfter(text: string, pos: number): number {
  if (pos > 0 && text[pos - 1] === "\n") return pos;
  const nl = text.indexOf("\n", pos);
  return nl === -1 ? text.length : nl + 1;
}

function columnOf(text: string, pos: number): number {
  return pos - (text.lastIndexOf("\n", pos - 1) + 1);
}

function scalarString(node: unknown): string | undefined {
  return isScalar(node) && typeof node.value === "string" ? node.value : undefined;
}

/** Whether a value node is "nothing": an empty value, `null` or `~`. */
function isNullish(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

interface Layout {
  eol: string;
  /** Extra columns of a block list's `-` beyond its key (0 in Lima's templates). */
  seqIndent: number;
  /** Columns of one level of map nesting. */
  mapIndent: number;
}

/** How the document lays out nested blocks, from the first examples of each it has. */
function detectLayout(text: string, root: YAMLMap): Layout {
  let seqIndent: number | undefined;
  let mapIndent: number | undefined;
  const visit = (map: YAMLMap, keyCol: number): void => {
    for (const pair of map.items) {
      const value = pair.value;
      const keyRange = rangeOf(pair.key as Node);
      const col = keyRange ? columnOf(text, keyRange[0]) : keyCol;
      if (isSeq(value) && !value.flow && value.items.length > 0) {
        const r = rangeOf(value);
        if (r && seqIndent === undefined) seqIndent = Math.max(0, columnOf(text, r[0]) - col);
        for (const item of value.items) {
          const ir = rangeOf(item as Node);
          if (isMap(item) && !item.flow && ir) visit(item, columnOf(text, ir[0]));
        }
      } else if (isMap(value) && !value.flow && value.items.length > 0) {
        const first = rangeOf(value.items[0]!.key as Node);
        if (first && mapIndent === undefined) {
          const d = columnOf(text, first[0]) - col;
          if (d > 0) mapIndent = d;
        }
        const r = rangeOf(value);
        if (r) visit(value, columnOf(text, r[0]));
      }
    }
  };
  visit(root, 0);
  return {
    eol: text.includes("\r\n") ? "\r\n" : "\n",
    seqIndent: seqIndent ?? 0,
    mapIndent: mapIndent ?? 2,
  };
}

/**
 * The edit that turns `key: <nothing>` (an empty value, `null`, `~`, `[]` or `{}`) into a block
 * holding `body` lines: the value is dropped (a comment after it stays), the lines follow.
 */
function fillEmpty(
  text: string,
  keyNode: Node,
  valueNode: Node | null | undefined,
  body: string[],
  eol: string,
): Edit {
  const keyRange = rangeOf(keyNode)!;
  const lineStart = text.lastIndexOf("\n", keyRange[0] - 1) + 1;
  const valueRange = rangeOf(valueNode);
  const valueStart = valueRange ? valueRange[0] : keyRange[1];
  const valueEnd = valueRange ? valueRange[1] : keyRange[1];
  const lineEnd = lineEndAfter(text, valueEnd);
  const after = text.slice(valueEnd, lineEnd).replace(/\r?\n$/, "");
  const comment = after.trim().startsWith("#") ? ` ${after.trim()}` : "";
  const colon = text.indexOf(":", keyRange[1]);
  const head = text.slice(lineStart, Math.min(colon + 1, valueStart));
  return {
    start: lineStart,
    end: lineEnd,
    text: `${head}${comment}${eol}${body.map((l) => `${l}${eol}`).join("")}`,
  };
}

interface ExistingMount {
  /** The list item as written: a mapping, or an alias of one (`- *ws`). */
  node: Node;
  location: string;
  mountPoint: string;
  writable: boolean;
}

function resolveHostTemplate(location: string, home: string | undefined): string {
  let loc = location;
  if (home !== undefined) {
    loc = loc.replace(/\{\{\s*\.Home\s*\}\}/g, home);
    if (loc === "~" || loc.startsWith("~/")) loc = home + loc.slice(1);
  }
  return loc.startsWith("/") && !loc.includes("\0") ? normalizeAbsolutePath(loc) : loc;
}

/** A node with its aliases followed (`*ws` is the node `&ws` names). */
function resolved(node: unknown, doc: Document): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/**
 * The mounts a `mounts:` list holds as Lima reads them: aliases followed and merge keys
 * (`<<: *base`) applied, the entry's own keys winning.
 */
function readMounts(seq: unknown, home: string | undefined, doc: Document): ExistingMount[] {
  const list = resolved(seq, doc);
  if (!isSeq(list)) return [];
  const out: ExistingMount[] = [];
  for (const item of list.items) {
    const map = resolved(item, doc);
    if (!isMap(map)) continue;
    const value = map.toJS(doc, { maxAliasCount: 100 }) as Record<string, unknown> | null;
    const raw = value?.["location"];
    if (typeof raw !== "string") continue;
    const location = resolveHostTemplate(raw, home);
    const mp = value?.["mountPoint"];
    const mountPoint = typeof mp !== "string"
      ? location
      : mp.startsWith("/") && !mp.includes("\0")
      ? normalizeAbsolutePath(mp)
      : mp;
    out.push({ node: item as Node, location, mountPoint, writable: value?.["writable"] === true });
  }
  return out;
}

function parseOrThrow(text: string, what: string): ReturnType<typeof parseDocument> {
  // merge: `<<: *base` merge keys, which Lima's YAML reader applies too.
  const doc = parseDocument(text, { keepSourceTokens: false, uniqueKeys: false, merge: true });
  const error = doc.errors[0];
  if (error) {
    throw new SyntaxError(`${what} is not valid YAML: ${error.message.split("\n")[0]}`);
  }
  try {
    doc.toJS({ maxAliasCount: 100 }); // what only resolving shows: an alias before its anchor
  } catch (e) {
    throw new SyntaxError(`${what} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  return doc;
}

/**
 * Merge mount entries and `PATH` directories into the text of a `lima.yaml`, changing nothing
 * else. An entry whose guest path (its `mountPoint`, else its `location`; Lima merges mounts by
 * that key) is already in `mounts:` with the same host directory is not added again; when the
 * request is writable and the existing entry is not, its `writable` becomes `true` (never the
 * other way). `~` and `{{.Home}}` in existing locations are expanded with `home` to compare.
 * New entries go after the last existing one, in the file's own list style (or a new
 * `mounts:` block at the end of the file); `env.PATH` is created or gets the directories in
 * front. Line endings follow the file. The result is parsed again and checked.
 *
 * @param text The `lima.yaml` text.
 * @param edit What must be present.
 * @param context The host home directory, for `~` in existing entries.
 * @returns The new text and what changed; `changed: false` and the same text when everything
 * was already there, so a second merge is a no-op.
 * @throws {SyntaxError} When `text` is not YAML, or its top level is not a mapping.
 * @throws {RangeError} When the guest path of a requested entry already shows another host
 * directory, or `mounts:`/`env:` has an unexpected shape.
 *
 * @example Usage
 * ```ts
 * import { mergeLimaYaml } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * const text = '# my VM\nmounts:\n- location: "~" # home, read-only\n';
 * const entry = { location: "/home/me/app", mountPoint: "/workspace", writable: true };
 * const merged = mergeLimaYaml(text, { mounts: [entry] }, { home: "/home/me" });
 * assert.equal(
 *   merged.text,
 *   '# my VM\nmounts:\n- location: "~" # home, read-only\n' +
 *     '- location: "/home/me/app"\n  mountPoint: "/workspace"\n  writable: true\n',
 * );
 * assert.equal(mergeLimaYaml(merged.text, { mounts: [entry] }, { home: "/home/me" }).changed, false);
 * ```
 */
export function mergeLimaYaml(
  text: string,
  edit: LimaYamlEdit,
  context: { home?: string | undefined } = {},
): LimaYamlMerge {
  const doc = parseOrThrow(text, "lima.yaml");
  const root = doc.contents;
  if (root !== null && !isMap(root)) {
    throw new SyntaxError("lima.yaml does not hold a mapping at its top level");
  }
  const layout = root ? detectLayout(text, root) : { eol: "\n", seqIndent: 0, mapIndent: 2 };
  const { eol } = layout;
  const changes: string[] = [];
  const unchanged: string[] = [];
  const edits: Edit[] = [];
  let tail = "";

  // --- mounts
  const requested: LimaMountEntry[] = [];
  for (const entry of edit.mounts) {
    const location = normalizeAbsolutePath(entry.location, "Mount location");
    const mountPoint = normalizeAbsolutePath(entry.mountPoint ?? location, "Mount guest path");
    const twin = requested.find((r) => (r.mountPoint ?? r.location) === mountPoint);
    if (twin) {
      if (twin.location !== location) {
        throw new RangeError(
          `Two mounts requested at the same guest path ${mountPoint}: ${twin.location} and ${location}`,
        );
      }
      twin.writable ||= entry.writable;
      continue;
    }
    requested.push({ location, mountPoint, writable: entry.writable });
  }
  const mountsPair = root?.items.find((p) => scalarString(p.key) === "mounts");
  const seqNode = mountsPair?.value;
  if (mountsPair && !isNullish(seqNode) && !isSeq(resolved(seqNode, doc))) {
    throw new RangeError("lima.yaml has a mounts: entry that is not a list");
  }
  const existing = readMounts(seqNode, context.home, doc);
  const toAdd: LimaMountEntry[] = [];
  for (const entry of requested) {
    const mountPoint = entry.mountPoint!;
    const found = existing.find((e) => e.mountPoint === mountPoint);
    if (!found) {
      toAdd.push(entry);
      continue;
    }
    if (found.location !== entry.location) {
      throw new RangeError(
        `lima.yaml already mounts ${found.location} at ${mountPoint}; choose another guest path for ${entry.location}`,
      );
    }
    if (entry.writable && !found.writable) {
      edits.push(makeWritable(text, found.node, layout, doc));
      changes.push(`made mount ${found.location} -> ${mountPoint} writable`);
    } else {
      unchanged.push(
        `mount ${found.location} -> ${mountPoint} (${
          found.writable ? "writable" : "read-only"
        }) is already there`,
      );
    }
  }
  if (toAdd.length > 0) {
    for (const entry of toAdd) changes.push(`added mount ${describe(entry)}`);
    if (isAlias(seqNode)) {
      throw new RangeError(
        `lima.yaml's mounts: is the alias ${
          text.slice(...rangeOf(seqNode)!.slice(0, 2) as [number, number])
        }; write the list out, or add ${toAdd.map(describe).join(", ")} to it by hand`,
      );
    }
    if (isSeq(seqNode) && seqNode.flow && seqNode.items.length > 0) {
      // Right after the last item: a trailing comma or a comment after it stays where it was.
      const at = rangeOf(seqNode.items[seqNode.items.length - 1] as Node)![1];
      edits.push({ start: at, end: at, text: `, ${toAdd.map(flowEntry).join(", ")}` });
    } else if (isSeq(seqNode) && seqNode.items.length > 0) {
      const r = rangeOf(seqNode)!;
      const dashCol = columnOf(text, r[0]);
      const last = seqNode.items[seqNode.items.length - 1] as Node;
      const at = lineEndAfter(text, rangeOf(last)![1]);
      const lead = at === text.length && !text.endsWith("\n") ? eol : "";
      const body = toAdd.flatMap((e) => itemLines(e, " ".repeat(dashCol)));
      edits.push({ start: at, end: at, text: lead + body.map((l) => `${l}${eol}`).join("") });
    } else if (mountsPair) {
      const keyCol = columnOf(text, rangeOf(mountsPair.key as Node)![0]);
      const ind = " ".repeat(keyCol + layout.seqIndent);
      edits.push(
        fillEmpty(
          text,
          mountsPair.key as Node,
          seqNode as Node,
          toAdd.flatMap((e) => itemLines(e, ind)),
          eol,
        ),
      );
    } else {
      const ind = " ".repeat(layout.seqIndent);
      tail += ["mounts:", ...toAdd.flatMap((e) => itemLines(e, ind))].map((l) => `${l}${eol}`)
        .join("");
    }
  }

  // --- env.PATH
  const prepend = (edit.pathPrepend ?? []).map((d) => normalizeAbsolutePath(d, "PATH entry"));
  if (prepend.length > 0) {
    const envPair = root?.items.find((p) => scalarString(p.key) === "env");
    const envNode = envPair?.value;
    if (envPair && !isNullish(envNode) && !isMap(envNode)) {
      throw new RangeError("lima.yaml has an env: entry that is not a mapping");
    }
    const pathPair = isMap(envNode)
      ? envNode.items.find((p) => scalarString(p.key) === "PATH")
      : undefined;
    const current = pathPair ? scalarString(pathPair.value) : undefined;
    if (pathPair && current === undefined && !isNullish(pathPair.value)) {
      throw new RangeError("lima.yaml has an env.PATH that is not a string");
    }
    const next = prependPath(current ?? DEFAULT_GUEST_PATH, prepend);
    if (current !== undefined && next === current) {
      unchanged.push(`env.PATH already holds ${prepend.join(", ")}`);
    } else {
      changes.push(
        `env.PATH now begins with ${
          prepend.filter((d) => !current?.split(":").includes(d)).join(":")
        }`,
      );
      const line = `PATH: ${quoted(next)}`;
      if (pathPair && !isNullish(pathPair.value)) {
        const r = rangeOf(pathPair.value as Node)!;
        edits.push({ start: r[0], end: r[1], text: quoted(next) });
      } else if (pathPair) {
        const kr = rangeOf(pathPair.key as Node)!;
        const colon = text.indexOf(":", kr[1]);
        edits.push({
          start: colon + 1,
          end: rangeOf(pathPair.value as Node)?.[1] ?? colon + 1,
          text: ` ${quoted(next)}`,
        });
      } else if (isMap(envNode) && envNode.flow && envNode.items.length > 0) {
        const lastPair = envNode.items[envNode.items.length - 1]!;
        const at = rangeOf(lastPair.value as Node)?.[1] ?? rangeOf(lastPair.key as Node)![1];
        edits.push({ start: at, end: at, text: `, ${line}` });
      } else if (isMap(envNode) && envNode.items.length > 0) {
        const col = columnOf(text, rangeOf(envNode.items[0]!.key as Node)![0]);
        const lastPair = envNode.items[envNode.items.length - 1]!;
        const end = rangeOf(lastPair.value as Node)?.[1] ?? rangeOf(lastPair.key as Node)![1];
        const at = lineEndAfter(text, end);
        const lead = at === text.length && !text.endsWith("\n") ? eol : "";
        edits.push({ start: at, end: at, text: `${lead}${" ".repeat(col)}${line}${eol}` });
      } else if (envPair) {
        const keyCol = columnOf(text, rangeOf(envPair.key as Node)![0]);
        edits.push(
          fillEmpty(
            text,
            envPair.key as Node,
            envNode as Node,
            [`${" ".repeat(keyCol + layout.mapIndent)}${line}`],
            eol,
          ),
        );
      } else {
        tail += `env:${eol}${" ".repeat(layout.mapIndent)}${line}${eol}`;
      }
    }
  }

  if (edits.length === 0 && tail === "") return { text, changed: false, changes, unchanged };
  let out = text;
  // Last offset first; at one offset, the edit made later goes in first, so it ends up after.
  const order = edits.map((e, i) => ({ e, i })).sort((a, b) => b.e.start - a.e.start || b.i - a.i);
  for (const { e } of order) {
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
  }
  if (tail !== "") {
    if (out !== "" && !out.endsWith("\n")) out += eol;
    out += tail;
  }
  verify(out, requested, prepend, context.home);
  return { text: out, changed: true, changes, unchanged };
}

function itemLines(entry: LimaMountEntry, indent: string): string[] {
  return entryLines(entry).map((l, i) => `${indent}${i === 0 ? "- " : "  "}${l}`);
}

function makeWritable(text: string, node: Node, layout: Layout, doc: Document): Edit {
  if (isAlias(node)) {
    // `- *ws`: the anchored mapping may serve elsewhere too; this item alone gets the override.
    const r = rangeOf(node)!;
    return {
      start: r[0],
      end: r[1],
      text: `{<<: ${text.slice(r[0], r[1]).trimEnd()}, writable: true}`,
    };
  }
  const item = resolved(node, doc) as YAMLMap;
  const pair = item.items.find((p) => scalarString(p.key) === "writable");
  if (pair && !isNullish(pair.value)) {
    const r = rangeOf(pair.value as Node)!;
    return { start: r[0], end: r[1], text: "true" };
  }
  if (pair) {
    const kr = rangeOf(pair.key as Node)!;
    const colon = text.indexOf(":", kr[1]);
    const vr = rangeOf(pair.value as Node);
    return { start: colon + 1, end: vr ? vr[1] : colon + 1, text: " true" };
  }
  const r = rangeOf(item)!;
  const last = item.items[item.items.length - 1]!;
  if (item.flow) {
    const at = rangeOf(last.value as Node)?.[1] ?? rangeOf(last.key as Node)![1];
    return { start: at, end: at, text: ", writable: true" };
  }
  const col = columnOf(text, r[0]);
  const end = rangeOf(last.value as Node)?.[1] ?? rangeOf(last.key as Node)![1];
  const at = lineEndAfter(text, end);
  const lead = at === text.length && !text.endsWith("\n") ? layout.eol : "";
  return { start: at, end: at, text: `${lead}${" ".repeat(col)}writable: true${layout.eol}` };
}

/** Parse the merged text again and check that it says what was asked. */
function verify(
  text: string,
  requested: readonly LimaMountEntry[],
  prepend: readonly string[],
  home: string | undefined,
): void {
  const doc = parseOrThrow(text, "the merged lima.yaml");
  const root = doc.contents;
  const mounts = isMap(root) ? readMounts(root.get("mounts", true), home, doc) : [];
  for (const entry of requested) {
    const found = mounts.find((m) => m.mountPoint === entry.mountPoint);
    if (!found || found.location !== entry.location || (entry.writable && !found.writable)) {
      throw new Error(`Internal error: merging ${describe(entry)} into lima.yaml failed`);
    }
  }
  if (prepend.length > 0) {
    const env = isMap(root) ? root.get("env", true) : undefined;
    const path = isMap(env) ? scalarString(env.get("PATH", true)) : undefined;
    if (path === undefined || prepend.some((d) => !path.split(":").includes(d))) {
      throw new Error("Internal error: merging env.PATH into lima.yaml failed");
    }
  }
}
