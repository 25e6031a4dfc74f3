import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  DEFAULT_GUEST_PATH,
  limaYamlFragment,
  mergeLimaYaml,
  parseMountSpec,
  prependPath,
} from "../lib/lima_yaml.ts";

const HOME = "/home/me";
const APP = { location: "/home/me/src/app", mountPoint: "/workspace", writable: true };

/** A lima.yaml in the shape `limactl create` leaves: many comments, list items at the key's column. */
const INSTANCE_YAML = `# ===================================================================== #
# A development VM (comments like Lima's template)
# ===================================================================== #

# VM type: "qemu", "vz" (on macOS 13 and later)
vmType: qemu

images:
# Try to use release-yyyyMMdd image if available.
- location: "https://cloud-images.example/noble-amd64.img"
  arch: "x86_64"  # the host's arch
- location: "https://cloud-images.example/noble-arm64.img"
  arch: "aarch64"

cpus: 4 # 🟢 Builtin default: min(4, host CPU cores)

# Expose host directories to the guest; the mount point is the same as
# the location unless mountPoint is set.
mounts:
- location: "~"
  # Writable mounts of the home are discouraged.
  writable: false
- location: "/tmp/lima"
  mountPoint: /tmp/lima
  writable: true  # scratch space

# - location: "/media/data"
#   writable: true

ssh:
  # A localhost port of the host. Forwarded to port 22 of the guest.
  localPort: 0

# env:
#   KEY: value
`;

function commentLines(text: string): string[] {
  return text.split("\n").filter((l) => l.includes("#"));
}

Deno.test("mergeLimaYaml adds a mount after the last entry and keeps every other byte", () => {
  const merged = mergeLimaYaml(INSTANCE_YAML, { mounts: [APP] }, { home: HOME });
  assert.equal(
    merged.text,
    INSTANCE_YAML.replace(
      "  writable: true  # scratch space\n",
      "  writable: true  # scratch space\n" +
        '- location: "/home/me/src/app"\n  mountPoint: "/workspace"\n  writable: true\n',
    ),
  );
  assert.deepEqual(merged.changes, ["added mount /home/me/src/app -> /workspace (writable)"]);
  assert.deepEqual(merged.unchanged, []);
  assert.equal(merged.changed, true);
  // every comment survives, in order, and the result parses to the intended mounts
  assert.deepEqual(commentLines(merged.text), commentLines(INSTANCE_YAML));
  assert.deepEqual(parse(merged.text).mounts, [
    { location: "~", writable: false },
    { location: "/tmp/lima", mountPoint: "/tmp/lima", writable: true },
    { location: "/home/me/src/app", mountPoint: "/workspace", writable: true },
  ]);
});

Deno.test("mergeLimaYaml is idempotent: a second merge changes nothing", () => {
  const once = mergeLimaYaml(INSTANCE_YAML, { mounts: [APP], pathPrepend: ["/host-bin"] }, {
    home: HOME,
  });
  const twice = mergeLimaYaml(once.text, { mounts: [APP], pathPrepend: ["/host-bin"] }, {
    home: HOME,
  });
  assert.equal(twice.changed, false);
  assert.equal(twice.text, once.text);
  assert.deepEqual(twice.changes, []);
  assert.deepEqual(twice.unchanged, [
    "mount /home/me/src/app -> /workspace (writable) is already there",
    "env.PATH already holds /host-bin",
  ]);
});

