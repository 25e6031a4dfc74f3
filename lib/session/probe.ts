/**
 * The first-run probe: the first `gamma exec` or `gamma shell` against an instance checks its
 * mount the way `gamma doctor`'s `mount` and `mount-live` checks do, once, and remembers that it
 * did per instance and `lima.yaml` version, so later runs pay nothing.
 *
 * @module
 */

import { posix } from "node:path";
import { type DoctorFacts, mountCheck, mountLiveCheck, probeHint } from "../doctor.ts";
import { normalizeAbsolutePath } from "../guest_path.ts";
import { fileStamp } from "./_files.ts";
import { probeGuest } from "./doctor.ts";
import { projectTarget } from "./provision.ts";
import type { SessionView } from "./_session_view.ts";

/**
 * Options of {@linkcode firstRunProbe}.
 *
 * @example Usage
 * ```ts
 * import type { FirstRunProbeOptions } from "./probe.ts";
 *
 * const options: FirstRunProbeOptions = { notice: (line) => console.error(line) };
 * ```
 */
export interface FirstRunProbeOptions {
  /** Where the hint goes; default stderr. */
  notice?: ((line: string) => void) | undefined;
}

/**
 * What {@linkcode firstRunProbe} did: `off` (host backend or `DEVSHELL_VM_LIMA_HINTS=off`),
 * `cached` (already probed for this `lima.yaml`: no process run), `ok` (probed, no problem),
 * `hinted` (probed, the hint was printed), `skipped` (could not probe now: no guest path for the
 * working directory, no marker file could be created, or the guest did not answer; tried again
 * next time).
 *
 * @example Usage
 * ```ts
 * import type { FirstRunProbeResult } from "./probe.ts";
 *
 * const result: FirstRunProbeResult = "cached";
 * ```
 */
export type FirstRunProbeResult = "off" | "cached" | "ok" | "hinted" | "skipped";

/**
 * The file where the first-run probe remembers an instance: `<cache>/probes/<instance>-<hash of
 * LIMA_HOME>.json` under `$XDG_CACHE_HOME/gamma` or `~/.cache/gamma`.
 *
 * @param session The session.
 * @returns The path.
 *
 * @example Usage
 * ```ts
 * import { GammaSession } from "@devshell/gamma";
 * import { probeCacheFile } from "./probe.ts";
 *
 * const env = { DEVSHELL_VM: "off", XDG_CACHE_HOME: "/home/me/.cache" };
 * probeCacheFile(new GammaSession({ env })); // "/home/me/.cache/gamma/probes/devshell-rust-….json"
 * ```
 */
export function probeCacheFile(session: SessionView): string {
  return session.cacheFile("probes", "json");
}

/**
 * The first-run probe, for `GammaSession.exec` and `GammaSession.shell` to call once the VM runs
 * and the working directory is mapped. The first time for an instance (and again whenever its
 * `lima.yaml` changes) it checks the mount of the working directory's project (a read-only or
 * missing real mount) and that a marker file created in the working directory shows up at its
 * guest path (one `limactl shell` call); a problem prints one line pointing to `gamma doctor`.
 * Then it remembers, in the cache directory, that this `lima.yaml` was probed: later runs read
 * one small file and run no process. Gated by `DEVSHELL_VM_LIMA_HINTS`; never throws for a
 * problem it finds.
 *
 * @param session The session.
 * @param options The environment and where the hint goes.
 * @returns What it did.
 *
 * @example Usage
 * ```typescript ignore
 * import { GammaSession } from "@devshell/gamma";
 * import { firstRunProbe } from "./probe.ts";
 *
 * const session = new GammaSession({ instance: "dev" });
 * await session.ensureRunning();
 * await firstRunProbe(session);
 * ```
 */
export async function firstRunProbe(
  session: SessionView,
  options: FirstRunProbeOptions = {},
): Promise<FirstRunProbeResult> {
  if (session.backend !== "lima" || !session.config.limaHints) return "off";
  const dir = session.instanceDir;
  if (dir === undefined) return "off";
  const file = probeCacheFile(session);
  const key = fileStamp(`${dir}/lima.yaml`);
  try {
    if (JSON.parse(await Deno.readTextFile(file))?.key === key) return "cached";
  } catch {
    // no cache yet, or unreadable: probe
  }

  const info = await session.instanceInfo();
  const guestDir = await session.guestPathOf();
  if (info === undefined || guestDir === undefined) return "skipped";
  const cwd = session.canonicalHostPath(session.cwd);
  const gw = session.config.guestWorkspace;
  const facts: DoctorFacts = {
    instance: session.instance,
    limaHome: session.config.limaHome,
    platform: Deno.build.os,
    limactl: { path: session.limactl, version: "probe" },
    instanceFacts: {
      state: "found",
      status: "Running",
      dir,
      errors: [],
      mounts: info.mounts,
    },
    project: {
      cwd,
      root: projectTarget(session).path,
      guestCwd: guestDir,
      assumedWorkspace: info.mounts.some((m) => normalizeAbsolutePath(m.mountPoint) === gw)
        ? undefined
        : { location: session.workspaceParent().path, mountPoint: gw, writable: true },
    },
    tools: [],
    toolsExplicit: false,
  };
  facts.live = await probeGuest(session, { hostDir: cwd, guestDir, needMarker: true });
  if (facts.live.state === "failed" || facts.live.markerError !== undefined) return "skipped";
  const hint = probeHint(session.instance, [mountCheck(facts), mountLiveCheck(facts)]);
  if (hint !== undefined) {
    (options.notice ?? ((l) => Deno.stderr.writeSync(new TextEncoder().encode(`${l}\n`))))(hint);
  }
  try {
    await Deno.mkdir(posix.dirname(file), { recursive: true });
    await Deno.writeTextFile(
      file,
      JSON.stringify({ key, result: hint === undefined ? "ok" : "hinted" }),
    );
  } catch {
    // a read-only cache costs one probe per run, nothing else
  }
  return hint === undefined ? "ok" : "hinted";
}
