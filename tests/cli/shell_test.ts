import assert from "node:assert/strict";
import { runGamma, setup, testBothPaths, waitForFile } from "./_run.ts";

testBothPaths(
  "gamma shell opens a login bash at the mapped directory with ~/host_dir linked",
  async (via) => {
    await using t = await setup({ via });
    await Deno.writeTextFile(`${t.project}/sub/.todo.json`, "[]");
    const script = [
      "pwd",
      "shopt -q login_shell && echo login",
      "readlink ~/host_dir",
      "readlink ~/.todo.json",
      "env | grep -cE '^(GUEST_PROJ|HD|rc)=' || true",
      "exit 4",
    ].join("\n") + "\n";
    const r = await runGamma(["shell"], { env: t.env, cwd: `${t.project}/sub`, stdin: script });
    assert.deepEqual([r.code, r.stdout, r.stderr], [
      4,
      "/work/p/sub\nlogin\n/work/p/sub\n/work/p/sub/.todo.json\n0\n",
      "",
    ]);
  },
);

testBothPaths("gamma shell with DEVSHELL_VM_GUEST_HOST_DIR=off creates no links", async (via) => {
  await using t = await setup({ via });
  const r = await runGamma(["shell"], {
    env: { ...t.env, DEVSHELL_VM_GUEST_HOST_DIR: "off" },
    cwd: t.project,
    stdin: "test -e ~/host_dir || echo no-link\n",
  });
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, "no-link\n", ""]);
});

testBothPaths("gamma shell outlives SIGINT and passes SIGTERM to the shell", async (via) => {
  await using t = await setup({ via });
  const ignored = await runGamma(["shell"], {
    env: t.env,
    cwd: t.project,
    stdin: "touch ready; while [ ! -e go ]; do sleep 0.05; done; echo done; exit 5\n",
    signal: {
      sig: "SIGINT",
      after: () => waitForFile(`${t.project}/ready`),
      then: () => Deno.writeTextFileSync(`${t.project}/go`, ""),
    },
  });
  assert.deepEqual([ignored.signal, ignored.code, ignored.stdout], [null, 5, "done\n"]);
  const terminated = await runGamma(["shell"], {
    env: t.env,
    cwd: t.project,
    stdin: "touch ready2; sleep 20\n",
    signal: { sig: "SIGTERM", after: () => waitForFile(`${t.project}/ready2`) },
  });
  assert.deepEqual([terminated.signal, terminated.code], [null, 143]);
});

testBothPaths("gamma shell refuses arguments and unmapped directories", async (via) => {
  await using t = await setup({ via });
  const extra = await runGamma(["shell", "ls"], { env: t.env, cwd: t.project });
  assert.equal(extra.code, 2);
  assert.ok(
    extra.stderr.startsWith(
      'gamma shell: unexpected argument "ls"; to run a command use gamma exec -- CMD\n',
    ),
  );
  const outside = await runGamma(["shell"], { env: t.env, cwd: "/" });
  assert.deepEqual([outside.code, outside.stdout], [125, ""]);
  assert.equal(
    outside.stderr,
    "gamma: cannot run in instance dev: the current directory / is not under any of its mounts, and sync mode does not copy the whole file system; run gamma inside a project, mount the directory (gamma mounts --writable --write --restart), or name a guest directory with -w GUEST_DIR\n",
  );
});
