/**
 * Mode S, the session's glue to the sync engine: where the working directory's project is copied
 * ({@linkcode findSyncTarget}), syncing it ({@linkcode syncProjectWith}), pushing it before a
 * command and pulling the guest's changes back after ({@linkcode pushForRun},
 * {@linkcode pullAfterRun}). It reads the session's facts from a {@linkcode ModeSContext} and
 * never imports the session module.
 *
 * @module
 */

import { posix } from "node:path";
import type { GammaConfig } from "../config.ts";
import { SyncError, UnmappedPathError } from "../errors.ts";
import { type Mount, toGuestPath } from "../guest_path.ts";
import { sanitizeInstanceSegment } from "../instance_name.ts";
import { findProjectRoot } from "../project_root.ts";
import type { SyncDirection } from "../sync/plan.ts";
import type { WorkspaceParent } from "../workspace_parent.ts";
import { shortHash } from "./_files.ts";
import { HostTree } from "./host_tree.ts";
import { copyStateNote, ignoredDirectory, type SyncReport, syncTrees } from "./sync.ts";
import type { SyncProjectOptions, SyncTarget } from "./types.ts";

/**
 * What Mode S needs from a session: its facts, where its notices go, and the instance's mounts.
 *
 * @example Usage
 * ```ts
 * import type { ModeSContext } from "./mode_s.ts";
 *
 * function describe(c: ModeSContext): string {
 *   return `${c.cwd} in ${c.instance}`;
 * }
 * ```
 */
export interface ModeSContext {
  /** The instance name. */
  readonly instance: string;
  /** The resolved configuration. */
  readonly config: GammaConfig;
  /** `$LIMA_HOME/NAME`, for the fix text. */
  readonly instanceDir: string | undefined;
  /** The canonical host working directory. */
  readonly cwd: string;
  /** gamma's cache directory (the sync state lives under `<cache>/sync`). */
  readonly cacheDir: string;
  /** Where gamma's notices go. */
  readonly notice: (line: string) => void;
  /** Whether a progress line may go to stderr (`auto`: when it is a terminal). */
  readonly progress: boolean | "auto";
  /** The host workspace parent. */
  workspaceParent(): WorkspaceParent;
  /** The instance's real mounts (`limactl list`). */
  mounts(): Promise<Mount[]>;
}

const under = (a: string, b: string): boolean => a === b || a.startsWith(b === "/" ? "/" : `${b}/`);

/**
 * Where Mode S keeps the working directory's project: `<workspace parent>/<project leaf>`,
 * which must be visible in the guest, and its sync state in gamma's cache directory.
 *
 * @param c The session's facts.
 * @returns The target.
 * @throws {UnmappedPathError} When the copy would not be in the guest, or there is no project.
 * @throws {SyncError} When the copy would overlap the project, or the state would lie where the
 * guest can write.
 */
export async function findSyncTarget(c: ModeSContext): Promise<SyncTarget> {
  const cwd = c.cwd;
  const project = findProjectRoot(cwd, (path) => {
    try {
      Deno.lstatSync(path);
      return true;
    } catch {
      return false;
    }
  });
  const parent = c.workspaceParent();
  const staging = posix.join(parent.path, posix.basename(project));
  if (project === "/") {
    throw new UnmappedPathError(
      cwd,
      c.instance,
      `cannot run in instance ${c.instance}: the current directory ${cwd} is not under any of its mounts, and sync mode does not copy the whole file system; run gamma inside a project, mount the directory (gamma mounts --writable --write --restart), or name a guest directory with -w GUEST_DIR`,
    );
  }
  if (under(staging, project) || under(project, staging)) {
    throw new SyncError(
      c.instance,
      project,
      staging,
      `cannot sync ${project} into instance ${c.instance}: its staging copy ${staging} would overlap it; set DEVSHELL_VM_WORKSPACE_PARENT to a directory outside the project, or mount the project (gamma mounts --writable --write --restart)`,
    );
  }
  // Only a real mount will do: the copy must really be in the guest.
  const guestStaging = toGuestPath(staging, await c.mounts());
  if (guestStaging === undefined) {
    const yaml = c.instanceDir ? `${c.instanceDir}/lima.yaml` : "lima.yaml";
    throw new UnmappedPathError(
      cwd,
      c.instance,
      [
        `cannot run in instance ${c.instance}: ${cwd} is not under any of its mounts, and sync mode's copy ${staging} is not either`,
        `fix: mount the workspace parent (${parent.source}) by adding to ${yaml}:`,
        "    mounts:",
        `    - location: ${JSON.stringify(parent.path)}`,
        `      mountPoint: ${JSON.stringify(c.config.guestWorkspace)}`,
        "      writable: true",
        `  then restart the instance: limactl stop ${c.instance} && limactl start ${c.instance}`,
        "  or mount the project itself: gamma mounts --writable --write --restart",
        "  or name a guest directory with -w GUEST_DIR",
      ].join("\n"),
    );
  }
  const stateDir = posix.join(
    c.cacheDir,
    "sync",
    `${sanitizeInstanceSegment(posix.basename(staging))}-${shortHash(staging)}`,
  );
  if (under(stateDir, parent.path)) {
    throw new SyncError(
      c.instance,
      project,
      staging,
      `cannot sync ${project} into instance ${c.instance}: gamma's sync state ${stateDir} would lie inside the workspace parent ${parent.path}, which the guest can write; set XDG_CACHE_HOME or DEVSHELL_VM_WORKSPACE_PARENT so that they are apart`,
    );
  }
  return { project, staging, guestStaging, stateDir };
}

