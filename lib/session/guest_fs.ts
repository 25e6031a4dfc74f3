/**
 * {@linkcode GuestFs}: files in the guest through a {@linkcode GammaSession}, one `limactl shell`
 * call per operation (gamma-behaviour §10.2, without the weaknesses of §18.6).
 *
 * @module
 */

import { normalizeAbsolutePath } from "../guest_path.ts";
import {
  confineGuestPath,
  type GuestEntry,
  guestFsArgs,
  GuestFsError,
  guestFsError,
  type GuestFsOp,
  parseGuestEntries,
} from "../guest_fs.ts";
import type { GammaSession } from "./session.ts";

/**
 * Options of {@linkcode GuestFs}.
 *
 * @example Usage
 * ```ts
 * import type { GuestFsOptions } from "@devshell/gamma/guest-fs";
 *
 * const options: GuestFsOptions = { root: "/workspace/app" };
 * ```
 */
export interface GuestFsOptions {
  /** The absolute guest directory every path must stay under; default the guest workspace. */
  root?: string | undefined;
}

/**
 * Options of {@linkcode GuestFs.write}.
 *
 * @example Usage
 * ```ts
 * import type { GuestWriteOptions } from "@devshell/gamma/guest-fs";
 *
 * const options: GuestWriteOptions = { createParents: true, mode: 0o755 };
 * ```
 */
export interface GuestWriteOptions {
  /** Create missing parent directories (inside the root) first. */
  createParents?: boolean | undefined;
  /** Permission bits of the file (up to `0o7777`); default: the replaced file's, else umask. */
  mode?: number | undefined;
}

/**
 * Options of {@linkcode GuestFs.mkdir}.
 *
 * @example Usage
 * ```ts
 * import type { GuestMkdirOptions } from "@devshell/gamma/guest-fs";
 *
 * const options: GuestMkdirOptions = { parents: true };
 * ```
 */
export interface GuestMkdirOptions {
  /** Create missing parents too, and accept an existing directory (`mkdir -p`). */
  parents?: boolean | undefined;
}

/**
 * Options of {@linkcode GuestFs.remove}.
 *
 * @example Usage
 * ```ts
 * import type { GuestRemoveOptions } from "@devshell/gamma/guest-fs";
 *
 * const options: GuestRemoveOptions = { recursive: true };
 * ```
 */
export interface GuestRemoveOptions {
  /** Remove a directory and everything in it. */
  recursive?: boolean | undefined;
}

/**
 * Guest file operations (Mode P): each method is one `limactl shell --tty=false` call running a
 * small POSIX `sh` script that gets its paths as arguments. Paths are confined to the root: a
 * path that leaves it lexically (`/workspace/../etc/passwd`) is refused before any call, and the
 * script refuses to go through a symbolic link whose target lies outside it. Failures are
 * {@linkcode GuestFsError}s whose `kind` comes from the script's exit code.
 *
 * Symbolic links: `list`, `read` and `write` follow them (when they stay inside the root; `write`
 * replaces the target and keeps the link), `stat`, `mkdir` and `remove` act on the link itself.
 * Every method needs the Lima backend: on the host backend it rejects with the
 * `HostBackendError` of {@linkcode GammaSession.capture}; a VM that cannot start rejects
 * with a `StartError`.
 *
 * @example Usage
 * ```ts
 * import { GammaSession } from "@devshell/gamma";
 * import { GuestFs } from "@devshell/gamma/guest-fs";
 * import assert from "node:assert/strict";
 *
 * // No VM needed to build one: construction makes no guest call.
 * const session = new GammaSession({ env: { DEVSHELL_VM: "off", PATH: "/usr/bin:/bin" } });
 * const fs = new GuestFs(session, { root: "/workspace/app" });
 * assert.equal(fs.resolve("src/../Cargo.toml"), "/workspace/app/Cargo.toml");
 * // Escapes are refused before any guest call.
 * await assert.rejects(fs.read("/workspace/app/../../etc/passwd"), {
 *   name: "GuestFsError",
 *   message: 'cannot read "/etc/passwd": it is outside the guest root "/workspace/app"',
 * });
 * // With a Lima instance:
 * //   await fs.write("notes/today.txt", new TextEncoder().encode("hi\n"), { createParents: true });
 * //   const names = (await fs.list("notes")).map((entry) => entry.name);
 * ```
 */
export class GuestFs {
  /** The guest directory every path is confined to. */
  readonly root: string;
  #session: GammaSession;

  /**
   * Bind to a session; no guest call is made.
   *
   * @param session The session whose instance holds the files.
   * @param options The root (default `session.config.guestWorkspace`).
   * @throws {TypeError} When the root is not an absolute path.
   */
  constructor(session: GammaSession, options: GuestFsOptions = {}) {
    this.#session = session;
    this.root = normalizeAbsolutePath(
      options.root ?? session.config.guestWorkspace,
      "Guest root",
    );
  }

  /**
   * Resolve `path` against the root and refuse it when it leaves the root (no guest call).
   *
   * @param path An absolute guest path, or one relative to the root.
   * @param op The operation, for the error message.
   * @returns The normalised absolute guest path.
   * @throws {GuestFsError} `OutsideRoot`.
   */
  resolve(path: string, op: GuestFsOp = "read"): string {
    return confineGuestPath(path, this.root, op);
  }

