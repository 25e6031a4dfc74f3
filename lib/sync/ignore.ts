/**
 * `.gammaignore` rules: gitignore syntax, matched with the `ignore` package.
 *
 * @module
 */

import ignore from "ignore";
import { GITIGNORE_FILE } from "./ignore_files.ts";
import type { IgnoreFilter } from "./tree.ts";

export { GITIGNORE_FILE, IGNORE_FILE } from "./ignore_files.ts";

/**
 * Compile ignore rules in gitignore syntax (`#` comments, `!` negation, trailing `/` for
 * directories only, `**`, anchoring with a leading `/`) into a filter for {@linkcode Tree.scan},
 * plus exact relative paths that are always left out (for example the manifest, when it lies
 * inside a tree). As in git, a path under an ignored directory cannot be re-included.
 *
 * @param rules The text of a `.gammaignore` file (may be empty).
 * @param always Exact relative paths to leave out too.
 * @returns The filter, or `undefined` when nothing is ignored.
 *
 * @example Usage
 * ```ts
 * import { compileIgnore } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * const ignored = compileIgnore("target/\n*.log\n!keep.log\n")!;
 * assert.equal(ignored("target", true), true);
 * assert.equal(ignored("target", false), false); // a file named target is not a directory
 * assert.equal(ignored("sub/build.log", false), true);
 * assert.equal(ignored("keep.log", false), false);
 * assert.equal(compileIgnore(""), undefined);
 * ```
 */
export function compileIgnore(
  rules: string,
  always: readonly string[] = [],
): IgnoreFilter | undefined {
  const exact = new Set(always);
  const hasRules = rules.split(/\r?\n/).some((line) => line.trim() !== "" && !line.startsWith("#"));
  if (!hasRules && exact.size === 0) return undefined;
  const matcher = hasRules ? ignore({ allowRelativePaths: false }).add(rules) : undefined;
  return (path: string, isDir: boolean): boolean => {
    if (exact.has(path)) return true;
    if (matcher === undefined) return false;
    try {
      return matcher.ignores(isDir ? `${path}/` : path);
    } catch {
      return false; // a name the package refuses (such as "..." followed by "/") is kept
    }
  };
}

interface Level {
  /** The directory the rules belong to (`""`: the root). */
  dir: string;
  /** The ignore file they came from, relative to the root. */
  file: string;
  matcher: ReturnType<typeof ignore>;
  /** Added with `last`: decides before every file of its directory. */
  last: boolean;
}

/**
 * Why {@linkcode IgnoreRules.explain} says a path is ignored: the file and the pattern.
 *
 * @example Usage
 * ```ts
 * import type { IgnoreReason } from "@devshell/gamma/sync";
 *
 * const reason: IgnoreReason = { file: ".gitignore", pattern: "target/" };
 * ```
 */
export interface IgnoreReason {
  /** The ignore file, relative to the tree's root (or `(gamma)` for a path gamma always leaves out). */
  file: string;
  /** The pattern that matched, as written. */
  pattern: string;
}

/**
 * Ignore rules collected from ignore files at every level of a tree, matched as git does: the
 * rules of a file apply to paths below its directory, a deeper file's rules take precedence over
 * a shallower one's, and within one directory later files (the order of `add` calls) win. Paths
 * given to `always` are left out whatever the files say. As in git, rules from a `.gitignore`
 * file never leave out a `.git` directory or anything in it (`.gammaignore` rules can).
 *
 * Feed it the files a scan finds ({@linkcode ScanOptions.onIgnoreFile}) and use
 * {@linkcode IgnoreRules.filter} as the scan's filter: a directory's files are read before its
 * entries are filtered.
 *
 * @example Usage
 * ```ts
 * import { IgnoreRules } from "@devshell/gamma/sync";
 * import assert from "node:assert/strict";
 *
 * const rules = new IgnoreRules();
 * rules.add("", ".gitignore", "*.log\ntarget/\n");
 * rules.add("web", "web/.gitignore", "!keep.log\nnode_modules/\n");
 * assert.equal(rules.filter("target", true), true);
 * assert.equal(rules.filter("web/keep.log", false), false);
 * assert.equal(rules.filter("web/other.log", false), true);
 * assert.deepEqual(rules.explain("web/node_modules", true), {
 *   file: "web/.gitignore",
 *   pattern: "node_modules/",
 * });
 * ```
 */
