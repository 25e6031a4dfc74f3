/**
 * Placing the working directory: the host workspace parent ({@linkcode findWorkspaceParent}),
 * canonical host paths ({@linkcode canonicalPath}), the guest path of a host path through the
 * instance's mounts and back ({@linkcode guestPathThrough}, {@linkcode hostPathThrough}), and
 * the explanation when the working directory has none ({@linkcode unmappedCwdError}). Reads the
 * file system, runs nothing, and never imports the session module.
 *
 * @module
 */

import { posix } from "node:path";
import { findCargoWorkspaceRoot } from "../cargo_root.ts";
import type { Env, GammaConfig } from "../config.ts";
import { UnmappedPathError } from "../errors.ts";
import { type Mount, toGuestPath, toHostPath } from "../guest_path.ts";
import { realPathOfPrefix } from "../real_prefix.ts";
import { defaultWorkspaceParent, type WorkspaceParent } from "../workspace_parent.ts";

/**
 * What placing needs from a session.
 *
 * @example Usage
 * ```ts
 * import type { PlacementContext } from "./placement.ts";
 *
 * const where = (c: PlacementContext): string => `${c.cwd} (${c.instance})`;
 * ```
 */
export interface PlacementContext {
  /** The instance name. */
  readonly instance: string;
  /** The resolved configuration. */
  readonly config: GammaConfig;
  /** The environment (`HOME`, `XDG_CACHE_HOME`, `TMPDIR`). */
  readonly env: Env;
  /** The host working directory, as given. */
  readonly cwd: string;
  /** `$LIMA_HOME/NAME`, for the fix text. */
  readonly instanceDir: string | undefined;
  /** The instance's real mounts (`limactl list`). */
  mounts(): Promise<Mount[]>;
}

/**
 * The host workspace parent (gamma-behaviour §7.1).
 *
 * @param c The session's facts.
 * @returns The directory and the rule that chose it.
 */
export function findWorkspaceParent(c: PlacementContext): WorkspaceParent {
  const config = c.config;
  const cargo = config.workspaceParent === undefined && config.workspaceUseCargoRoot
    ? findCargoWorkspaceRoot(c.cwd, (dir) => {
      try {
        return Deno.readTextFileSync(posix.join(dir, "Cargo.toml"));
      } catch {
        return undefined;
      }
    })
    : undefined;
  return defaultWorkspaceParent({
    override: config.workspaceParent,
    useCargoRoot: config.workspaceUseCargoRoot,
    cargoWorkspaceRoot: cargo,
    instance: c.instance,
    exportBase: config.exportBase,
    xdgCacheHome: c.env["XDG_CACHE_HOME"],
    home: c.env["HOME"],
    tempDir: c.env["TMPDIR"]?.startsWith("/") ? c.env["TMPDIR"] : "/tmp",
  });
}

/**
 * A host path made absolute against `cwd`, with symlinks resolved in its longest existing
 * prefix (the whole path when it exists): a path that does not exist yet maps like that prefix.
 *
 * @param cwd The working directory.
 * @param path Absolute or relative host path.
 * @returns The canonical path.
 */
export function canonicalPath(cwd: string, path: string): string {
  return realPathOfPrefix(path.startsWith("/") ? path : posix.join(cwd, path), (p) => {
    try {
      return Deno.realPathSync(p);
    } catch {
      return undefined;
    }
  });
}

/**
 * The guest path of a host path through the instance's real mounts only.
 *
 * @param c The session's facts.
 * @param hostPath Host path, absolute or relative to the working directory.
 * @returns The guest path, or `undefined` when unmapped.
 */
export async function guestPathThrough(
  c: PlacementContext,
  hostPath: string,
): Promise<string | undefined> {
  return toGuestPath(canonicalPath(c.cwd, hostPath), await c.mounts());
}

/**
 * The host path a guest path shows, through the same mounts.
 *
 * @param c The session's facts.
 * @param guestPath Absolute guest path.
 * @returns The host path, or `undefined` when no mount covers it.
 */
export async function hostPathThrough(
  c: PlacementContext,
  guestPath: string,
): Promise<string | undefined> {
  return toHostPath(guestPath, await c.mounts());
}

/**
 * Why the working directory has no guest path: the instance's mounts and the fixes.
 *
 * @param c The session's facts.
 * @param workspaceParent The host workspace parent (named in the Mode S fix).
 * @returns The error to throw.
 */
export async function unmappedCwdError(
  c: PlacementContext,
  workspaceParent: WorkspaceParent,
): Promise<UnmappedPathError> {
  const path = canonicalPath(c.cwd, c.cwd);
  const real = await c.mounts();
  const describe = (m: Mount): string =>
    `    ${m.location} -> ${m.mountPoint} (${m.writable ? "writable" : "read-only"})`;
  const yaml = c.instanceDir ? `${c.instanceDir}/lima.yaml` : "lima.yaml";
  const lines = [
    `cannot run in instance ${c.instance}: the current directory ${path} is not under any of its mounts`,
    real.length ? `  mounts of ${c.instance}:` : `  instance ${c.instance} has no mounts`,
    ...real.map(describe),
  ];
  lines.push(
    "fix: run gamma from inside a mounted directory, or mount this one by adding to",
    `  ${yaml}:`,
    "    mounts:",
    `    - location: ${JSON.stringify(path)}`,
    "      writable: true",
    `  then restart the instance: limactl stop ${c.instance} && limactl start ${c.instance}`,
    "  or name a guest directory with -w GUEST_DIR",
    "  or let gamma copy the project (Mode S): DEVSHELL_VM_WORKSPACE_MODE=sync, with the workspace",
    `  parent ${workspaceParent.path} mounted`,
  );
  return new UnmappedPathError(path, c.instance, lines.join("\n"));
}
