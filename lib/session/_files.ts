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

/**
 * 48 bits of FNV-1a (two 32-bit lanes) in hex: a cache-file key, not a security measure (and no
 * node:crypto, whose loading a warm `gamma exec` does not pay for).
 *
 * @param text The text.
 * @returns 12 hex digits.
 */
export function shortHash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (const byte of new TextEncoder().encode(text)) {
    a = Math.imul(a ^ byte, 0x01000193) >>> 0;
    b = Math.imul(b ^ byte, 0x01000193) >>> 0;
  }
  return (a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0")).slice(0, 12);
}

/**
 * Whether a path is an executable regular file (any execute bit).
 *
 * @param path The path.
 * @returns Whether it is.
 */
export function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}
