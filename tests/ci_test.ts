/** .ci/summary: the closing "N passed, M failed" line of a CI run, for passing and failing runs. */
import assert from "node:assert/strict";

const SUMMARY = new URL("../.ci/summary", import.meta.url).pathname;

async function summary(log: string, status: number): Promise<string> {
  const file = await Deno.makeTempFile({ prefix: "gamma-ci-log-" });
  try {
    await Deno.writeTextFile(file, log);
    const out = await new Deno.Command("bash", {
      args: [SUMMARY, file, String(status)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout);
  } finally {
    await Deno.remove(file);
  }
}

Deno.test(".ci/summary says N passed, M failed whether the tests pass or fail", async () => {
  assert.equal(
    await summary("x ... ok\n\n\x1b[32mok\x1b[0m | 459 passed (9 steps) | 0 failed (3m40s)\n", 0),
    "tests: 459 passed, 0 failed\n",
  );
  assert.equal(
    await summary(
      " ERRORS \n...\n\x1b[31mFAILED\x1b[0m | 457 passed (9 steps) | 2 failed (3m41s)\n\nerror: Test failed\n",
      1,
    ),
    "tests: 457 passed, 2 failed\n",
  );
  assert.equal(
    await summary("ok | 10 passed | 0 failed (1s)\nerror: publish failed\n", 1),
    "tests: 10 passed, 0 failed (a step after the tests failed, exit 1: see above)\n",
  );
  assert.equal(
    await summary("error: Found 3 not formatted files\n", 1),
    "tests: 0 passed, 0 failed (a step before the tests failed, exit 1: see above)\n",
  );
});
