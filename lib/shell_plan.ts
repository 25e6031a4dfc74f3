/**
 * The guest script behind `gamma shell`.
 *
 * @module
 */

import { normalizeAbsolutePath } from "./guest_path.ts";
import { bashSingleQuoted } from "./shell_quote.ts";

/**
 * What {@linkcode interactiveShellPlan} needs to know.
 *
 * @example Usage
 * ```ts
 * import { type InteractiveShellInputs, interactiveShellPlan } from "@devshell/gamma/lima";
 *
 * const inputs: InteractiveShellInputs = { workdir: "/workspace/app", hostDirLink: "host_dir" };
 * interactiveShellPlan(inputs);
 * ```
 */
export interface InteractiveShellInputs {
  /** Guest directory the shell starts in: the guest path of the host working directory. */
  workdir: string;
  /**
   * Name of the `~/<name>` link to the project in the guest home (`DEVSHELL_VM_GUEST_HOST_DIR`,
   * default `host_dir`); `undefined` creates no links.
   */
  hostDirLink?: string | undefined;
  /** Guest directory to put first on `PATH` (the project's release directory), if any. */
  pathPrepend?: string | undefined;
}

/**
 * How to start the interactive shell: `limactl shell --workdir <workdir> NAME -- /bin/sh -c <script>`.
 *
 * @example Usage
 * ```ts
 * import { type InteractiveShellPlan, interactiveShellPlan } from "@devshell/gamma/lima";
 *
 * const plan: InteractiveShellPlan = interactiveShellPlan({ workdir: "/workspace" });
 * const argv = ["shell", "--workdir", plan.workdir, "dev", "--", "/bin/sh", "-c", plan.script];
 * ```
 */
export interface InteractiveShellPlan {
  /** The `--workdir` for `limactl shell`. */
  workdir: string;
  /** A POSIX sh script that prepares the guest home and then execs the user's shell. */
  script: string;
}

const LINK_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * Build the script that `gamma shell` runs in the guest (gamma-behaviour §8.2 step 4), with the
 * original's faults fixed (§18.7):
 *
 * - `~/<hostDirLink>` is pointed at the project only when it is absent or already a link, so a
 *   real directory of that name is never written into.
 * - `~/.todo.json` is linked to the project's `.todo.json` only when the project has one (no
 *   dangling link) and only when the home entry is absent or already a link (a real file is
 *   never replaced). In a project without one, a link to another project's `.todo.json` is
 *   removed, so `todo` never edits the previous project's list.
 * - No helper variables are exported: every value is written into the script as a quoted
 *   literal, and the script ends by `exec`-ing the shell, so nothing of it stays behind.
 * - A `PATH` entry is added after the login start-up files have run (`/etc/profile` resets
 *   `PATH` on Debian and Ubuntu): the shell is bash with a gamma rc file that reads the same
 *   files a login shell reads, then prepends the entry.
 *
 * The shell is `bash -l`, or the user's `$SHELL -l` when the guest has no bash.
 *
 * @param inputs Guest paths and switches.
 * @returns The workdir and the script.
 * @throws {TypeError} If a path is not absolute or contains NUL.
 * @throws {RangeError} If `hostDirLink` is not a plain name.
 *
 * @example Usage
 * ```ts
 * import { interactiveShellPlan } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * const plan = interactiveShellPlan({ workdir: "/workspace/app" });
 * assert.equal(plan.workdir, "/workspace/app");
 * assert.match(plan.script, /exec bash -l/);
 * ```
 */
export function interactiveShellPlan(inputs: InteractiveShellInputs): InteractiveShellPlan {
  const workdir = normalizeAbsolutePath(inputs.workdir, "Shell workdir");
  const lines: string[] = [];
  const warn = (what: string): string => `echo ${bashSingleQuoted(`gamma: could not ${what}`)} >&2`;

  if (inputs.hostDirLink !== undefined) {
    if (!LINK_NAME.test(inputs.hostDirLink)) {
      throw new RangeError(
        `Invalid host directory link name ${
          JSON.stringify(inputs.hostDirLink)
        }: use letters, digits, "_" and "-"`,
      );
    }
    const link = `"$HOME"/${bashSingleQuoted(inputs.hostDirLink)}`;
    const project = bashSingleQuoted(workdir);
    const todo = bashSingleQuoted(`${workdir === "/" ? "" : workdir}/.todo.json`);
    lines.push(
      `if [ -L ${link} ] || [ ! -e ${link} ]; then ln -sfn ${project} ${link} || ${
        warn(`link ~/${inputs.hostDirLink} to ${workdir}`)
      }; fi`,
      `if [ -e ${todo} ] && { [ -L "$HOME/.todo.json" ] || [ ! -e "$HOME/.todo.json" ]; }; then ln -sfn ${todo} "$HOME/.todo.json" || ${
        warn("link ~/.todo.json to the project")
      }; elif [ ! -e ${todo} ] && [ -L "$HOME/.todo.json" ]; then case "$(readlink "$HOME/.todo.json")" in */.todo.json) rm -f "$HOME/.todo.json" ;; esac; fi`,
    );
  }

  if (inputs.pathPrepend !== undefined) {
    const entry = normalizeAbsolutePath(inputs.pathPrepend, "PATH entry");
    const rc = [
      "# Written by gamma shell: what a bash login shell reads, then gamma's PATH entry.",
      "[ -r /etc/profile ] && . /etc/profile",
      'for __gamma_rc in "$HOME/.bash_profile" "$HOME/.bash_login" "$HOME/.profile"; do',
      '  if [ -r "$__gamma_rc" ]; then . "$__gamma_rc"; break; fi',
      "done",
      "unset __gamma_rc",
      `PATH=${bashSingleQuoted(entry)}:"$PATH"; export PATH`,
    ].join("\n");
    lines.push(
      'rc="$HOME/.cache/gamma/bash_login_rc"',
      `if command -v bash >/dev/null 2>&1 && mkdir -p "$HOME/.cache/gamma" && printf '%s\\n' ${
        bashSingleQuoted(rc)
      } >"$rc"; then exec bash --rcfile "$rc" -i; fi`,
      warn(`put ${entry} on PATH`),
    );
  }
  lines.push(
    "if command -v bash >/dev/null 2>&1; then exec bash -l; fi",
    'exec "${SHELL:-/bin/sh}" -l',
  );
  return { workdir, script: lines.join("\n") };
}
