import assert from "node:assert/strict";
import { launchOf, permissionAdvice } from "../../cli/_permissions.ts";

const FLAGS = ["--allow-env", "--allow-read", "--allow-write", "--allow-run"];

Deno.test("launchOf tells JSR, a file, the bundle and a compiled binary apart", () => {
  assert.deepEqual(launchOf("https://jsr.io/@devshell/gamma/0.1.0/cli.ts"), {
    kind: "jsr",
    specifier: "jsr:@devshell/gamma/cli",
  });
  assert.deepEqual(launchOf("https://jsr.io/@devshell/gamma/0.1.0/mod.ts"), {
    kind: "jsr",
    specifier: "jsr:@devshell/gamma",
  });
  assert.deepEqual(launchOf("file:///home/me/gamma/dist/gamma.js"), {
    kind: "file",
    path: "/home/me/gamma/dist/gamma.js",
  });
  assert.deepEqual(launchOf("file:///tmp/deno-compile-gamma/home/me/gamma/cli.ts"), {
    kind: "compiled",
  });
});

Deno.test("permissionAdvice phrases the fix for each way of running gamma", () => {
  const all = FLAGS.join(" ");
  assert.deepEqual(
    permissionAdvice({ kind: "jsr", specifier: "jsr:@devshell/gamma" }, "exec", FLAGS),
    [
      `  run it as: deno run ${all} jsr:@devshell/gamma exec …`,
      `  or install it with them: deno install -g -f ${all} -n gamma jsr:@devshell/gamma`,
    ],
  );
  assert.deepEqual(permissionAdvice({ kind: "file", path: "/src/gamma/cli.ts" }, "shell", FLAGS), [
    `  run it as: deno run ${all} /src/gamma/cli.ts shell …`,
    "  or:        deno run -A /src/gamma/cli.ts shell …",
  ]);
  assert.deepEqual(permissionAdvice({ kind: "compiled" }, "exec", FLAGS), [
    "  this gamma binary was compiled without them; compile it again with them:",
    `  deno compile ${all} -o gamma jsr:@devshell/gamma/cli`,
  ]);
});
