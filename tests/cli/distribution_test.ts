import assert from "node:assert/strict";
import { VERSION } from "../../lib/version.ts";
import { posix } from "node:path";
import { denoEnv, runGamma, setup, testBothPaths } from "./_run.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("gamma without permission flags fails with 125 and the flags to use", async () => {
  const r = await runGamma(["exec", "--", "true"], { denoFlags: [] });
  assert.deepEqual([r.code, r.stdout, r.stderr], [
    125,
    "",
    [
      "gamma: gamma exec needs Deno permissions that were not granted: --allow-env --allow-read --allow-write --allow-run",
      `  run it as: deno run --allow-env --allow-read --allow-write --allow-run ${ROOT}cli.ts exec …`,
      `  or:        deno run -A ${ROOT}cli.ts exec …`,
      "",
    ].join("\n"),
  ]);
  // --no-prompt: the same, never an uncaught NotCapable.
  const noPrompt = await runGamma(["status"], { denoFlags: ["--no-prompt", "--allow-env"] });
  assert.equal(noPrompt.code, 125);
  assert.ok(
    noPrompt.stderr.startsWith(
      "gamma: gamma status needs Deno permissions that were not granted: --allow-read --allow-write --allow-run\n",
    ),
    noPrompt.stderr,
  );
  assert.ok(!noPrompt.stderr.includes("NotCapable"));
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
  // doctor's kvm check is a stat and the user's groups: the four permissions are enough.
  const doctor = await runGamma(["doctor", "--json"], {
    env: t.env,
    cwd: t.project,
    denoFlags: ["--allow-env", "--allow-read", "--allow-write", "--allow-run"],
  });
  const kvm = JSON.parse(doctor.stdout).checks.find((c: { id: string }) => c.id === "kvm");
  if (kvm !== undefined) {
    assert.doesNotMatch(kvm.message, /allow|Requires/, kvm.message);
    assert.notEqual(kvm.status, "warn", kvm.message);
  }
});

Deno.test("a permission prompt answered n ends in 125 with the flags, not NotCapable", async (t) => {
  const scriptPath = ["/usr/bin/script", "/bin/script"].find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });
  if (scriptPath === undefined) {
    await t.step({
      name: "skipped: script(1) from util-linux is not installed",
      ignore: true,
      fn() {},
    });
    return;
  }
  for (const args of [["exce"], ["exec", "--", "true"], ["status"]]) {
    // script(1) gives Deno a terminal, so it prompts; every prompt is answered "n".
    const child: Deno.ChildProcess = new Deno.Command(scriptPath, {
      args: [
        "-qec",
        [Deno.execPath(), "run", "--quiet", `${ROOT}cli.ts`, ...args].join(" "),
        "/dev/null",
      ],
      env: { NO_COLOR: "1", HOME: Deno.makeTempDirSync() },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Deno drains pending input when it prompts, so keep answering "n" until gamma ends.
    const writer = child.stdin.getWriter();
    const answer = setInterval(() => {
      writer.write(new TextEncoder().encode("n\r")).catch(() => {});
    }, 100);
    const out = await child.output();
    clearInterval(answer);
    const status: Deno.CommandStatus = out;
    const seen = new TextDecoder().decode(out.stdout);
    // deno-lint-ignore no-control-regex
    const text = seen.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "");
    assert.ok(!text.includes("NotCapable"), text);
    if (args[0] === "exce") {
      assert.equal(status.code, 2, text);
      assert.match(text, /gamma: unknown command "exce" \(did you mean "exec"\?\)/);
    } else {
      assert.equal(status.code, 125, text);
      assert.match(text, /gamma: gamma \w+ needs Deno permissions that were not granted: /);
      assert.match(
        text,
        new RegExp(
          `run it as: deno run --allow-env --allow-read --allow-write --allow-run ${ROOT}cli\\.ts`,
        ),
      );
    }
  }
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
  // A swap of two letters is one edit: "stauts" is status, not start.
  const swapped = await runGamma(["stauts"]);
  assert.deepEqual([swapped.code, swapped.stderr.split("\n")[0]], [
    2,
    'gamma: unknown command "stauts" (did you mean "status"?)',
  ]);
  // Not close: no suggestion.
  const short = await runGamma(["sx"]);
  assert.equal(short.stderr.split("\n")[0], 'gamma: unknown command "sx"');
  const far = await runGamma(["frobnicate"]);
  assert.ok(far.stderr.startsWith('gamma: unknown command "frobnicate"\n'));
});

Deno.test("deno task install installs gamma from a local checkout (the config is carried along)", async () => {
  const root = await Deno.makeTempDir({ prefix: "gamma-install-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "install", "--root", root],
      cwd: ROOT,
      env: { ...denoEnv(), HOME: root },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const shim = await Deno.readTextFile(`${root}/bin/gamma`);
    assert.match(shim, / --allow-read --allow-write --allow-env --allow-run --config /);
    const run = await new Deno.Command(`${root}/bin/gamma`, {
      args: ["--version"],
      env: { ...denoEnv(), HOME: root, PATH: `${posix.dirname(Deno.execPath())}:/usr/bin:/bin` },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.deepEqual([run.code, new TextDecoder().decode(run.stdout)], [0, `gamma ${VERSION}\n`]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
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
      // The permission advice names the bundle, the file that was run.
      const denied = await runGamma(["exec", "--", "true"], { script: bundle, denoFlags: [] });
      assert.equal(denied.code, 125);
      assert.match(denied.stderr, new RegExp(`\n  or: +deno run -A ${bundle} exec …\n`));
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
