/**
 * The command table's types, help rendering and argument parsing shared by every subcommand.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** One option of a subcommand (or a global one). */
export interface OptionSpec {
  /** Long name without dashes. */
  name: string;
  /** One-letter short name. */
  short?: string;
  /** Placeholder when the option takes a value, e.g. `NAME`. */
  value?: string;
  /** Whether it may be given more than once. */
  multiple?: boolean;
  /** One line of help. */
  help: string;
  /** The default, as shown in help. */
  default?: string;
  /** The environment variable behind the default. */
  env?: string;
}

/** The result of parsing one command line. */
export interface Parsed {
  /** Option values by long name: `true` for flags, strings, or string arrays when repeatable. */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** Positional arguments (for `exec`: the command and its arguments, untouched). */
  positionals: string[];
}

/** A subcommand: its help, its options, and what runs it. */
export interface CommandSpec {
  /** The subcommand word. */
  name: string;
  /** One line: what it does. */
  summary: string;
  /** Synopsis lines, without the leading `gamma `. */
  usage: string[];
  /** Paragraphs after the synopsis. */
  description?: string[];
  /** Its own options (the global ones are added to every command). */
  options: OptionSpec[];
  /** Example command lines with a comment each. */
  examples: string[];
  /** Exit code lines. */
  exitCodes: string[];
  /** Options end at the first positional argument, which starts a command (`exec`). */
  commandTail?: boolean;
  /** The words the first positional argument must be (`sync push`, `fs ls`); shells complete them. */
  actions?: readonly string[];
  /** Exit code when gamma itself fails (default 1; 125 where a guest command would run). */
  failureCode?: number;
  /** Deno permissions the subcommand needs; checked before it runs. */
  permissions: Deno.PermissionName[];
  /** Runs the command; resolves to the exit code. */
  run(parsed: Parsed, context: CliContext): Promise<number>;
}

/** What a subcommand receives besides its arguments. */
export interface CliContext {
  /** Print a notice of gamma's own to stderr (silenced by `-q`). */
  notice(line: string): void;
  /** Print an error of gamma's own to stderr (never silenced). */
  error(line: string): void;
}

/** A usage error: exit 2 with the message and the command's usage on stderr. */
export class UsageError extends Error {
  /** The subcommand whose usage to print, when known. */
  readonly command: CommandSpec | undefined;
  /**
   * @param message What is wrong.
   * @param command The subcommand.
   */
  constructor(message: string, command?: CommandSpec) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/** The Deno permissions of every subcommand that talks to limactl or the host's files. */
export const LIMA_PERMISSIONS: Deno.PermissionName[] = ["env", "read", "write", "run"];

/** Options every subcommand accepts. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  {
    name: "instance",
    short: "i",
    value: "NAME",
    help: "Lima instance to use",
    default: "devshell-rust",
    env: "DEVSHELL_VM_LIMA_INSTANCE",
  },
  {
    name: "limactl",
    value: "PATH",
    help: "limactl executable to run",
    default: "limactl on PATH",
    env: "DEVSHELL_VM_LIMACTL",
  },
  { name: "debug", help: "print every limactl command line to stderr" },
  { name: "quiet", short: "q", help: "silence gamma's own notices (never the command's output)" },
  { name: "help", short: "h", help: "print this help" },
];

function optionLabel(o: OptionSpec): string {
  const long = `--${o.name}${o.value ? ` ${o.value}` : ""}`;
  return o.short ? `-${o.short}, ${long}` : `    ${long}`;
}

/**
 * Aligned help rows for options: label, help, default and the variable behind it.
 *
 * @param options The options.
 * @returns One line per option.
 */
export function optionRows(options: OptionSpec[]): string[] {
  const labels = options.map(optionLabel);
  const width = Math.max(...labels.map((l) => l.length)) + 2;
  return options.map((o, i) => {
    const extra = [
      o.default !== undefined ? `default: ${o.default}` : "",
      o.env ? `env: ${o.env}` : "",
    ].filter(Boolean).join("; ");
    return `  ${labels[i]!.padEnd(width)}${o.help}${extra ? ` (${extra})` : ""}`;
  });
}

/**
 * Render a subcommand's help text.
 *
 * @param spec The subcommand.
 * @returns The help text, ending in a newline.
 */
export function commandHelp(spec: CommandSpec): string {
  const lines = [
    `gamma ${spec.name}: ${spec.summary}`,
    "",
    "USAGE:",
    ...spec.usage.map((u) => `  gamma ${u}`),
  ];
  if (spec.description?.length) lines.push("", ...spec.description);
  lines.push("", "OPTIONS:", ...optionRows([...spec.options, ...GLOBAL_OPTIONS]));
  if (spec.examples.length) lines.push("", "EXAMPLES:", ...spec.examples.map((e) => `  ${e}`));
  if (spec.exitCodes.length) lines.push("", "EXIT CODES:", ...spec.exitCodes.map((e) => `  ${e}`));
  return lines.join("\n") + "\n";
}

/** Index of the first argument that is not an option (or of `--`), for command tails. */
function commandStart(args: string[], options: OptionSpec[]): number {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--" || !arg.startsWith("-") || arg === "-") return i;
    if (arg.startsWith("--")) {
      const spec = options.find((o) => o.name === arg.slice(2));
      if (spec?.value && !arg.includes("=")) i++;
    } else {
      // A short group such as -ni NAME: the first letter that takes a value ends the group.
      for (let j = 1; j < arg.length; j++) {
        const spec = options.find((o) => o.short === arg[j]);
        if (spec?.value) {
          if (j === arg.length - 1) i++;
          break;
        }
      }
    }
  }
  return args.length;
}

