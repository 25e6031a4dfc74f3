import assert from "node:assert/strict";
import { COMMANDS as ENTRIES, loadCommands } from "../cli/_table.ts";
import { GLOBAL_OPTIONS } from "../cli/_spec.ts";

const README = await Deno.readTextFile(new URL("../README.md", import.meta.url));
const COMMANDS = await loadCommands();

Deno.test("the lazy command table names each subcommand as its spec does", () => {
  assert.deepEqual(COMMANDS.map((c) => c.name), ENTRIES.map((e) => e.name));
});
const headings = README.split("\n").filter((l) => l.startsWith("### "));

Deno.test("README has a section for every subcommand in the help table", () => {
  for (const spec of COMMANDS) {
    assert.ok(
      headings.some((h) => h.includes(`\`gamma ${spec.name}`)),
      `no README section for gamma ${spec.name}`,
    );
  }
});

Deno.test("README mentions every option of every subcommand and every global option", () => {
  for (const spec of COMMANDS) {
    for (const option of spec.options) {
      assert.ok(README.includes(`--${option.name}`), `README lacks ${spec.name} --${option.name}`);
    }
  }
  for (const option of GLOBAL_OPTIONS) {
    assert.ok(README.includes(`--${option.name}`), `README lacks the global --${option.name}`);
  }
});

Deno.test("README's variable table lists every DEVSHELL_VM_* variable the help names", () => {
  const named = new Set(
    [...COMMANDS.flatMap((c) => c.options), ...GLOBAL_OPTIONS].flatMap((o) => o.env ? [o.env] : []),
  );
  for (const variable of named) assert.ok(README.includes(`| \`${variable}\``), variable);
});

Deno.test("README's JSON section gives the shape of every --json", () => {
  const section = README.slice(
    README.indexOf("### JSON output"),
    README.indexOf("\n## ", README.indexOf("### JSON output")),
  );
  assert.ok(section.includes('"schema": 1'));
  for (const spec of COMMANDS) {
    if (!spec.options.some((o) => o.name === "json")) continue;
    assert.ok(section.includes(`| \`gamma ${spec.name} `), `no JSON shape for gamma ${spec.name}`);
  }
});