/**
 * Sync the working directory's project with its staging copy.
 *
 * @param c The session's facts.
 * @param direction `push`, `pull` or `both`.
 * @param options Dry run, a known target, `force`, `adopt`, `gitignore`.
 * @returns The report.
 */
export async function syncProjectWith(
  c: ModeSContext,
  direction: SyncDirection,
  options: SyncProjectOptions = {},
): Promise<SyncReport> {
  const target = options.target ?? await findSyncTarget(c);
  if (!options.dryRun) await Deno.mkdir(posix.dirname(target.staging), { recursive: true });
  return await syncTrees(direction, new HostTree(target.project), new HostTree(target.staging), {
    stateDir: target.stateDir,
    project: target.project,
    dryRun: options.dryRun ?? false,
    force: options.force ?? false,
    adopt: options.adopt ?? false,
    gitignore: options.gitignore ?? c.config.syncGitignore,
    extraIgnore: c.config.syncIgnore,
    notice: c.notice,
    progress: c.progress,
  });
}

/**
 * Push the project before a command runs in its copy: the working directory must not be
 * ignored, and every file must arrive.
 *
 * @param c The session's facts.
 * @returns The guest directory to run in and the target to pull from afterwards.
 * @throws {SyncError} When the working directory is ignored or the push failed.
 */
export async function pushForRun(
  c: ModeSContext,
): Promise<{ workdir: string; synced: SyncTarget }> {
  const target = await findSyncTarget(c);
  const rest = posix.relative(target.project, c.cwd);
  const ignored = await ignoredDirectory(target.project, rest, {
    gitignore: c.config.syncGitignore,
    extraIgnore: c.config.syncIgnore,
  });
  if (ignored !== undefined) {
    const { file, pattern } = ignored.reason;
    throw new SyncError(
      c.instance,
      target.project,
      target.staging,
      `cannot run in instance ${c.instance}: the current directory ${c.cwd} is not in sync mode's copy: ${ignored.path} is ignored by ${
        JSON.stringify(pattern)
      } in ${
        file.startsWith("(") ? "the settings' sync.ignore" : `${target.project}/${file}`
      }; run gamma from a directory that is synced, or change that rule${
        file.endsWith(".gitignore") ? " (or set DEVSHELL_VM_SYNC_GITIGNORE=0)" : ""
      }`,
    );
  }
  const report = await syncProjectWith(c, "push", { target });
  reportSync(c, report, "push", target);
  if (!report.ok) {
    throw new SyncError(
      c.instance,
      target.project,
      target.staging,
      `cannot run in instance ${c.instance}: pushing ${target.project} to ${target.staging} failed:\n${
        report.notDone.filter((n) => n.failed).map((n) => `  ${n.action.path}: ${n.reason}`)
          .join("\n")
      }`,
    );
  }
  return {
    workdir: rest ? posix.join(target.guestStaging, rest) : target.guestStaging,
    synced: target,
  };
}

/**
 * Pull the guest's changes back after a command; problems are notices, never the exit code.
 *
 * @param c The session's facts.
 * @param target The target {@linkcode pushForRun} pushed to.
 */
export async function pullAfterRun(c: ModeSContext, target: SyncTarget): Promise<void> {
  try {
    const report = await syncProjectWith(c, "pull", { target });
    reportSync(c, report, "pull", target);
  } catch (e) {
    c.notice(`gamma: sync: pulling the guest's changes back failed: ${(e as Error).message}`);
  }
}

/**
 * Tell a sync's copy-state note, skipped names, conflicts and failures as notices.
 *
 * @param c The session's facts.
 * @param report The sync's report.
 * @param what `push`, `pull`, `sync` or `live`.
 * @param target The target synced.
 */
export function reportSync(
  c: ModeSContext,
  report: SyncReport,
  what: string,
  target: SyncTarget,
): void {
  const note = copyStateNote(report, target.staging);
  if (note !== undefined) c.notice(note);
  for (const s of report.skipped) {
    c.notice(
      `gamma: sync: ${what} skipped ${s.path} (${s.side}): its name is not valid UTF-8, and gamma syncs only UTF-8 names; rename it to sync it`,
    );
  }
  for (const conflict of report.conflicts) {
    c.notice(
      `gamma: sync: conflict at ${conflict.path}: both sides changed it; the host version stays, the guest's is kept as ${conflict.conflictPath}`,
    );
  }
  // One line per failed change: the steps skipped after its failure add nothing.
  const reported = new Set<string>();
  const first = report.notDone.filter((n) => !n.reason.startsWith("An earlier step"));
  for (const n of [...first, ...report.notDone.filter((n) => !first.includes(n))]) {
    if (reported.has(n.action.unit)) continue;
    reported.add(n.action.unit);
    c.notice(
      `gamma: sync: ${what} ${n.failed ? "failed" : "skipped"} ${n.action.path}: ${n.reason}`,
    );
  }
}
