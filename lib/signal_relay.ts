/**
 * The guest side of gamma's signal relay, as pure argv builders. Without a terminal, ssh sends no
 * signal to the remote side: a client killed by Ctrl-C leaves the guest command running. So a
 * command run without a terminal is wrapped ({@linkcode relayedCommand}): a POSIX `sh` script in
 * the guest starts it as the leader of its own process group and session (`setsid`), records
 * `WRAPPER_PID GROUP` in a per-run file, waits, removes the file and exits with the command's
 * status (128+N when signal N ended it, as `sh` reports), so the transport never turns a signal
 * death into 255. When gamma is signalled it makes one short extra guest call
 * ({@linkcode relaySignalCommand}) that checks the file still names that run and signals the
 * whole group. Both are plain argv, so they travel over `limactl shell` and plain ssh alike.
 *
 * The command line runs in the user's login shell (`$SHELL -c`), which bash, zsh and busybox
 * `ash` replace with the command; a login shell that stays as its parent (dash, fish) is in the
 * group too, and reports the signal rather than the command's own status.
 *
 * @module
 */

import { bashSingleQuoted } from "./shell_quote.ts";

/**
 * A signal gamma passes to a guest command's process group, by its `kill -s` name.
 *
 * @example Usage
 * ```ts
 * import type { RelaySignal } from "@devshell/gamma/lima";
 *
 * const sig: RelaySignal = "INT";
 * ```
 */
export type RelaySignal = "INT" | "TERM" | "HUP" | "KILL";

/** The first word after the script: the wrapper's `$0`, seen in `ps` in the guest. */
const WRAPPER_NAME = "gamma-relay";
const SIGNALLER_NAME = "gamma-relay-signal";
const TOKEN = /^[A-Za-z0-9_-]{16,64}$/;

// $1 the run file, $2 the command as one line for the user's shell. The command runs as a
// foreground child (its stdin is untouched and it does not get the SIGINT/SIGQUIT an
// asynchronous list ignores); the child records "$PPID $$" and execs setsid, which makes it a
// group and session leader (it is never one before: the wrapper forked it), then the user's
// login shell runs the command line exactly as Lima's `$SHELL -l -c` would, minus the profile
// the outer login shell has already read. It is not the wrapper's last command, so no shell
// execs it in place of the wrapper. Without setsid the command runs as it always did.
// While the wrapper waits, its own stderr is /dev/null and the child takes the real one back
// from fd 3: dash, bash and busybox print "Terminated" or "Killed" to their stderr when a
// foreground child dies of a signal, and that must not be added to the command's output.
const CHILD = [
  "exec 2>&3 3>&-",
  "if command -v setsid >/dev/null 2>&1; then",
  '  set -C; { printf "%s %s\\n" "$PPID" "$$" >"$1"; } 2>/dev/null',
  '  exec setsid "$0" -c "$2"',
  "fi",
  'exec "$0" -c "$2"',
].join("\n");
const WRAPPER = [
  "f=$1",
  `{ /bin/sh -c ${bashSingleQuoted(CHILD)} "\${SHELL:-/bin/sh}" "$1" "$2"; } 3>&2 2>/dev/null`,
  "s=$?",
  // The command's own PATH may lack rm (an env override): fall back on /bin/rm, quietly.
  '{ rm -f "$f" || /bin/rm -f "$f"; } 2>/dev/null',
  'exit "$s"',
].join("\n");

// With a pty: $1 the command line. The terminal carries Ctrl-C to the whole foreground group
// (wrapper and command), so nothing is recorded and no group is made; the wrapper only outlives
// the command (a trap whose action is not empty: the command gets default handlers back) and
// exits with its status, so sshd reports 128+N as an exit status rather than a signal (ssh: 255).
const TERMINAL_WRAPPER = [
  "trap : INT QUIT TERM HUP",
  `{ /bin/sh -c 'exec 2>&3 3>&-; exec "$0" -c "$1"' "\${SHELL:-/bin/sh}" "$1"; } 3>&2 2>/dev/null`,
  'exit "$?"',
].join("\n");

// $1 the run file, $2 the signal name. Waits (bounded) for the run to record itself, then checks
// that the group leader's parent is the recorded wrapper, that the leader leads the group, and
// that the wrapper's argv names this run file, so a stale file can never signal a recycled
// process group. dash's kill needs `--` before a negative pid and busybox's refuses it.
// Exit 0: signalled; 3: no such run (not started yet, or already over).
const SIGNALLER = [
  "f=$1 g=$2 i=0",
  "while :; do",
  '  if { read -r w c <"$f" && read -r st </proc/"$c"/stat; } 2>/dev/null; then',
  "    set -- ${st##*) }",
  '    if [ "$2" = "$w" ] && [ "$3" = "$c" ] && grep -qF -e "$f" /proc/"$w"/cmdline 2>/dev/null; then',
  '      if kill -s 0 -- "$$" 2>/dev/null; then kill -s "$g" -- "-$c"; else kill -s "$g" "-$c"; fi',
  "      exit",
  "    fi",
  "  fi",
  "  i=$((i + 1))",
  '  [ "$i" -le 100 ] || exit 3',
  "  sleep 0.05 2>/dev/null || sleep 1",
  "done",
].join("\n");

