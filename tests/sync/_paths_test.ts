import assert from "node:assert/strict";
import fc from "fast-check";
import { ancestors, isAtOrUnder, isValidPath, parentPath } from "../../lib/sync/_paths.ts";
import { validateRelativePath } from "../../lib/sync/types.ts";

Deno.test("parentPath(), ancestors() and isAtOrUnder() work component-wise", () => {
  assert.equal(parentPath("a/b/c"), "a/b");
  assert.equal(parentPath("a"), "");
  assert.deepEqual(ancestors("a/b/c"), ["a", "a/b"]);
  assert.deepEqual(ancestors("a"), []);
  const cases: [string, string, boolean][] = [
    ["a", "a", true],
    ["a/b", "a", true],
    ["ab", "a", false], // a prefix of the name is not a parent
    ["a", "a/b", false],
    ["a.b/c", "a", false],
  ];
  for (const [path, root, expected] of cases) assert.equal(isAtOrUnder(path, root), expected);
});

Deno.test("isValidPath() agrees with validateRelativePath()", () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[a./\0]{0,8}$/), (path) => {
      let valid = true;
      try {
        validateRelativePath(path);
      } catch {
        valid = false;
      }
      assert.equal(isValidPath(path), valid, JSON.stringify(path));
    }),
    { numRuns: 2000 },
  );
});
