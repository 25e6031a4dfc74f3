/**
 * Host programs some tests need (other shells, busybox). A developer's machine may lack them:
 * those tests are skipped with the reason and the package to install. CI (CI set) runs
 * everything, so there a missing program fails the test instead.
 *
 * @module
 */

/** The Debian package of each optional program. */
const PACKAGES: Record<string, string> = {
  dash: "dash",
  zsh: "zsh",
  fish: "fish",
  busybox: "busybox",
  bwrap: "bubblewrap",
};

/**
 * Where a program is: on PATH, else in /usr/bin or /bin.
 *
 * @param program The program name.
 * @returns Its path, or `undefined`.
 */
export function hostTool(program: string): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/bin", "/bin"];
  for (const dir of dirs.filter((d) => d.startsWith("/"))) {
    try {
      const info = Deno.statSync(`${dir}/${program}`);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return `${dir}/${program}`;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether CI is running the suite (then nothing may be skipped). */
export function inCi(): boolean {
  const ci = Deno.env.get("CI")?.toLowerCase();
  return ci !== undefined && ci !== "" && ci !== "0" && ci !== "false";
}

/**
 * Whether a test can use `program`: yes when installed; otherwise, outside CI, an ignored step
 * named with the reason is added (and printed), and on CI the test fails.
 *
 * @param t The test context.
 * @param program The program.
 * @returns Whether to go on.
 */
export async function needs(t: Deno.TestContext, program: string): Promise<boolean> {
  if (hostTool(program) !== undefined) return true;
  const fix = `apt-get install ${PACKAGES[program] ?? program}`;
  if (inCi()) throw new Error(`${program} is not installed, and CI runs every test: ${fix}`);
  const reason = `skipped: ${program} is not installed (${fix})`;
  // deno-lint-ignore no-console
  console.log(reason);
  await t.step({ name: reason, ignore: true, fn() {} });
  return false;
}
