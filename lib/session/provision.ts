/**
 * Provisioning, the half that does I/O: the `mounts:` entries of `gamma mounts` written into
 * `$LIMA_HOME/NAME/lima.yaml` (with a backup, and a restart when asked), and the guest
 * provisioning `gamma shell` runs before the interactive shell (a C toolchain, the project
 * binary). Every `limactl` call goes through {@linkcode GammaSession}'s public methods; the
 * scripts and verdicts are the pure ones in `lib/provision.ts` and `lib/lima_yaml.ts`.
 *
 * @module
 */

import { posix } from "node:path";
import { normalizeAbsolutePath } from "../guest_path.ts";
import { findCargoWorkspaceRoot } from "../cargo_root.ts";
import type { Env } from "../config.ts";
import { GammaError } from "../errors.ts";
import type { Mount } from "../guest_path.ts";
import { coveringMount } from "../doctor.ts";
import {
  type LimaMountEntry,
  limaYamlFragment,
  mergeLimaYaml,
  parseMountSpec,
} from "../lima_yaml.ts";
import { findProjectRoot } from "../project_root.ts";
import {
  binaryPlan,
  binaryProbeScript,
  buildEssentialResultLine,
  buildEssentialScript,
  buildResultLine,
  guestBuildScript,
  parseBinaryProbe,
  parseStepResult,
  parseToolchainProbe,
  projectBinaryName,
  toolchainPlan,
  toolchainProbeScript,
} from "../provision.ts";
import type { SessionView } from "./_session_view.ts";

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

function stderrLine(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`${line}\n`));
}

/**
 * The host directory `gamma mounts` mounts and `gamma doctor` checks: the workspace parent when
 * it is set (`DEVSHELL_VM_WORKSPACE_PARENT`, mounted at the guest workspace) or is the Cargo
 * workspace root (mounted at its own path), else the project of the working directory (the
 * nearest ancestor holding `.git`, `Cargo.toml`, `deno.json` or `package.json`, else the
 * working directory itself; mounted at its own path).
 *
 * @example Usage
 * ```ts
 * import type { ProjectTarget } from "./provision.ts";
 *
 * const target: ProjectTarget = { path: "/home/me/app", source: "project", mountPoint: "/home/me/app" };
 * ```
 */
export interface ProjectTarget {
  /** The canonical host directory. */
  path: string;
  /** Which rule chose it. */
  source: "override" | "cargo" | "project";
  /** Its default guest path. */
  mountPoint: string;
}

/**
 * Find the {@linkcode ProjectTarget} of a session's working directory.
 *
 * @param session The session.
 * @returns The directory, the rule and its default guest path.
 *
 * @example Usage
 * ```ts
 * import { GammaSession } from "@devshell/gamma";
 * import { projectTarget } from "./provision.ts";
 *
 * const target = projectTarget(new GammaSession({ env: { DEVSHELL_VM: "off" }, cwd: "/tmp" }));
 * ```
 */
export function projectTarget(session: SessionView): ProjectTarget {
  const wp = session.workspaceParent();
  if (wp.source === "override") {
    return {
      path: session.canonicalHostPath(wp.path),
      source: "override",
      mountPoint: session.config.guestWorkspace,
    };
  }
  if (wp.source === "cargo") {
    const path = session.canonicalHostPath(wp.path);
    return { path, source: "cargo", mountPoint: path };
  }
  const path = findProjectRoot(session.canonicalHostPath(session.cwd), exists);
  return { path, source: "project", mountPoint: path };
}

/**
 * What `gamma mounts` asks for.
 *
 * @example Usage
 * ```ts
 * import type { MountsRequest } from "./provision.ts";
 *
 * const request: MountsRequest = { writable: true, add: ["target/release:/host-bin:ro"], pathPrepend: ["/host-bin"] };
 * ```
 */
export interface MountsRequest {
  /** Make the project's mount writable (default: read-only, Lima's default). */
  writable?: boolean | undefined;
  /** Its guest path instead of the default ({@linkcode ProjectTarget}). */
  guestPath?: string | undefined;
  /** Extra mounts, `HOST:GUEST[:ro|:rw]` (writable unless `:ro`). */
  add?: readonly string[] | undefined;
  /** Guest directories to put first on `env.PATH`. */
  pathPrepend?: readonly string[] | undefined;
  /** The environment (`HOME` for `~`); default `Deno.env`. */
  env?: Env | undefined;
}

/**
 * The mounts `gamma mounts` prints and writes.
 *
 * @example Usage
 * ```ts
 * import type { MountsPlan } from "./provision.ts";
 *
 * function show(plan: MountsPlan): string {
 *   return `# ${plan.yamlPath}\n${plan.fragment}`;
 * }
 * ```
 */
