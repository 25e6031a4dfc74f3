/**
 * Error construction and precondition checks shared by the {@linkcode Tree} implementations (not
 * part of the public API).
 *
 * @module
 */

import { type Expectation, TreeError, type TreeErrorKind } from "./tree.ts";
import { sameEntry, type SyncEntry } from "./types.ts";

/**
 * Build the {@linkcode TreeError} for `kind`, with the standard message.
 *
 * @param kind Why the operation failed.
 * @param op The operation, as a verb (`write`, `remove`…).
 * @param path The path the operation was given.
 * @param other The parent that caused it, for `NotFound`, `NotDirectory` and `SymlinkParent`.
 * @returns The error.
 *
 * @example Usage
 * ```ts
 * import { treeError } from "./_tree_check.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   treeError("SymlinkParent", "write", "a/b", "a").message,
 *   'Cannot write "a/b": "a" is a symbolic link',
 * );
 * ```
 */
export function treeError(
  kind: TreeErrorKind,
  op: string,
  path: string,
  other?: string,
): TreeError {
  const q = JSON.stringify;
  const head = `Cannot ${op} ${q(path)}`;
  let detail: string;
  switch (kind) {
    case "NotFound":
      detail = other === undefined ? "it does not exist" : `${q(other)} does not exist`;
      break;
    case "NotDirectory":
      detail = `${q(other ?? path)} is not a directory`;
      break;
    case "SymlinkParent":
      detail = `${q(other ?? path)} is a symbolic link`;
      break;
    case "IsDirectory":
      detail = "it is a directory";
      break;
    case "NotEmpty":
      detail = "the directory is not empty";
      break;
    case "Changed":
      detail = "it changed during the sync";
      break;
    case "Exists":
      detail = "something else is there";
      break;
    case "SymlinkRoot":
      detail = "the tree's root is a symbolic link or was replaced";
      break;
  }
  return new TreeError(kind, path, `${head}: ${detail}`);
}

/**
 * Throw a `Changed` {@linkcode TreeError} unless `current` meets `expect` (see
 * {@linkcode Expectation}).
 *
 * @param op The operation, as a verb.
 * @param path The path.
 * @param current What the path holds now.
 * @param expect The precondition.
 * @throws {TreeError} Of kind `Changed` when it does not hold.
 *
 * @example Usage
 * ```ts
 * import { checkExpect } from "./_tree_check.ts";
 * import assert from "node:assert/strict";
 *
 * checkExpect("remove", "a", undefined, null); // absent, as expected
 * assert.throws(() => checkExpect("remove", "a", { type: "dir", mode: 0o755 }, null), {
 *   name: "TreeError",
 *   message: 'Cannot remove "a": it changed during the sync',
 * });
 * ```
 */
export function checkExpect(
  op: string,
  path: string,
  current: SyncEntry | undefined,
  expect: Expectation,
): void {
  if (expect === undefined) return;
  if (!sameEntry(current, expect ?? undefined)) throw treeError("Changed", op, path);
}
