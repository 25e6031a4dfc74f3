import assert from "node:assert/strict";
import fc from "fast-check";
import {
  emptyManifest,
  manifestChunks,
  ManifestText,
  parseManifest,
  stringifyManifest,
} from "../../lib/sync/manifest.ts";
import { setOwn } from "../../lib/sync/_paths.ts";
import { comparePaths, type Manifest, type SyncEntry } from "../../lib/sync/types.ts";

const entryArb: fc.Arbitrary<SyncEntry> = fc.oneof(
  fc.record({
    type: fc.constant("file" as const),
    size: fc.nat(),
    mtimeMs: fc.integer({ min: -1e13, max: 1e13 }),
    mode: fc.integer({ min: 0, max: 0o7777 }),
  }, { noNullPrototype: true }),
  fc.record({ type: fc.constant("dir" as const), mode: fc.integer({ min: 0, max: 0o7777 }) }, {
    noNullPrototype: true,
  }),
  fc.record({ type: fc.constant("symlink" as const), target: fc.string() }, {
    noNullPrototype: true,
  }),
);
const pathArb = fc.array(
  fc.string({ minLength: 1, maxLength: 4 }).filter((s) =>
    !s.includes("/") && !s.includes("\0") && s !== "." && s !== ".."
  ),
  { minLength: 1, maxLength: 3 },
).map((parts) => parts.join("/"));

Deno.test("stringifyManifest() and parseManifest() round-trip any manifest", () => {
  fc.assert(
    fc.property(fc.dictionary(pathArb, entryArb, { noNullPrototype: true }), (entries) => {
      const manifest = { version: 1 as const, entries };
      assert.deepEqual(parseManifest(stringifyManifest(manifest)), manifest);
    }),
  );
});

Deno.test("stringifyManifest() and parseManifest() keep a file named __proto__", () => {
  const entries: Record<string, { type: "dir"; mode: number }> = {};
  Object.defineProperty(entries, "__proto__", {
    value: { type: "dir", mode: 0o755 },
    enumerable: true,
    writable: true,
    configurable: true,
  });
  const text = stringifyManifest({ version: 1, entries });
  assert.equal(text, '{"version":1,"entries":{"__proto__":[493]}}\n');
  const parsed = parseManifest(text);
  assert.deepEqual(Object.keys(parsed.entries), ["__proto__"]);
  assert.deepEqual(Object.getOwnPropertyDescriptor(parsed.entries, "__proto__")?.value, {
    type: "dir",
    mode: 0o755,
  });
  assert.equal(Object.getPrototypeOf(parsed.entries), Object.prototype);
});

Deno.test("stringifyManifest() writes compact JSON in path order", () => {
  assert.equal(stringifyManifest(emptyManifest()), '{"version":1,"entries":{}}\n');
  assert.equal(
    stringifyManifest({
      version: 1,
      entries: {
        "a.txt": { type: "file", size: 1, mtimeMs: 2, mode: 0o644 },
        "10": { type: "dir", mode: 0o700 }, // a name JSON objects would put first anyway
        a: { type: "dir", mode: 0o755 },
        "a/l": { type: "symlink", target: 'say "hi"' },
      },
    }),
    '{"version":1,"entries":{"10":[448],"a":[493],"a/l":"say \\"hi\\"","a.txt":[1,2,420]}}\n',
  );
});

Deno.test("parseManifest() refuses what is not a version 1 manifest", () => {
  const cases: [string, string][] = [
    ["", "Cannot read the sync manifest: Unexpected end of JSON input"],
    ["[]", "Cannot read the sync manifest: it is not a JSON object"],
    ['{"entries":{}}', "Cannot read the sync manifest: it is not version 1"],
    ['{"version":1}', 'Cannot read the sync manifest: "entries" is not an object'],
    [
      '{"version":1,"entries":{"/a":[493]}}',
      'Cannot read the sync manifest: Cannot use path "/a": it is absolute',
    ],
    [
      '{"version":1,"entries":{"a":[1,2]}}',
      'Cannot read the sync manifest: the entry of "a" is malformed',
    ],
    [
      '{"version":1,"entries":{"a":[8192]}}',
      'Cannot read the sync manifest: the entry of "a" is malformed',
    ], // mode above 0o7777
    [
      '{"version":1,"entries":{"a":[-1,0,420]}}',
      'Cannot read the sync manifest: the entry of "a" is malformed',
    ],
    [
      '{"version":1,"entries":{"a":null}}',
      'Cannot read the sync manifest: the entry of "a" is malformed',
    ],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseManifest(text), new SyntaxError(message), text);
  }
});

Deno.test("stringifyManifest() and parseManifest() keep the copy's identity and project", () => {
  const manifest = {
    version: 1 as const,
    copy: "0123456789abcdef0123456789abcdef",
    project: "/src/app",
    entries: { a: { type: "dir" as const, mode: 0o755 } },
  };
  const text = stringifyManifest(manifest);
  assert.equal(
    text,
    '{"version":1,"copy":"0123456789abcdef0123456789abcdef","project":"/src/app","entries":{"a":[493]}}\n',
  );
  assert.deepEqual(parseManifest(text), manifest);
  assert.throws(() => parseManifest('{"version":1,"copy":7,"entries":{}}'), {
    name: "SyntaxError",
    message: 'Cannot read the sync manifest: "copy" is not a string',
  });
});

