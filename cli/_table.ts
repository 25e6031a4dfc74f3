/**
 * The subcommand table: one entry per file under cli/, each loaded only when it is used (a warm
 * `gamma exec` loads cli/exec.ts and what it imports, nothing of the other subcommands).
 *
 * @module
 */

import type { CommandSpec } from "./_spec.ts";

/** A subcommand's name, and its spec loaded on first use. */
export interface CommandEntry {
  /** The word after `gamma`; the same as the loaded spec's `name`. */
  name: string;
  /** Import the subcommand's module and return its spec. */
  load(): Promise<CommandSpec>;
}

/** Every subcommand, in the order help lists them. */
export const COMMANDS: CommandEntry[] = [
  { name: "exec", load: async () => (await import("./exec.ts")).execCommand },
  { name: "shell", load: async () => (await import("./shell.ts")).shellCommand },
  { name: "start", load: async () => (await import("./start.ts")).startCommand },
  { name: "stop", load: async () => (await import("./start.ts")).stopCommand },
  { name: "status", load: async () => (await import("./status.ts")).statusCommand },
  { name: "path", load: async () => (await import("./path.ts")).pathCommand },
  { name: "doctor", load: async () => (await import("./doctor.ts")).doctorCommand },
  { name: "mounts", load: async () => (await import("./mounts.ts")).mountsCommand },
  { name: "sync", load: async () => (await import("./sync.ts")).syncCommand },
  { name: "fs", load: async () => (await import("./fs.ts")).fsCommand },
  { name: "init", load: async () => (await import("./init.ts")).initCommand },
  { name: "config", load: async () => (await import("./config.ts")).configCommand },
  { name: "ssh-config", load: async () => (await import("./ssh_config.ts")).sshConfigCommand },
  { name: "completions", load: async () => (await import("./completions.ts")).completionsCommand },
];

/**
 * Every subcommand's spec, in table order (for help and completion scripts).
 *
 * @returns The specs.
 */
export async function loadCommands(): Promise<CommandSpec[]> {
  return await Promise.all(COMMANDS.map((c) => c.load()));
}
