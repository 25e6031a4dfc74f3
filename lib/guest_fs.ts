/**
 * The pure half of gamma's guest file operations ({@linkcode GuestFs}): path confinement under
 * the guest root, the POSIX `sh` scripts each operation runs in the guest, the parser of their
 * NUL-separated listings, and the mapping of their exit codes to typed errors.
 *
 * Every script receives its paths as positional arguments (`sh -c SCRIPT sh ROOT PATH …`), never
 * inside the script text, passes `--` before every name, and uses only POSIX `sh` and POSIX
 * utilities (`ls -ldn`, `cat`, `mv`, `rm`, `mkdir`, `chmod`) plus `readlink` (GNU, busybox and
 * the BSDs all have it) to follow symbolic links. It runs the same under dash, bash and busybox.
 *
 * @module
 */

import { posix } from "node:path";
import { GammaError } from "./errors.ts";
import { normalizeAbsolutePath } from "./guest_path.ts";

/**
 * What a guest directory entry is, from the first character of its `ls -l` mode (not following
 * a symbolic link): `file` (`-`), `dir` (`d`), `symlink` (`l`), anything else `other`.
 *
 * @example Usage
 * ```ts
 * import type { GuestFileType } from "@devshell/gamma/guest-fs";
 *
 * const type: GuestFileType = "symlink";
 * ```
 */
export type GuestFileType = "file" | "dir" | "symlink" | "other";

/**
 * One guest file as {@linkcode GuestFs.list} and {@linkcode GuestFs.stat} report it. Symbolic
 * links are described themselves, not what they point to.
 *
 * @example Usage
 * ```ts
 * import type { GuestEntry } from "@devshell/gamma/guest-fs";
 *
 * const entry: GuestEntry = { name: "Cargo.toml", type: "file", size: 412, mode: 0o644 };
 * ```
 */
export interface GuestEntry {
  /** The entry's name (one path component, exactly as stored; UTF-8 decoded). */
  name: string;
  /** What it is. */
  type: GuestFileType;
  /** Size in bytes as `ls -l` reports it (the target's length for a link; 0 for devices). */
  size: number;
  /** Permission bits, including set-user-ID, set-group-ID and sticky (`0o7777` at most). */
  mode: number;
}

/**
 * Why a guest file operation failed. The first six come from the guest script's own checks
 * (exit codes 10 to 15), or, for `OutsideRoot`, from the lexical check before any call;
 * `Failed` is any other non-zero exit, with the guest's stderr in the message.
 *
 * @example Usage
 * ```ts
 * import type { GuestFsErrorKind } from "@devshell/gamma/guest-fs";
 *
 * const kind: GuestFsErrorKind = "NotFound";
 * ```
 */
export type GuestFsErrorKind =
  | "NotFound"
  | "IsDirectory"
  | "NotDirectory"
  | "PermissionDenied"
  | "AlreadyExists"
  | "OutsideRoot"
  | "Failed";

/**
 * A guest file operation, as named in {@linkcode GuestFsError} messages.
 *
 * @example Usage
 * ```ts
 * import type { GuestFsOp } from "@devshell/gamma/guest-fs";
 *
 * const op: GuestFsOp = "read";
 * ```
 */
export type GuestFsOp = "list" | "stat" | "read" | "write" | "mkdir" | "remove";

/** Exit codes of the guest scripts, one per typed error kind. */
const EXIT_CODES: Readonly<Record<Exclude<GuestFsErrorKind, "Failed">, number>> = {
  NotFound: 10,
  IsDirectory: 11,
  NotDirectory: 12,
  PermissionDenied: 13,
  AlreadyExists: 14,
  OutsideRoot: 15,
};

const KIND_OF_CODE = new Map(
  Object.entries(EXIT_CODES).map(([kind, code]) => [code, kind as GuestFsErrorKind]),
);

const VERBS: Record<GuestFsOp, string> = {
  list: "list",
  stat: "stat",
  read: "read",
  write: "write",
  mkdir: "create directory",
  remove: "remove",
};

