/**
 * Small file facts shared inside the session module.
 *
 * @module
 */

/**
 * A cheap fingerprint of a file (modification time, size, inode), `"none"` when it is missing:
 * equal fingerprints mean the file was not rewritten.
 *
 * @param path The file.
 * @returns The fingerprint.
 */
export function fileStamp(path: string): string {
  try {
    const info = Deno.statSync(path);
    return `${info.mtime?.getTime() ?? 0}:${info.size}:${info.ino ?? 0}`;
  } catch {
    return "none";
  }
}
