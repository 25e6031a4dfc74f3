import assert from "node:assert/strict";
import { realPathOfPrefix } from "../lib/real_prefix.ts";

const FS: Record<string, string> = {
  "/": "/",
  "/home": "/home",
  "/home/me": "/home/me",
  "/home/me/app": "/src/app", // a symbolic link
  "/home/me/app/sub": "/src/app/sub",
  "/src": "/src",
};
const real = (p: string): string | undefined => FS[p];

Deno.test("realPathOfPrefix() resolves the longest existing prefix and keeps the rest", () => {
  const cases: [string, string][] = [
    ["/home/me/app", "/src/app"], // exists: its own real path
    ["/home/me/app/not-yet", "/src/app/not-yet"], // a link, then a missing name
    ["/home/me/app/sub/a/b", "/src/app/sub/a/b"], // several missing components
    ["/home/me/app/x/../sub/y", "/src/app/sub/y"], // .. is resolved lexically first
    ["/nowhere/at/all", "/nowhere/at/all"], // only / exists
    ["/home/me/", "/home/me"],
  ];
  for (const [path, expected] of cases) assert.equal(realPathOfPrefix(path, real), expected, path);
});

Deno.test("realPathOfPrefix() returns the normalised path when nothing resolves", () => {
  assert.equal(realPathOfPrefix("/a//b/./c", () => undefined), "/a/b/c");
});
