// deno-lint-ignore-file no-console
/**
 * `gamma init`: write a commented `.gamma.yaml` from what can be detected.
 *
 * @module
 */

import { posix } from "node:path";
import { GammaError } from "../lib/errors.ts";
import { type InitFacts, initFileText, PROJECT_FILE } from "../lib/project_config.ts";
import { findProjectRoot } from "../lib/project_root.ts";
import { type CommandSpec, LIMA_PERMISSIONS, rejectPositionals } from "./_spec.ts";
import { lstatOrUndefined as lstat, replaceFile } from "./_files.ts";
import { sessionFor } from "./_session.ts";

/** `gamma init`. */
export const initCommand: CommandSpec = {
  name: "init",
  summary: "write a commented .gamma.yaml for this project from the instances limactl knows",
  usage: ["init [-i NAME] [--force]"],
  description: [
    "Writes PROJECT/.gamma.yaml (PROJECT: the nearest directory up from here holding .git,",
    "Cargo.toml, deno.json or package.json). It names the instance (-i NAME or",
    "DEVSHELL_VM_LIMA_INSTANCE when that instance exists, else the first whose mount covers the",
    "project, else the first listed), mode mounts when that instance's mount covers the project",
    "and sync otherwise, and shows every other setting commented out. An existing file is kept",
    "unless --force is given (it is then replaced in one rename). Runs limactl list only.",
  ],
  permissions: LIMA_PERMISSIONS,
  options: [{ name: "force", help: "replace an existing .gamma.yaml" }],
  examples: ["gamma init", "gamma init -i dev --force"],
  exitCodes: [
    "0     written",
    "1     the file exists (without --force) or cannot be written",
    "2     usage error",
  ],
  async run(parsed, context) {
    rejectPositionals(this, parsed);
    // The settings files are not read: the project file may be the bad one being replaced.
    const session = await sessionFor(parsed, context, { configFiles: false });
    const project = findProjectRoot(session.canonicalHostPath(session.cwd), (p) => !!lstat(p));
    const path = posix.join(project, PROJECT_FILE);
    const force = parsed.values["force"] === true;
    const existing = lstat(path);
    if (existing && !force) {
      throw new GammaError(
        `${path} exists; gamma config shows what it sets, gamma init --force replaces it`,
      );
    }
    if (existing && !existing.isFile) {
      throw new GammaError(
        `${path} is not a regular file (a symlink or directory); remove it first, gamma init never writes through it`,
      );
    }
    const facts: InitFacts = {
      project,
      instances: [],
      preferred: session.config.origins.instance.kind === "default" ? undefined : session.instance,
    };
    if (session.backend !== "lima") {
      facts.listProblem = session.limactl === undefined
        ? "limactl was not found"
        : "gamma runs on the host (DEVSHELL_VM=off or DEVSHELL_VM_BACKEND=host)";
    } else {
      try {
        facts.instances = await session.listInstances();
      } catch (e) {
        facts.listProblem = `limactl list failed: ${(e as Error).message}`;
      }
    }
    const text = initFileText(facts);
    if (existing) replaceFile(path, text);
    else Deno.writeTextFileSync(path, text, { createNew: true });
    const instance = /^instance: (.*)$/m.exec(text)?.[1];
    const mode = /^mode: (.*)$/m.exec(text)?.[1];
    console.log(
      `wrote ${path} (instance ${
        instance ?? "not set"
      }, mode ${mode}); check it with: gamma config`,
    );
    return 0;
  },
};
