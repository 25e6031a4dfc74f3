/**
 * The ssh transport's pure part: the remote script `limactl shell` sends, and the `ssh` argv that
 * sends the same script through the instance's `ssh.config` (Lima writes that file on every start
 * for tools and IDEs).
 *
 * @module
 */

import { normalizeAbsolutePath } from "./guest_path.ts";

/**
 * Quote one word the way Lima does (`al.essio.dev/pkg/shellescape` `Quote`, used by
 * `cmd/limactl/shell.go`): `''` for the empty string, the word itself when it holds only
 * `[A-Za-z0-9_@%+=:,./-]`, otherwise single quotes with each `'` written `'"'"'`.
 *
 * @param s The word.
 * @returns The quoted word.
 *
 * @example Usage
 * ```ts
 * import { limaQuote } from "./lima_ssh.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(limaQuote("/work/p"), "/work/p");
 * assert.equal(limaQuote("it's"), `'it'"'"'s'`);
 * ```
 */
export function limaQuote(s: string): string {
  if (s === "") return "''";
  return /[^A-Za-z0-9_@%+=:,./-]/.test(s) ? `'${s.replaceAll("'", `'"'"'`)}'` : s;
}

/**
 * The script `limactl shell --workdir W NAME -- ARGV…` hands to ssh (Lima 2.x
 * `cmd/limactl/shell.go`): `cd W || exit 1 ; exec "$SHELL" -l -c '<words>'`. Each word is quoted
 * with {@linkcode limaQuote}; leading `K=V` words (up to the first word without `=`) are
 * assignments whose value alone is quoted; the joined words are quoted once more as the `-c`
 * argument. `"$SHELL"` is expanded by the guest user's login shell, which sshd runs the script
 * with.
 *
 * @param argv The guest argv exactly as passed to `limactl shell` after `--` (leading `K=V`
 * environment words included); empty for a login shell without `-c`.
 * @param workdir The absolute guest working directory.
 * @returns The script.
 * @throws {TypeError} If `workdir` is not absolute.
 *
 * @example Usage
 * ```ts
 * import { limaShellScript } from "./lima_ssh.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   limaShellScript(["A=1 2", "ls"], "/work/p"),
 *   `cd /work/p || exit 1 ; exec "$SHELL" -l -c 'A='"'"'1 2'"'"' ls'`,
 * );
 * ```
 */
export function limaShellScript(argv: readonly string[], workdir: string): string {
  const dir = normalizeAbsolutePath(workdir, "Guest workdir");
  let script = `cd ${limaQuote(dir)} || exit 1 ; exec "$SHELL" -l`;
  if (argv.length > 0) {
    let assignments = true;
    const words = argv.map((word) => {
      const eq = word.indexOf("=");
      if (assignments && eq >= 0) return word.slice(0, eq + 1) + limaQuote(word.slice(eq + 1));
      assignments = false;
      return limaQuote(word);
    });
    script += ` -c ${limaQuote(words.join(" "))}`;
  }
  return script;
}

/**
 * Options of {@linkcode sshShellArgs}.
 *
 * @example Usage
 * ```ts
 * import type { SshShellOptions } from "./lima_ssh.ts";
 *
 * const options: SshShellOptions = { tty: false, colorterm: false };
 * ```
 */
export interface SshShellOptions {
  /** `-t`: Lima gives a pseudo-terminal exactly when its stdout is a terminal. */
  tty: boolean;
  /** `-o SendEnv=COLORTERM`: Lima adds it when `COLORTERM` is set on the host. */
  colorterm: boolean;
}

/**
 * The arguments of `ssh` that run `script` the way `limactl shell` does, through the instance's
 * own `ssh.config` (whose `Host` entry carries the port, user, identity and the ControlMaster
 * socket): `-F <ssh.config> [-t] [-o SendEnv=COLORTERM] -o LogLevel=ERROR <host> -- <script>`.
 * `LogLevel=ERROR` is Lima's: it hides "Shared connection … closed" after a `-t` session and
 * keeps connection errors.
 *
 * @param configFile The instance's `ssh.config`.
 * @param host The `Host` alias in it (`lima-NAME`).
 * @param script The remote script ({@linkcode limaShellScript}).
 * @param options Terminal and COLORTERM.
 * @returns The argv after the program name.
 *
 * @example Usage
 * ```ts
 * import { sshShellArgs } from "./lima_ssh.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   sshShellArgs("/l/dev/ssh.config", "lima-dev", "true", { tty: false, colorterm: false }),
 *   ["-F", "/l/dev/ssh.config", "-o", "LogLevel=ERROR", "lima-dev", "--", "true"],
 * );
 * ```
 */
export function sshShellArgs(
  configFile: string,
  host: string,
  script: string,
  options: SshShellOptions,
): string[] {
  const args = ["-F", configFile];
  if (options.tty) args.push("-t");
  if (options.colorterm) args.push("-o", "SendEnv=COLORTERM");
  args.push("-o", "LogLevel=ERROR", host, "--", script);
  return args;
}

/**
 * The first `Host` alias of an `ssh.config` Lima wrote (`Host lima-NAME`).
 *
 * @param text The file's text.
 * @returns The alias, or `undefined` when the file names none.
 *
 * @example Usage
 * ```ts
 * import { sshConfigHost } from "./lima_ssh.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sshConfigHost("# Lima\nHost lima-dev\n  Port 60022\n"), "lima-dev");
 * ```
 */
export function sshConfigHost(text: string): string | undefined {
  return /^\s*Host\s+(\S+)\s*$/m.exec(text)?.[1];
}
