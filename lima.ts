/**
 * The pure parts gamma uses to talk to Lima, for programs that drive `limactl` themselves:
 * exact argument lists ({@linkcode limactlArgs}), `limactl list --json` parsing
 * ({@linkcode parseLimaList}), instance-name validation ({@linkcode validateInstanceName}),
 * `lima.yaml` mount editing that keeps the file's comments ({@linkcode mergeLimaYaml}), the
 * explanation of a failed `limactl start` ({@linkcode diagnoseStart}), the time-outs of gamma's
 * own `limactl` calls, the script of an interactive shell ({@linkcode interactiveShellPlan}), the
 * guest side of gamma's signal relay ({@linkcode relayedCommand}), and
 * the ssh client configuration `gamma ssh-config` writes ({@linkcode projectSshBlock}).
 * Nothing here runs a process.
 *
 * @example Build a `limactl shell` command line and read `limactl list --json`
 * ```ts
 * import { limactlArgs, parseLimaList } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(limactlArgs.shell("dev", ["cargo", "test"], { workdir: "/workspace/app" }), [
 *   "shell",
 *   "--workdir",
 *   "/workspace/app",
 *   "dev",
 *   "--",
 *   "cargo",
 *   "test",
 * ]);
 * const [info] = parseLimaList('{"name":"dev","status":"Running","dir":"/lima/dev"}\n');
 * assert.equal(info?.status, "Running");
 * ```
 *
 * @module
 */

export { type InstanceInfo, parseLimaList } from "./lib/lima_list.ts";
export { validateInstanceName } from "./lib/instance_name.ts";
export {
  type LimaMountEntry,
  type LimaYamlEdit,
  limaYamlFragment,
  type LimaYamlMerge,
  mergeLimaYaml,
  parseMountSpec,
} from "./lib/lima_yaml.ts";
export {
  type CopyArgsOptions,
  limactlArgs,
  type ShellArgsOptions,
  type StartArgsOptions,
  type StopArgsOptions,
} from "./lib/limactl_args.ts";
export {
  LIMACTL_TIMEOUTS_MS,
  type LimactlCall,
  limactlTimeoutHint,
  limactlTimeoutMs,
} from "./lib/limactl_timeout.ts";
export {
  type InteractiveShellInputs,
  type InteractiveShellPlan,
  interactiveShellPlan,
} from "./lib/shell_plan.ts";
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
  relayedCommand,
  relayFile,
  type RelaySignal,
  relaySignalCommand,
} from "./lib/signal_relay.ts";
export { diagnoseStart, type StartDiagnosis, type StartEvidence } from "./lib/start_diagnosis.ts";
