import assert from "node:assert/strict";
import { findProjectFile, findProjectRoot } from "../lib/project_root.ts";

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

Deno.test("findProjectFile() looks up to the repository root, never above it", () => {
  const present = new Set([
    "/home/me/.gamma.yaml", // above every repository: never used
    "/tmp/.gamma.yaml", // a shared directory: never used
    "/home/me/mono/.git",
    "/home/me/mono/.gamma.yaml",
    "/home/me/mono/web/package.json",
    "/home/me/mono/api/.gamma.yaml", // a nearer file wins
    "/home/me/crate/Cargo.toml",
    "/home/me/crate/.gamma.yaml",
  ]);
  const exists = (p: string): boolean => present.has(p);
  const cases: [string, string | undefined][] = [
    ["/home/me/mono", "/home/me/mono/.gamma.yaml"],
    ["/home/me/mono/web/src", "/home/me/mono/.gamma.yaml"], // a sub-project of the repository
    ["/home/me/mono/api/x", "/home/me/mono/api/.gamma.yaml"],
    ["/home/me/crate/src", "/home/me/crate/.gamma.yaml"], // no repository: up to the project root
    ["/home/me/scratch/a", undefined], // no marker: only the directory itself
    ["/tmp/x", undefined],
    ["/home/me", "/home/me/.gamma.yaml"], // the directory itself always counts
  ];
  for (const [start, expected] of cases) {
    assert.equal(findProjectFile(start, exists), expected, start);
  }
});
