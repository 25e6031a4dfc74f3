/**
 * The subcommand table: one entry per file under cli/.
 *
 * @module
 */

import type { CommandSpec } from "./_spec.ts";

/** Every subcommand, in the order help lists them. */
export const COMMANDS: CommandSpec[] = [];