Deno.test("ManifestText reads, replaces, removes and adds entries in place", () => {
  const manifest = {
    version: 1 as const,
    copy: "c",
    project: "/p",
    entries: {
      a: { type: "dir" as const, mode: 0o755 },
      "a/b": { type: "file" as const, size: 1, mtimeMs: 1000, mode: 0o644 },
      // A link whose target looks like a key: never taken for one.
      "a/l": { type: "symlink" as const, target: ',"a/z":[1]' },
      "a/z": { type: "file" as const, size: 2, mtimeMs: 2000, mode: 0o600 },
    },
  };
  const text = stringifyManifest(manifest);
  const lazy = ManifestText.from(text)!;
  assert.deepEqual(lazy.head, { copy: "c", project: "/p" });
  assert.deepEqual(lazy.get("a/z"), manifest.entries["a/z"]);
  assert.deepEqual(lazy.get("a/l"), manifest.entries["a/l"]);
  assert.equal(lazy.get("a/y"), undefined);
  const changed = lazy.with(
    new Map([["a", undefined], ["a/z", { type: "file", size: 3, mtimeMs: 3000, mode: 0o644 }]]),
  )!;
  const { a: _a, ...rest } = manifest.entries;
  assert.equal(
    changed,
    stringifyManifest({
      ...manifest,
      entries: { ...rest, "a/z": { type: "file", size: 3, mtimeMs: 3000, mode: 0o644 } },
    }),
  );
  // Added entries go last; the text stays a manifest with every entry.
  const grown = lazy.with(new Map([["new", { type: "dir", mode: 0o755 }], ["a", undefined]]))!;
  assert.deepEqual(parseManifest(grown), {
    ...manifest,
    entries: { ...rest, new: { type: "dir", mode: 0o755 } },
  });
  assert.equal(
    stringifyManifest(parseManifest(grown)),
    stringifyManifest({ ...manifest, entries: { ...rest, new: { type: "dir", mode: 0o755 } } }),
  );
  // Many paths at once are found in one pass.
  const many = ManifestText.from(text)!;
  many.find(["a", "a/b", "a/l", "a/z", "missing", "a/y"]);
  assert.deepEqual(many.get("a/b"), manifest.entries["a/b"]);
  assert.deepEqual(many.get("a/l"), manifest.entries["a/l"]);
  assert.equal(many.get("missing"), undefined);
  const emptied = ManifestText.from('{"version":1,"entries":{"x":[493]}}\n')!;
  assert.equal(
    emptied.with(new Map([["x", undefined], ["y", { type: "dir", mode: 0o700 }]])),
    '{"version":1,"entries":{"y":[448]}}\n',
  );
  assert.equal(ManifestText.from('{"version":1,"entries":{}}\n')!.get("x"), undefined);
  assert.throws(() => ManifestText.from('{"version":2,"entries":{}}'), SyntaxError);
});

/** The text as JSON.stringify gives it for an object of the encoded entries built in path order. */
function reference(manifest: Manifest): string {
  const out: Record<string, unknown> = {};
  for (const path of Object.keys(manifest.entries).sort(comparePaths)) {
    const e = manifest.entries[path]!;
    setOwn(
      out,
      path,
      e.type === "file" ? [e.size, e.mtimeMs, e.mode] : e.type === "dir" ? [e.mode] : e.target,
    );
  }
  const head: Record<string, unknown> = { version: 1 };
  if (manifest.copy !== undefined) head.copy = manifest.copy;
  if (manifest.project !== undefined) head.project = manifest.project;
  return `${JSON.stringify({ ...head, entries: out })}\n`;
}

Deno.test("manifestChunks() gives the text of JSON.stringify in pieces, array-index names first", () => {
  const dir = { type: "dir" as const, mode: 0o755 };
  const file = { type: "file" as const, size: 3, mtimeMs: 1_700_000_000_123, mode: 0o644 };
  const entries: Record<string, SyncEntry> = {};
  for (
    const path of [
      "zeta",
      "9",
      "10",
      "0",
      "01",
      "4294967294",
      "4294967295",
      "a/b",
      "a",
      'q"uote\\',
      "été",
      "__proto__",
      "a.txt",
    ]
  ) {
    setOwn(
      entries,
      path,
      path === "a" ? dir : path === "zeta" ? { type: "symlink", target: "../x\n" } : file,
    );
  }
  const manifest: Manifest = { version: 1, copy: "c0", project: '/src/"app"', entries };
  const text = stringifyManifest(manifest);
  assert.equal(text, reference(manifest));
  // Names that are array indices (up to 2**32 - 2) first, ascending; then path order.
  assert.deepEqual(Object.keys(JSON.parse(text).entries), [
    "0",
    "9",
    "10",
    "4294967294",
    "01",
    "4294967295",
    "__proto__",
    "a",
    "a/b",
    "a.txt",
    'q"uote\\',
    "zeta",
    "été",
  ]);
  for (const size of [1, 7, 40, 1 << 16]) {
    const pieces = [...manifestChunks(manifest, size)];
    assert.equal(pieces.join(""), text, `size ${size}`);
    // Every piece but the last holds at least `size` characters.
    for (const piece of pieces.slice(0, -1)) assert.ok(piece.length >= size, `size ${size}`);
  }
  assert.deepEqual([...manifestChunks(emptyManifest())], ['{"version":1,"entries":{}}\n']);
});

Deno.test("manifestChunks() agrees with JSON.stringify on any manifest", () => {
  fc.assert(
    fc.property(fc.dictionary(pathArb, entryArb, { noNullPrototype: true }), (entries) => {
      const manifest = { version: 1 as const, entries };
      assert.equal([...manifestChunks(manifest, 16)].join(""), reference(manifest));
    }),
  );
});
