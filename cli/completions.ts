// deno-lint-ignore-file no-console
/**
 * `gamma completions bash|zsh|fish`: shell completion scripts generated from the command table.
 *
 * @module
 */

import { type CommandSpec, GLOBAL_OPTIONS, type OptionSpec, UsageError } from "./_spec.ts";

const SHELLS = ["bash", "zsh", "fish"] as const;
type Shell = typeof SHELLS[number];

/** The shell command that prints instance names, run at completion time. */
const LIST_INSTANCES = '"${DEVSHELL_VM_LIMACTL:-limactl}" list -q 2>/dev/null';

/** The same for fish, which has no `${VAR:-default}`. */
const FISH_LIST_INSTANCES =
  "(if set -q DEVSHELL_VM_LIMACTL; $DEVSHELL_VM_LIMACTL list -q 2>/dev/null; else; limactl list -q 2>/dev/null; end)";

function flags(options: OptionSpec[]): string[] {
  return options.flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]);
}

/** Global options that take a value: the word after them is not a subcommand. */
function valueFlags(): string[] {
  return flags(GLOBAL_OPTIONS.filter((o) => o.value));
}

/** Every option that takes a value: the word after it is not an action. */
function allValueFlags(cmds: readonly CommandSpec[]): string[] {
  const all = [...GLOBAL_OPTIONS, ...cmds.flatMap((c) => c.options)].filter((o) => o.value);
  return [...new Set(flags(all))];
}

/** The subcommands whose first argument is an action word (`sync push`, `fs ls`). */
function withActions(
  cmds: readonly CommandSpec[],
): (CommandSpec & { actions: readonly string[] })[] {
  return cmds.filter((c): c is CommandSpec & { actions: readonly string[] } =>
    (c.actions?.length ?? 0) > 0
  );
}

function commandNames(cmds: readonly CommandSpec[]): string[] {
  return [...cmds.map((c) => c.name), "help"];
}

/** Single-quote for sh/bash/zsh/fish word lists (none of our words hold a quote). */
function words(list: string[]): string {
  return `'${list.join(" ")}'`;
}

function bashScript(cmds: readonly CommandSpec[]): string {
  const cases = cmds.map((c) =>
    `    ${c.name}) opts=${words(flags([...c.options, ...GLOBAL_OPTIONS]))} ;;`
  );
  return `# bash completion for gamma; load with: source <(gamma completions bash)
_gamma() {
  local cur prev sub="" opts actions="" i si=0 npos=0
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    -i|--instance) COMPREPLY=($(compgen -W "$(${LIST_INSTANCES})" -- "$cur")); return ;;
    --limactl) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${valueFlags().join("|")}) ((i++)) ;;
      -*) ;;
      *) sub="\${COMP_WORDS[i]}"; si=$i; break ;;
    esac
  done
  if [ -z "$sub" ]; then
    if [[ "$cur" == -* ]]; then
      COMPREPLY=($(compgen -W ${words([...flags(GLOBAL_OPTIONS), "--version", "-V"])} -- "$cur"))
    else
      COMPREPLY=($(compgen -W ${words(commandNames(cmds))} -- "$cur"))
    fi
    return
  fi
  for ((i = si + 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${allValueFlags(cmds).join("|")}) ((i++)) ;;
      -*) ;;
      *) ((npos++)) ;;
    esac
  done
  case "$sub" in
${cases.join("\n")}
    help) COMPREPLY=($(compgen -W ${words(cmds.map((c) => c.name))} -- "$cur")); return ;;
    *) opts="" ;;
  esac
  case "$sub" in
${withActions(cmds).map((c) => `    ${c.name}) actions=${words([...c.actions])} ;;`).join("\n")}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [ -n "$actions" ] && [ "$npos" -eq 0 ]; then
    COMPREPLY=($(compgen -W "$actions" -- "$cur"))
  fi
}
complete -o bashdefault -o default -F _gamma gamma
`;
}

function zshScript(cmds: readonly CommandSpec[]): string {
  const described = cmds.map((c) => `    ${JSON.stringify(`${c.name}:${c.summary}`)}`);
  const cases = cmds.map((c) =>
    `    ${c.name}) opts=(${flags([...c.options, ...GLOBAL_OPTIONS]).join(" ")}) ;;`
  );
  return `#compdef gamma
# zsh completion for gamma; load with: source <(gamma completions zsh)
_gamma() {
  local -a cmds opts actions
  local sub="" i si=0 npos=0
  cmds=(
${described.join("\n")}
    "help:print help for gamma or one command"
  )
  case "\${words[CURRENT-1]}" in
    -i|--instance) compadd -- \${(f)"$(${LIST_INSTANCES})"}; return ;;
    --limactl) _files; return ;;
  esac
  for ((i = 2; i < CURRENT; i++)); do
    case "\${words[i]}" in
      ${valueFlags().join("|")}) ((i++)) ;;
      -*) ;;
      *) sub="\${words[i]}"; si=$i; break ;;
    esac
  done
  if [[ -z "$sub" ]]; then
    if [[ "$PREFIX" == -* ]]; then
      compadd -- ${[...flags(GLOBAL_OPTIONS), "--version", "-V"].join(" ")}
    else
      _describe command cmds
    fi
    return
  fi
  case "$sub" in
${cases.join("\n")}
    help) compadd -- ${cmds.map((c) => c.name).join(" ")}; return ;;
    *) opts=() ;;
  esac
  for ((i = si + 1; i < CURRENT; i++)); do
    case "\${words[i]}" in
      ${allValueFlags(cmds).join("|")}) ((i++)) ;;
      -*) ;;
      *) ((npos++)) ;;
    esac
  done
  case "$sub" in
${withActions(cmds).map((c) => `    ${c.name}) actions=(${c.actions.join(" ")}) ;;`).join("\n")}
  esac
  if [[ "$PREFIX" == -* ]]; then
    compadd -- $opts
  elif (( \${#actions} > 0 && npos == 0 )); then
    compadd -- $actions
  else
    _files
  fi
}
if [[ "\${funcstack[1]}" == "_gamma" ]]; then
  _gamma "$@"
else
  compdef _gamma gamma
fi
`;
}

