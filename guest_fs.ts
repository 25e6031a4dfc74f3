/**
 * Files in a Lima guest: {@linkcode GuestFs} lists, reads, writes, creates and removes them
 * through a `GammaSession`, one guest call per operation, every path confined to a root
 * directory ({@linkcode confineGuestPath}). Failures are {@linkcode GuestFsError}s that say
 * which operation, which path and why (`kind`).
 *
 * @example Confine paths before any guest call
 * ```ts
 * import { GammaSession } from "@devshell/gamma";
 * import { confineGuestPath, GuestFs } from "@devshell/gamma/guest-fs";
 * import assert from "node:assert/strict";
 *
 * assert.equal(confineGuestPath("src/main.rs", "/workspace/app"), "/workspace/app/src/main.rs");
 *
 * // Building a GuestFs makes no guest call, so this runs without Lima.
 * const session = new GammaSession({ env: { DEVSHELL_VM: "off", PATH: "/usr/bin:/bin" } });
 * const fs = new GuestFs(session, { root: "/workspace/app" });
 * await assert.rejects(fs.read("../../etc/passwd"), { name: "GuestFsError", kind: "OutsideRoot" });
 * // With a Lima instance:
 * //   await fs.write("notes/today.txt", new TextEncoder().encode("hi\n"), { createParents: true });
 * //   const names = (await fs.list("notes")).map((entry) => entry.name);
 * ```
 *
 * @module
 */

export {
  confineGuestPath,
  type GuestEntry,
  type GuestFileType,
  GuestFsError,
  type GuestFsErrorKind,
  type GuestFsOp,
} from "./lib/guest_fs.ts";
export {
  GuestFs,
  type GuestFsOptions,
  type GuestMkdirOptions,
  type GuestRemoveOptions,
  type GuestWriteOptions,
} from "./lib/session/guest_fs.ts";
