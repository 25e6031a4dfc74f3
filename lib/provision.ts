/**
 * Guest provisioning, the pure half (gamma-behaviour §11, with §18.8's faults fixed): the
 * scripts that look for a C toolchain and the project binary in the guest, install
 * `build-essential` and build the project binary there, the readers of what they print, and
 * the lines gamma says about the results. `lib/session/provision.ts` runs them.
 *
 * Every script answers on stdout in `key=value` lines after a header line, so "absent" is told
 * apart from "the probe itself failed" (a broken ssh connection is not "no gcc"). The install
 * and build scripts send all their own output (apt's, cargo's) to stderr, where the user sees it
 * as it happens, and keep stdout for the one line that says how they ended.
 *
 * @module
 */

import { bashSingleQuoted } from "./shell_quote.ts";

const HEADER = "gamma-probe-1";

/**
 * What the C toolchain probe found.
 *
 * @example Usage
 * ```ts
 * import type { ToolchainProbe } from "./provision.ts";
 *
 * const probe: ToolchainProbe = { state: "absent", apt: true, sudo: "password" };
 * ```
 */
export type ToolchainProbe =
  | { state: "present"; cc: string }
  | {
    state: "absent";
    /** `apt-get` and `dpkg` are on the guest `PATH`. */
    apt: boolean;
    /** `sudo -n true` works (`yes`), asks for a password (`password`), or there is no sudo. */
    sudo: "yes" | "password" | "absent";
  }
  | { state: "failed"; code: number; detail: string };

/**
 * The guest script that looks for a C compiler (`cc`, else `gcc`) on the guest `PATH`; when
 * there is none, also whether `apt-get`/`dpkg` exist and whether `sudo -n true` works.
 *
 * @returns The POSIX `sh` script (no arguments).
 *
 * @example Usage
 * ```ts
 * import { toolchainProbeScript } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(toolchainProbeScript(), /sudo -n true/);
 * ```
 */
export function toolchainProbeScript(): string {
  return [
    `echo ${HEADER}`,
    "c=$(command -v cc 2>/dev/null) || c=$(command -v gcc 2>/dev/null) || c=",
    'echo "cc=$c"',
    'if [ -z "$c" ]; then',
    "  if command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; then echo apt=1; else echo apt=0; fi",
    "  if ! command -v sudo >/dev/null 2>&1; then echo sudo=absent",
    "  elif sudo -n true </dev/null >/dev/null 2>&1; then echo sudo=yes",
    "  else echo sudo=password; fi",
    "fi",
  ].join("\n");
}

