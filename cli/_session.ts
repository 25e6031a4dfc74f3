/**
 * Making a {@linkcode GammaSession} from the global options every subcommand accepts.
 *
 * @module
 */

import { describeOrigin } from "../lib/config.ts";
import { findProjectFile } from "../lib/project_root.ts";
import { settingsReader, userConfigPath } from "../lib/session/_settings_reader.ts";
import { GammaSession } from "../lib/session/session.ts";
import type { GammaSessionOptions } from "../lib/session/types.ts";
import type { CliContext, Parsed } from "./_spec.ts";

/** Whether a project `.gamma.yaml` or the user's settings file exists for this process. */
function settingsFilesExist(): boolean {
  const exists = (path: string): boolean => {
    try {
      Deno.lstatSync(path);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable) throw e; // the CLI names the missing permission
      return false;
    }
  };
  const user = userConfigPath(Deno.env.toObject());
  return findProjectFile(Deno.cwd(), exists) !== undefined ||
    (user !== undefined && exists(user));
}

/**
 * Build the session for a subcommand from `-i`, `--limactl` and `--debug`.
 *
 * @param parsed The parsed arguments.
 * @param context Where notices go.
 * @param extra More session options (e.g. `configFiles: false`).
 * @returns The session (no VM work done yet).
 */
export async function sessionFor(
  parsed: Parsed,
  context: CliContext,
  extra: GammaSessionOptions = {},
): Promise<GammaSession> {
  // The settings reader (YAML parser, node:crypto) loads only when a settings file exists: a
  // warm exec without one loads no npm package.
  if (extra.configFiles === undefined && settingsFilesExist()) {
    await import("../lib/session/config_files.ts");
  }
  const instance = parsed.values["instance"];
  const limactl = parsed.values["limactl"];
  const session: GammaSession = new GammaSession({
    instance: typeof instance === "string" ? instance : undefined,
    limactl: typeof limactl === "string" ? limactl : undefined,
    notice: context.notice,
    // The CLI shows Lima's progress on stderr, as limactl would.
    stderr: "inherit",
    onLimactl: parsed.values["debug"] === true
      ? (argv) => context.notice(`gamma: debug: ${JSON.stringify([session.limactl, ...argv])}`)
      : undefined,
    onGuestCommand: parsed.values["debug"] === true
      ? (transport, argv) =>
        context.notice(
          transport.kind === "ssh"
            ? `gamma: debug: ssh path (${transport.reason}): ${JSON.stringify(argv)}`
            : `gamma: debug: limactl path (${transport.reason})`,
        )
      : undefined,
    ...(extra.configFiles === undefined && settingsReader() === undefined
      ? { configFiles: [] }
      : {}),
    ...extra,
  });
  return session;
}

/**
 * Run a guest command's aftermath: the ssh hint for exit code 255 and stop-on-exit.
 *
 * @param session The session.
 * @param code The command's exit code.
 * @param context Where notices go.
 * @returns The exit code to use.
 */
export async function finish(
  session: GammaSession,
  code: number,
  context: CliContext,
): Promise<number> {
  if (code === 255 && session.backend === "lima") {
    context.notice(
      `gamma: cannot reach instance ${session.instance} over ssh (limactl exited 255; Lima's message, if any, is above; a guest command that exits 255 ends the same way)`,
    );
  }
  try {
    if (await session.close()) {
      const origin = session.config.origins.stopOnExit;
      context.notice(
        `gamma: stopped instance ${session.instance} (stopOnExit, ${describeOrigin(origin)})`,
      );
    }
  } catch (e) {
    context.notice(`gamma: could not stop instance ${session.instance}: ${(e as Error).message}`);
  }
  return code;
}
