import assert from "node:assert/strict";
import { needs } from "./support/host_tools.ts";
import fc from "fast-check";
import { bashSingleQuoted } from "../lib/shell_quote.ts";

Deno.test("bashSingleQuoted() wraps and escapes exactly", () => {
  const cases: [string, string][] = [
    ["", "''"], // empty must still be one word
    ["plain", "'plain'"],
    ["/workspace/p/target/release", "'/workspace/p/target/release'"], // the original's own case
    ["it's", `'it'"'"'s'`],
    ["''", `''"'"''"'"''`], // only quotes
    ["$HOME `id` \\n", "'$HOME `id` \\n'"], // nothing is special inside single quotes
    ["-rf", "'-rf'"], // a leading dash stays data
    ["a\nb", "'a\nb'"], // newlines are kept literally
    ["ünï 🙂", "'ünï 🙂'"],
  ];
  for (const [input, expected] of cases) assert.equal(bashSingleQuoted(input), expected);
});

Deno.test("bashSingleQuoted() refuses NUL with TypeError", () => {
  assert.throws(() => bashSingleQuoted("a\0b"), {
    name: "TypeError",
    message:
      "Cannot quote string for a shell: it contains a NUL character at index 1, which no shell word can carry",
  });
});

const SHELLS = ["sh", "dash", "bash", "zsh"];

async function runShell(shell: string, script: string): Promise<Uint8Array> {
  const out = await new Deno.Command(shell, {
    args: ["-c", script],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { LC_ALL: "C.UTF-8" },
  }).output();
  assert.equal(out.code, 0, `${shell} failed: ${new TextDecoder().decode(out.stderr)}`);
  return out.stdout;
}

/** Strings that stress shell parsing: quotes, $, backticks, backslashes, newlines, dashes, unicode. */
const nasty = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom(
      "'",
      '"',
      "$",
      "`",
      "\\",
      "\n",
      "-",
      " ",
      "!",
      "*",
      "?",
      "~",
      "#",
      ";",
      "&",
      "|",
      "(",
      ")",
      "{",
      "}",
      "[",
      "]",
      "<",
      ">",
      "%",
      "a",
      "é",
      "🙂",
      "\t",
      "\r",
    ),
    maxLength: 40,
  }),
);

for (const shell of SHELLS) {
  Deno.test(`bashSingleQuoted() round-trips 2,000 random strings through ${shell}`, async (t) => {
    if (!(await needs(t, shell))) return;
    const samples = fc.sample(nasty, { numRuns: 2000, seed: 0x5eed + shell.length });
    // One shell run prints every sample NUL-terminated: printf '%s\0' <quoted>...
    const script = `printf '%s\\0' ${samples.map(bashSingleQuoted).join(" ")}`;
    const out = new TextDecoder().decode(await runShell(shell, script));
    assert.deepEqual(out.split("\0").slice(0, -1), samples);
  });

  Deno.test(`bashSingleQuoted() in sh -c "printf %s <quoted>" under ${shell} (individual runs)`, async (t) => {
    if (!(await needs(t, shell))) return;
    await fc.assert(
      fc.asyncProperty(nasty, async (s) => {
        const out = await runShell(shell, `printf %s ${bashSingleQuoted(s)}`);
        assert.equal(new TextDecoder().decode(out), s);
      }),
      { numRuns: 40 },
    );
  });
}
