/**
 * OpenSSH client configuration for editors: a `Host` block for one project, built from the
 * `ssh.config` Lima writes for each instance, and the `Include` line for `~/.ssh/config`.
 *
 * @module
 */

import { bashSingleQuoted } from "./shell_quote.ts";

/**
 * One `Key value` line of an OpenSSH client configuration, as written.
 *
 * @example Usage
 * ```ts
 * import type { SshOption } from "@devshell/gamma/lima";
 *
 * const option: SshOption = { key: "Port", value: "60022" };
 * ```
 */
export interface SshOption {
  /** The keyword, as written (case does not matter to ssh). */
  readonly key: string;
  /** The rest of the line, quotes kept. */
  readonly value: string;
}

/**
 * The first `Host` block of an OpenSSH client configuration: the one Lima writes as
 * `<instance dir>/ssh.config` (`Host lima-NAME` with `IdentityFile`, `User`, `Hostname`, `Port`,
 * `ControlPath` and the rest).
 *
 * @param text The file's text.
 * @returns The host pattern and its options, or `undefined` when there is no `Host` line.
 *
 * @example Usage
 * ```ts
 * import { parseSshHostBlock } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * const block = parseSshHostBlock("# by Lima\nHost lima-dev\n  User me\n  Port 60022\n")!;
 * assert.equal(block.host, "lima-dev");
 * assert.deepEqual(block.options, [{ key: "User", value: "me" }, { key: "Port", value: "60022" }]);
 * ```
 */
export function parseSshHostBlock(
  text: string,
): { host: string; options: SshOption[] } | undefined {
  let host: string | undefined;
  const options: SshOption[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([A-Za-z][A-Za-z0-9]*)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (m === null) continue;
    const key = m[1]!;
    const value = m[2]!.trim();
    const lower = key.toLowerCase();
    if (lower === "host" || lower === "match") {
      if (host !== undefined) break;
      if (lower === "host") host = value;
      continue;
    }
    if (host !== undefined) options.push({ key, value });
  }
  return host === undefined ? undefined : { host, options };
}

const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Options of {@linkcode projectSshBlock}.
 *
 * @example Usage
 * ```ts
 * import type { ProjectSshBlockOptions } from "@devshell/gamma/lima";
 *
 * const options: ProjectSshBlockOptions = {
 *   host: "gamma-app",
 *   options: [{ key: "Port", value: "60022" }],
 *   guestDir: "/workspace/app",
 * };
 * ```
 */
export interface ProjectSshBlockOptions {
  /** The new host alias: letters, digits, `.`, `_`, `-`. */
  host: string;
  /** Lima's options for the instance ({@linkcode parseSshHostBlock}). */
  options: readonly SshOption[];
  /** The project's guest directory, where the login shell starts. */
  guestDir: string;
  /** Add `RemoteCommand` and `RequestTTY` (default true); editors that run their own commands may want it off. */
  remoteCommand?: boolean;
  /** Comment lines put above the block (without `#`). */
  comments?: readonly string[];
}

/**
 * The `RemoteCommand` that opens a login shell in `guestDir`: `cd DIR && exec "$SHELL" -l`, the
 * directory single-quoted for the guest shell and `%` doubled for ssh's own `%` tokens.
 *
 * @param guestDir Absolute guest directory without control characters or backslashes.
 * @returns The command.
 * @throws {RangeError} For a directory that cannot be written on one ssh_config line.
 *
 * @example Usage
 * ```ts
 * import { sshRemoteCommand } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sshRemoteCommand("/workspace/100% app"), `cd '/workspace/100%% app' && exec "$SHELL" -l`);
 * ```
 */
