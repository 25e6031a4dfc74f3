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
  suggest,
  UsageError,
  usageText,
} from "./cli/_spec.ts";
import { type CommandEntry, COMMANDS, loadCommands } from "./cli/_table.ts";
import { ConfigError } from "./lib/config.ts";
import { LimactlTimeoutError } from "./lib/errors.ts";
import { launchOf, permissionAdvice } from "./cli/_permissions.ts";
import { VERSION } from "./lib/version.ts";

/**
 * Whether gamma's own stderr lines may be coloured: stderr is a terminal and NO_COLOR unset.
 * Never asks for a permission (a colour is not worth a prompt).
 */
function colour(): boolean {
  try {
    const env = Deno.permissions.querySync({ name: "env", variable: "NO_COLOR" }).state;
    return env === "granted" && Deno.stderr.isTerminal() && !Deno.env.get("NO_COLOR");
  } catch {
    return false;
  }
}

const ANSI = { red: "\x1b[31m", yellow: "\x1b[33m" };

/** Print one of gamma's own lines to stderr, its `gamma…:` prefix coloured when allowed. */
function printError(text: string, style: "red" | "yellow" = "red"): void {
  const styled = colour()
    ? text.replace(/^(gamma[^:]*:)/, (prefix) => `${ANSI[style]}${prefix}\x1b[39m`)
    : text;
  console.error(styled);
}

/** The permission error: what was refused and how to run gamma with it, for how it was run. */
function permissionError(command: string, what: string, flags: string[]): string {
  return [
    `gamma: gamma ${command} ${what}`,
    ...permissionAdvice(launchOf(Deno.mainModule), command, flags),
  ].join("\n");
}

const ALL_FLAGS = ["--allow-env", "--allow-read", "--allow-write", "--allow-run"];

/** The top-level help; it loads every subcommand for its summary (help is never the hot path). */
async function topHelp(): Promise<string> {
  const specs = await loadCommands();
  const width = Math.max(4, ...specs.map((c) => c.name.length)) + 2;
  return [
    `gamma ${VERSION}: your project inside a Lima VM as if it were local`,
    "",
    "USAGE:",
    "  gamma [-i NAME] [--limactl PATH] [--debug] [-q] COMMAND [OPTIONS] [ARGS]",
    "",
    "COMMANDS:",
    ...specs.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    `  ${"help".padEnd(width)}print help for gamma or one command`,
    "",
    "GLOBAL OPTIONS:",
    ...optionRows([...GLOBAL_OPTIONS, { name: "version", short: "V", help: "print the version" }]),
    "",
    "Run `gamma help COMMAND` or `gamma COMMAND -h` for a command's options and exit codes.",
    "",
  ].join("\n");
}

function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name);
}

function unknownCommand(word: string, prefix: string): string {
  const hint = suggest(word, [...COMMANDS.map((c) => c.name), "help"]);
  return `${prefix}unknown command ${JSON.stringify(word)}${
    hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ""
  }`;
}

/** Leading global options (before the subcommand word), kept to hand to the subcommand. */
function splitGlobal(args: string[]): { global: string[]; rest: string[] } {
  const global: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    const option = GLOBAL_OPTIONS.find((o) =>
      arg === `--${o.name}` || arg === `-${o.short}` || arg.startsWith(`--${o.name}=`)
    );
    // -h and unknown words end the global part: main() handles them.
    if (option === undefined || option.name === "help") break;
    global.push(arg);
    if (option.value && !arg.includes("=") && i + 1 < args.length) global.push(args[++i]!);
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
    printError(usageText("gamma: missing command"));
    return 2;
  }
  if (word === "-h" || word === "--help") {
    console.log(await topHelp());
    return 0;
  }
  if (word === "-V" || word === "--version") {
    console.log(`gamma ${VERSION}`);
    return 0;
  }
  if (word === "help") {
    const [topic] = subArgs;
    if (topic === undefined) {
      console.log(await topHelp());
      return 0;
    }
    const entry = findCommand(topic);
    if (entry === undefined) {
      printError(usageText(unknownCommand(topic, "gamma help: ")));
      return 2;
    }
    console.log(commandHelp(await entry.load()));
    return 0;
  }
  if (word.startsWith("-")) {
    const names = GLOBAL_OPTIONS.flatMap((
      o,
    ) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]);
    const hint = suggest(word, [...names, "--version", "-V"]);
    printError(usageText(
      `gamma: unknown option ${JSON.stringify(word)}${
        hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ""
      }`,
    ));
    return 2;
  }
  const entry = findCommand(word);
  if (entry === undefined) {
    printError(usageText(unknownCommand(word, "gamma: ")));
    return 2;
  }
  return await runCommand(await entry.load(), [...global, ...subArgs]);
}