Deno.test("mergeLimaYaml matches existing entries by guest path, expanding ~ in locations", () => {
  // "~" is /home/me mounted at /home/me: asking for exactly that adds nothing
  const same = mergeLimaYaml(
    INSTANCE_YAML,
    { mounts: [{ location: "/home/me", writable: false }] },
    { home: HOME },
  );
  assert.equal(same.changed, false);
  assert.deepEqual(same.unchanged, ["mount /home/me -> /home/me (read-only) is already there"]);
  // asking for it writable flips the existing entry, keeping its comment
  const writable = mergeLimaYaml(
    INSTANCE_YAML,
    { mounts: [{ location: "/home/me", writable: true }] },
    { home: HOME },
  );
  assert.equal(
    writable.text,
    INSTANCE_YAML.replace(
      '- location: "~"\n  # Writable mounts of the home are discouraged.\n  writable: false\n',
      '- location: "~"\n  # Writable mounts of the home are discouraged.\n  writable: true\n',
    ),
  );
  assert.deepEqual(writable.changes, ["made mount /home/me -> /home/me writable"]);
  // a read-only request never downgrades a writable entry
  const ro = mergeLimaYaml(
    INSTANCE_YAML,
    { mounts: [{ location: "/tmp/lima", mountPoint: "/tmp/lima/", writable: false }] },
    { home: HOME },
  );
  assert.equal(ro.changed, false);
  assert.deepEqual(ro.unchanged, ["mount /tmp/lima -> /tmp/lima (writable) is already there"]);
});

Deno.test("mergeLimaYaml refuses a guest path that shows another host directory", () => {
  assert.throws(
    () =>
      mergeLimaYaml(INSTANCE_YAML, {
        mounts: [{ location: "/home/me/other", mountPoint: "/tmp/lima", writable: true }],
      }, { home: HOME }),
    {
      name: "RangeError",
      message:
        "lima.yaml already mounts /tmp/lima at /tmp/lima; choose another guest path for /home/me/other",
    },
  );
  assert.throws(
    () =>
      mergeLimaYaml("", {
        mounts: [APP, { location: "/home/me/b", mountPoint: "/workspace", writable: false }],
      }),
    {
      name: "RangeError",
      message:
        "Two mounts requested at the same guest path /workspace: /home/me/src/app and /home/me/b",
    },
  );
});

Deno.test("mergeLimaYaml adds a missing writable key, and edits flow-style entries in place", () => {
  const block = 'mounts:\n- location: "/home/me/src/app"\n  mountPoint: /workspace # here\n';
  assert.equal(
    mergeLimaYaml(block, { mounts: [APP] }).text,
    block + "  writable: true\n",
  );
  const flow = 'mounts:\n- {location: "/home/me/src/app", mountPoint: /workspace}\nx: 1\n';
  assert.equal(
    mergeLimaYaml(flow, { mounts: [APP] }).text,
    'mounts:\n- {location: "/home/me/src/app", mountPoint: /workspace, writable: true}\nx: 1\n',
  );
  const flowSeq = "mounts: [ {location: /a} ]  # one\n";
  assert.equal(
    mergeLimaYaml(flowSeq, { mounts: [APP] }).text,
    'mounts: [ {location: /a}, {location: "/home/me/src/app", mountPoint: "/workspace", writable: true} ]  # one\n',
  );
  const nullWritable =
    'mounts:\n- location: "/home/me/src/app"\n  mountPoint: /workspace\n  writable: null\n';
  assert.equal(
    mergeLimaYaml(nullWritable, { mounts: [APP] }).text,
    'mounts:\n- location: "/home/me/src/app"\n  mountPoint: /workspace\n  writable: true\n',
  );
});

Deno.test("mergeLimaYaml fills an empty mounts: ([], null, nothing) in block style", () => {
  // Lima's 2.x template: `mounts: []` followed by a commented-out example
  const template =
    '# Mounts\nmounts: []  # inherited from base\n# - location: "~"\n#   writable: null\nssh: {}\n';
  assert.equal(
    mergeLimaYaml(template, { mounts: [APP] }).text,
    "# Mounts\nmounts: # inherited from base\n" +
      '- location: "/home/me/src/app"\n  mountPoint: "/workspace"\n  writable: true\n' +
      '# - location: "~"\n#   writable: null\nssh: {}\n',
  );
  const entry = '- location: "/home/me/src/app"\n  mountPoint: "/workspace"\n  writable: true\n';
  assert.equal(
    mergeLimaYaml("mounts: null\nx: 1\n", { mounts: [APP] }).text,
    `mounts:\n${entry}x: 1\n`,
  );
  assert.equal(mergeLimaYaml("mounts:\nx: 1\n", { mounts: [APP] }).text, `mounts:\n${entry}x: 1\n`);
  assert.equal(mergeLimaYaml("mounts: ~", { mounts: [APP] }).text, `mounts:\n${entry}`);
});