export function sshRemoteCommand(guestDir: string): string {
  // deno-lint-ignore no-control-regex
  if (!guestDir.startsWith("/") || /[\x00-\x1f\x7f\\]/.test(guestDir)) {
    throw new RangeError(
      `Cannot write the guest directory ${
        JSON.stringify(guestDir)
      } into an ssh config: it must be absolute, without control characters or backslashes`,
    );
  }
  return `cd ${bashSingleQuoted(guestDir).replaceAll("%", "%%")} && exec "$SHELL" -l`;
}

/**
 * A `Host` block for one project: Lima's options for the instance under a new alias, with a
 * `RemoteCommand` that lands a login shell in the project's guest directory and `RequestTTY
 * yes` (unless `remoteCommand` is false).
 *
 * @param o The alias, Lima's options and the guest directory.
 * @returns The block, ending in a newline.
 * @throws {RangeError} For a bad alias or guest directory.
 *
 * @example Usage
 * ```ts
 * import { projectSshBlock } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * const block = projectSshBlock({
 *   host: "gamma-app",
 *   options: [{ key: "Hostname", value: "127.0.0.1" }, { key: "Port", value: "60022" }],
 *   guestDir: "/workspace/app",
 * });
 * assert.equal(
 *   block,
 *   'Host gamma-app\n  Hostname 127.0.0.1\n  Port 60022\n  RequestTTY yes\n  RemoteCommand cd \'/workspace/app\' && exec "$SHELL" -l\n',
 * );
 * ```
 */
export function projectSshBlock(o: ProjectSshBlockOptions): string {
  if (!HOST_NAME.test(o.host)) {
    throw new RangeError(
      `Invalid ssh host name ${
        JSON.stringify(o.host)
      }: use letters, digits, ".", "_" and "-", starting with a letter or digit`,
    );
  }
  const remote = o.remoteCommand ?? true;
  const command = sshRemoteCommand(o.guestDir);
  const dropped = ["host", "match", "requesttty", "remotecommand"];
  const lines = [
    ...(o.comments ?? []).map((c) => `# ${c}`),
    `Host ${o.host}`,
    ...o.options.filter((opt) => !dropped.includes(opt.key.toLowerCase()))
      .map((opt) => `  ${opt.key} ${opt.value}`),
    ...(remote ? ["  RequestTTY yes", `  RemoteCommand ${command}`] : []),
  ];
  return lines.join("\n") + "\n";
}

/**
 * The line `gamma ssh-config --install` puts at the top of `~/.ssh/config`: it includes every
 * block gamma wrote under `~/.ssh/gamma/`.
 *
 * @example Usage
 * ```ts
 * import { SSH_INCLUDE_LINE } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * assert.equal(SSH_INCLUDE_LINE, "Include ~/.ssh/gamma/*.conf");
 * ```
 */
export const SSH_INCLUDE_LINE = "Include ~/.ssh/gamma/*.conf";

/**
 * `~/.ssh/config` with {@linkcode SSH_INCLUDE_LINE} added at the top (an `Include` after a `Host`
 * line would only apply inside that host's block), or `undefined` when the line is already
 * there.
 *
 * @param text The current file (`""` when there is none).
 * @returns The new text, or `undefined` when nothing needs to change.
 *
 * @example Usage
 * ```ts
 * import { SSH_INCLUDE_LINE, withSshInclude } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * const once = withSshInclude("Host *\n  ServerAliveInterval 60\n")!;
 * assert.ok(once.startsWith(`# Added by gamma ssh-config --install\n${SSH_INCLUDE_LINE}\n\nHost *`));
 * assert.equal(withSshInclude(once), undefined);
 * ```
 */
export function withSshInclude(text: string): string | undefined {
  const present = text.split(/\r?\n/).some((line) =>
    /^\s*include\s*(=\s*|\s)(.*\s)?~\/\.ssh\/gamma\/\*\.conf(\s|$)/i.test(line)
  );
  if (present) return undefined;
  const head = `# Added by gamma ssh-config --install\n${SSH_INCLUDE_LINE}\n`;
  return text === "" ? head : `${head}\n${text}`;
}
