/**
 * The package version, kept equal to `version` in deno.json (a test checks it).
 *
 * @example Usage
 * ```ts
 * import { VERSION } from "@devshell/gamma";
 * import assert from "node:assert/strict";
 *
 * assert.match(VERSION, /^\d+\.\d+\.\d+/);
 * ```
 */
export const VERSION = "0.1.0";
