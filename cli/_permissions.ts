/**
 * How to grant gamma the Deno permissions it lacks, said for the way it was started: from JSR,
 * from a file (a checkout's cli.ts or the bundle), or as a compiled binary.
 *
 * @module
 */

/** How this gamma was started, from the main module's URL. */
export type Launch =
  | { kind: "jsr"; specifier: string }
  | { kind: "file"; path: string }
  | { kind: "compiled" }
  | { kind: "other"; url: string };

/**
 * Tell how gamma was started from `Deno.mainModule`.
 *
 * @param mainModule The main module URL.
 * @returns The launch kind.
 */
export function launchOf(mainModule: string): Launch {
  // deno compile runs the embedded module from a virtual directory named deno-compile-<name>.
  if (/\/deno-compile-[^/]+\//.test(mainModule)) return { kind: "compiled" };
  if (mainModule.startsWith("file://")) {
    return { kind: "file", path: decodeURIComponent(new URL(mainModule).pathname) };
  }
  const jsr = mainModule.match(/^https:\/\/jsr\.io\/(@[^/]+\/[^/]+)\/[^/]+\/(.*)$/);
  if (jsr) return { kind: "jsr", specifier: `jsr:${jsr[1]}${jsr[2] === "cli.ts" ? "/cli" : ""}` };
  return { kind: "other", url: mainModule };
}

/**
 * The lines that tell how to run a subcommand with the permissions it needs.
 *
 * @param launch How gamma was started.
 * @param command The subcommand word.
 * @param flags Every permission flag the subcommand needs, e.g. `--allow-env`.
 * @returns Two or three lines, indented under the error.
 */
export function permissionAdvice(launch: Launch, command: string, flags: string[]): string[] {
  const all = flags.join(" ");
  switch (launch.kind) {
    case "compiled":
      return [
        "  this gamma binary was compiled without them; compile it again with them:",
        `  deno compile ${all} -o gamma jsr:@devshell/gamma/cli`,
      ];
    case "file":
      return [
        `  run it as: deno run ${all} ${launch.path} ${command} …`,
        `  or:        deno run -A ${launch.path} ${command} …`,
      ];
    case "jsr":
      return [
        `  run it as: deno run ${all} ${launch.specifier} ${command} …`,
        `  or install it with them: deno install -g -f ${all} -n gamma ${launch.specifier}`,
      ];
    default:
      return [
        `  run it as: deno run ${all} ${launch.url} ${command} …`,
        `  or:        deno run -A ${launch.url} ${command} …`,
      ];
  }
}