Deno.test("mergeLimaYaml appends mounts: when there is none, in the file's list style and line endings", () => {
  const entry = '- location: "/home/me/src/app"\n  mountPoint: "/workspace"\n  writable: true\n';
  assert.equal(mergeLimaYaml("", { mounts: [APP] }).text, `mounts:\n${entry}`);
  assert.equal(
    mergeLimaYaml("# just a comment", { mounts: [APP] }).text,
    `# just a comment\nmounts:\n${entry}`,
  );
  const indented = "cpus: 2\nimages:\n  - location: x\n    arch: y\n";
  assert.equal(
    mergeLimaYaml(indented, { mounts: [APP] }).text,
    indented +
      'mounts:\n  - location: "/home/me/src/app"\n    mountPoint: "/workspace"\n    writable: true\n',
  );
  const crlf = "cpus: 2\r\nmounts:\r\n- location: /a\r\n";
  assert.equal(
    mergeLimaYaml(crlf, { mounts: [APP] }).text,
    'cpus: 2\r\nmounts:\r\n- location: /a\r\n- location: "/home/me/src/app"\r\n  mountPoint: "/workspace"\r\n  writable: true\r\n',
  );
  const noFinalNewline = "mounts:\n- location: /a";
  assert.equal(
    mergeLimaYaml(noFinalNewline, { mounts: [APP] }).text,
    `mounts:\n- location: /a\n${entry}`,
  );
});

Deno.test("mergeLimaYaml puts directories in front of env.PATH, creating it from Ubuntu's PATH", () => {
  const added = mergeLimaYaml(INSTANCE_YAML, { mounts: [], pathPrepend: ["/host-bin"] });
  assert.equal(
    added.text,
    `${INSTANCE_YAML}env:\n  PATH: "/host-bin:${DEFAULT_GUEST_PATH}"\n`,
  );
  assert.deepEqual(added.changes, ["env.PATH now begins with /host-bin"]);
  const existing = 'env:\n  RUST_LOG: debug\n  PATH: "/opt/bin:/usr/bin" # mine\nx: 1\n';
  assert.equal(
    mergeLimaYaml(existing, { mounts: [], pathPrepend: ["/a", "/opt/bin", "/b"] }).text,
    'env:\n  RUST_LOG: debug\n  PATH: "/a:/b:/opt/bin:/usr/bin" # mine\nx: 1\n',
  );
  assert.equal(
    mergeLimaYaml("env:\n    A: b\n", { mounts: [], pathPrepend: ["/a"] }).text,
    `env:\n    A: b\n    PATH: "/a:${DEFAULT_GUEST_PATH}"\n`,
  );
  assert.equal(
    mergeLimaYaml("env: {} # none\n", { mounts: [], pathPrepend: ["/a"] }).text,
    `env: # none\n  PATH: "/a:${DEFAULT_GUEST_PATH}"\n`,
  );
  assert.equal(
    mergeLimaYaml("env: {A: b}\n", { mounts: [], pathPrepend: ["/a"] }).text,
    `env: {A: b, PATH: "/a:${DEFAULT_GUEST_PATH}"}\n`,
  );
});

