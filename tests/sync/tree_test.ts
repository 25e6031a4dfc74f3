import assert from "node:assert/strict";
import { GammaError } from "../../lib/errors.ts";
import { TreeError } from "../../lib/sync/tree.ts";

Deno.test("TreeError carries its kind and path and is a GammaError", () => {
  const error = new TreeError(
    "SymlinkParent",
    "a/b",
    'Cannot write "a/b": "a" is a symbolic link',
    {
      cause: "x",
    },
  );
  assert.ok(error instanceof GammaError);
  assert.equal(error.name, "TreeError");
  assert.equal(error.kind, "SymlinkParent");
  assert.equal(error.path, "a/b");
  assert.equal(error.message, 'Cannot write "a/b": "a" is a symbolic link');
  assert.equal(error.cause, "x");
});
