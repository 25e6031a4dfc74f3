/**
 * The host backend (DEVSHELL_VM=off, or no limactl in auto mode): the real programs, with
 * stdin, stdout, stderr, exit codes and signals as on the Lima path.
 */
import assert from "node:assert/strict";
import { runGamma, waitForFile } from "./_run.ts";

async function tempDir(): Promise<string> {
  return await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-host-" }));
}

const OFF = { DEVSHELL_VM: "off" };

Deno.test("host backend: programs are the real ones, not shell built-ins", async () => {
  const dir = await tempDir();
  try {
    const echo = await runGamma(["exec", "--", "echo", "-e", "a\\tb"], { env: OFF, cwd: dir });
    assert.deepEqual([echo.code, echo.stdout, echo.stderr], [0, "a\tb\n", ""]);
    const cat = await runGamma(["exec", "--", "cat"], { env: OFF, cwd: dir, stdin: "hi\n" });
    assert.deepEqual([cat.code, cat.stdout, cat.stderr], [0, "hi\n", ""]);
    await Deno.writeTextFile(`${dir}/f`, "x");
    const rm = await runGamma(["exec", "--", "rm", "-v", "f"], { env: OFF, cwd: dir });
    assert.deepEqual([rm.code, rm.stdout, rm.stderr], [0, "removed 'f'\n", ""]);
    const exit = await runGamma(["exec", "--", "exit", "5"], { env: OFF, cwd: dir });
    assert.deepEqual([exit.code, exit.stdout, exit.stderr], [
      127,
      "",
      "gamma: exit: command not found\n",
    ]);
    const code = await runGamma(["exec", "--", "sh", "-c", "echo err >&2; exit 7"], {
      env: OFF,
      cwd: dir,
    });
    assert.deepEqual([code.code, code.stdout, code.stderr], [7, "", "err\n"]);
    const args = await runGamma(["exec", "--", "printf", "%s|", "a b", "$(id)", "*", ""], {
      env: OFF,
      cwd: dir,
    });
    assert.deepEqual([args.code, args.stdout], [0, "a b|$(id)|*||"]);
    const env = await runGamma(["exec", "-e", "A=1 2", "--", "sh", "-c", 'printf %s "$A"'], {
      env: OFF,
      cwd: dir,
    });
    assert.deepEqual([env.code, env.stdout], [0, "1 2"]);
    const killed = await runGamma(["exec", "--", "sh", "-c", "kill -KILL $$"], {
      env: OFF,
      cwd: dir,
    });
    assert.deepEqual([killed.signal, killed.code], [null, 137]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("host backend without limactl (auto mode): one notice, then the real program", async () => {
  const dir = await tempDir();
  try {
    const r = await runGamma(["exec", "--", "echo", "-n", "x"], { cwd: dir });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "x");
    assert.match(
      r.stderr,
      /^gamma: limactl not found in PATH; VM unavailable, running on the host/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  Deno.test(`host backend: ${sig} to gamma reaches the program; gamma exits ${code}`, async () => {
    const dir = await tempDir();
    try {
      const r = await runGamma(
        [
          "exec",
          "--",
          "sh",
          "-c",
          `trap 'echo got ${sig}; exit ${code}' ${
            sig.slice(3)
          }; touch ready; while :; do sleep 0.05; done`,
        ],
        {
          env: OFF,
          cwd: dir,
          signal: { sig, after: () => waitForFile(`${dir}/ready`) },
        },
      );
      // The trap ran (the program got the signal) and gamma lived to report its status.
      assert.deepEqual([r.signal, r.code, r.stdout], [null, code, `got ${sig}\n`]);
      const plain = await runGamma(
        ["exec", "--", "sh", "-c", "touch ready2; exec sleep 60"],
        {
          env: OFF,
          cwd: dir,
          signal: { sig, after: () => waitForFile(`${dir}/ready2`) },
        },
      );
      // sleep dies of the signal itself: 128+N.
      assert.deepEqual([plain.signal, plain.code], [null, code]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("host backend: gamma shell runs the login shell, outlives SIGINT, passes SIGTERM", async () => {
  const dir = await tempDir();
  try {
    const r = await runGamma(["shell"], {
      env: { ...OFF, SHELL: "/bin/sh" },
      cwd: dir,
      stdin: "echo -n in:; pwd; exit 4\n",
    });
    assert.deepEqual([r.code, r.stdout], [4, `in:${dir}\n`]);
    const ignored = await runGamma(["shell"], {
      env: { ...OFF, SHELL: "/bin/sh" },
      cwd: dir,
      stdin: "touch ready; while [ ! -e go ]; do sleep 0.05; done; echo done; exit 5\n",
      signal: {
        sig: "SIGINT",
        after: () => waitForFile(`${dir}/ready`),
        // Released only after SIGINT was sent to gamma (and not to the shell).
        then: () => Deno.writeTextFileSync(`${dir}/go`, ""),
      },
    });
    assert.deepEqual([ignored.signal, ignored.code, ignored.stdout], [null, 5, "done\n"]);
    const terminated = await runGamma(["shell"], {
      env: { ...OFF, SHELL: "/bin/sh" },
      cwd: dir,
      stdin: "touch ready3; exec sleep 60\n",
      signal: { sig: "SIGTERM", after: () => waitForFile(`${dir}/ready3`) },
    });
    assert.deepEqual([terminated.signal, terminated.code], [null, 143]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--limactl and DEVSHELL_VM_LIMACTL read a name the same way: looked up on PATH", async () => {
  const dir = await tempDir();
  try {
    const bin = `${dir}/bin`;
    await Deno.mkdir(bin);
    // The limactl stand-in under another name.
    await Deno.symlink(new URL("../support/limactl", import.meta.url).pathname, `${bin}/fakectl`);
    await Deno.mkdir(`${dir}/lima`);
    const env = {
      PATH: `${bin}:/usr/bin:/bin`,
      LIMA_HOME: `${dir}/lima`,
      GAMMA_TEST_DENO: Deno.execPath(),
    };
    // From a directory without ./fakectl: a bare name is a command name, not a relative path.
    const viaFlag = await runGamma(["--limactl", "fakectl", "status", "--json"], { env, cwd: dir });
    const viaEnv = await runGamma(["status", "--json"], {
      env: { ...env, DEVSHELL_VM_LIMACTL: "fakectl" },
      cwd: dir,
    });
    for (const r of [viaFlag, viaEnv]) {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).limactl, `${bin}/fakectl`);
    }
    const missing = await runGamma(["--limactl", "nosuchctl", "status"], { env, cwd: dir });
    assert.deepEqual([missing.code, missing.stderr], [
      1,
      'gamma: --limactl names "nosuchctl", which is not an executable file on PATH; install Lima (https://lima-vm.io/) or point --limactl at limactl\n',
    ]);
    const relative = await runGamma(["status", "--json"], {
      env: { ...env, DEVSHELL_VM_LIMACTL: "bin/fakectl" },
      cwd: dir,
    });
    assert.equal(JSON.parse(relative.stdout).limactl, `${bin}/fakectl`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
