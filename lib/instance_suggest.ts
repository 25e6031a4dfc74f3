/**
 * Suggestions for a mistyped instance name. Its own module so that only the missing-instance
 * error path loads the npm edit-distance package, never a warm command.
 *
 * @module
 */

import { distance } from "fastest-levenshtein";

/**
 * The existing instance names closest to a mistyped one, nearest first: those within a small
 * edit distance (a third of the name's length, at least 2), or that start or end with it.
 *
 * @param name The name that does not exist.
 * @param existing The names `limactl list -q` printed.
 * @returns The close names (possibly none).
 *
 * @example Usage
 * ```ts
 * import { closestInstanceNames } from "./instance_suggest.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(closestInstanceNames("dve", ["dev", "web", "devshell-rust"]), ["dev"]);
 * assert.deepEqual(closestInstanceNames("zzz", ["dev"]), []);
 * ```
 */
export function closestInstanceNames(name: string, existing: readonly string[]): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3));
  return existing
    .map((candidate) => ({ candidate, d: distance(name, candidate) }))
    .filter(({ candidate, d }) =>
      candidate !== name &&
      (d <= limit || (name.length >= 3 && (candidate.startsWith(name) || candidate.endsWith(name))))
    )
    .sort((a, b) => a.d - b.d || a.candidate.localeCompare(b.candidate))
    .map(({ candidate }) => candidate);
}
