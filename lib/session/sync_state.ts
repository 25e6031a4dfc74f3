/**
 * gamma's state files for a synced pair of trees (manifest, lock, tags, listings): every one
 * checked with `lstat` before it is read or written (never through a link), and written
 * atomically.
 *
 * @module
 */

import { GammaError } from "../errors.ts";
import { newTempTag } from "./host_tree.ts";

/**
 * A state file of gamma (manifest, lock, tags) or the state directory is not what gamma made: a
 * symbolic link or not a regular file. Nothing is read or written through it.
 *
 * @example Usage
 * ```ts
 * import { SyncStateError } from "@devshell/gamma";
 *
 * const error = new SyncStateError("/c/sync/app/manifest.json", "it is a symbolic link");
 * ```
 */
export class SyncStateError extends GammaError {
  /** The path. */
  readonly path: string;

  /**
   * Make the error.
   *
   * @param path The state file or directory.
   * @param why What is wrong with it.
   */
  constructor(path: string, why: string) {
    super(
      `cannot use gamma's sync state ${path}: ${why}; gamma never reads or writes its state through a link. Remove it (gamma then treats the next sync as a first one, deleting nothing)`,
    );
    this.name = "SyncStateError";
    this.path = path;
  }
}

/**
 * `lstat` a state path: `false` when absent, `true` when of the wanted kind.
 *
 * @throws {SyncStateError} When it is a link or of another kind.
 */
export function checkState(path: string, kind: "file" | "dir"): boolean {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  if (info.isSymlink) throw new SyncStateError(path, "it is a symbolic link");
  if (kind === "file" ? !info.isFile : !info.isDirectory) {
    throw new SyncStateError(path, `it is not a ${kind === "file" ? "regular file" : "directory"}`);
  }
  return true;
}

export function readStateText(path: string): string | undefined {
  if (!checkState(path, "file")) return undefined;
  return Deno.readTextFileSync(path);
}

/**
 * Write a state file atomically: a new file beside it (from a string, bytes, or pieces of text
 * written as they come), renamed over it (never through a link).
 */
export async function writeState(
  path: string,
  data: string | Uint8Array | Iterable<string>,
): Promise<void> {
  checkState(path, "file");
  const tmp = `${path}.tmp-${newTempTag().slice(0, 8)}`;
  try {
    const options = { createNew: true, mode: 0o600 };
    if (typeof data === "string") await Deno.writeTextFile(tmp, data, options);
    else if (data instanceof Uint8Array) await Deno.writeFile(tmp, data, options);
    else {
      // Piece by piece: the whole text is never held (a manifest of 100,000 entries).
      using file = Deno.openSync(tmp, { write: true, createNew: true, mode: 0o600 });
      const encoder = new TextEncoder();
      for (const chunk of data) {
        const bytes = encoder.encode(chunk);
        for (let at = 0; at < bytes.length;) at += file.writeSync(bytes.subarray(at));
      }
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
