import assert from "node:assert/strict";
import { findProjectRoot } from "../lib/project_root.ts";

Deno.test("findProjectRoot() finds the nearest marked ancestor", () => {
  const present = new Set([
    "/repo/.git",
    "/repo/tools/deno.json", // a nested project wins over the repository
    "/pkgs/web/package.json",
    "/crate/Cargo.toml",
  ]);
  const exists = (p: string): boolean => present.has(p);
  const cases: [string, string][] = [
    ["/repo", "/repo"],
    ["/repo/src/deep/er", "/repo"],
    ["/repo/tools/x", "/repo/tools"],
    ["/pkgs/web/src", "/pkgs/web"],
    ["/crate/src/bin/", "/crate"], // trailing slash is normalised
    ["/scratch/a/b", "/scratch/a/b"], // no marker anywhere: the directory itself
    ["/", "/"],
  ];
  for (const [start, expected] of cases) {
    assert.equal(findProjectRoot(start, exists), expected, start);
  }
});
