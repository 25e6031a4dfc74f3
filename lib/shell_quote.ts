/**
 * POSIX single-quote quoting for script text that gamma builds itself.
 *
 * @module
 */

/**
 * Quote a string so that a POSIX shell reads it back as exactly one word with exactly the same
 * characters.
 *
 * The result is always wrapped in single quotes; every `'` inside becomes `'"'"'` (close the
 * quote, a double-quoted `'`, reopen). Inside single quotes sh, dash, bash and zsh give no
 * character a special meaning, so `$`, backticks, backslashes, newlines and a leading `-` all
 * arrive unchanged. Use it only for script text gamma composes (`sh -c` bodies); argv elements
 * handed to `limactl shell` are quoted by Lima itself and must not be quoted twice.
 *
 * @param s The text to quote.
 * @returns The quoted word, `''` for the empty string.
 * @throws {TypeError} If `s` contains a NUL character, which no shell word or argv element can
 * carry.
 *
 * @example Usage
 * ```ts
 * import { bashSingleQuoted } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * assert.equal(bashSingleQuoted("it's $HOME"), `'it'"'"'s $HOME'`);
 * assert.equal(bashSingleQuoted(""), "''");
 * ```
 */
export function bashSingleQuoted(s: string): string {
  const nul = s.indexOf("\0");
  if (nul !== -1) {
    throw new TypeError(
      `Cannot quote string for a shell: it contains a NUL character at index ${nul}, which no shell word can carry`,
    );
  }
  return `'${s.replaceAll("'", `'"'"'`)}'`;
}