export class IgnoreRules {
  #levels: Level[] = [];
  #ordered: Level[] | undefined;
  #exact: Set<string>;

  /**
   * Rules with nothing ignored yet but `always`.
   *
   * @param always Exact relative paths always left out.
   */
  constructor(always: readonly string[] = []) {
    this.#exact = new Set(always);
  }

  /**
   * Add the text of one ignore file.
   *
   * @param dir The directory holding it (`""` for the root).
   * @param file Its path relative to the root (or another label), for
   *   {@linkcode IgnoreRules.explain}.
   * @param text Its text (gitignore syntax).
   * @param options `last`: these rules come after every file of `dir`, also those added later
   *   (for patterns from settings, which override the directory's own files).
   */
  add(dir: string, file: string, text: string, options: { last?: boolean } = {}): void {
    const hasRules = text.split(/\r?\n/).some((line) =>
      line.trim() !== "" && !line.startsWith("#")
    );
    if (!hasRules) return;
    this.#levels.push({
      dir,
      file,
      matcher: ignore({ allowRelativePaths: false }).add(text),
      last: options.last ?? false,
    });
    this.#ordered = undefined;
  }

  /**
   * Whether a path is ignored (an {@linkcode IgnoreFilter}).
   *
   * @param path A relative path whose parent directories are not ignored.
   * @param isDir Whether it is a directory.
   * @returns `true` when it is left out.
   */
  readonly filter: IgnoreFilter = (path, isDir) =>
    this.#levels.length === 0 ? this.#exact.has(path) : this.explain(path, isDir) !== undefined;

  /**
   * Why a path is ignored, or `undefined` when it is not.
   *
   * @param path A relative path whose parent directories are not ignored.
   * @param isDir Whether it is a directory.
   * @returns The file and pattern that leave it out.
   */
  explain(path: string, isDir: boolean): IgnoreReason | undefined {
    if (this.#exact.has(path)) return { file: "(gamma)", pattern: path };
    // git never applies .gitignore rules to a repository's own .git (it never looks inside),
    // so `.git` or `*` in a .gitignore leaves it in; only .gammaignore and settings can.
    const inGitDir = path === ".git" || path.startsWith(".git/") || path.includes("/.git/") ||
      path.endsWith("/.git");
    const levels = this.#decidingOrder();
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      if (
        inGitDir && (level.file === GITIGNORE_FILE || level.file.endsWith(`/${GITIGNORE_FILE}`))
      ) {
        continue;
      }
      if (level.dir !== "" && !(path.startsWith(level.dir) && path[level.dir.length] === "/")) {
        continue;
      }
      const rel = level.dir === "" ? path : path.slice(level.dir.length + 1);
      let result;
      try {
        result = level.matcher.test(isDir ? `${rel}/` : rel);
      } catch {
        continue; // a name the package refuses (such as "..." followed by "/") is kept
      }
      if (result.ignored) return { file: level.file, pattern: result.rule?.pattern ?? "" };
      if (result.unignored) return undefined;
    }
    return undefined;
  }

  /** Levels in the order they decide: deepest directory first, later files before earlier. */
  #decidingOrder(): Level[] {
    this.#ordered ??= this.#levels.map((level, i) => ({ level, i }))
      .sort((a, b) =>
        depth(b.level.dir) - depth(a.level.dir) || Number(b.level.last) - Number(a.level.last) ||
        b.i - a.i
      )
      .map(({ level }) => level);
    return this.#ordered;
  }
}

function depth(dir: string): number {
  return dir === "" ? 0 : dir.split("/").length;
}
