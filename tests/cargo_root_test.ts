import assert from "node:assert/strict";
import { findCargoWorkspaceRoot } from "../lib/cargo_root.ts";

const TREE: Record<string, string> = {
  "/repo": '[workspace]\nmembers = ["crates/*"]\n',
  "/repo/crates/app": '[package]\nname = "app"\n',
  "/solo": '[package]\nname = "solo"\n',
  "/odd": '[package]\nname = "odd"\n# [workspace] in a comment does not count\n',
  "/nested/outer": "[workspace] # with a comment\n",
  "/nested/outer/inner": "[workspace]\n",
};

Deno.test("findCargoWorkspaceRoot() finds the root the way Cargo does", () => {
  const read = (dir: string): string | undefined => TREE[dir];
  const cases: [string, string | undefined][] = [
    ["/repo/crates/app/src/bin", "/repo"], // member package → the workspace above it
    ["/repo", "/repo"],
    ["/solo/src", "/solo"], // a package outside any workspace is its own root
    ["/odd/src", "/odd"], // a commented [workspace] is no table
    ["/nested/outer/inner/x", "/nested/outer/inner"], // the first [workspace] upwards wins
    ["/nowhere/deep", undefined], // not a Cargo project
  ];
  for (const [start, expected] of cases) {
    assert.equal(findCargoWorkspaceRoot(start, read), expected, start);
  }
});
