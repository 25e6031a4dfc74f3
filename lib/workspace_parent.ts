/**
 * Where the host workspace parent (the directory mounted at the guest workspace) lives.
 *
 * @module
 */

import { posix } from "node:path";
import { normalizeAbsolutePath } from "./guest_path.ts";
import { sanitizeInstanceSegment } from "./instance_name.ts";

/**
 * What {@linkcode defaultWorkspaceParent} decides from. The session gathers these; the function
 * does no I/O.
 *
 * @example Usage
 * ```ts
 * import { defaultWorkspaceParent, type WorkspaceParentInputs } from "./workspace_parent.ts";
 *
 * const inputs: WorkspaceParentInputs = { useCargoRoot: true, instance: "dev", tempDir: "/tmp" };
 * defaultWorkspaceParent(inputs);
 * ```
 */
export interface WorkspaceParentInputs {
  /** `DEVSHELL_VM_WORKSPACE_PARENT`, already checked to be absolute. */
  override?: string | undefined;
  /** `DEVSHELL_VM_WORKSPACE_USE_CARGO_ROOT`. */
  useCargoRoot: boolean;
  /** The Cargo workspace root of the current directory, when there is one. */
  cargoWorkspaceRoot?: string | undefined;
  /** The Lima instance name. */
  instance: string;
  /** `DEVSHELL_EXPORT_BASE`. */
  exportBase?: string | undefined;
  /** `XDG_CACHE_HOME`. */
  xdgCacheHome?: string | undefined;
  /** `HOME`. */
  home?: string | undefined;
  /** The OS temporary directory, the last fallback. */
  tempDir: string;
}

/**
 * Which rule chose the workspace parent.
 *
 * @example Usage
 * ```ts
 * import { type WorkspaceParentSource } from "@devshell/gamma/config";
 * import { defaultWorkspaceParent } from "./workspace_parent.ts";
 *
 * const source: WorkspaceParentSource = defaultWorkspaceParent({
 *   override: "/ws",
 *   useCargoRoot: true,
 *   instance: "dev",
 *   tempDir: "/tmp",
 * }).source;
 * ```
 */
export type WorkspaceParentSource = "override" | "cargo" | "cache";

/**
 * The workspace parent and the rule that chose it.
 *
 * @example Usage
 * ```ts
 * import { type WorkspaceParent } from "@devshell/gamma/config";
 * import { defaultWorkspaceParent } from "./workspace_parent.ts";
 *
 * const parent: WorkspaceParent = defaultWorkspaceParent({
 *   useCargoRoot: false,
 *   instance: "dev",
 *   tempDir: "/tmp",
 * });
 * ```
 */
export interface WorkspaceParent {
  /** Absolute host directory. */
  path: string;
  /** Which rule chose it. */
  source: WorkspaceParentSource;
}

function absolute(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v && v.startsWith("/") ? normalizeAbsolutePath(v) : undefined;
}

/**
 * Choose the host workspace parent (gamma-behaviour §7.1): the override when set; otherwise
 * the Cargo workspace root when that rule is on and there is one; otherwise the cache layout
 * `<export parent>/vm-workspace/<sanitised instance>`, where the export parent is
 * `DEVSHELL_EXPORT_BASE`, else `$XDG_CACHE_HOME/cargo-devshell-exports`, else
 * `$HOME/.cache/cargo-devshell-exports`, else the temporary directory itself. Relative
 * `XDG_CACHE_HOME` and `HOME` values are ignored, as the XDG spec says.
 *
 * @param inputs What the session found.
 * @returns The directory and the rule that chose it.
 *
 * @example Usage
 * ```ts
 * import { defaultWorkspaceParent } from "./workspace_parent.ts";
 * import assert from "node:assert/strict";
 *
 * const parent = defaultWorkspaceParent({
 *   useCargoRoot: false,
 *   instance: "my.vm",
 *   home: "/home/me",
 *   tempDir: "/tmp",
 * });
 * assert.deepEqual(parent, {
 *   path: "/home/me/.cache/cargo-devshell-exports/vm-workspace/my_vm",
 *   source: "cache",
 * });
 * ```
 */
export function defaultWorkspaceParent(inputs: WorkspaceParentInputs): WorkspaceParent {
  const override = absolute(inputs.override);
  if (override) return { path: override, source: "override" };
  const cargo = absolute(inputs.cargoWorkspaceRoot);
  if (inputs.useCargoRoot && cargo) return { path: cargo, source: "cargo" };
  const xdg = absolute(inputs.xdgCacheHome);
  const home = absolute(inputs.home);
  const exportParent = absolute(inputs.exportBase) ??
    (xdg ? posix.join(xdg, "cargo-devshell-exports") : undefined) ??
    (home ? posix.join(home, ".cache", "cargo-devshell-exports") : undefined) ??
    normalizeAbsolutePath(inputs.tempDir, "Temporary directory");
  return {
    path: posix.join(exportParent, "vm-workspace", sanitizeInstanceSegment(inputs.instance)),
    source: "cache",
  };
}
