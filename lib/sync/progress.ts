/**
 * Sync progress and sizes in human units (pure formatting).
 *
 * @module
 */

import type { ApplyProgress } from "./apply.ts";

/**
 * A byte count in decimal units: `17 B`, `1.5 kB`, `12.3 MB`, `4.0 GB`.
 *
 * @param bytes A non-negative byte count.
 * @returns The size, one decimal from kB up.
 *
 * @example Usage
 * ```ts
 * import { formatBytes } from "./progress.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatBytes(17), "17 B");
 * assert.equal(formatBytes(12_345_678), "12.3 MB");
 * ```
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 999.95 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * One line of sync progress: files copied, bytes and rate, e.g.
 * `syncing: 120 of 4000 files, 12.3 MB of 40.0 MB, 5.1 MB/s`.
 *
 * @param progress The progress from `applyPlan`.
 * @param elapsedMs Milliseconds since the copies began.
 * @returns The line, without a newline.
 *
 * @example Usage
 * ```ts
 * import { formatProgress } from "./progress.ts";
 * import assert from "node:assert/strict";
 *
 * const line = formatProgress(
 *   { done: 130, total: 4010, filesDone: 120, filesTotal: 4000, bytesDone: 12_300_000, bytesTotal: 40_000_000 },
 *   2_000,
 * );
 * assert.equal(line, "syncing: 120 of 4000 files, 12.3 MB of 40.0 MB, 6.2 MB/s");
 * ```
 */
export function formatProgress(progress: ApplyProgress, elapsedMs: number): string {
  const files = progress.filesTotal > 0
    ? `${progress.filesDone} of ${progress.filesTotal} file${progress.filesTotal === 1 ? "" : "s"}`
    : `${progress.done} of ${progress.total} change${progress.total === 1 ? "" : "s"}`;
  const rate = elapsedMs > 0
    ? `, ${formatBytes(Math.round(progress.bytesDone / elapsedMs * 1000))}/s`
    : "";
  return `syncing: ${files}, ${formatBytes(progress.bytesDone)} of ${
    formatBytes(progress.bytesTotal)
  }${rate}`;
}
