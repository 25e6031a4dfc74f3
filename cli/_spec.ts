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
  /**
   * Every subcommand's spec, in help order (for `gamma completions`). Given by cli.ts, so no
   * subcommand imports the table that imports it.
   */
  commands(): Promise<readonly CommandSpec[]>;
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

/**
 * Edit distance where swapping two neighbouring letters costs one edit (optimal string
 * alignment): `stauts` is one edit from `status`, two from `start`.
 */
function typoDistance(a: string, b: string): number {
  const rows = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The candidate closest to `word`, when it is close enough to be a likely typo: at most one
 * edit for words up to 4 letters, two up to 8, three beyond (a swap of neighbours is one edit).
 *
 * @param word What the user typed.
 * @param candidates The valid words.
 * @returns The suggestion, or `undefined`.
 */
export function suggest(word: string, candidates: string[]): string | undefined {
  const bare = (w: string): string => w.replace(/^-+/, "");
  const typed = bare(word);
  const limit = typed.length <= 4 ? 1 : typed.length <= 8 ? 2 : 3;
  let best: { word: string; d: number } | undefined;
  for (const candidate of candidates) {
    const d = typoDistance(typed, bare(candidate));
    if (d <= limit && (best === undefined || d < best.d)) best = { word: candidate, d };
  }
  return best?.word;
}

/**
 * The short text of a usage error: what is wrong, the subcommand's usage line, and where the
 * full help is; at most four lines.
 *
 * @param message What is wrong, starting `gamma…:`.
 * @param spec The subcommand, when known.
 * @returns The text, without a final newline.
 */
export function usageText(message: string, spec?: CommandSpec): string {
  if (spec === undefined) {
    return [
      message,
      "usage: gamma [-i NAME] [--limactl PATH] [--debug] [-q] COMMAND [OPTIONS] [ARGS]",
      "Run 'gamma help' for the commands.",
    ].join("\n");
  }
  return [
    message,
    `usage: gamma ${spec.usage[0]}`,
    `Run 'gamma help ${spec.name}' for its options.`,
  ].join("\n");
}

/** node:util parseArgs' messages, said the way gamma's usage errors are. */
function parseArgsMessage(raw: string): string {
  const missing = raw.match(/^Option '(?:-(\w), )?--([\w-]+) <value>' argument missing/);
  if (missing) {
    return `${missing[1] ? `-${missing[1]}/` : ""}--${missing[2]} needs a value`;
  }
  const flag = raw.match(/^Option '(?:-(\w), )?--([\w-]+)' does not take an argument/);
  if (flag) return `${flag[1] ? `-${flag[1]}/` : ""}--${flag[2]} takes no value`;
  const extra = raw.match(/^Unexpected argument '(.*)'/s);
  if (extra) return `unexpected argument ${JSON.stringify(extra[1])}`;
  return raw.replace(/\. To specify a positional.*$/s, "");
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
    throw new UsageError(`gamma ${spec.name}: ${parseArgsMessage((e as Error).message)}`, spec);
  }
}