/**
 * A guest file operation failed. `kind` says why; `path` is the normalised guest path the
 * operation was given; `exitCode` is the guest script's exit code (10 `NotFound`, 11
 * `IsDirectory`, 12 `NotDirectory`, 13 `PermissionDenied`, 14 `AlreadyExists`, 15
 * `OutsideRoot` through a symbolic link, anything else `Failed`), `undefined` when the path was
 * refused before any guest call. The message names the operation and the path.
 *
 * @example Usage
 * ```ts
 * import { GuestFsError } from "@devshell/gamma/guest-fs";
 * import assert from "node:assert/strict";
 *
 * const e = new GuestFsError("NotFound", "/workspace/a", 'cannot read "/workspace/a": not found');
 * assert.equal(e.kind, "NotFound");
 * assert.equal(e.exitCode, undefined);
 * ```
 */
export class GuestFsError extends GammaError {
  /** Why it failed. */
  readonly kind: GuestFsErrorKind;
  /** The normalised guest path. */
  readonly path: string;
  /** The guest script's exit code; `undefined` when no guest call was made. */
  readonly exitCode: number | undefined;
  /** What the guest printed on stderr (usually empty for the typed kinds). */
  readonly stderr: string;

  /**
   * Make the error.
   *
   * @param kind Why it failed.
   * @param path The normalised guest path.
   * @param message The whole message.
   * @param details The guest script's exit code and stderr, when there was a guest call.
   */
  constructor(
    kind: GuestFsErrorKind,
    path: string,
    message: string,
    details: { exitCode?: number | undefined; stderr?: string | undefined } = {},
  ) {
    super(message);
    this.name = "GuestFsError";
    this.kind = kind;
    this.path = path;
    this.exitCode = details.exitCode;
    this.stderr = details.stderr ?? "";
  }
}

/**
 * Resolve a guest path against the guest root and require it to stay there: lexical
 * normalisation (`.`, `..`, repeated and trailing slashes; a relative path is taken relative
 * to `root`), then a whole-component prefix check (gamma-behaviour §7.5). Symbolic links are
 * the guest script's business: it refuses any whose target lies outside the root.
 *
 * @param path An absolute guest path, or one relative to `root`; `""` is the root.
 * @param root The absolute guest root (normalised here too).
 * @param op The operation, for the error message.
 * @returns The normalised absolute path, `root` itself or below it.
 * @throws {GuestFsError} `OutsideRoot` when the path leaves the root.
 * @throws {TypeError} When `root` is not absolute, or either contains a NUL character.
 *
 * @example Usage
 * ```ts
 * import { confineGuestPath } from "@devshell/gamma/guest-fs";
 * import assert from "node:assert/strict";
 *
 * assert.equal(confineGuestPath("src/../Cargo.toml", "/workspace"), "/workspace/Cargo.toml");
 * assert.throws(() => confineGuestPath("/workspace/../etc/passwd", "/workspace"), {
 *   name: "GuestFsError",
 *   message: 'cannot read "/etc/passwd": it is outside the guest root "/workspace"',
 * });
 * ```
 */
export function confineGuestPath(path: string, root: string, op: GuestFsOp = "read"): string {
  const base = normalizeAbsolutePath(root, "Guest root");
  if (path.includes("\0")) {
    throw new TypeError(`Guest path must not contain a NUL character: ${JSON.stringify(path)}`);
  }
  const full = normalizeAbsolutePath(path.startsWith("/") ? path : posix.join(base, path));
  const inside = base === "/" || full === base || full.startsWith(`${base}/`);
  if (!inside) {
    throw new GuestFsError(
      "OutsideRoot",
      full,
      `cannot ${VERBS[op]} ${JSON.stringify(full)}: it is outside the guest root ${
        JSON.stringify(base)
      }`,
    );
  }
  return full;
}