/**
 * Refuse positional arguments for a subcommand that takes none.
 *
 * @param spec The subcommand.
 * @param parsed Its parsed arguments.
 * @param hint What to do instead, appended after a semicolon.
 * @throws {UsageError} When there is a positional argument.
 */
export function rejectPositionals(spec: CommandSpec, parsed: Parsed, hint?: string): void {
  if (parsed.positionals.length === 0) return;
  throw new UsageError(
    `gamma ${spec.name}: unexpected argument ${JSON.stringify(parsed.positionals[0])}${
      hint ? `; ${hint}` : ""
    }`,
    spec,
  );
}

let levenshtein: typeof import("fastest-levenshtein") | undefined;

/**
 * Load fastest-levenshtein for {@linkcode suggest} (an npm package: only error paths pay for it).
 */
export async function loadSuggestions(): Promise<void> {
  levenshtein ??= await import("fastest-levenshtein");
}

/**
 * The candidate closest to `word`, when it is close enough to be a likely typo; `undefined`
 * also before {@linkcode loadSuggestions}.
 *
 * @param word What the user typed.
 * @param candidates The valid words.
 * @returns The suggestion, or `undefined`.
 */
export function suggest(word: string, candidates: string[]): string | undefined {
  if (candidates.length === 0 || levenshtein === undefined) return undefined;
  const { closest, distance } = levenshtein;
  const best = closest(word, candidates);
  return distance(word, best) <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** Reject options the subcommand does not have, naming the closest one. */
function checkUnknownOptions(spec: CommandSpec, all: OptionSpec[], head: string[]): void {
  const { tokens } = parseArgs({ args: head, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const known = token.rawName.startsWith("--")
      ? all.some((o) => o.name === token.name)
      : all.some((o) => o.short === token.name);
    if (known) continue;
    const names = all.flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]);
    const hint = suggest(token.rawName, names);
    throw new UsageError(
      `gamma ${spec.name}: unknown option ${JSON.stringify(token.rawName)}${
        hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ""
      }`,
      spec,
    );
  }
}

/**
 * Parse a subcommand's arguments with `node:util` `parseArgs`.
 *
 * @param spec The subcommand.
 * @param args Its arguments.
 * @returns Option values and positionals.
 * @throws {UsageError} For unknown options, missing values and the like.
 */
export function parseCommand(spec: CommandSpec, args: string[]): Parsed {
  const all = [...spec.options, ...GLOBAL_OPTIONS];
  let head = args;
  let tail: string[] = [];
  if (spec.commandTail) {
    const at = commandStart(args, all);
    head = args.slice(0, at);
    tail = args[at] === "--" ? args.slice(at + 1) : args.slice(at);
  }
  const options = Object.fromEntries(all.map((o) => [o.name, {
    type: o.value ? "string" as const : "boolean" as const,
    ...(o.short ? { short: o.short } : {}),
    ...(o.multiple ? { multiple: true } : {}),
  }]));
  checkUnknownOptions(spec, all, head);
  try {
    const { values, positionals } = parseArgs({
      args: head,
      options,
      allowPositionals: !spec.commandTail,
      strict: true,
    });
    return { values, positionals: spec.commandTail ? tail : positionals };
  } catch (e) {
    const message = (e as Error).message.replace(/\. To specify a positional.*$/s, "");
    throw new UsageError(`gamma ${spec.name}: ${message}`, spec);
  }
}