export interface MountsPlan {
  /** `$LIMA_HOME/NAME/lima.yaml`. */
  yamlPath: string;
  /** The project directory and where it goes. */
  target: ProjectTarget;
  /** Every entry: the project's first, then the `--add` ones. */
  entries: LimaMountEntry[];
  /** `--path-prepend` directories. */
  pathPrepend: string[];
  /** The `lima.yaml` fragment holding them. */
  fragment: string;
  /** A mount the instance already has that shows the project in the guest. */
  coveredBy?: Mount | undefined;
}

/**
 * Work out the mounts of `gamma mounts` for a session's working directory. Reads the instance's
 * current mounts (`limactl list`, cached) to say when the project is visible already; writes
 * nothing.
 *
 * @param session The session.
 * @param request The options.
 * @returns The plan.
 * @throws {RangeError} For a bad `--add` spec or guest path.
 * @throws {GammaError} When `LIMA_HOME` is unknown.
 *
 * @example Usage
 * ```typescript ignore
 * import { GammaSession } from "@devshell/gamma";
 * import { planMounts } from "./provision.ts";
 *
 * const plan = await planMounts(new GammaSession({ instance: "dev" }), { writable: true });
 * console.log(plan.fragment);
 * ```
 */
export async function planMounts(
  session: SessionView,
  request: MountsRequest = {},
): Promise<MountsPlan> {
  const dir = session.instanceDir;
  if (dir === undefined) {
    throw new GammaError("LIMA_HOME is unknown: set HOME or LIMA_HOME");
  }
  const env = request.env ?? Deno.env.toObject();
  const target = projectTarget(session);
  const guestPath = request.guestPath;
  if (guestPath !== undefined && (!guestPath.startsWith("/") || guestPath.includes("\0"))) {
    throw new RangeError(
      `Invalid guest path ${JSON.stringify(guestPath)}: it must be an absolute guest directory`,
    );
  }
  const entries: LimaMountEntry[] = [{
    location: target.path,
    mountPoint: normalizeAbsolutePath(guestPath ?? target.mountPoint, "Guest path"),
    writable: request.writable === true,
  }];
  for (const spec of request.add ?? []) {
    const e = parseMountSpec(spec, {
      cwd: session.canonicalHostPath(session.cwd),
      home: env["HOME"],
    });
    entries.push({ ...e, location: session.canonicalHostPath(e.location) });
  }
  const pathPrepend = (request.pathPrepend ?? []).map((p) => {
    if (!p.startsWith("/") || p.includes(":") || p.includes("\0")) {
      throw new RangeError(
        `Invalid PATH entry ${
          JSON.stringify(p)
        }: it must be an absolute guest directory without ":"`,
      );
    }
    return normalizeAbsolutePath(p, "PATH entry");
  });
  const info = session.backend === "lima" ? await session.instanceInfo() : undefined;
  const cover = info ? coveringMount(target.path, info.mounts) : undefined;
  return {
    yamlPath: `${dir}/lima.yaml`,
    target,
    entries,
    pathPrepend,
    fragment: limaYamlFragment(entries, pathPrepend),
    coveredBy: cover?.mount,
  };
}

/**
 * What {@linkcode writeMounts} did.
 *
 * @example Usage
 * ```ts
 * import type { MountsWrite } from "./provision.ts";
 *
 * const result: MountsWrite = { changed: false, changes: [], unchanged: [], restarted: false };
 * ```
 */
export interface MountsWrite {
  /** Whether `lima.yaml` was rewritten. */
  changed: boolean;
  /** What was added or changed. */
  changes: string[];
  /** What was there already. */
  unchanged: string[];
  /** The backup, `lima.yaml.bak`, when the file was rewritten. */
  backup?: string | undefined;
  /** Whether the instance was stopped and started. */
  restarted: boolean;
}

/**
 * Merge a plan's mounts into `$LIMA_HOME/NAME/lima.yaml` ({@linkcode mergeLimaYaml}: comments
 * and formatting kept, no duplicates). When something changes: refuses while the instance runs
 * unless `restart` is set, copies the file to `lima.yaml.bak`, writes the new text (through a
 * temporary file and a rename, keeping the file's mode), and with `restart` stops and starts a
 * running instance so that Lima reads it. Nothing changes (and nothing is written) when the
 * entries are there already.
 *
 * @param session The session.
 * @param plan From {@linkcode planMounts}.
 * @param options `restart`, the environment (`HOME` for `~` in existing entries), and where
 * notices go.
 * @returns What it did.
 * @throws {GammaError} When the instance does not exist, or runs and `restart` is not set.
 * @throws {SyntaxError} When `lima.yaml` is not YAML.
 * @throws {RangeError} When a guest path already shows another host directory.
 * @throws {LimactlError} When the restart fails to stop the instance.
 * @throws {StartError} When the restart fails to start it.
 *
 * @example Usage
 * ```typescript ignore
 * import { GammaSession } from "@devshell/gamma";
 * import { planMounts, writeMounts } from "./provision.ts";
 *
 * const session = new GammaSession({ instance: "dev" });
 * await writeMounts(session, await planMounts(session, { writable: true }), { restart: true });
 * ```
 */
