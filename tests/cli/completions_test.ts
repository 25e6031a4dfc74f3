import assert from "node:assert/strict";
import { runGamma, setup } from "./_run.ts";

async function script(shell: string): Promise<string> {
  const r = await runGamma(["completions", shell]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  return r.stdout;
}

async function syntaxCheck(shell: string, args: string[], text: string): Promise<void> {
  const file = await Deno.makeTempFile({ suffix: `.${shell}` });
  try {
    await Deno.writeTextFile(file, text);
    const out = await new Deno.Command(shell, {
      args: [...args, file],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    assert.equal(out.code, 0, `${shell}: ${new TextDecoder().decode(out.stderr)}`);
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("gamma completions prints scripts that pass each shell's syntax check", async () => {
  await syntaxCheck("bash", ["-n"], await script("bash"));
  await syntaxCheck("zsh", ["-n"], await script("zsh"));
  await syntaxCheck("fish", ["--no-execute"], await script("fish"));
});

/** Run bash completion for the words of a command line (the last word is being completed). */
async function complete(words: string[], env: Record<string, string> = {}): Promise<string[]> {
  const file = await Deno.makeTempFile({ suffix: ".bash" });
  try {
    await Deno.writeTextFile(file, await script("bash"));
    const quoted = words.map((w) => `'${w}'`).join(" ");
    const out = await new Deno.Command("bash", {
      args: [
        "-c",
        `source '${file}'; COMP_WORDS=(${quoted}); COMP_CWORD=${
          words.length - 1
        }; _gamma; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "").sort();
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("bash completion completes subcommands, their flags and instance names", async () => {
  assert.deepEqual(await complete(["gamma", "e"]), ["exec"]);
  assert.deepEqual(await complete(["gamma", "s"]), ["shell", "start", "status", "stop", "sync"]);
  assert.deepEqual(await complete(["gamma", "exec", "-"]), [
    "--debug",
    "--env",
    "--help",
    "--instance",
    "--limactl",
    "--no-stdin",
    "--quiet",
    "--workdir",
    "-e",
    "-h",
    "-i",
    "-n",
    "-q",
    "-w",
  ]);
  assert.deepEqual(await complete(["gamma", "-i", "x", "status", "--j"]), ["--json"]);
  await using t = await setup();
  await t.lima.addInstance("other", { mounts: [] });
  assert.deepEqual(
    await complete(["gamma", "exec", "-i", ""], {
      ...t.env,
      PATH: "/usr/bin:/bin",
      DEVSHELL_VM_LIMACTL: t.lima.limactl,
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
    }),
    ["dev", "other"],
  );
});

Deno.test("gamma completions refuses an unknown shell", async () => {
  const r = await runGamma(["completions", "tcsh"]);
  assert.equal(r.code, 2);
  assert.ok(
    r.stderr.startsWith('gamma completions: expected one of bash, zsh, fish, got "tcsh"\n'),
  );
});
