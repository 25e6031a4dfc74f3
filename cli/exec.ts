/**
 * `gamma exec`: run one command in the guest.
 *
 * @module
 */

import { type CommandSpec, LIMA_PERMISSIONS, UsageError } from "./_spec.ts";
import { finish, sessionFor } from "./_session.ts";

/** What Lima passes as an environment variable name (it quotes the value, not the name). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `gamma exec`. */
export const execCommand: CommandSpec = {
  name: "exec",
  summary: "run one command in the guest, at the guest path of the current directory",
  usage: [
    "exec [-i NAME] [-e K=V | -e K]... [-w GUEST_DIR] [-n] [--live [--verbose]] [--] CMD [ARG...]",
  ],
  description: [
    "Starts the VM if needed, maps the host working directory to its guest path through the",
    "instance's mounts, and runs CMD there. stdin, stdout, stderr and the exit code pass",
    "straight through; Ctrl-C, SIGTERM and SIGHUP are passed to the command. A pseudo-terminal",
    "exists only when stdout is a terminal (Lima's rule): `gamma exec -- top | cat` has none.",
    "Options end at CMD; use -- when CMD starts with a dash.",
  ],
  commandTail: true,
  failureCode: 125,
  permissions: LIMA_PERMISSIONS,
  options: [
    {
      name: "env",
      short: "e",
      value: "K=V",
      multiple: true,
      help: "set K in the command's environment; -e K passes the host's value of K",
    },
    {
      name: "workdir",
      short: "w",
      value: "GUEST_DIR",
      help: "absolute guest directory to run in",
      default: "guest path of the current directory",
    },
    {
      name: "no-stdin",
      short: "n",
      help: "close stdin (otherwise piped input reaches the command, lima-vm/lima#2924)",
    },
    {
      name: "live",
      help: "sync mode: keep the copy live both ways while CMD runs (for long commands)",
    },
    { name: "verbose", help: "with --live: one line per sync batch that changed something" },
  ],
  examples: [
    "gamma exec -- cargo test          # run the tests in the guest",
    "gamma exec -e RUST_LOG=debug -- ./target/debug/app",
    "tar c src | gamma exec -- tar x -C /tmp   # stdin reaches the command",
  ],
  exitCodes: [
    "N     the command's own exit code",
    "128+N the command (limactl) was ended by signal N",
    "125   gamma failed before the command ran (configuration, limactl, VM start, unmapped directory)",
    "255   ssh could not reach the instance (Lima's message is printed above)",
    "2     usage error",
  ],
  async run(parsed, context) {
    if (parsed.positionals.length === 0) throw new UsageError("gamma exec: missing command", this);
    const env: Record<string, string> = {};
    for (const item of (parsed.values["env"] ?? []) as string[]) {
      const eq = item.indexOf("=");
      const name = eq < 0 ? item : item.slice(0, eq);
      const bad = name === ""
        ? "missing name (write -e K=V, or -e K to pass the host's value)"
        : !ENV_NAME.test(name)
        ? `invalid name ${
          JSON.stringify(name)
        }: use letters, digits and "_", not starting with a digit`
        : item.includes("\0")
        ? "contains a NUL character"
        : undefined;
      if (bad !== undefined) {
        throw new UsageError(`gamma exec: -e ${JSON.stringify(item)}: ${bad}`, this);
      }
      if (eq > 0) env[name] = item.slice(eq + 1);
      else {
        const value = Deno.env.get(name);
        if (value !== undefined) env[name] = value;
      }
    }
    const workdir = parsed.values["workdir"] as string | undefined;
    if (workdir !== undefined && !workdir.startsWith("/")) {
      throw new UsageError(
        `gamma exec: -w ${JSON.stringify(workdir)}: the guest directory must be an absolute path`,
        this,
      );
    }
    const session = await sessionFor(parsed, context);
    const result = await session.exec(parsed.positionals, {
      env,
      workdir,
      stdin: parsed.values["no-stdin"] === true ? "null" : "inherit",
      live: parsed.values["live"] === true,
      verbose: parsed.values["verbose"] === true,
    });
    if (result.code === 126 || result.code === 127) {
      // lib/doctor.ts is large and only 126/127 get a hint: loaded then, not on every exec
      const { failureHint } = await import("../lib/doctor.ts");
      const hint = failureHint({
        command: parsed.positionals[0]!,
        code: result.code,
        instance: session.instance,
        backend: session.backend,
        limaHints: session.config.limaHints,
      });
      if (hint !== undefined) context.notice(hint);
    }
    return await finish(session, result.code, context);
  },
};
