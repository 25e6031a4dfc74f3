// deno-lint-ignore-file no-console
/**
 * `gamma ssh-config`: an OpenSSH `Host` block that lands at this project in the guest, for
 * editors that work over ssh (VS Code Remote-SSH, JetBrains Gateway, Zed).
 *
 * @module
 */

import { posix } from "node:path";
import { GammaError } from "../lib/errors.ts";
import { findProjectRoot } from "../lib/project_root.ts";
import {
  parseSshHostBlock,
  projectSshBlock,
  SSH_INCLUDE_LINE,
  withSshInclude,
} from "../lib/ssh_config.ts";
import { type CommandSpec, LIMA_PERMISSIONS, rejectPositionals, UsageError } from "./_spec.ts";
import { lstatOrUndefined as lstat, replaceFile } from "./_files.ts";
import { sessionFor } from "./_session.ts";

/** A real directory at `path` (created 0700 when missing); never a symlink. */
function realDir(path: string, fix: string): void {
  const info = lstat(path);
  if (info === undefined) {
    Deno.mkdirSync(path, { mode: 0o700 });
    return;
  }
  if (!info.isDirectory || info.isSymlink) {
    throw new GammaError(`${path} is not a plain directory (it is a symlink or a file); ${fix}`);
  }
}

/** `gamma ssh-config`. */
export const sshConfigCommand: CommandSpec = {
  name: "ssh-config",
  summary: "print an OpenSSH Host block that opens a login shell at this project in the guest",
  usage: ["ssh-config [-i NAME] [--host NAME] [--plain] [--install]"],
  description: [
    "Builds the block from the instance's ssh.config, which Lima writes when the instance starts",
    "($LIMA_HOME/NAME/ssh.config): the same user, key, port and connection sharing under a new",
    "host name (default gamma-<project directory name>), plus RemoteCommand and RequestTTY yes",
    "so that `ssh HOST` opens a login shell at the project's guest path. --plain leaves those two",
    "out, for editors that run their own remote commands and take the folder as an argument.",
    "--install writes the block to ~/.ssh/gamma/HOST.conf and adds `Include ~/.ssh/gamma/*.conf`",
    "once at the top of ~/.ssh/config, after copying it to ~/.ssh/config.gamma-backup-TIME.",
    "Lima may pick another ssh port when the instance restarts: run it again then.",
  ],
  permissions: LIMA_PERMISSIONS,
  options: [
    { name: "host", value: "NAME", help: "the Host name to write", default: "gamma-<project>" },
    { name: "plain", help: "leave out RemoteCommand and RequestTTY" },
    { name: "install", help: "write it under ~/.ssh/gamma/ and Include that from ~/.ssh/config" },
  ],
  examples: [
    "gamma ssh-config >> ~/.ssh/config          # or: gamma ssh-config --install",
    "ssh gamma-app                              # a login shell at the project in the guest",
    "code --remote ssh-remote+gamma-app /workspace/app",
  ],
  exitCodes: [
    "0     printed or installed",
    "1     no ssh.config (start the instance), the project is not in the guest, or a file is unsafe to write",
    "2     usage error",
  ],
  async run(parsed, context) {
    rejectPositionals(this, parsed);
    const session = await sessionFor(parsed, context);
    if (session.backend !== "lima" || session.instanceDir === undefined) {
      throw new GammaError(
        "ssh-config needs the Lima backend (limactl found, DEVSHELL_VM on, LIMA_HOME or HOME set)",
      );
    }
    const source = `${session.instanceDir}/ssh.config`;
    let text: string;
    try {
      text = Deno.readTextFileSync(source);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      throw new GammaError(
        `instance ${session.instance} has no ${source} yet: Lima writes it when the instance starts; run gamma start, then this again`,
      );
    }
    const lima = parseSshHostBlock(text);
    if (lima === undefined) throw new GammaError(`${source} has no Host line`);

    const cwd = session.canonicalHostPath(session.cwd);
    const project = findProjectRoot(cwd, (p) => lstat(p) !== undefined);
    const comments = [
      `gamma ssh-config: ${project} in Lima instance ${session.instance}`,
      `built from ${source}; run gamma ssh-config again if the instance's ssh port changes`,
    ];
    let guestDir = await session.guestPathOf(project);
    if (guestDir === undefined && session.config.workspaceMode === "sync") {
      guestDir = (await session.syncTarget()).guestStaging;
      comments.push(
        "sync mode: this is gamma's copy; gamma exec, shell and sync push/pull carry changes",
      );
    }
    if (guestDir === undefined) {
      throw new GammaError(
        `cannot write an ssh config for ${project}: no mount of instance ${session.instance} shows it; gamma mounts --writable --write --restart adds one`,
      );
    }
    const hostOption = parsed.values["host"];
    const host = typeof hostOption === "string"
      ? hostOption
      : `gamma-${
        posix.basename(project).replace(/[^A-Za-z0-9._-]/g, "_").replace(/^[._-]+/, "") ||
        "project"
      }`;
    let block: string;
    try {
      block = projectSshBlock({
        host,
        options: lima.options,
        guestDir,
        remoteCommand: parsed.values["plain"] !== true,
        comments,
      });
    } catch (e) {
      if (typeof hostOption === "string") {
        throw new UsageError(`gamma ssh-config: ${(e as Error).message}`, this);
      }
      throw e;
    }
    if (parsed.values["install"] !== true) {
      console.log(block.replace(/\n$/, ""));
      return 0;
    }

    const home = Deno.env.get("HOME")?.trim();
    if (!home?.startsWith("/")) throw new GammaError("--install needs HOME (an absolute path)");
    const addYourself = `add the block yourself (gamma ssh-config prints it)`;
    const sshDir = posix.join(home, ".ssh");
    const gammaDir = posix.join(sshDir, "gamma");
    realDir(sshDir, addYourself);
    realDir(gammaDir, addYourself);
    const blockFile = posix.join(gammaDir, `${host}.conf`);
    const old = lstat(blockFile);
    if (old !== undefined && (!old.isFile || old.isSymlink)) {
      throw new GammaError(`${blockFile} is not a regular file; remove it, then run this again`);
    }
    replaceFile(blockFile, block, 0o600);
    console.log(`wrote ${blockFile} (Host ${host})`);

    const configPath = posix.join(sshDir, "config");
    const info = lstat(configPath);
    if (info !== undefined && (!info.isFile || info.isSymlink)) {
      throw new GammaError(
        `${configPath} is not a regular file (a symlink?); gamma does not write through it: add the line ${
          JSON.stringify(SSH_INCLUDE_LINE)
        } at its top yourself`,
      );
    }
    const current = info === undefined ? "" : Deno.readTextFileSync(configPath);
    const next = withSshInclude(current);
    if (next === undefined) {
      console.log(`${configPath} already includes ~/.ssh/gamma/*.conf`);
      return 0;
    }
    if (info !== undefined) {
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      const backup = `${configPath}.gamma-backup-${stamp}`;
      Deno.writeTextFileSync(backup, current, { createNew: true, mode: 0o600 });
      console.log(`backed up ${configPath} to ${backup}`);
    }
    replaceFile(configPath, next, info === undefined ? 0o600 : (info.mode ?? 0o600) & 0o777);
    console.log(`added ${JSON.stringify(SSH_INCLUDE_LINE)} at the top of ${configPath}`);
    return 0;
  },
};
