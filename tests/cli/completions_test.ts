import assert from "node:assert/strict";
import { runGamma, setup } from "./_run.ts";
import { needs } from "../support/host_tools.ts";
import { loadCommands } from "../../cli/_table.ts";

const COMMANDS = await loadCommands();

const command = (name: string) => COMMANDS.find((c) => c.name === name)!;
const syncCommand = command("sync");
const fsCommand = command("fs");
const completionsCommand = command("completions");

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

Deno.test("gamma completions prints scripts that pass each shell's syntax check", async (t) => {
  await syntaxCheck("bash", ["-n"], await script("bash"));
  if (await needs(t, "zsh")) await syntaxCheck("zsh", ["-n"], await script("zsh"));
  if (await needs(t, "fish")) await syntaxCheck("fish", ["--no-execute"], await script("fish"));
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
  assert.deepEqual(await complete(["gamma", "s"]), [
    "shell",
    "ssh-config",
    "start",
    "status",
    "stop",
    "sync",
  ]);
  assert.deepEqual(await complete(["gamma", "exec", "-"]), [
    "--debug",
    "--env",
    "--help",
    "--instance",
    "--limactl",
    "--live",
    "--no-stdin",
    "--quiet",
    "--verbose",
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

/** Run the zsh script's `_gamma` with stand-ins for zsh's completion builtins. */
async function completeZsh(words: string[]): Promise<string[]> {
  const file = await Deno.makeTempFile({ suffix: ".zsh" });
  try {
    await Deno.writeTextFile(file, await script("zsh"));
    const quoted = words.map((w) => `'${w}'`).join(" ");
    const out = await new Deno.Command("zsh", {
      args: [
        "-f",
        "-c",
        [
          "compdef() { :; }",
          'compadd() { [[ "$1" == -- ]] && shift; print -l -- "$@"; }',
          "_files() { print -- FILES; }",
          '_describe() { print -l -- "${(@P)2%%:*}"; }',
          `source '${file}'`,
          `words=(${quoted}); CURRENT=${words.length}; PREFIX='${words.at(-1)}'`,
          "_gamma",
        ].join("\n"),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const prefix = words.at(-1) ?? "";
    return new TextDecoder().decode(out.stdout).split("\n")
      .filter((l) => l !== "" && (l === "FILES" || l.startsWith(prefix))).sort();
  } finally {
    await Deno.remove(file);
  }
}

/** Ask fish for the completions of a command line (`complete -C`). */
async function completeFish(line: string): Promise<string[]> {
  const file = await Deno.makeTempFile({ suffix: ".fish" });
  try {
    await Deno.writeTextFile(file, await script("fish"));
    const out = await new Deno.Command("fish", {
      args: ["--no-config", "-c", `source '${file}'; complete -C '${line}'`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "")
      .map((l) => l.split("\t")[0]!).sort();
  } finally {
    await Deno.remove(file);
  }
}

const ACTIONS: [string, string[]][] = [
  ["sync", [...syncCommand.actions!].sort()],
  ["fs", ["cat", "ls", "put", "rm"]],
  ["completions", ["bash", "fish", "zsh"]],
];

Deno.test("the command table names the actions of sync, fs and completions", () => {
  for (const word of ["push", "pull", "status", "watch"]) {
    assert.ok(syncCommand.actions!.includes(word));
  }
  assert.deepEqual([...fsCommand.actions!], ["ls", "cat", "put", "rm"]);
  assert.deepEqual([...completionsCommand.actions!], ["bash", "zsh", "fish"]);
});

Deno.test("bash, zsh and fish complete the action after sync, fs and completions", async () => {
  for (const [sub, actions] of ACTIONS) {
    assert.deepEqual(await complete(["gamma", sub, ""]), actions, `bash: gamma ${sub}`);
    assert.deepEqual(await complete(["gamma", "-i", "x", sub, "-q", ""]), actions);
    assert.deepEqual(await completeZsh(["gamma", sub, ""]), actions, `zsh: gamma ${sub}`);
    assert.deepEqual(await completeFish(`gamma ${sub} `), actions, `fish: gamma ${sub}`);
  }
  // a prefix narrows them; after the action, no action is offered again
  assert.deepEqual(await complete(["gamma", "sync", "pu"]), ["pull", "push"]);
  assert.deepEqual(await completeZsh(["gamma", "fs", "c"]), ["cat"]);
  assert.deepEqual(await complete(["gamma", "fs", "ls", ""]), []);
  assert.deepEqual(await complete(["gamma", "fs", "--root", "/w", ""]), ["cat", "ls", "put", "rm"]);
  assert.deepEqual(await completeZsh(["gamma", "fs", "put", ""]), ["FILES"]);
  assert.ok(!(await completeFish("gamma fs ls ")).includes("cat"));
});