Deno.test("mergeLimaYaml rejects what it cannot edit safely", () => {
  assert.throws(() => mergeLimaYaml("mounts: [\n", { mounts: [APP] }), {
    name: "SyntaxError",
    message: /^lima\.yaml is not valid YAML: /,
  });
  assert.throws(() => mergeLimaYaml("- a\n- b\n", { mounts: [APP] }), {
    name: "SyntaxError",
    message: "lima.yaml does not hold a mapping at its top level",
  });
  assert.throws(() => mergeLimaYaml("mounts: /a\n", { mounts: [APP] }), {
    name: "RangeError",
    message: "lima.yaml has a mounts: entry that is not a list",
  });
  assert.throws(() => mergeLimaYaml("env: [a]\n", { mounts: [], pathPrepend: ["/a"] }), {
    name: "RangeError",
    message: "lima.yaml has an env: entry that is not a mapping",
  });
  assert.throws(() => mergeLimaYaml("", { mounts: [{ location: "rel", writable: true }] }), {
    name: "TypeError",
    message: 'Mount location must be an absolute POSIX path: received "rel"',
  });
});

Deno.test("parseMountSpec reads HOST:GUEST[:ro|:rw]", () => {
  const ctx = { cwd: "/home/me/app", home: HOME };
  const cases: [string, ReturnType<typeof parseMountSpec>][] = [
    ["target/release:/host-bin:ro", {
      location: "/home/me/app/target/release",
      mountPoint: "/host-bin",
      writable: false,
    }],
    ["/data:/data", { location: "/data", mountPoint: "/data", writable: true }],
    ["../lib/:/lib/:rw", { location: "/home/me/lib", mountPoint: "/lib", writable: true }],
    ["~/cache:/cache", { location: "/home/me/cache", mountPoint: "/cache", writable: true }],
    ["/a:b/c:/guest:ro", { location: "/a:b/c", mountPoint: "/guest", writable: false }],
  ];
  for (const [spec, expected] of cases) assert.deepEqual(parseMountSpec(spec, ctx), expected, spec);
  for (const bad of ["/data", "/data:rel", ":/guest", "/data:/g:rx"]) {
    assert.throws(() => parseMountSpec(bad, ctx), {
      name: "RangeError",
      message: `Invalid mount ${
        JSON.stringify(bad)
      }: expected HOST:GUEST[:ro], with GUEST an absolute guest directory`,
    }, bad);
  }
  assert.throws(() => parseMountSpec("~/x:/x", { cwd: "/" }), {
    name: "RangeError",
    message: 'Invalid mount "~/x:/x": HOME is not known for "~"',
  });
});

Deno.test("prependPath adds only what is missing, in order", () => {
  assert.equal(prependPath("/usr/bin:/bin", ["/a", "/b"]), "/a:/b:/usr/bin:/bin");
  assert.equal(prependPath("/usr/bin:/bin", ["/bin"]), "/usr/bin:/bin");
  assert.equal(prependPath("/usr/bin", ["/a", "/a"]), "/a:/usr/bin");
  assert.equal(prependPath("", ["/a"]), "/a");
});

Deno.test("limaYamlFragment prints entries in Lima's style", () => {
  assert.equal(
    limaYamlFragment([
      { location: "/home/me/app", writable: false },
      { location: "/home/me/app/target/release", mountPoint: "/host-bin", writable: false },
    ], ["/host-bin"]),
    [
      "mounts:",
      '- location: "/home/me/app"',
      "  writable: false",
      '- location: "/home/me/app/target/release"',
      '  mountPoint: "/host-bin"',
      "  writable: false",
      "env:",
      `  PATH: "/host-bin:${DEFAULT_GUEST_PATH}"`,
      "",
    ].join("\n"),
  );
  assert.equal(limaYamlFragment([]), "");
});

