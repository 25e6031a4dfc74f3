/**
 * The subcommand table: one entry per file under cli/.
 *
 * @module
 */

import { completionsCommand } from "./completions.ts";
import { configCommand } from "./config.ts";
import { doctorCommand } from "./doctor.ts";
import { execCommand } from "./exec.ts";
import { fsCommand } from "./fs.ts";
import { initCommand } from "./init.ts";
import { mountsCommand } from "./mounts.ts";
import { pathCommand } from "./path.ts";
import { shellCommand } from "./shell.ts";
import { sshConfigCommand } from "./ssh_config.ts";
import type { CommandSpec } from "./_spec.ts";
import { startCommand, stopCommand } from "./start.ts";
import { statusCommand } from "./status.ts";
import { syncCommand } from "./sync.ts";

/** Every subcommand, in the order help lists them. */
export const COMMANDS: CommandSpec[] = [
  execCommand,
  shellCommand,
  startCommand,
  stopCommand,
  statusCommand,
  pathCommand,
  doctorCommand,
  mountsCommand,
  syncCommand,
  fsCommand,
  initCommand,
  configCommand,
  sshConfigCommand,
  completionsCommand,
];
