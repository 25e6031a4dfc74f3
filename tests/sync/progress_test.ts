import assert from "node:assert/strict";
import { formatBytes, formatProgress } from "../../lib/sync/progress.ts";

Deno.test("formatBytes() uses decimal units with one decimal", () => {
  assert.deepEqual(
    [0, 17, 999, 1000, 1_500, 999_949, 999_950, 12_345_678, 4e9, 5e12].map(formatBytes),
    [
      "0 B",
      "17 B",
      "999 B",
      "1.0 kB",
      "1.5 kB",
      "999.9 kB",
      "1.0 MB",
      "12.3 MB",
      "4.0 GB",
      "5.0 TB",
    ],
  );
});

Deno.test("formatProgress() shows files, sizes and rate in human units (issue 9 item 10)", () => {
  const p = {
    done: 3,
    total: 5,
    filesDone: 2,
    filesTotal: 4,
    bytesDone: 3_000_000,
    bytesTotal: 8_000_000,
  };
  assert.equal(formatProgress(p, 1500), "syncing: 2 of 4 files, 3.0 MB of 8.0 MB, 2.0 MB/s");
  assert.equal(
    formatProgress({ ...p, filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 }, 0),
    "syncing: 3 of 5 changes, 0 B of 0 B",
  );
});
