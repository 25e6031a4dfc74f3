// deno-lint-ignore-file no-console
/**
 * The targets the e2e suite runs against: the `limactl` stand-in (always, as in CI) and a real
 * Lima when `GAMMA_E2E_LIMACTL` and friends name one. See tests/e2e/README.md.
 *
 * @module
 */

import { createLimaHome, type LimaHome } from "../support/lima_home.ts";

/** One Lima to run the scenarios against. */
export interface Target {
  /** `stand-in` or `real Lima`. */
  name: string;
  /** Environment for gamma: LIMA_HOME, DEVSHELL_VM_LIMACTL, DEVSHELL_VM_LIMA_INSTANCE. */
  env: Record<string, string>;
  /** The instance. */
  instance: string;
  /** A host directory under a remapped mount (a scratch directory inside it is used). */
  hostDir: string;
  /** Where the guest sees `hostDir`. */
  guestDir: string;
  /** Mode S: a host directory mounted writable at the guest workspace (`/workspace`). */
  workspace: string | undefined;
  /** Removes what the target made. */
  dispose(): Promise<void>;
}

/** Why the real-Lima target is not configured, or `undefined` when it is. */
export function realLimaMissing(): string | undefined {
  const need = [
    "GAMMA_E2E_LIMACTL",
    "GAMMA_E2E_INSTANCE",
    "GAMMA_E2E_HOST_DIR",
    "GAMMA_E2E_GUEST_DIR",
  ];
  const missing = need.filter((k) => !Deno.env.get(k));
  return missing.length === 0 ? undefined : `${missing.join(", ")} not set`;
}

/** The stand-in: a LIMA_HOME with one running instance, shared by every scenario. */
export async function standInTarget(): Promise<Target> {
  const lima: LimaHome = await createLimaHome();
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-e2e-" }));
  const code = `${root}/code`;
  const workspace = `${root}/ws`;
  await Deno.mkdir(code);
  await Deno.mkdir(workspace);
  await lima.addInstance("e2e", {
    mounts: [
      { location: code, mountPoint: "/mnt/code", writable: true },
      { location: workspace, mountPoint: "/workspace", writable: true },
    ],
    running: true,
  });
  return {
    name: "stand-in",
    env: { ...lima.env, DEVSHELL_VM_LIMACTL: lima.limactl, DEVSHELL_VM_LIMA_INSTANCE: "e2e" },
    instance: "e2e",
    hostDir: code,
    guestDir: "/mnt/code",
    workspace,
    async dispose() {
      await lima[Symbol.asyncDispose]();
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** A real Lima named by the GAMMA_E2E_* variables; never creates, starts or stops instances. */
export function realLimaTarget(): Target {
  const get = (k: string): string => Deno.env.get(k) ?? "";
  const home = Deno.env.get("HOME") ?? "";
  return {
    name: "real Lima",
    env: {
      LIMA_HOME: Deno.env.get("LIMA_HOME") ?? `${home}/.lima`,
      DEVSHELL_VM_LIMACTL: get("GAMMA_E2E_LIMACTL"),
      DEVSHELL_VM_LIMA_INSTANCE: get("GAMMA_E2E_INSTANCE"),
    },
    instance: get("GAMMA_E2E_INSTANCE"),
    hostDir: get("GAMMA_E2E_HOST_DIR"),
    guestDir: get("GAMMA_E2E_GUEST_DIR"),
    workspace: Deno.env.get("GAMMA_E2E_WORKSPACE") || undefined,
    dispose: () => Promise.resolve(),
  };
}

/** Print why a target or scenario is skipped, so a skipped run is never mistaken for a pass. */
export function printSkip(what: string, reason: string): void {
  console.log(`e2e: skipping ${what}: ${reason}`);
}