Deno.test("mergeLimaYaml resolves aliases and merge keys before comparing guest paths", () => {
  const NEW = 'location: "/home/me/src/app"\n  mountPoint: "/workspace"\n  writable: true\n';
  // the same entry through an alias: nothing to add
  const alias = "x-ws: &ws\n  location: /home/me/src/app\n  mountPoint: /workspace\n" +
    "  writable: true\nmounts:\n- *ws # shared\n";
  assert.deepEqual(mergeLimaYaml(alias, { mounts: [APP] }, { home: HOME }), {
    text: alias,
    changed: false,
    changes: [],
    unchanged: ["mount /home/me/src/app -> /workspace (writable) is already there"],
  });
  // through a merge key, the entry's own keys winning over the base's
  const merged = "x-base: &base\n  location: ~/src/app\n  writable: true\n" +
    "mounts:\n- <<: *base\n  mountPoint: /workspace\n  writable: false\n";
  const made = mergeLimaYaml(merged, { mounts: [APP] }, { home: HOME });
  assert.equal(made.text, merged.replace("  writable: false\n", "  writable: true\n"));
  assert.deepEqual(made.changes, ["made mount /home/me/src/app -> /workspace writable"]);
  // a read-only aliased entry: only this item gets the override, the anchor stays
  const readOnly = "x-ws: &ws {location: /home/me/src/app, mountPoint: /workspace}\n" +
    "other: *ws\nmounts:\n- *ws\n";
  const flipped = mergeLimaYaml(readOnly, { mounts: [APP] }, { home: HOME });
  assert.equal(flipped.text, readOnly.replace("- *ws\n", "- {<<: *ws, writable: true}\n"));
  assert.deepEqual(parse(flipped.text, { merge: true }).other, {
    location: "/home/me/src/app",
    mountPoint: "/workspace",
  });
  // a merge key whose base sits at another guest path: still a new entry
  const elsewhere = "x-base: &base\n  location: /home/me/src/app\nmounts:\n- <<: *base\n" +
    "  mountPoint: /elsewhere\n";
  assert.equal(mergeLimaYaml(elsewhere, { mounts: [APP] }).text, `${elsewhere}- ${NEW}`);
  // an alias before its anchor is no YAML Lima reads
  assert.throws(
    () => mergeLimaYaml("mounts:\n- *ws\nx: &ws {location: /a}\n", { mounts: [APP] }),
    SyntaxError,
    "lima.yaml is not valid YAML: Unresolved alias (the anchor must be set before the alias): ws",
  );
  // an aliased whole list cannot take an entry without changing its anchor
  assert.throws(
    () => mergeLimaYaml("x: &l\n- location: /a\nmounts: *l\n", { mounts: [APP] }),
    RangeError,
    "lima.yaml's mounts: is the alias *l; write the list out, or add /home/me/src/app -> /workspace (writable) to it by hand",
  );
});

Deno.test("mergeLimaYaml accepts flow lists with a trailing comma or inner comments", () => {
  const ENTRY = '{location: "/home/me/src/app", mountPoint: "/workspace", writable: true}';
  const cases: [string, string][] = [
    ["mounts: [{location: /a},]\n", `mounts: [{location: /a}, ${ENTRY},]\n`],
    [
      "mounts: [\n  {location: /a}, # one\n  # two\n]\nx: 1\n",
      `mounts: [\n  {location: /a}, ${ENTRY}, # one\n  # two\n]\nx: 1\n`,
    ],
    ["mounts: [{location: /a} # c\n]\n", `mounts: [{location: /a}, ${ENTRY} # c\n]\n`],
  ];
  for (const [text, expected] of cases) {
    const merged = mergeLimaYaml(text, { mounts: [APP] });
    assert.equal(merged.text, expected, text);
    assert.equal(mergeLimaYaml(merged.text, { mounts: [APP] }).changed, false, text);
  }
  // the same for a flow entry getting writable, and a flow env getting PATH
  assert.equal(
    mergeLimaYaml("mounts: [{location: /home/me/src/app, mountPoint: /workspace, },]\n", {
      mounts: [APP],
    }).text,
    "mounts: [{location: /home/me/src/app, mountPoint: /workspace, writable: true, },]\n",
  );
  assert.equal(
    mergeLimaYaml("env: {A: b, } # e\n", { mounts: [], pathPrepend: ["/x"] }).text,
    `env: {A: b, PATH: ${JSON.stringify(`/x:${DEFAULT_GUEST_PATH}`)}, } # e\n`,
  );
});
