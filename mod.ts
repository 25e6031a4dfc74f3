/**
 * @devshell/gamma: your project inside a Lima VM as if it were local.
 *
 * The library behind the `gamma` command. The pure core maps host paths to guest paths through
 * an instance's mounts ({@linkcode toGuestPath}), quotes script text
 * ({@linkcode bashSingleQuoted}), reads the `DEVSHELL_VM_*` configuration
 * ({@linkcode resolveConfig}) and builds exact `limactl` command lines ({@linkcode limactlArgs}).
 * {@linkcode GammaSession} runs commands in the guest: it starts the VM on demand, maps the
 * working directory, and passes stdio, exit codes and signals through.
 *
 * Run as a program (`deno run -A jsr:@devshell/gamma shell`) this module runs the CLI.
 *
 * @example Usage
 * ```ts
 * import { bashSingleQuoted, toGuestPath } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * const mounts = [{ location: "/home/me/src", mountPoint: "/workspace", writable: true }];
 * assert.equal(toGuestPath("/home/me/src/app", mounts), "/workspace/app");
 * assert.equal(bashSingleQuoted("a'b"), `'a'"'"'b'`);
 * ```
 *
 * @module
 */

export { findCargoWorkspaceRoot } from "./lib/cargo_root.ts";
export {
  type Backend,
  ConfigError,
  type ConfigIssue,
  type ConfigSources,
  DEFAULT_GUEST_WORKSPACE,
  DEFAULT_INSTANCE,
  describeOrigin,
  type Env,
  type GammaConfig,
  resolveConfig,
  type SettingName,
  type SettingOrigin,
  type WorkspaceMode,
} from "./lib/config.ts";
export {
  type ConfigFile,
  FILE_KEYS,
  type FileSetting,
  type GuestEnv,
  guestEnvNameProblem,
  type InitFacts,
  initFileText,
  parseConfigFile,
  type ParseConfigFileOptions,
  PROJECT_FILE,
  workspaceParentProblem,
} from "./lib/project_config.ts";
export { loadConfigFiles, userConfigPath } from "./lib/session/config_files.ts";
export {
  parseSshHostBlock,
  projectSshBlock,
  type ProjectSshBlockOptions,
  SSH_INCLUDE_LINE,
  type SshOption,
  sshRemoteCommand,
  withSshInclude,
} from "./lib/ssh_config.ts";
export {
  type CheckStatus,
  type DoctorCheck,
  type DoctorReport,
  formatDoctorReport,
} from "./lib/doctor.ts";
export {
  GammaError,
  LimactlError,
  LimactlNotFoundError,
  LimactlTimeoutError,
  MissingInstanceError,
  StartError,
  UnmappedPathError,
} from "./lib/errors.ts";
export {
  confineGuestPath,
  type GuestEntry,
  type GuestFileType,
  guestFsArgs,
  GuestFsError,
  guestFsError,
  type GuestFsErrorKind,
  type GuestFsOp,
  parseGuestEntries,
  parseLsMode,
} from "./lib/guest_fs.ts";
export { type Mount, normalizeAbsolutePath, toGuestPath, toHostPath } from "./lib/guest_path.ts";
export {
  closestInstanceNames,
  sanitizeInstanceSegment,
  validateInstanceName,
} from "./lib/instance_name.ts";
export { type InstanceInfo, parseLimaList } from "./lib/lima_list.ts";
export {
  type LimaMountEntry,
  type LimaYamlEdit,
  limaYamlFragment,
  type LimaYamlMerge,
  mergeLimaYaml,
  parseMountSpec,
} from "./lib/lima_yaml.ts";
export {
  LIMACTL_TIMEOUTS_MS,
  type LimactlCall,
  limactlTimeoutHint,
  limactlTimeoutMs,
} from "./lib/limactl_timeout.ts";
export {
  type CopyArgsOptions,
  limactlArgs,
  type ShellArgsOptions,
  type StartArgsOptions,
  type StopArgsOptions,
} from "./lib/limactl_args.ts";
export { findProjectFile, findProjectRoot, PROJECT_MARKERS } from "./lib/project_root.ts";
export { type DoctorOptions, runDoctor, type RunDoctorOptions } from "./lib/session/doctor.ts";
export {
  GuestFs,
  type GuestFsOptions,
  type GuestMkdirOptions,
  type GuestRemoveOptions,
  type GuestWriteOptions,
} from "./lib/session/guest_fs.ts";
export {
  HostTree,
  type HostTreeOptions,
  newTempTag,
  TEMP_PREFIX,
} from "./lib/session/host_tree.ts";
export {
  type LiveBatch,
  liveLine,
  LiveSync,
  type LiveSyncOptions,
} from "./lib/session/live_sync.ts";
export {
  type ExecOptions,
  type ExecResult,
  GammaSession,
  type GammaSessionOptions,
  type GammaStatus,
  type GuestTransport,
  type SyncTarget,
} from "./lib/session/session.ts";
export {
  COPY_ID_FILE,
  type CopyState,
  copyStateNote,
  ForeignCopyError,
  ignoredDirectory,
  MassDeletionError,
  type SyncReport,
  SyncStateError,
  syncTrees,
  type SyncTreesOptions,
} from "./lib/session/sync.ts";
export {
  type InteractiveShellInputs,
  type InteractiveShellPlan,
  interactiveShellPlan,
} from "./lib/shell_plan.ts";
export { bashSingleQuoted } from "./lib/shell_quote.ts";
export {
  relayedCommand,
  relayFile,
  type RelaySignal,
  relaySignalCommand,
  terminalCommand,
} from "./lib/signal_relay.ts";
export { diagnoseStart, type StartDiagnosis, type StartEvidence } from "./lib/start_diagnosis.ts";
export {
  type ActionOutcome,
  type ApplyOptions,
  applyPlan,
  type ApplyProgress,
  type ApplyResult,
} from "./lib/sync/apply.ts";
export {
  compileIgnore,
  GITIGNORE_FILE,
  IGNORE_FILE,
  type IgnoreReason,
  IgnoreRules,
} from "./lib/sync/ignore.ts";
export { emptyManifest, parseManifest, stringifyManifest } from "./lib/sync/manifest.ts";
export { formatBytes, formatProgress } from "./lib/sync/progress.ts";
export { MemoryTree, type MemoryTreeOptions, type SetFileOptions } from "./lib/sync/memory_tree.ts";
export {
  type Conflict,
  conflictStamp,
  type PlanOptions,
  planSync,
  type SyncAction,
  type SyncDirection,
  type SyncPlan,
  type SyncSide,
} from "./lib/sync/plan.ts";
export {
  type Expectation,
  type ExpectOptions,
  type FileData,
  type IgnoreFilter,
  type RemoveOptions,
  type ScanOptions,
  type Tree,
  TreeError,
  type TreeErrorKind,
  type TreeScan,
  type WriteFileOptions,
} from "./lib/sync/tree.ts";
export {
  comparePaths,
  type DirEntry,
  type FileEntry,
  type Manifest,
  sameEntry,
  type SymlinkEntry,
  type SyncEntry,
  validateRelativePath,
} from "./lib/sync/types.ts";
export { VERSION } from "./lib/version.ts";
export {
  defaultWorkspaceParent,
  type WorkspaceParent,
  type WorkspaceParentInputs,
  type WorkspaceParentSource,
} from "./lib/workspace_parent.ts";

if (import.meta.main) {
  const { runMain } = await import("./cli.ts");
  await runMain();
}