/**
 * The typed error for a guest script's non-zero exit code.
 *
 * @param op The operation.
 * @param path The normalised guest path.
 * @param root The guest root (named in `OutsideRoot` messages).
 * @param exitCode The script's exit code (not 0).
 * @param stderr The script's stderr.
 * @returns The error to throw.
 *
 * @example Usage
 * ```ts
 * import { guestFsError } from "./guest_fs.ts";
 * import assert from "node:assert/strict";
 *
 * const e = guestFsError("read", "/workspace/src", "/workspace", 11, "");
 * assert.equal(e.kind, "IsDirectory");
 * assert.equal(e.message, 'cannot read "/workspace/src": it is a directory');
 * ```
 */
export function guestFsError(
  op: GuestFsOp,
  path: string,
  root: string,
  exitCode: number,
  stderr: string,
): GuestFsError {
  const kind = KIND_OF_CODE.get(exitCode) ?? "Failed";
  const reason: Record<GuestFsErrorKind, string> = {
    NotFound: "no such file or directory",
    IsDirectory: "it is a directory",
    NotDirectory: op === "list" ? "not a directory" : "a part of the path is not a directory",
    PermissionDenied: "permission denied",
    AlreadyExists: "it already exists",
    OutsideRoot: `a symbolic link leads outside the guest root ${JSON.stringify(root)}`,
    Failed: `the guest command failed with exit code ${exitCode}${
      stderr.trim() ? `: ${stderr.trim()}` : ""
    }`,
  };
  return new GuestFsError(
    kind,
    path,
    `cannot ${VERBS[op]} ${JSON.stringify(path)}: ${reason[kind]}`,
    { exitCode, stderr },
  );
}

/**
 * Shared head of every script. `$1` is the guest root (`R0`), `$2` the confined, normalised path
 * (`P`); `R` becomes the root's physical path ({@linkcode ENTER_ROOT}). Globbing is off.
 *
 * - `inside X`: whether the physical path X is `R` or below it.
 * - `why X`: exit with the reason X cannot be entered or does not exist, found by walking up to
 *   its deepest existing ancestor: 12 when that is not a directory, 13 when it cannot be
 *   searched, 15 when it lies outside the root, else 10.
 * - `enter X`: `cd -P` into X (or `why`), then require the physical directory to be inside.
 * - `locate X`: `D` = the physical directory of X's parent (entered), `T` = `D/name`; the last
 *   component is not followed (`stat`, `remove`, `mkdir`).
 * - `follow X`: the same, but symbolic links in the last component are followed, each hop's
 *   directory entered (and so checked), at most 40 hops; a directory is entered itself (`D`
 *   empty).
 * - `entry PATH NAME`: print `MODE NUL SIZE NUL NAME NUL` from `ls -ldn` (the fields before the
 *   name only, so the name in `ls`'s output never matters); fails when PATH vanished.
 */
const PRELUDE = `LC_ALL=C
export LC_ALL
set -f
R0=$1
P=$2
inside() {
  [ "$R" != / ] || return 0
  case $1 in "$R" | "$R"/*) return 0 ;; esac
  return 1
}
why() {
  a=$1
  until [ -e "$a" ]; do
    [ "$a" != / ] || exit 10
    a=\${a%/*}
    a=\${a:-/}
  done
  [ -d "$a" ] || exit 12
  cd -P -- "$a" 2>/dev/null || exit 13
  inside "$PWD" || exit 15
  [ "$a" != "$1" ] || { printf 'cannot enter %s\\n' "$1" >&2; exit 1; }
  exit 10
}
enter() {
  cd -P -- "$1" 2>/dev/null || why "$1"
  inside "$PWD" || exit 15
}
locate() {
  if [ "$1" = "$R0" ]; then T=$R D=; return 0; fi
  d=\${1%/*}
  enter "\${d:-/}"
  D=$PWD
  T=\${D%/}/\${1##*/}
}
follow() {
  t=$1
  n=0
  while :; do
    if [ -d "$t" ] && cd -P -- "$t" 2>/dev/null; then
      inside "$PWD" || exit 15
      T=$PWD
      D=
      return 0
    fi
    case \${t##*/} in '' | . | ..) why "$t" ;; esac
    d=\${t%/*}
    enter "\${d:-/}"
    D=$PWD
    T=\${D%/}/\${t##*/}
    [ -L "$T" ] || return 0
    n=$((n + 1))
    [ "$n" -le 40 ] || { printf 'too many levels of symbolic links: %s\\n' "$1" >&2; exit 1; }
    l=$(readlink -- "$T" && echo .) || exit 1
    l=\${l%??}
    case $l in /*) t=$l ;; *) t=\${D%/}/$l ;; esac
  done
}
entry() {
  l=$(ls -ldn -- "$1" 2>/dev/null) || return 1
  set -- "$2" $l
  printf '%s\\0%s\\0%s\\0' "$2" "$6" "$1"
}
`;

