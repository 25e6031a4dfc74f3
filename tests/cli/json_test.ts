import assert from "node:assert/strict";
import { runGamma, setup } from "./_run.ts";

Deno.test("every --json prints one document in one layout, with schema 1 first", async () => {
  await using t = await setup();
  const elsewhere = await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-json-" }));
  try {
    await Deno.mkdir(`${elsewhere}/app/.git`, { recursive: true });
    const env = {
      ...t.env,
      DEVSHELL_VM_WORKSPACE_PARENT: t.project,
      DEVSHELL_VM_GUEST_WORKSPACE: "/work/p",
    };
    const runs: [string[], string][] = [
      [["status", "--json"], t.project],
      [["path", "--json"], t.project],
      [["path", "--reverse", "--json", "/work/p"], t.project],
      [["doctor", "--json", "--kvm-device", "/nonexistent/kvm", "--tool", "sh"], t.project],
      [["fs", "ls", "--json"], t.project],
      [["sync", "push", "--json"], `${elsewhere}/app`],
      [["sync", "status", "--json"], `${elsewhere}/app`],
    ];
    for (const [args, cwd] of runs) {
      const r = await runGamma(args, { env, cwd });
      const what = `gamma ${args.join(" ")}: ${r.stderr}`;
      assert.notEqual(r.stdout, "", what);
      const doc = JSON.parse(r.stdout);
      // one document, two-space indented, an object whose first key is schema
      assert.equal(r.stdout, `${JSON.stringify(doc, null, 2)}\n`, what);
      assert.equal(typeof doc, "object", what);
      assert.ok(!Array.isArray(doc), what);
      assert.deepEqual(Object.entries(doc)[0], ["schema", 1], what);
    }
  } finally {
    await Deno.remove(elsewhere, { recursive: true });
  }
});