function keyValues(stdout: string): Map<string, string> | undefined {
  const lines = stdout.split("\n");
  const start = lines.indexOf(HEADER);
  if (start === -1) return undefined;
  const out = new Map<string, string>();
  for (const line of lines.slice(start + 1)) {
    const eq = line.indexOf("=");
    if (eq > 0 && !out.has(line.slice(0, eq))) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

function firstLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
}

/**
 * Read the C toolchain probe's result. A non-zero exit or output without the probe's header is
 * `failed`, never `absent`.
 *
 * @param result The probe's exit code, stdout and stderr.
 * @returns What it found.
 *
 * @example Usage
 * ```ts
 * import { parseToolchainProbe } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseToolchainProbe({ code: 0, stdout: "gamma-probe-1\ncc=/usr/bin/cc\n", stderr: "" }), {
 *   state: "present",
 *   cc: "/usr/bin/cc",
 * });
 * assert.equal(parseToolchainProbe({ code: 255, stdout: "", stderr: "ssh: refused" }).state, "failed");
 * ```
 */
export function parseToolchainProbe(
  result: { code: number; stdout: string; stderr: string },
): ToolchainProbe {
  const kv = result.code === 0 ? keyValues(result.stdout) : undefined;
  const cc = kv?.get("cc");
  if (kv === undefined || cc === undefined) {
    return { state: "failed", code: result.code, detail: firstLine(result.stderr) };
  }
  if (cc !== "") return { state: "present", cc };
  const sudo = kv.get("sudo");
  return {
    state: "absent",
    apt: kv.get("apt") === "1",
    sudo: sudo === "yes" ? "yes" : sudo === "password" ? "password" : "absent",
  };
}

/**
 * The command that installs `build-essential` in the guest by hand.
 *
 * @param instance The instance name.
 * @returns The command line.
 *
 * @example Usage
 * ```ts
 * import { manualBuildEssential } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   manualBuildEssential("dev"),
 *   "limactl shell dev -- sh -c 'sudo apt-get update && sudo apt-get install -y build-essential'",
 * );
 * ```
 */
export function manualBuildEssential(instance: string): string {
  return `limactl shell ${instance} -- sh -c 'sudo apt-get update && sudo apt-get install -y build-essential'`;
}

/**
 * What to say after the C toolchain probe, and whether to install `build-essential` now: only
 * when the guest has none, has `apt-get`, and `sudo -n true` works (no password prompt can be
 * answered). Otherwise the lines say how to do it by hand.
 *
 * @param probe The probe's result.
 * @param instance The instance name.
 * @returns The notice lines and the decision.
 *
 * @example Usage
 * ```ts
 * import { toolchainPlan } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(toolchainPlan({ state: "present", cc: "/usr/bin/cc" }, "dev"), { lines: [], install: false });
 * ```
 */
export function toolchainPlan(
  probe: ToolchainProbe,
  instance: string,
): { lines: string[]; install: boolean } {
  if (probe.state === "present") return { lines: [], install: false };
  if (probe.state === "failed") {
    return {
      lines: [
        `gamma: guest: could not check instance ${instance} for a C compiler (limactl shell exited ${probe.code}${
          probe.detail ? `: ${probe.detail}` : ""
        }); nothing installed`,
      ],
      install: false,
    };
  }
  const lines = [
    `gamma: guest: no C compiler (cc or gcc) on the PATH of instance ${instance}; Rust needs one to link`,
  ];
  if (!probe.apt) {
    lines.push(
      `gamma: hint: the guest has no apt-get: install gcc and binutils with its package manager (limactl shell ${instance})`,
    );
    return { lines, install: false };
  }
  if (probe.sudo === "absent") {
    lines.push(
      `gamma: hint: the guest has no sudo: as root in instance ${instance} run apt-get update && apt-get install -y build-essential`,
    );
    return { lines, install: false };
  }
  if (probe.sudo === "password") {
    lines.push(
      `gamma: hint: sudo in instance ${instance} asks for a password, so gamma does not install build-essential; run: ${
        manualBuildEssential(instance)
      }`,
    );
    return { lines, install: false };
  }
  lines.push(
    `gamma: guest: installing build-essential in instance ${instance} with sudo apt-get (DEVSHELL_VM_AUTO_BUILD_ESSENTIAL=off skips this):`,
  );
  return { lines, install: true };
}

/**
 * The guest script that installs `build-essential`: checks `sudo -n true` first, then runs
 * `apt-get update` and `apt-get install -y build-essential` non-interactively, each announced
 * with a `+ …` line. All of it goes to stderr; stdout gets one `step=…` line: `done`, or the
 * step that failed (`sudo`, `update`, `install`) with its exit code (`rc=N`).
 *
 * @returns The POSIX `sh` script (no arguments).
 *
 * @example Usage
 * ```ts
 * import { buildEssentialScript } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(buildEssentialScript(), /apt-get install -y build-essential/);
 * ```
 */
export function buildEssentialScript(): string {
  const apt = "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get";
  return [
    "exec 3>&1 1>&2",
    "if ! sudo -n true </dev/null 2>/dev/null; then echo step=sudo >&3; exit 1; fi",
    "echo '+ sudo apt-get update'",
    `${apt} update </dev/null || { rc=$?; echo "step=update rc=$rc" >&3; exit 1; }`,
    "echo '+ sudo apt-get install -y build-essential'",
    `${apt} install -y build-essential </dev/null || { rc=$?; echo "step=install rc=$rc" >&3; exit 1; }`,
    "echo step=done >&3",
  ].join("\n");
}

/**
 * How an install or build script ended: `done`, or the step that failed and its exit code.
 *
 * @example Usage
 * ```ts
 * import type { StepResult } from "./provision.ts";
 *
 * const result: StepResult = { done: false, step: "update", rc: 100 };
 * ```
 */
export type StepResult = { done: true } | { done: false; step: string; rc?: number | undefined };

/**
 * Read the `step=…` line of {@linkcode buildEssentialScript} or {@linkcode guestBuildScript}.
 *
 * @param code The script's exit code.
 * @param stdout Its stdout.
 * @returns How it ended; `step: "unknown"` when it printed no `step=` line.
 *
 * @example Usage
 * ```ts
 * import { parseStepResult } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseStepResult(1, "step=install rc=100\n"), { done: false, step: "install", rc: 100 });
 * assert.deepEqual(parseStepResult(0, "step=done\n"), { done: true });
 * ```
 */
export function parseStepResult(code: number, stdout: string): StepResult {
  const m = /^step=(\w+)(?: rc=(\d+))?$/m.exec(stdout);
  if (code === 0 && m?.[1] === "done") return { done: true };
  if (!m || m[1] === "done") return { done: false, step: "unknown", rc: code };
  return { done: false, step: m[1]!, rc: m[2] === undefined ? undefined : Number(m[2]) };
}

/**
 * The line after the `build-essential` install.
 *
 * @param result How the install script ended.
 * @param instance The instance name.
 * @returns One line.
 *
 * @example Usage
 * ```ts
 * import { buildEssentialResultLine } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   buildEssentialResultLine({ done: true }, "dev"),
 *   "gamma: guest: build-essential installed; instance dev has a C compiler now",
 * );
 * ```
 */
export function buildEssentialResultLine(result: StepResult, instance: string): string {
  if (result.done) {
    return `gamma: guest: build-essential installed; instance ${instance} has a C compiler now`;
  }
  const what = result.step === "sudo"
    ? "sudo asks for a password"
    : result.step === "update"
    ? `apt-get update failed${result.rc === undefined ? "" : ` (exit ${result.rc})`}`
    : result.step === "install"
    ? `apt-get install failed${result.rc === undefined ? "" : ` (exit ${result.rc})`}`
    : `the install script failed${result.rc === undefined ? "" : ` (exit ${result.rc})`}`;
  return `gamma: guest: installing build-essential failed: ${what}; run it by hand: ${
    manualBuildEssential(instance)
  }`;
}

/**
 * The name of the binary a Cargo package builds by default: the first `[[bin]]` name, else the
 * `[package]` name when the package has `src/main.rs`. Only the simple `name = "…"` form is
 * read (no TOML parser is needed for that).
 *
 * @param manifest The text of `Cargo.toml`.
 * @param hasMainRs Whether `src/main.rs` exists next to it.
 * @returns The binary name, or `undefined` for a library or a virtual workspace manifest.
 *
 * @example Usage
 * ```ts
 * import { projectBinaryName } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(projectBinaryName('[package]\nname = "todo"\n', true), "todo");
 * assert.equal(projectBinaryName('[package]\nname = "lib-only"\n', false), undefined);
 * ```
 */
export function projectBinaryName(manifest: string, hasMainRs: boolean): string | undefined {
  let section = "";
  let packageName: string | undefined;
  for (const raw of manifest.split("\n")) {
    const line = raw.replace(/\s+#.*$/, "").trim();
    const header = /^\[\[?\s*([\w.-]+)\s*\]\]?$/.exec(line);
    if (header) {
      section = line.startsWith("[[") ? `[[${header[1]}]]` : header[1]!;
      continue;
    }
    const name = /^name\s*=\s*(?:"([^"]+)"|'([^']+)')$/.exec(line);
    if (!name) continue;
    const value = name[1] ?? name[2]!;
    if (section === "[[bin]]") return value;
    if (section === "package") packageName ??= value;
  }
  return hasMainRs ? packageName : undefined;
}

/**
 * The guest script that looks for the project binary: `command -v NAME`, else an executable
 * `RELEASE_DIR/NAME`. Run as `sh -c SCRIPT sh NAME RELEASE_DIR` (`RELEASE_DIR` may be empty).
 *
 * @returns The POSIX `sh` script.
 *
 * @example Usage
 * ```ts
 * import { binaryProbeScript } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(binaryProbeScript(), /command -v "\$1"/);
 * ```
 */
export function binaryProbeScript(): string {
  return [
    `echo ${HEADER}`,
    'p=$(command -v "$1" 2>/dev/null) || p=',
    'if [ -z "$p" ] && [ -n "$2" ] && [ -x "$2/$1" ]; then p="$2/$1"; fi',
    'echo "bin=$p"',
  ].join("\n");
}

/**
 * Read the project binary probe's result.
 *
 * @param result The probe's exit code and stdout.
 * @returns The guest path it found (`""`: not found), or `undefined` when the probe failed.
 *
 * @example Usage
 * ```ts
 * import { parseBinaryProbe } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseBinaryProbe({ code: 0, stdout: "gamma-probe-1\nbin=\n" }), "");
 * ```
 */
export function parseBinaryProbe(result: { code: number; stdout: string }): string | undefined {
  return result.code === 0 ? keyValues(result.stdout)?.get("bin") : undefined;
}

/**
 * The guest script that builds the project binary: in `DIR`, `cargo build --release --bin
 * NAME`, announced with a `+ …` line, all output on stderr; stdout gets one `step=…` line
 * (`done`, `cd`, `cargo` when cargo is missing, `build` with `rc=N`). Run as `sh -c SCRIPT sh DIR
 * NAME`.
 *
 * @returns The POSIX `sh` script.
 *
 * @example Usage
 * ```ts
 * import { guestBuildScript } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(guestBuildScript(), /cargo build --release --bin "\$2"/);
 * ```
 */
export function guestBuildScript(): string {
  return [
    "exec 3>&1 1>&2",
    'cd "$1" || { echo step=cd >&3; exit 1; }',
    "command -v cargo >/dev/null 2>&1 || { echo step=cargo >&3; exit 1; }",
    'echo "+ cargo build --release --bin $2"',
    'cargo build --release --bin "$2" </dev/null || { rc=$?; echo "step=build rc=$rc" >&3; exit 1; }',
    "echo step=done >&3",
  ].join("\n");
}

/**
 * What is known about the project binary, for {@linkcode binaryPlan}.
 *
 * @example Usage
 * ```ts
 * import type { BinaryFacts } from "./provision.ts";
 *
 * const facts: BinaryFacts = { instance: "dev", name: "todo", found: "", autoBuild: false };
 * ```
 */
export interface BinaryFacts {
  /** The instance name. */
  instance: string;
  /** The binary's name. */
  name: string;
  /** What the probe found: a guest path, `""` for nothing, `undefined` when it failed. */
  found: string | undefined;
  /** The guest path of the Cargo workspace root, when a mount shows it. */
  guestWorkspace?: string | undefined;
  /** The guest path of its `target/release`, when a mount shows it. */
  guestRelease?: string | undefined;
  /** The host Cargo workspace root. */
  hostWorkspace?: string | undefined;
  /** The host's `target/release/NAME`, when it exists. */
  hostBinary?: string | undefined;
  /** The host OS; a host build is offered to the guest only from Linux. */
  platform?: string | undefined;
  /** `DEVSHELL_VM_AUTO_BUILD_TODO_GUEST`. */
  autoBuild: boolean;
}

/**
 * What to say when the project binary is not in the guest (`DEVSHELL_VM_GUEST_TODO_HINT`), and
 * whether to build it there now (`DEVSHELL_VM_AUTO_BUILD_TODO_GUEST`, only when the workspace
 * is mounted).
 *
 * @param f The facts.
 * @returns The notice lines and the decision.
 *
 * @example Usage
 * ```ts
 * import { binaryPlan } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * const plan = binaryPlan({ instance: "dev", name: "app", found: "", guestWorkspace: "/workspace", autoBuild: false });
 * assert.deepEqual(plan.lines, [
 *   "gamma: guest: app (this project's binary) is not on the PATH of instance dev",
 *   "gamma: hint: build it in the guest: gamma exec -w /workspace -- cargo build --release --bin app (DEVSHELL_VM_AUTO_BUILD_TODO_GUEST=on does it when gamma shell starts)",
 * ]);
 * ```
 */
export function binaryPlan(f: BinaryFacts): { lines: string[]; build: boolean } {
  if (f.found === undefined) {
    return {
      lines: [`gamma: guest: could not look for ${f.name} in instance ${f.instance}`],
      build: false,
    };
  }
  if (f.found !== "") return { lines: [], build: false };
  const nowhere = f.guestRelease ? ` nor in ${f.guestRelease}` : "";
  const lines = [
    `gamma: guest: ${f.name} (this project's binary) is not on the PATH of instance ${f.instance}${nowhere}${
      f.name === "todo" ? " (the apt package devtodo is a different program)" : ""
    }`,
  ];
  const q = (s: string): string => /^[\w./+:@%=-]+$/.test(s) ? s : bashSingleQuoted(s);
  if (f.guestWorkspace === undefined) {
    lines.push(
      `gamma: hint: the project ${
        f.hostWorkspace ?? ""
      } is not under a mount of instance ${f.instance}: gamma mounts -i ${f.instance} --writable --write --restart`,
    );
  } else if (!f.autoBuild) {
    lines.push(
      `gamma: hint: build it in the guest: gamma exec -w ${
        q(f.guestWorkspace)
      } -- cargo build --release --bin ${
        q(f.name)
      } (DEVSHELL_VM_AUTO_BUILD_TODO_GUEST=on does it when gamma shell starts)`,
    );
  }
  if (f.hostBinary !== undefined && f.guestRelease === undefined && f.platform === "linux") {
    const dir = f.hostBinary.slice(0, f.hostBinary.lastIndexOf("/"));
    const guest = `/host-${f.name}-bin`;
    lines.push(
      `gamma: hint: or use the host's build ${f.hostBinary}: gamma mounts -i ${f.instance} --add ${
        q(`${dir}:${guest}:ro`)
      } --path-prepend ${guest} --write --restart`,
    );
  }
  if (f.autoBuild && f.guestWorkspace !== undefined) {
    lines.push(
      `gamma: guest: building ${f.name} in instance ${f.instance} (DEVSHELL_VM_AUTO_BUILD_TODO_GUEST) in ${f.guestWorkspace}:`,
    );
    return { lines, build: true };
  }
  return { lines, build: false };
}

/**
 * The line after the guest build.
 *
 * @param result How {@linkcode guestBuildScript} ended.
 * @param f The binary's name, the instance and the guest workspace.
 * @returns One line.
 *
 * @example Usage
 * ```ts
 * import { buildResultLine } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   buildResultLine({ done: true }, { name: "todo", instance: "dev", guestWorkspace: "/workspace" }),
 *   "gamma: guest: built target/release/todo in /workspace",
 * );
 * ```
 */
export function buildResultLine(
  result: StepResult,
  f: { name: string; instance: string; guestWorkspace: string },
): string {
  if (result.done) return `gamma: guest: built target/release/${f.name} in ${f.guestWorkspace}`;
  if (result.step === "cargo") {
    return `gamma: guest: cannot build ${f.name}: cargo is not on the PATH of instance ${f.instance} (gamma doctor -i ${f.instance} --tool cargo)`;
  }
  if (result.step === "cd") {
    return `gamma: guest: cannot build ${f.name}: instance ${f.instance} has no directory ${f.guestWorkspace}`;
  }
  return `gamma: guest: building ${f.name} failed${
    result.rc === undefined ? "" : ` (cargo build exited ${result.rc})`
  }`;
}