/** Enter the root: every path is then checked against its physical location `R`. */
const ENTER_ROOT = `R=/
cd -P -- "$R0" 2>/dev/null || why "$R0"
R=$PWD
`;

/**
 * Runs before anything in `write` can exit: on every exit, remove the temporary file if there is
 * one and read what is left of stdin, so that the host never writes into a closed pipe.
 */
const WRITE_HEAD = `tmp=
drain=1
trap '[ -z "$tmp" ] || rm -f -- "$tmp"; [ -z "$drain" ] || cat >/dev/null' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
`;

const LIST = `follow "$P"
[ -e "$T" ] || why "$T"
[ -d "$T" ] || exit 12
cd -P -- "$T" 2>/dev/null || why "$T"
[ -r . ] || exit 13
set +f
set -- ./* ./.[!.]* ./..?*
set -f
for f do
  [ -e "$f" ] || [ -L "$f" ] || continue
  entry "$f" "\${f#./}" || :
done
`;

const STAT = `locate "$P"
[ -e "$T" ] || [ -L "$T" ] || why "$T"
entry "$T" "\${P##*/}" || why "$T"
`;

const READ = `follow "$P"
[ -e "$T" ] || why "$T"
[ ! -d "$T" ] || exit 11
[ -r "$T" ] || exit 13
exec cat -- "$T"
`;

// $3: "p" to create missing parents; $4: octal mode or "".
const WRITE = `octal() {
  r=\${1#?}
  o=0
  k=0
  for b in 256 128 64 32 16 8 4 2 1; do
    c=\${r%"\${r#?}"}
    r=\${r#?}
    k=$((k + 1))
    case $k$c in
      ?r | ?w | ?x) o=$((o + b)) ;;
      3s) o=$((o + b + 2048)) ;;
      3S) o=$((o + 2048)) ;;
      6s) o=$((o + b + 1024)) ;;
      6S) o=$((o + 1024)) ;;
      9t) o=$((o + b + 512)) ;;
      9T) o=$((o + 512)) ;;
    esac
  done
  printf '%o' "$o"
}
if [ -n "$3" ]; then
  d=\${P%/*}
  a=\${d:-/}
  until [ -e "$a" ] || [ -L "$a" ]; do
    a=\${a%/*}
    a=\${a:-/}
  done
  enter "$a"
  if [ "$a" != "\${d:-/}" ]; then
    [ -w . ] || exit 13
    mkdir -p -- "$d" || exit 1
  fi
fi
follow "$P"
[ ! -d "$T" ] || exit 11
[ -w "$D" ] || exit 13
m=$4
if [ -e "$T" ]; then
  [ -w "$T" ] || exit 13
  if [ -z "$m" ]; then
    l=$(ls -ldn -- "$T") || exit 1
    m=$(octal "\${l%% *}")
  fi
fi
n=0
while tmp=\${D%/}/.gamma-fs.$$.$n.tmp; [ -e "$tmp" ] || [ -L "$tmp" ]; do n=$((n + 1)); done
set -C
: >"$tmp" || { tmp=; exit 1; }
set +C
cat >>"$tmp" || exit 1
drain=
[ -z "$m" ] || chmod "$m" "$tmp" || exit 1
mv -f -- "$tmp" "$T" || exit 1
tmp=
`;