export async function writeMounts(
  session: SessionView,
  plan: MountsPlan,
  options: {
    restart?: boolean | undefined;
    env?: Env | undefined;
    notice?: ((line: string) => void) | undefined;
  } = {},
): Promise<MountsWrite> {
  const notice = options.notice ?? stderrLine;
  const env = options.env ?? Deno.env.toObject();
  let text: string;
  try {
    text = await Deno.readTextFile(plan.yamlPath);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new GammaError(
        `instance ${session.instance} does not exist (no ${plan.yamlPath}); create it first: limactl create --name=${session.instance} template:default`,
      );
    }
    throw e;
  }
  const merge = mergeLimaYaml(text, { mounts: plan.entries, pathPrepend: plan.pathPrepend }, {
    home: env["HOME"],
  });
  if (!merge.changed) {
    return { changed: false, changes: [], unchanged: merge.unchanged, restarted: false };
  }
  const running = session.isRunning();
  if (running && !options.restart) {
    throw new GammaError(
      `instance ${session.instance} is running and Lima reads ${plan.yamlPath} only when it starts: rerun with --restart to stop and start it, or stop it first (limactl stop ${session.instance})`,
    );
  }
  const real = await Deno.realPath(plan.yamlPath);
  const backup = `${plan.yamlPath}.bak`;
  const mode = (await Deno.stat(real)).mode ?? 0o644;
  await Deno.writeTextFile(backup, text, { mode: mode & 0o777 });
  const tmp = `${real}.gamma-${Deno.pid}.tmp`;
  try {
    await Deno.writeTextFile(tmp, merge.text, { mode: mode & 0o777 });
    await Deno.chmod(tmp, mode & 0o777);
    await Deno.rename(tmp, real);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  let restarted = false;
  if (running && options.restart) {
    notice(`gamma: restarting instance ${session.instance} so that Lima reads the new mounts`);
    await session.stop();
    await session.start();
    restarted = true;
  }
  return { changed: true, changes: merge.changes, unchanged: merge.unchanged, backup, restarted };
}

/**
 * Options of {@linkcode provisionGuest}.
 *
 * @example Usage
 * ```ts
 * import type { ProvisionOptions } from "./provision.ts";
 *
 * const options: ProvisionOptions = { notice: (line) => console.error(line) };
 * ```
 */
export interface ProvisionOptions {
  /** Where gamma's lines go; default stderr. */
  notice?: ((line: string) => void) | undefined;
  /** The host OS; default `Deno.build.os`. */
  platform?: string | undefined;
  /** `inherit` (default): apt's and cargo's output streams to stderr; `piped`: it is returned. */
  output?: "inherit" | "piped" | undefined;
}

/**
 * What {@linkcode provisionGuest} did.
 *
 * @example Usage
 * ```ts
 * import type { ProvisionOutcome } from "./provision.ts";
 *
 * const outcome: ProvisionOutcome = { toolchain: "present", binary: "none", output: "" };
 * ```
 */
export interface ProvisionOutcome {
  /** The C toolchain step. */
  toolchain:
    | "off"
    | "present"
    | "probe-failed"
    | "no-apt"
    | "no-sudo"
    | "sudo-password"
    | "installed"
    | "install-failed";
  /** The project binary step (`none`: the project has no binary). */
  binary: "off" | "none" | "present" | "missing" | "probe-failed" | "built" | "build-failed";
  /** The install's and build's output, with `output: "piped"`. */
  output: string;
}

async function streamed(
  session: SessionView,
  argv: string[],
  output: "inherit" | "piped",
): Promise<{ code: number; stdout: string; stderr: string }> {
  // stdout is piped (it carries the step line and keeps Lima from allocating a terminal); the
  // script sends everything else to stderr, which streams to gamma's own stderr.
  const r = await session.exec(argv, {
    workdir: "/",
    stdin: "null",
    stdout: "piped",
    stderr: output,
  });
  const decode = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);
  return { code: r.code, stdout: decode(r.stdout), stderr: decode(r.stderr) };
}

