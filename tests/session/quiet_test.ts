/**
 * With a custom `notice`, nothing of gamma's or Lima's reaches the process's stderr unless the
 * session is given `stderr: "inherit"`. A script runs in a child process, so its stderr can be
 * read whole.
 */

import assert from "node:assert/strict";
import { posix } from "node:path";
import { sessionEnv, setup } from "../cli/_run.ts";

const ROOT = posix.dirname(posix.dirname(posix.dirname(new URL(import.meta.url).pathname)));

/** Run a script that starts the stopped instance through a session and runs one command. */
async function script(
  t: { env: Record<string, string>; project: string },
  sessionStderr: "inherit" | undefined,
): Promise<{ code: number; result: { notices: string[]; out: string }; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "gamma-quiet-" });
  try {
    const file = `${dir}/script.ts`;
    await Deno.writeTextFile(
      file,
      `import { GammaSession } from ${JSON.stringify(`file://${ROOT}/mod.ts`)};
const notices: string[] = [];
const session = new GammaSession({
  cwd: ${JSON.stringify(t.project)},
  env: Deno.env.toObject(),
  notice: (line) => notices.push(line),
  ${sessionStderr === undefined ? "" : `stderr: ${JSON.stringify(sessionStderr)},`}
});
const r = await session.exec(["sh", "-c", "echo out; echo err >&2"], {
  stdin: "null",
  stdout: "piped",
  stderr: "piped",
});
console.log(JSON.stringify({ notices, out: new TextDecoder().decode(r.stdout) }));
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "--config", `${ROOT}/deno.json`, file],
      cwd: t.project,
      clearEnv: true,
      env: sessionEnv(t),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    return {
      code: out.code,
      result: JSON.parse(text(out.stdout) || "null"),
      stderr: text(out.stderr),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a session with a custom notice keeps Lima's start output off stderr", async () => {
  await using t = await setup({ running: false });
  const run = await script(t, undefined);
  assert.deepEqual([run.code, run.stderr, run.result.out], [0, "", "out\n"]);
});

Deno.test('a session with a custom notice and stderr: "inherit" shows Lima\'s start output', async () => {
  await using t = await setup({ running: false });
  const run = await script(t, "inherit");
  assert.equal(run.code, 0);
  assert.equal(run.result.out, "out\n");
  assert.match(run.stderr, /Starting the instance/);
});
