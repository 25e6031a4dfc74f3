/**
 * File helpers the subcommands that write the user's files share (`init`, `ssh-config`).
 *
 * @module
 */

/** `lstat` a path, `undefined` when nothing is there (never follows a final link). */
export function lstatOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * Replace `path` (a regular file or nothing) with `text` in one rename: a new file beside it,
 * renamed over it, removed again when the rename fails.
 *
 * @param path The file.
 * @param text Its new text.
 * @param mode Its mode (set whatever the umask); default the umask's.
 */
export function replaceFile(path: string, text: string, mode?: number): void {
  const temp = `${path}.gamma-${crypto.randomUUID()}`;
  Deno.writeTextFileSync(
    temp,
    text,
    mode === undefined ? { createNew: true } : { createNew: true, mode },
  );
  try {
    if (mode !== undefined) Deno.chmodSync(temp, mode);
    Deno.renameSync(temp, path);
  } catch (e) {
    Deno.removeSync(temp);
    throw e;
  }
}