/**
 * Guest provisioning, run once per session before the interactive shell (gamma-behaviour §11,
 * fixed): with `DEVSHELL_VM_AUTO_BUILD_ESSENTIAL`, a C toolchain probe that tells "absent" from
 * "probe failed", then — only when absent, `apt-get` exists and `sudo -n true` works — the
 * `build-essential` install with apt's output streaming to stderr (otherwise the command to run
 * by hand). With `DEVSHELL_VM_GUEST_TODO_HINT`, when the project is a Cargo package with a
 * binary that is neither on the guest `PATH` nor in the guest `target/release`: a hint (build it
 * in the guest; or mount the host's build), and with `DEVSHELL_VM_AUTO_BUILD_TODO_GUEST` the
 * build itself, its output streaming too. Does nothing on the host backend.
 *
 * @param session The session (the VM is started if needed).
 * @param options Where lines go, the host OS, and whether output streams.
 * @returns What each step did.
 * @throws {StartError} When the VM cannot be started.
 *
 * @example Usage
 * ```typescript ignore
 * import { GammaSession } from "@devshell/gamma";
 * import { provisionGuest } from "./provision.ts";
 *
 * const session = new GammaSession({ instance: "dev" });
 * await provisionGuest(session);
 * ```
 */
export async function provisionGuest(
  session: SessionView,
  options: ProvisionOptions = {},
): Promise<ProvisionOutcome> {
  const notice = options.notice ?? stderrLine;
  const output = options.output ?? "inherit";
  const outcome: ProvisionOutcome = { toolchain: "off", binary: "off", output: "" };
  if (session.backend !== "lima") return outcome;
  const name = session.instance;

  if (session.config.autoBuildEssential) {
    const probe = parseToolchainProbe(
      await session.output(toolchainProbeScript(), { workdir: "/" }),
    );
    const plan = toolchainPlan(probe, name);
    for (const line of plan.lines) notice(line);
    outcome.toolchain = probe.state === "present"
      ? "present"
      : probe.state === "failed"
      ? "probe-failed"
      : !probe.apt
      ? "no-apt"
      : probe.sudo === "absent"
      ? "no-sudo"
      : probe.sudo === "password"
      ? "sudo-password"
      : "installed";
    if (plan.install) {
      const r = await streamed(session, ["/bin/sh", "-c", buildEssentialScript()], output);
      outcome.output += r.stderr;
      const result = parseStepResult(r.code, r.stdout);
      notice(buildEssentialResultLine(result, name));
      if (!result.done) outcome.toolchain = "install-failed";
    }
  }

  if (session.config.guestTodoHint) {
    outcome.binary = await projectBinaryStep(session, notice, output, options.platform, outcome);
  }
  return outcome;
}

async function projectBinaryStep(
  session: SessionView,
  notice: (line: string) => void,
  output: "inherit" | "piped",
  platform: string | undefined,
  outcome: ProvisionOutcome,
): Promise<ProvisionOutcome["binary"]> {
  const cwd = session.canonicalHostPath(session.cwd);
  const manifest = (dir: string): string | undefined => readText(posix.join(dir, "Cargo.toml"));
  const pkg = findProjectRoot(cwd, (p) => p.endsWith("/Cargo.toml") && exists(p));
  const text = manifest(pkg);
  const bin = text === undefined
    ? undefined
    : projectBinaryName(text, exists(posix.join(pkg, "src", "main.rs")));
  if (bin === undefined || !/^[\w.+-]+$/.test(bin)) return "none";
  const workspace = findCargoWorkspaceRoot(pkg, manifest) ?? pkg;
  const release = posix.join(workspace, "target", "release");
  const guestWorkspace = await session.guestPathOf(workspace);
  const guestRelease = await session.guestPathOf(release);
  const hostBinary = exists(posix.join(release, bin)) ? posix.join(release, bin) : undefined;
  const r = await session.capture(
    ["/bin/sh", "-c", binaryProbeScript(), "sh", bin, guestRelease ?? ""],
    { workdir: "/" },
  );
  const found = parseBinaryProbe({ code: r.code, stdout: new TextDecoder().decode(r.stdout) });
  const plan = binaryPlan({
    instance: session.instance,
    name: bin,
    found,
    guestWorkspace,
    guestRelease,
    hostWorkspace: workspace,
    hostBinary,
    platform: platform ?? Deno.build.os,
    autoBuild: session.config.autoBuildTodoGuest,
  });
  for (const line of plan.lines) notice(line);
  if (found === undefined) return "probe-failed";
  if (found !== "") return "present";
  if (!plan.build || guestWorkspace === undefined) return "missing";
  const b = await streamed(
    session,
    ["/bin/sh", "-c", guestBuildScript(), "sh", guestWorkspace, bin],
    output,
  );
  outcome.output += b.stderr;
  const result = parseStepResult(b.code, b.stdout);
  notice(buildResultLine(result, { name: bin, instance: session.instance, guestWorkspace }));
  return result.done ? "built" : "build-failed";
}