function fishQuote(s: string): string {
  return `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

function fishOption(o: OptionSpec, condition: string): string {
  const parts = [`complete -c gamma -n ${fishQuote(condition)}`];
  if (o.short) parts.push(`-s ${o.short}`);
  parts.push(`-l ${o.name}`);
  if (o.name === "instance") parts.push(`-x -a ${fishQuote(FISH_LIST_INSTANCES)}`);
  else if (o.value) parts.push("-r");
  parts.push(`-d ${fishQuote(o.help)}`);
  return parts.join(" ");
}

function fishScript(cmds: readonly CommandSpec[]): string {
  const names = commandNames(cmds).join(" ");
  const lines = [
    "# fish completion for gamma; load with: gamma completions fish | source",
    "complete -c gamma -f",
    ...cmds.map((c) =>
      `complete -c gamma -n ${
        fishQuote(`not __fish_seen_subcommand_from ${names}`)
      } -a ${c.name} -d ${fishQuote(c.summary)}`
    ),
    `complete -c gamma -n ${
      fishQuote(`not __fish_seen_subcommand_from ${names}`)
    } -a help -d 'print help for gamma or one command'`,
    `complete -c gamma -n ${fishQuote("__fish_seen_subcommand_from help")} -a ${
      fishQuote(cmds.map((c) => c.name).join(" "))
    }`,
    ...GLOBAL_OPTIONS.map((o) => fishOption(o, "true")),
    `complete -c gamma -n ${
      fishQuote(`not __fish_seen_subcommand_from ${names}`)
    } -s V -l version -d 'print the version'`,
    ...cmds.flatMap((c) =>
      c.options.map((o) => fishOption(o, `__fish_seen_subcommand_from ${c.name}`))
    ),
    // The action word right after a subcommand that has them.
    ...withActions(cmds).map((c) =>
      `complete -c gamma -n ${
        fishQuote(
          `__fish_seen_subcommand_from ${c.name}; and not __fish_seen_subcommand_from ${
            c.actions.join(" ")
          }`,
        )
      } -a ${fishQuote(c.actions.join(" "))}`
    ),
    // After `gamma exec … --`, complete files and commands.
    `complete -c gamma -n ${fishQuote("__fish_seen_subcommand_from exec")} -F`,
  ];
  return lines.join("\n") + "\n";
}

/**
 * The completion script for a shell.
 *
 * @param shell `bash`, `zsh` or `fish`.
 * @param cmds Every subcommand's spec, in help order.
 * @returns The script text.
 */
export function completionScript(shell: Shell, cmds: readonly CommandSpec[]): string {
  return shell === "bash" ? bashScript(cmds) : shell === "zsh" ? zshScript(cmds) : fishScript(cmds);
}

/** `gamma completions`. */
export const completionsCommand: CommandSpec = {
  name: "completions",
  summary: "print a completion script for bash, zsh or fish",
  usage: ["completions bash|zsh|fish"],
  actions: SHELLS,
  description: [
    "Completes subcommands, their options, the actions of sync, fs and completions (from the",
    "command table) and, after -i/--instance, the names of Lima instances (from",
    "`limactl list -q`, run when you press Tab).",
  ],
  permissions: [],
  options: [],
  examples: [
    "source <(gamma completions bash)                 # in ~/.bashrc",
    "gamma completions zsh > ~/.zfunc/_gamma         # with ~/.zfunc on $fpath",
    "gamma completions fish > ~/.config/fish/completions/gamma.fish",
  ],
  exitCodes: ["0     printed", "2     usage error"],
  async run(parsed, context) {
    const [shell, extra] = parsed.positionals;
    if (
      shell === undefined || extra !== undefined || !(SHELLS as readonly string[]).includes(shell)
    ) {
      throw new UsageError(
        `gamma completions: expected one of ${SHELLS.join(", ")}${
          shell === undefined ? "" : `, got ${JSON.stringify(parsed.positionals.join(" "))}`
        }`,
        this,
      );
    }
    console.log(completionScript(shell as Shell, await context.commands()).trimEnd());
    return 0;
  },
};
