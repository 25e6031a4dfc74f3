import assert from "node:assert/strict";
import { VERSION } from "../../lib/version.ts";
import { runGamma, setup, testBothPaths } from "./_run.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("gamma without permission flags fails with 125 and the flags to use", async () => {
  const r = await runGamma(["exec", "--", "true"], { denoFlags: [] });
  assert.deepEqual([r.code, r.stdout, r.stderr], [
    125,
    "",
    [
      "gamma: gamma exec needs Deno permissions that were not granted: --allow-env --allow-read --allow-write --allow-run",
      "  run it as: deno run --allow-env --allow-read --allow-write --allow-run jsr:@devshell/gamma exec …",
      "  or:        deno run -A jsr:@devshell/gamma exec …",
      "",
    ].join("\n"),
  ]);
  // Help, version and completions need no permission at all.
  for (const args of [["--help"], ["-V"], ["exec", "-h"], ["completions", "bash"]]) {
    assert.equal((await runGamma(args, { denoFlags: [] })).code, 0, args.join(" "));
  }
});

testBothPaths("gamma runs with exactly the documented permissions", async (via) => {
  await using t = await setup({ via });
  const r = await runGamma(["exec", "--", "pwd"], {
    env: t.env,
    cwd: t.project,
    denoFlags: ["--allow-env", "--allow-read", "--allow-write", "--allow-run"],
  });
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, "/work/p\n", ""]);
});

Deno.test("gamma suggests the closest command or option", async () => {
  const cmd = await runGamma(["exce"]);
  assert.equal(cmd.code, 2);
  assert.ok(cmd.stderr.startsWith('gamma: unknown command "exce" (did you mean "exec"?)\n'));
  const opt = await runGamma(["status", "--jsn"]);
  assert.equal(opt.code, 2);
  assert.ok(
    opt.stderr.startsWith('gamma status: unknown option "--jsn" (did you mean "--json"?)\n'),
  );
  const far = await runGamma(["frobnicate"]);
  assert.ok(far.stderr.startsWith('gamma: unknown command "frobnicate"\n'));
});

testBothPaths(
  "the bundle (deno task bundle) is one file that runs --help, --version and exec",
  async (via) => {
    const dir = await Deno.makeTempDir({ prefix: "gamma-bundle-" });
    try {
      const bundle = `${dir}/gamma.js`;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["bundle", "--quiet", "-o", bundle, `${ROOT}cli.ts`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const help = await runGamma(["--help"], { script: bundle });
      assert.equal(help.code, 0);
      assert.match(help.stdout, /^gamma \d+\.\d+\.\d+: your project inside a Lima VM/);
      const version = await runGamma(["--version"], { script: bundle });
      assert.deepEqual([version.code, version.stdout], [0, `gamma ${VERSION}\n`]);
      await using t = await setup({ via });
      const exec = await runGamma(["exec", "--", "sh", "-c", "pwd; exit 3"], {
        script: bundle,
        env: t.env,
        cwd: t.project,
      });
      assert.deepEqual([exec.code, exec.stdout, exec.stderr], [3, "/work/p\n", ""]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("deno task compile builds a binary that prints --version (or says why it skipped)", async (t) => {
  const denort = Deno.env.get("DENORT_BIN");
  // The same permission flags as `deno task compile`.
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const perms: string[] = config.tasks.compile.match(/--allow-[a-z]+(=\S+)?/g);
  assert.deepEqual(perms, ["--allow-env", "--allow-read", "--allow-write", "--allow-run"]);
  const dir = await Deno.makeTempDir({ prefix: "gamma-compile-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "compile",
        ...perms,
        "-o",
        `${dir}/gamma`,
        `${ROOT}cli.ts`,
      ],
      env: denort ? { DENORT_BIN: denort } : {},
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (out.code !== 0 && !denort) {
      // deno-lint-ignore no-control-regex
      const lines = new TextDecoder().decode(out.stderr).replace(/\x1b\[[0-9;]*m/g, "").split("\n");
      const why = (lines.find((l) => /denort/.test(l) && /error/i.test(l)) ??
        lines.find((l) => /error/i.test(l)) ?? "").trim();
      // deno compile downloads its runtime (denort) unless DENORT_BIN names one; offline it cannot.
      // deno-lint-ignore no-console
      console.log(`skipped: deno compile could not build (no denort runtime reachable): ${why}`);
      await t.step({
        name: "compiled binary --version (skipped: no denort)",
        ignore: true,
        fn() {},
      });
      return;
    }
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const run = await new Deno.Command(`${dir}/gamma`, { args: ["--version"], stdout: "piped" })
      .output();
    assert.deepEqual([run.code, new TextDecoder().decode(run.stdout)], [0, `gamma ${VERSION}\n`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