// $3: "p" to create missing parents.
const MKDIR = `if [ -z "$3" ]; then
  locate "$P"
  [ ! -e "$T" ] && [ ! -L "$T" ] || exit 14
  [ -w "$D" ] || exit 13
  exec mkdir -- "$T"
fi
a=$P
until [ -e "$a" ] || [ -L "$a" ]; do
  a=\${a%/*}
  a=\${a:-/}
done
if [ "$a" = "$P" ]; then
  follow "$P"
  [ -d "$T" ] || exit 14
  exit 0
fi
enter "$a"
[ -w . ] || exit 13
exec mkdir -p -- "$P"
`;

// $3: "r" to remove directories recursively.
const REMOVE = `locate "$P"
[ -e "$T" ] || [ -L "$T" ] || exit 10
[ "$T" != "$R" ] || { printf 'refusing to remove the guest root\\n' >&2; exit 1; }
[ -w "$D" ] || exit 13
if [ -d "$T" ] && [ ! -L "$T" ]; then
  [ -n "$3" ] || exit 11
  exec rm -rf -- "$T"
fi
exec rm -f -- "$T"
`;

function argv(script: string, root: string, path: string, ...extra: string[]): string[] {
  return ["/bin/sh", "-c", PRELUDE + ENTER_ROOT + script, "sh", root, path, ...extra];
}

function octalMode(mode: number | undefined): string {
  if (mode === undefined) return "";
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw new RangeError(
      `File mode must be an integer from 0 to 0o7777: received ${String(mode)}`,
    );
  }
  return mode.toString(8);
}

/**
 * The exact guest argv (`/bin/sh -c SCRIPT sh ROOT PATH [ARG…]`) of each guest file operation,
 * for `limactl shell`. `root` and `path` must already be normalised and confined
 * ({@linkcode confineGuestPath}); they travel as arguments and are never part of the script.
 * `read` prints the file's bytes; `list` and `stat` print `MODE NUL SIZE NUL NAME NUL` records
 * ({@linkcode parseGuestEntries}); `write` reads the content on stdin, writes it to a new file
 * in the target's directory and renames it over the target.
 *
 * @example Usage
 * ```ts
 * import { guestFsArgs } from "./guest_fs.ts";
 * import assert from "node:assert/strict";
 *
 * const argv = guestFsArgs.remove("/workspace", "/workspace/-rf", { recursive: true });
 * assert.deepEqual(argv.slice(3), ["sh", "/workspace", "/workspace/-rf", "r"]);
 * ```
 */
export const guestFsArgs: {
  /** List a directory (symbolic links to directories inside the root are followed). */
  list(root: string, path: string): string[];
  /** Describe one path (not following a final symbolic link). */
  stat(root: string, path: string): string[];
  /** Print a file's bytes (following symbolic links inside the root). */
  read(root: string, path: string): string[];
  /** Replace a file atomically with stdin; `mode` defaults to the old file's mode. */
  write(
    root: string,
    path: string,
    options?: { createParents?: boolean | undefined; mode?: number | undefined },
  ): string[];
  /** Create a directory; `parents` also creates missing parents and accepts an existing one. */
  mkdir(root: string, path: string, options?: { parents?: boolean | undefined }): string[];
  /** Remove a file, link or (with `recursive`) directory tree. */
  remove(root: string, path: string, options?: { recursive?: boolean | undefined }): string[];
} = {
  list: (root, path) => argv(LIST, root, path),
  stat: (root, path) => argv(STAT, root, path),
  read: (root, path) => argv(READ, root, path),
  write: (root, path, options = {}) => [
    "/bin/sh",
    "-c",
    PRELUDE + WRITE_HEAD + ENTER_ROOT + WRITE,
    "sh",
    root,
    path,
    options.createParents ? "p" : "",
    octalMode(options.mode),
  ],
  mkdir: (root, path, options = {}) => argv(MKDIR, root, path, options.parents ? "p" : ""),
  remove: (root, path, options = {}) => argv(REMOVE, root, path, options.recursive ? "r" : ""),
};