  async #run(
    op: GuestFsOp,
    path: string,
    argv: string[],
    stdin?: Uint8Array,
  ): Promise<Uint8Array> {
    // A file's length has no fixed bound: transfers are not timed out.
    const r = await this.#session.capture(
      argv,
      stdin === undefined
        ? { workdir: "/", bounded: false }
        : { workdir: "/", stdin, bounded: false },
    );
    if (r.code !== 0) throw guestFsError(op, path, this.root, r.code, r.stderr);
    return r.stdout;
  }

  /**
   * The entries of a directory, except `.` and `..`, sorted by name; each described without
   * following symbolic links.
   *
   * @param path The directory (default the root).
   * @returns The entries.
   * @throws {GuestFsError} `NotFound`, `NotDirectory`, `PermissionDenied`, `OutsideRoot`, `Failed`.
   */
  async list(path = ""): Promise<GuestEntry[]> {
    const p = this.resolve(path, "list");
    const out = await this.#run("list", p, guestFsArgs.list(this.root, p));
    return this.#entries("list", p, out).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
  }

  /**
   * Describe one path; a symbolic link is described itself.
   *
   * @param path The path.
   * @returns Its name (the last path component), type, size and mode.
   * @throws {GuestFsError} `NotFound`, `NotDirectory`, `PermissionDenied`, `OutsideRoot`, `Failed`.
   */
  async stat(path: string): Promise<GuestEntry> {
    const p = this.resolve(path, "stat");
    const entries = this.#entries(
      "stat",
      p,
      await this.#run("stat", p, guestFsArgs.stat(this.root, p)),
    );
    if (entries.length !== 1) {
      throw new GuestFsError("Failed", p, `cannot stat ${JSON.stringify(p)}: unexpected output`);
    }
    return entries[0]!;
  }

  #entries(op: GuestFsOp, path: string, out: Uint8Array): GuestEntry[] {
    try {
      return parseGuestEntries(out);
    } catch (e) {
      throw new GuestFsError(
        "Failed",
        path,
        `cannot ${op} ${JSON.stringify(path)}: ${(e as Error).message}`,
      );
    }
  }

  /**
   * A file's bytes, exactly.
   *
   * @param path The file.
   * @returns Its content.
   * @throws {GuestFsError} `NotFound`, `IsDirectory`, `NotDirectory`, `PermissionDenied`,
   * `OutsideRoot`, `Failed`.
   */
  async read(path: string): Promise<Uint8Array> {
    const p = this.resolve(path, "read");
    return await this.#run("read", p, guestFsArgs.read(this.root, p));
  }

  /**
   * Replace a file's content atomically: the bytes go to a new file in the same directory,
   * which is then renamed over the target, so readers see the old or the new file and a failed
   * write leaves no half file (and no temporary file). The file keeps its mode unless `mode` is
   * given; it is a new file, so its owner becomes the guest user and hard links to the old one
   * keep the old content.
   *
   * @param path The file.
   * @param data The bytes.
   * @param options `createParents`, `mode`.
   * @throws {GuestFsError} `NotFound` (a parent, without `createParents`), `IsDirectory`,
   * `NotDirectory`, `PermissionDenied`, `OutsideRoot`, `Failed`.
   * @throws {RangeError} For a `mode` outside `0` to `0o7777`.
   */
  async write(path: string, data: Uint8Array, options: GuestWriteOptions = {}): Promise<void> {
    const p = this.resolve(path, "write");
    await this.#run("write", p, guestFsArgs.write(this.root, p, options), data);
  }

  /**
   * Create a directory.
   *
   * @param path The directory.
   * @param options `parents`: create missing parents and accept an existing directory.
   * @throws {GuestFsError} `AlreadyExists`, `NotFound` (a parent, without `parents`),
   * `NotDirectory`, `PermissionDenied`, `OutsideRoot`, `Failed`.
   */
  async mkdir(path: string, options: GuestMkdirOptions = {}): Promise<void> {
    const p = this.resolve(path, "mkdir");
    await this.#run("mkdir", p, guestFsArgs.mkdir(this.root, p, options));
  }

  /**
   * Remove a file, a symbolic link (not its target) or, with `recursive`, a directory tree.
   * The root itself is never removed.
   *
   * @param path What to remove.
   * @param options `recursive`.
   * @throws {GuestFsError} `NotFound`, `IsDirectory` (a directory without `recursive`),
   * `NotDirectory`, `PermissionDenied`, `OutsideRoot`, `Failed`.
   * @throws {TypeError} When `path` is the root.
   */
  async remove(path: string, options: GuestRemoveOptions = {}): Promise<void> {
    const p = this.resolve(path, "remove");
    if (p === this.root) {
      throw new TypeError(
        `Refusing to remove the guest root ${JSON.stringify(p)} itself; remove its entries instead`,
      );
    }
    await this.#run("remove", p, guestFsArgs.remove(this.root, p, options));
  }
}
