// deno-lint-ignore-file no-console
/**
 * The `gamma` command line: parses the arguments, dispatches to a subcommand under `cli/`, and
 * is the only place that exits the process.
 *
 * ```sh
 * deno run -A jsr:@devshell/gamma/cli exec -- uname -a
 * ```
 *
 * @module
 */

import {
  commandHelp,
  type CommandSpec,
  GLOBAL_OPTIONS,
  optionRows,
  parseCommand,
  UsageError,
} from "./cli/_spec.ts";
import { COMMANDS } from "./cli/_table.ts";
import { VERSION } from "./lib/version.ts";

function topHelp(): string {
  const width = Math.max(4, ...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    `gamma ${VERSION}: your project inside a Lima VM as if it were local`,
    "",
    "USAGE:",
    "  gamma [-i NAME] [--limactl PATH] [--debug] COMMAND [OPTIONS] [ARGS]",
    "",
    "COMMANDS:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    `  ${"help".padEnd(width)}print help for gamma or one command`,
    "",
    "GLOBAL OPTIONS:",
    ...optionRows([...GLOBAL_OPTIONS, { name: "version", short: "V", help: "print the version" }]),
    "",
    "Run `gamma help COMMAND` or `gamma COMMAND -h` for a command's options and exit codes.",
    "",
  ].join("\n");
}

function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** Leading global options (before the subcommand word), kept to hand to the subcommand. */
function splitGlobal(args: string[]): { global: string[]; rest: string[] } {
  const global: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("-") || arg === "-" || arg === "--") break;
    if (["-h", "--help", "-V", "--version"].includes(arg)) break;
    global.push(arg);
    const takesValue = ["-i", "--instance", "--limactl"].includes(arg);
    if (takesValue && i + 1 < args.length) global.push(args[++i]!);
  }
  return { global, rest: args.slice(i) };
}

/**
 * Run the CLI on an argument list and resolve to the process exit code. Writes to stdout and
 * stderr; never exits.
 *
 * @param args The arguments after the program name.
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  const { global, rest } = splitGlobal(args);
  const [word, ...subArgs] = rest;
  if (word === undefined) {
    console.error(`gamma: missing command\n\n${topHelp()}`);
    return 2;
  }
  if (word === "-h" || word === "--help") {
    console.log(topHelp());
    return 0;
  }
  if (word === "-V" || word === "--version") {
    console.log(`gamma ${VERSION}`);
    return 0;
  }
  if (word === "help") {
    const [topic] = subArgs;
    if (topic === undefined) {
      console.log(topHelp());
      return 0;
    }
    const spec = findCommand(topic);
    if (spec === undefined) {
      console.error(`gamma help: unknown command ${JSON.stringify(topic)}\n\n${topHelp()}`);
      return 2;
    }
    console.log(commandHelp(spec));
    return 0;
  }
  if (word.startsWith("-")) {
    console.error(`gamma: unknown option ${JSON.stringify(word)}\n\n${topHelp()}`);
    return 2;
  }
  const spec = findCommand(word);
  if (spec === undefined) {
    console.error(`gamma: unknown command ${JSON.stringify(word)}\n\n${topHelp()}`);
    return 2;
  }
  return await runCommand(spec, [...global, ...subArgs]);
}

async function runCommand(spec: CommandSpec, args: string[]): Promise<number> {
  const notice = (line: string): void => console.error(line);
  try {
    const parsed = parseCommand(spec, args);
    if (parsed.values["help"] === true) {
      console.log(commandHelp(spec));
      return 0;
    }
    return await spec.run(parsed, { notice });
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${commandHelp(e.command ?? spec)}`);
      return 2;
    }
    if (
      e instanceof Error && !(e instanceof ReferenceError) &&
      !(e instanceof SyntaxError && e.stack?.includes("parse"))
    ) {
      notice(`gamma: ${e.message}`);
      return spec.failureCode ?? 1;
    }
    throw e;
  }
}

/** Run the CLI on `Deno.args` and exit with its code. */
export async function runMain(): Promise<never> {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (e) {
    console.error(`gamma: ${e instanceof Error ? e.message : String(e)}`);
    code = 125;
  }
  Deno.exit(code);
}

if (import.meta.main) await runMain();