/**
 * The guest file where a relayed run records its process group: `DIR/gamma-relay.TOKEN`.
 *
 * @param token A fresh random token for this run (16 to 64 letters, digits, `_` or `-`).
 * @param dir The guest directory; `/tmp` unless a test needs its own.
 * @returns The absolute guest path.
 * @throws {RangeError} When the token or directory is not acceptable.
 *
 * @example Usage
 * ```ts
 * import { relayFile } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * assert.equal(relayFile("0123456789abcdef"), "/tmp/gamma-relay.0123456789abcdef");
 * ```
 */
export function relayFile(token: string, dir = "/tmp"): string {
  if (!TOKEN.test(token)) {
    throw new RangeError(
      `Invalid relay token ${JSON.stringify(token)}: use 16 to 64 letters, digits, "_" or "-"`,
    );
  }
  if (!dir.startsWith("/") || dir.includes("\0")) {
    throw new RangeError(`Invalid relay directory ${JSON.stringify(dir)}: use an absolute path`);
  }
  return `${dir.replace(/\/+$/, "")}/gamma-relay.${token}`;
}

/**
 * The argv that runs `command` in the guest under the relay wrapper:
 * `/bin/sh -c WRAPPER gamma-relay FILE LINE`, where `LINE` is the command quoted word by word for
 * the user's shell. Every argument reaches the command byte for byte; environment, working
 * directory and stdin are the caller's, untouched.
 *
 * @param command The command and its arguments (the first must not be empty).
 * @param file The run file, from {@linkcode relayFile}.
 * @returns The argv to hand to `limactl shell` (or to put in an ssh script).
 * @throws {TypeError} For an empty command or a NUL character.
 *
 * @example Usage
 * ```ts
 * import { relayedCommand, relayFile } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * const argv = relayedCommand(["echo", "it's"], relayFile("0123456789abcdef"));
 * assert.deepEqual(argv.slice(0, 2), ["/bin/sh", "-c"]);
 * assert.deepEqual(argv.slice(3), [
 *   "gamma-relay",
 *   "/tmp/gamma-relay.0123456789abcdef",
 *   `'echo' 'it'"'"'s'`,
 * ]);
 * ```
 */
export function relayedCommand(command: readonly string[], file: string): string[] {
  if (command.length === 0 || command[0] === "") {
    throw new TypeError("Cannot relay an empty command");
  }
  return ["/bin/sh", "-c", WRAPPER, WRAPPER_NAME, file, command.map(bashSingleQuoted).join(" ")];
}

/**
 * The argv that runs `command` in the guest on a pseudo-terminal: `/bin/sh -c WRAPPER
 * gamma-run LINE`. The terminal keeps carrying Ctrl-C to the command; the wrapper only turns a
 * death by signal N into exit status 128+N, which ssh passes on (it reports 255 for a remote
 * command killed by a signal).
 *
 * @param command The command and its arguments (the first must not be empty).
 * @returns The argv to hand to `limactl shell` (or to put in an ssh script).
 * @throws {TypeError} For an empty command or a NUL character.
 *
 * @example Usage
 * ```ts
 * import { terminalCommand } from "./signal_relay.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(terminalCommand(["vim", "a b"]).slice(3), ["gamma-run", "'vim' 'a b'"]);
 * ```
 */
export function terminalCommand(command: readonly string[]): string[] {
  if (command.length === 0 || command[0] === "") {
    throw new TypeError("Cannot run an empty command");
  }
  return ["/bin/sh", "-c", TERMINAL_WRAPPER, "gamma-run", command.map(bashSingleQuoted).join(" ")];
}

/**
 * The argv of the short guest call that sends `signal` to the process group of the relayed run
 * recorded in `file`. It waits up to about 5 s for the run to record itself and exits 0 when
 * it signalled the group, 3 when there is no such run.
 *
 * @param file The run file, from {@linkcode relayFile}.
 * @param signal The signal.
 * @returns The argv to hand to `limactl shell` (or to put in an ssh script).
 *
 * @example Usage
 * ```ts
 * import { relayFile, relaySignalCommand } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * const argv = relaySignalCommand(relayFile("0123456789abcdef"), "INT");
 * assert.deepEqual(argv.slice(3), ["gamma-relay-signal", "/tmp/gamma-relay.0123456789abcdef", "INT"]);
 * ```
 */
export function relaySignalCommand(file: string, signal: RelaySignal): string[] {
  return ["/bin/sh", "-c", SIGNALLER, SIGNALLER_NAME, file, signal];
}
