/**
 * Lima instance names: validation and the cache-directory segment derived from them.
 *
 * @module
 */

import { InvalidInstanceNameError } from "./errors.ts";

/** Lima's identifier rule (lima-vm/lima `pkg/identifiers/validate.go`). */
const IDENTIFIER = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;
/** Lima's identifier length limit. */
const MAX_LENGTH = 76;

/**
 * Check a Lima instance name against Lima's own rule, before it reaches any `limactl` argv.
 *
 * Lima accepts letters and digits joined by single `.`, `_` or `-`, at most 76 characters, not
 * ending in `.yml` or `.yaml` (lima-vm/lima `ValidateInstName`). A name that starts with `-`
 * would be read by `limactl` as a flag, so it is refused with that reason.
 *
 * @param name The instance name.
 * @returns `name`, unchanged, when valid.
 * @throws {InvalidInstanceNameError} Saying why the name is invalid.
 *
 * @example Usage
 * ```ts
 * import { InvalidInstanceNameError } from "@devshell/gamma";
 * import { validateInstanceName } from "@devshell/gamma/lima";
 * import assert from "node:assert/strict";
 *
 * assert.equal(validateInstanceName("devshell-rust"), "devshell-rust");
 * assert.throws(() => validateInstanceName("-rm"), InvalidInstanceNameError);
 * ```
 */
export function validateInstanceName(name: string): string {
  const why = invalidReason(name);
  if (why !== undefined) {
    throw new InvalidInstanceNameError(name, why);
  }
  return name;
}

function invalidReason(name: string): string | undefined {
  if (name === "") return "it is empty";
  if (name.startsWith("-")) return 'it starts with "-", so limactl would read it as a flag';
  if (name.includes("/")) return 'it contains "/"';
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return "it contains a control character";
  if (/\s/u.test(name)) return "it contains white space";
  if (name.length > MAX_LENGTH) return `it is ${name.length} characters long`;
  const lower = name.toLowerCase();
  if (lower.endsWith(".yml") || lower.endsWith(".yaml")) {
    return "it ends with .yml or .yaml, which limactl reads as a template file";
  }
  if (!IDENTIFIER.test(name)) return "it does not match [A-Za-z0-9]+([._-][A-Za-z0-9]+)*";
  return undefined;
}

/**
 * Turn an instance name into a safe single directory name: every character that is not an
 * ASCII letter, digit, `-` or `_` becomes one `_` (gamma-behaviour §7.1).
 *
 * @param name The instance name.
 * @returns The sanitised segment.
 *
 * @example Usage
 * ```ts
 * import { sanitizeInstanceSegment } from "./instance_name.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sanitizeInstanceSegment("my.instance"), "my_instance");
 * ```
 */
export function sanitizeInstanceSegment(name: string): string {
  let out = "";
  for (const ch of name) out += /^[A-Za-z0-9_-]$/.test(ch) ? ch : "_";
  return out;
}
