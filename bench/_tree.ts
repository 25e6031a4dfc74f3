/**
 * The generated project the sync benchmarks share: `files` files of up to 40 kB (or 200 B with
 * `small`) in 100 directories two levels deep, and the edits each scenario makes to it.
 *
 * @module
 */

const PATTERN = new Uint8Array(40_000);
for (let i = 0; i < PATTERN.length; i++) PATTERN[i] = (i * 2654435761) >>> 24;

/** One benchmark source tree under `src`. */
export class SourceTree {
  readonly #perDir: number;

  /**
   * @param src The tree's root directory.
   * @param files How many files it holds.
   * @param small Every file 200 bytes (the 100k-small-files case) instead of up to 40 kB.
   */
  constructor(readonly src: string, readonly files: number, readonly small = false) {
    this.#perDir = Math.ceil(files / 100);
  }

  /** The path of file `i`, relative to the root. */
  filePath(i: number): string {
    const d = Math.floor(i / this.#perDir);
    return `d${Math.floor(d / 10)}/e${d % 10}/f${i}.dat`;
  }

  /** Write file `i`; a different `salt` gives different bytes (and usually another size). */
  write(i: number, salt = 0): void {
    const size = this.small ? 200 : (i * 7919 + salt * 104729) % 40_000;
    const data = PATTERN.slice(0, size);
    if (data.length > 0) data[0] = salt & 0xff;
    Deno.writeFileSync(`${this.src}/${this.filePath(i)}`, data);
  }

  /** Write every file, making the directories as it goes. */
  generate(): void {
    for (let i = 0; i < this.files; i++) {
      const path = `${this.src}/${this.filePath(i)}`;
      if (i % this.#perDir === 0) {
        Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      }
      this.write(i);
    }
  }

  /** Put back the files a previous round deleted. */
  restore(): void {
    for (let i = 0; i < this.files; i++) {
      try {
        Deno.lstatSync(`${this.src}/${this.filePath(i)}`);
      } catch {
        this.write(i);
      }
    }
  }

  /**
   * Make the edit of `scenario` before it is timed ("first sync" and the no-ops change nothing).
   *
   * @param scenario "1 file changed", "100 files changed", "100 deleted", or another (no edit).
   * @param round The round, so each round's edits differ from the last.
   */
  prepare(scenario: string, round: number): void {
    const salt = round + 1;
    const step = Math.floor(this.files / 100);
    if (scenario === "1 file changed") this.write(7, salt);
    else if (scenario === "100 files changed") {
      for (let k = 0; k < 100; k++) this.write(k * step + 1, salt);
    } else if (scenario === "100 deleted") {
      for (let k = 0; k < 100; k++) Deno.removeSync(`${this.src}/${this.filePath(k * step + 2)}`);
    }
  }
}

/** The bytes the generated files are cut from (for other generated files, e.g. ignored output). */
export const pattern: Uint8Array = PATTERN;
