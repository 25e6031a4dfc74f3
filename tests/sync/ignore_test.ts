import assert from "node:assert/strict";
import { compileIgnore, IGNORE_FILE } from "../../lib/sync/ignore.ts";

Deno.test("compileIgnore() follows gitignore rules", () => {
  const rules = [
    "# build output",
    "target/",
    "*.log",
    "!keep.log",
    "/root-only.txt",
    "docs/**/*.tmp",
    "",
  ].join("\n");
  const ignored = compileIgnore(rules)!;
  const cases: [string, boolean, boolean][] = [
    ["target", true, true],
    ["target", false, false], // "target/" matches directories only
    ["sub/target", true, true], // no leading slash: at any depth
    ["a.log", false, true],
    ["deep/b.log", false, true],
    ["keep.log", false, false], // negated
    ["root-only.txt", false, true],
    ["sub/root-only.txt", false, false], // anchored to the root
    ["docs/a/b/x.tmp", false, true],
    ["x.tmp", false, false],
    ["src/main.rs", false, false],
    ["# build output", false, false], // a comment is not a pattern
  ];
  for (const [path, isDir, expected] of cases) {
    assert.equal(ignored(path, isDir), expected, `${path} ${isDir}`);
  }
});

Deno.test("compileIgnore() always leaves out the given exact paths, and nothing else by default", () => {
  assert.equal(compileIgnore(""), undefined);
  assert.equal(compileIgnore("# only a comment\n\n"), undefined);
  const ignored = compileIgnore("", [".sync/manifest.json"])!;
  assert.equal(ignored(".sync/manifest.json", false), true);
  assert.equal(ignored(".sync", true), false);
  assert.equal(ignored(".git", true), false);
  assert.equal(IGNORE_FILE, ".gammaignore");
});

Deno.test("IgnoreRules: rules added with last decide before the files of their directory", () => {
  const rules = new IgnoreRules();
  rules.add("", "(settings sync.ignore)", "!keep.log\nvendor/\n", { last: true });
  rules.add("", ".gitignore", "*.log\n");
  rules.add("sub", "sub/.gitignore", "keep.log\n");
  assert.equal(rules.filter("keep.log", false), false); // the settings win at the root
  assert.equal(rules.filter("other.log", false), true);
  assert.equal(rules.filter("sub/keep.log", false), true); // a deeper file still wins
  assert.deepEqual(rules.explain("vendor", true), {
    file: "(settings sync.ignore)",
    pattern: "vendor/",
  });
});