/** Flags for the permissions a subcommand needs, or `[]` when all are granted. */
function missingPermissions(spec: CommandSpec): string[] {
  const missing: string[] = [];
  for (const name of spec.permissions) {
    const desc = { name } as Deno.PermissionDescriptor;
    let state = Deno.permissions.querySync(desc).state;
    if (state === "prompt") state = Deno.permissions.requestSync(desc).state;
    if (state !== "granted") missing.push(`--allow-${name}`);
  }
  return missing;
}

async function runCommand(spec: CommandSpec, args: string[]): Promise<number> {
  let quiet = false;
  const notice = (line: string): void => {
    if (!quiet) printError(line, "yellow");
  };
  try {
    let parsed;
    try {
      parsed = parseCommand(spec, args);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      // A usage error names the closest option: load the suggestions and parse again.
      parsed = parseCommand(spec, args);
    }
    if (parsed.values["help"] === true) {
      console.log(commandHelp(spec));
      return 0;
    }
    quiet = parsed.values["quiet"] === true;
    const missing = missingPermissions(spec);
    if (missing.length > 0) {
      printError(permissionError(
        spec.name,
        `needs Deno permissions that were not granted: ${missing.join(" ")}`,
        spec.permissions.map((p) => `--allow-${p}`),
      ));
      return 125;
    }
    return await spec.run(parsed, {
      notice,
      error: (line) => printError(line),
      commands: loadCommands,
    });
  } catch (e) {
    if (e instanceof UsageError) {
      printError(usageText(e.message, e.command ?? spec));
      return 2;
    }
    if (e instanceof ConfigError) {
      // A bad setting (variable or settings file) is the user's input, like a bad option.
      printError(`gamma: ${e.message.replaceAll("\n", "\ngamma: ")}`);
      return 2;
    }
    if (e instanceof Deno.errors.NotCapable) {
      printError(permissionError(spec.name, `was refused a permission: ${e.message}`, [
        ...new Set([...spec.permissions.map((p) => `--allow-${p}`), ...flagsIn(e.message)]),
      ]));
      return 125;
    }
    if (e instanceof LimactlTimeoutError) {
      // A hung limactl is gamma's own failure, whatever the subcommand.
      printError(`gamma: ${e.message}`);
      return 125;
    }
    if (e instanceof Error && !(e instanceof ReferenceError)) {
      printError(`gamma: ${e.message}`);
      // A missing instance is a configuration problem whatever the subcommand: 125.
      if (e.name === "MissingInstanceError") return 125;
      return spec.failureCode ?? 1;
    }
    throw e;
  }
}

/** The `--allow-…` flags a Deno permission error names. */
function flagsIn(message: string): string[] {
  return message.match(/--allow-[a-z]+/g) ?? [];
}

/** Run the CLI on `Deno.args` and exit with its code. */
export async function runMain(): Promise<never> {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) {
      // Refused before a subcommand was chosen (e.g. a prompt answered "n").
      const word = Deno.args.find((a) => !a.startsWith("-")) ?? "COMMAND";
      printError(permissionError(word, `was refused a permission: ${e.message}`, [
        ...new Set([...ALL_FLAGS, ...flagsIn(e.message)]),
      ]));
      Deno.exit(125);
    }
    printError(`gamma: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    code = 125;
  }
  Deno.exit(code);
}

if (import.meta.main) await runMain();
