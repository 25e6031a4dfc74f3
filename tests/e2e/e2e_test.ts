/**
 * User-level scenarios, run against the stand-in (always) and a real Lima (when configured:
 * tests/e2e/README.md), each on both transports: the ssh path and `DEVSHELL_VM_SSH=off`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { runGamma, type Via } from "../cli/_run.ts";
import {
  printSkip,
  realLimaMissing,
  realLimaTarget,
  standInTarget,
  type Target,
} from "./_target.ts";

const missing = realLimaMissing();
if (missing !== undefined) {
  printSkip("the real-Lima target", `${missing} (see tests/e2e/README.md)`);
}
const targets: Target[] = [await standInTarget()];
if (missing === undefined) targets.push(realLimaTarget());

/** A fresh scratch directory under the target's mounted host dir, removed afterwards. */
async function scratch(t: Target): Promise<{ host: string; guest: string } & AsyncDisposable> {
  const host = await Deno.makeTempDir({ dir: t.hostDir, prefix: "gamma-e2e-" });
  const leaf = host.slice(t.hostDir.length);
  await Deno.mkdir(`${host}/sub`);
  return {
    host,
    guest: `${t.guestDir}${leaf}`,
    async [Symbol.asyncDispose]() {
      await Deno.remove(host, { recursive: true });
    },
  };
}

function envFor(t: Target, via: Via, extra: Record<string, string> = {}): Record<string, string> {
  return { ...t.env, ...(via === "limactl" ? { DEVSHELL_VM_SSH: "off" } : {}), ...extra };
}

for (const t of targets) {
  for (const via of ["ssh", "limactl"] as const) {
    const name = (what: string): string => `e2e [${t.name}, ${via}]: ${what}`;

    Deno.test(name("exec runs at the guest path of a remapped mount"), async () => {
      await using d = await scratch(t);
      const r = await runGamma(["exec", "--", "pwd"], {
        env: envFor(t, via),
        cwd: `${d.host}/sub`,
      });
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, `${d.guest}/sub\n`, ""]);
      const path = await runGamma(["path"], { env: envFor(t, via), cwd: `${d.host}/sub` });
      assert.deepEqual([path.code, path.stdout], [0, `${d.guest}/sub\n`]);
    });

    Deno.test(name("exit codes: the command's own, 127 for a missing command"), async () => {
      await using d = await scratch(t);
      const opts = { env: envFor(t, via, { DEVSHELL_VM_LIMA_HINTS: "off" }), cwd: d.host };
      const three = await runGamma(
        ["exec", "--", "sh", "-c", "echo out; echo err >&2; exit 3"],
        opts,
      );
      assert.deepEqual([three.code, three.stdout, three.stderr], [3, "out\n", "err\n"]);
      const none = await runGamma(["exec", "--", "gamma-e2e-no-such-tool"], opts);
      assert.equal(none.code, 127);
      assert.match(none.stderr, /gamma-e2e-no-such-tool: command not found\n$/);
    });

    Deno.test(name("300 kB of binary stdin and stdout pass byte-exact"), async () => {
      await using d = await scratch(t);
      const data = new Uint8Array(300_000);
      for (let i = 0; i < data.length; i += 65536) {
        crypto.getRandomValues(data.subarray(i, i + 65536));
      }
      const r = await runGamma(["exec", "--", "cat"], {
        env: envFor(t, via),
        cwd: d.host,
        stdin: data,
      });
      assert.equal(r.code, 0);
      assert.deepEqual(r.stdoutBytes, data);
    });

    Deno.test(name("env values and argv arrive exactly"), async () => {
      await using d = await scratch(t);
      const value = `it's "$HOME" \`id\` $(id)\nline2`;
      const args = ["a b", "it's", "$(id)", "*", "~", "", "K=V"];
      const r = await runGamma(
        [
          "exec",
          "-e",
          `E2E_V=${value}`,
          "--",
          "sh",
          "-c",
          'printf "%s|" "$E2E_V" "$@"',
          "sh",
          ...args,
        ],
        { env: envFor(t, via), cwd: d.host },
      );
      assert.deepEqual([r.code, r.stdout, r.stderr], [
        0,
        [value, ...args].map((a) => `${a}|`).join(""),
        "",
      ]);
    });

    Deno.test(name("shell runs a piped script in the mapped directory"), async () => {
      await using d = await scratch(t);
      const r = await runGamma(["shell"], {
        env: envFor(t, via),
        cwd: d.host,
        stdin: "pwd\nexit 5\n",
      });
      assert.deepEqual([r.code, r.stdout], [5, `${d.guest}\n`]);
    });

    Deno.test(name("status and doctor describe the instance as JSON"), async () => {
      await using d = await scratch(t);
      const status = await runGamma(["status", "--json"], { env: envFor(t, via), cwd: d.host });
      assert.equal(status.code, 0);
      const s = JSON.parse(status.stdout);
      assert.deepEqual([s.backend, s.instance, s.limaStatus, s.guestCwd], [
        "lima",
        t.instance,
        "Running",
        d.guest,
      ]);
      const doctor = await runGamma(["doctor", "--json"], { env: envFor(t, via), cwd: d.host });
      const checks: { id: string; status: string }[] = JSON.parse(doctor.stdout).checks;
      const byId = Object.fromEntries(checks.map((c) => [c.id, c.status]));
      assert.deepEqual([byId["instance"], byId["mount"], byId["mount-live"]], ["ok", "ok", "ok"]);
      const ghost = await runGamma(["status", "--json", "-i", "gamma-e2e-no-such-instance"], {
        env: envFor(t, via),
        cwd: d.host,
      });
      assert.deepEqual([ghost.code, JSON.parse(ghost.stdout).limaStatus], [0, "Missing"]);
    });

    Deno.test(name("Mode S: an unmounted project is pushed, run in and pulled back"), async () => {
      if (t.workspace === undefined) {
        printSkip(name("Mode S"), "GAMMA_E2E_WORKSPACE not set");
        return;
      }
      const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-e2e-sync-" }));
      try {
        const project = `${root}/app`;
        await Deno.mkdir(`${project}/.git`, { recursive: true });
        await Deno.writeTextFile(`${project}/in.txt`, "host\n");
        const env = envFor(t, via, { DEVSHELL_VM_WORKSPACE_PARENT: t.workspace });
        const r = await runGamma(
          ["exec", "--", "sh", "-c", "cat in.txt; echo guest > out.txt"],
          { env, cwd: project },
        );
        assert.deepEqual([r.code, r.stdout], [0, "host\n"]);
        assert.equal(await Deno.readTextFile(`${project}/out.txt`), "guest\n");
      } finally {
        await Deno.remove(root, { recursive: true });
        await Deno.remove(`${t.workspace}/app`, { recursive: true }).catch(() => {});
        await Deno.remove(`${t.workspace}/app.gamma-source`).catch(() => {});
        await Deno.remove(`${t.workspace}/app.gamma-sync.json`).catch(() => {});
      }
    });
  }
}

Deno.test("e2e: clean up the stand-in", async () => {
  for (const t of targets) await t.dispose();
});