const TYPES: Record<string, GuestFileType> = { "-": "file", d: "dir", l: "symlink" };

/**
 * Parse an `ls -l` mode string (`drwxr-sr-x`, `-rwsr-xr-T`, optionally followed by an ACL or
 * security-context mark) into a file type and permission bits.
 *
 * @param text The mode string.
 * @returns The type and the permission bits.
 * @throws {TypeError} When `text` is not an `ls -l` mode string.
 *
 * @example Usage
 * ```ts
 * import { parseLsMode } from "./guest_fs.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseLsMode("drwxr-sr-x"), { type: "dir", mode: 0o2755 });
 * assert.deepEqual(parseLsMode("lrwxrwxrwx"), { type: "symlink", mode: 0o777 });
 * ```
 */
export function parseLsMode(text: string): { type: GuestFileType; mode: number } {
  const m = /^(.)([r-])([w-])([xsS-])([r-])([w-])([xsS-])([r-])([w-])([xtT-])[.+@]?$/.exec(text);
  if (m === null) throw new TypeError(`Not an ls -l mode string: ${JSON.stringify(text)}`);
  const [, t, ur, uw, ux, gr, gw, gx, or, ow, ox] = m as unknown as string[];
  let mode = 0;
  const set = (on: boolean, bit: number): void => {
    if (on) mode |= bit;
  };
  set(ur === "r", 0o400);
  set(uw === "w", 0o200);
  set(ux === "x" || ux === "s", 0o100);
  set(ux === "s" || ux === "S", 0o4000);
  set(gr === "r", 0o40);
  set(gw === "w", 0o20);
  set(gx === "x" || gx === "s", 0o10);
  set(gx === "s" || gx === "S", 0o2000);
  set(or === "r", 0o4);
  set(ow === "w", 0o2);
  set(ox === "x" || ox === "t", 0o1);
  set(ox === "t" || ox === "T", 0o1000);
  return { type: TYPES[t!] ?? "other", mode };
}

/**
 * Parse what the `list` and `stat` scripts print: `MODE NUL SIZE NUL NAME NUL` per entry, so
 * names with newlines, spaces and leading dashes come back exactly. Entries keep their order.
 *
 * @param stdout The script's stdout.
 * @returns The entries.
 * @throws {TypeError} When the output is not such records.
 *
 * @example Usage
 * ```ts
 * import { parseGuestEntries } from "./guest_fs.ts";
 * import assert from "node:assert/strict";
 *
 * const out = new TextEncoder().encode("-rw-r--r--\x0012\x00a\nb\x00drwxr-xr-x\x004096\x00-d\x00");
 * assert.deepEqual(parseGuestEntries(out), [
 *   { name: "a\nb", type: "file", size: 12, mode: 0o644 },
 *   { name: "-d", type: "dir", size: 4096, mode: 0o755 },
 * ]);
 * ```
 */
export function parseGuestEntries(stdout: Uint8Array): GuestEntry[] {
  const fields = new TextDecoder().decode(stdout).split("\0");
  if (fields.pop() !== "" || fields.length % 3 !== 0) {
    throw new TypeError(
      `Unexpected guest listing: ${JSON.stringify(new TextDecoder().decode(stdout).slice(0, 200))}`,
    );
  }
  const entries: GuestEntry[] = [];
  for (let i = 0; i < fields.length; i += 3) {
    const { type, mode } = parseLsMode(fields[i]!.slice(0, 11));
    const size = fields[i + 1]!;
    entries.push({ name: fields[i + 2]!, type, size: /^\d+$/.test(size) ? Number(size) : 0, mode });
  }
  return entries;
}
