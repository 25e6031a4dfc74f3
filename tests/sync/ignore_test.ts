import assert from "node:assert/strict";
import { compileIgnore, IGNORE_FILE, IgnoreRules } from "../../lib/sync/ignore.ts";
import { MemoryTree } from "../../lib/sync/memory_tree.ts";

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

Deno.test("IgnoreRules follows .gitignore files at every level as git does", () => {
  const rules = new IgnoreRules([".gamma-copy-id"]);
  rules.add("", ".gitignore", "*.log\ntarget/\n/only-root\nbuild/\n");
  rules.add("", ".gammaignore", "!important.log\n");
  rules.add("web", "web/.gitignore", "!keep.log\nnode_modules/\n# comment\n");
  rules.add("web/deep", "web/deep/.gitignore", "keep.log\n");
  rules.add("empty", "empty/.gitignore", "# nothing\n\n");
  const cases: [string, boolean, string | undefined][] = [
    ["a.log", false, ".gitignore *.log"],
    ["important.log", false, undefined], // .gammaignore comes later at the same level and wins
    ["web/keep.log", false, undefined], // the deeper file wins
    ["web/other.log", false, ".gitignore *.log"],
    ["web/deep/keep.log", false, "web/deep/.gitignore keep.log"],
    ["web/node_modules", true, "web/.gitignore node_modules/"],
    ["node_modules", true, undefined], // rules apply below their own directory only
    ["target", true, ".gitignore target/"],
    ["target", false, undefined],
    ["only-root", false, ".gitignore /only-root"],
    ["web/only-root", false, undefined],
    [".gamma-copy-id", false, "(gamma) .gamma-copy-id"],
    ["sub/.gamma-copy-id", false, undefined],
    [".git", true, undefined], // .git itself is synced
  ];
  for (const [path, isDir, why] of cases) {
    const reason = rules.explain(path, isDir);
    assert.equal(reason && `${reason.file} ${reason.pattern}`, why, path);
    assert.equal(rules.filter(path, isDir), why !== undefined, path);
  }
});

Deno.test("IgnoreRules: .gitignore files never leave out .git, as git never looks at it", () => {
  const rules = new IgnoreRules();
  rules.add("", ".gitignore", ".git\n*\n!*/\n!*.rs\n");
  rules.add("vendor/lib", "vendor/lib/.gitignore", ".git/\n");
  rules.add("", ".gammaignore", ".git/objects/\n");
  const cases: [string, boolean, string | undefined][] = [
    [".git", true, undefined],
    [".git/HEAD", false, undefined],
    [".git/refs/heads/main", false, undefined],
    ["vendor/lib/.git", true, undefined],
    ["vendor/lib/.git/config", false, undefined],
    [".git/objects", true, ".gammaignore .git/objects/"], // .gammaignore may leave it out
    ["notes.txt", false, ".gitignore *"],
    ["main.rs", false, undefined],
  ];
  for (const [path, isDir, why] of cases) {
    const reason = rules.explain(path, isDir);
    assert.equal(reason && `${reason.file} ${reason.pattern}`, why, path);
  }
});

Deno.test("MemoryTree.scan() reads ignore files before filtering each directory", async () => {
  const tree = new MemoryTree();
  tree.setFile(".gitignore", "*.o\n");
  tree.setFile("a.o", "");
  tree.setFile("src/.gitignore", "gen/\n");
  tree.setFile("src/gen/x.rs", "");
  tree.setFile("src/main.rs", "");
  const rules = new IgnoreRules();
  const seen: string[] = [];
  const scan = await tree.scan({
    ignore: rules.filter,
    ignoreFiles: [".gitignore"],
    onIgnoreFile: (dir, path, text) => {
      seen.push(`${dir}|${path}`);
      rules.add(dir, path, text);
    },
  });
  assert.deepEqual(seen, ["|.gitignore", "src|src/.gitignore"]);
  assert.deepEqual([...scan.entries.keys()], [
    ".gitignore",
    "src",
    "src/.gitignore",
    "src/main.rs",
  ]);
});

Deno.test("MemoryTree.remove() takes a directory's expendable leftovers with it, nothing else", async () => {
  const tree = new MemoryTree();
  tree.setFile("d/build.log", "");
  tree.setFile("d/cache/x", "");
  const expendable = (path: string, isDir: boolean) =>
    path.endsWith(".log") || (isDir && path.endsWith("/cache"));
  await tree.remove("d", { expendable });
  assert.equal(tree.get("d"), undefined);
  tree.setFile("e/build.log", "");
  tree.setFile("e/keep.txt", "");
  await assert.rejects(tree.remove("e", { expendable }), {
    name: "TreeError",
    message: 'Cannot remove "e": the directory is not empty',
  });
  assert.equal(tree.getText("e/build.log"), "");
});
