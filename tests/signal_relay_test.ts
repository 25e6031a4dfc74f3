import assert from "node:assert/strict";
import {
  relayedCommand,
  relayFile,
  relaySignalCommand,
  terminalCommand,
} from "../lib/signal_relay.ts";

// The scripts run here as the guest runs them, under each shell a guest may have as /bin/sh
// (the wrapper's `sh -c`) and as the user's login shell ($SHELL, which runs the command line).
// `login` names the login shell by a path of its own (busybox picks its applet from argv[0]).
// Every login shell here replaces itself with a single command (dash would not, and stay in the
// command's process group: Lima's default login shell is bash).
const SHELLS: Record<string, { argv: string[]; login: string }> = {
  dash: { argv: ["/bin/dash"], login: "/bin/bash" },
  bash: { argv: ["/bin/bash"], login: "/bin/bash" },
  "bash --posix": { argv: ["/bin/bash", "--posix"], login: "/bin/bash" },
  "busybox sh": { argv: ["/usr/bin/busybox", "sh"], login: "busybox/sh" },
};

const decoder = new TextDecoder();

/**
 * A temp dir holding `busybox/sh`: a copy of busybox, which runs its sh under that name (a copy,
 * not a link to /usr/bin, so nothing a test writes can reach a system file).
 */
async function tempDir(): Promise<string> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-relay-" }));
  await Deno.mkdir(`${dir}/busybox`);
  try {
    await Deno.copyFile("/usr/bin/busybox", `${dir}/busybox/sh`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e; // no busybox: its cases skip
  }
  return dir;
}

function token(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/** Run a builder's argv (`/bin/sh -c SCRIPT …`) with another shell in place of /bin/sh. */
function command(
  shell: { argv: string[]; login: string },
  argv: string[],
  options: { cwd: string; env?: Record<string, string>; stdin?: "piped" | "null" },
): Deno.Command {
  assert.deepEqual(argv.slice(0, 2), ["/bin/sh", "-c"]);
  const login = shell.login.startsWith("/") ? shell.login : `${options.cwd}/${shell.login}`;
  return new Deno.Command(shell.argv[0]!, {
    args: [...shell.argv.slice(1), ...argv.slice(1)],
    cwd: options.cwd,
    clearEnv: true,
    env: { PATH: "/usr/bin:/bin", SHELL: login, ...options.env },
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
  });
}

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("relayFile takes a fresh token and an absolute directory", () => {
  assert.equal(relayFile("0123456789abcdef"), "/tmp/gamma-relay.0123456789abcdef");
  assert.equal(relayFile("0123456789abcdef", "/run/x/"), "/run/x/gamma-relay.0123456789abcdef");
  assert.throws(
    () => relayFile("short"),
    new RangeError('Invalid relay token "short": use 16 to 64 letters, digits, "_" or "-"'),
  );
  assert.throws(
    () => relayFile("0123456789abcdef/../x"),
    RangeError,
  );
  assert.throws(
    () => relayFile("0123456789abcdef", "tmp"),
    new RangeError('Invalid relay directory "tmp": use an absolute path'),
  );
  assert.throws(() => relayedCommand([], "/tmp/f"), new TypeError("Cannot relay an empty command"));
  assert.throws(() => relayedCommand(["a\0b"], "/tmp/f"), TypeError);
});

for (const [name, shell] of Object.entries(SHELLS)) {
  Deno.test(`relay wrapper under ${name}: argv, env, cwd and stdin byte-exact; exit codes`, async () => {
    const dir = await tempDir();
    try {
      const file = relayFile(token(), dir);
      const args = [
        "a b",
        "it's",
        '"$HOME"',
        "`id`",
        "$(id)",
        "*",
        "~",
        "",
        "-n",
        "x\ny",
        "\\",
        "é",
      ];
      // The user's command prints its argv NUL-separated, then its environment, then its cwd,
      // then copies stdin.
      const probe = [
        "sh",
        "-c",
        'printf "%s\\0" "$@"; echo END; printf "%s\\0" "$GAMMA_T1" "$GAMMA_T2"; pwd; cat',
        "sh",
        ...args,
      ];
      const stdin = new Uint8Array(70000);
      for (let i = 0; i < stdin.length; i++) stdin[i] = (i * 7919) % 256;
      const child = command(shell, relayedCommand(probe, file), {
        cwd: dir,
        env: { GAMMA_T1: "x  y", GAMMA_T2: "it's $HOME `id`\nnext" },
        stdin: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      const fed = writer.write(stdin).then(() => writer.close());
      const out = await child.output();
      await fed;
      assert.equal(decoder.decode(out.stderr), "");
      assert.equal(out.code, 0);
      const text = out.stdout.subarray(0, out.stdout.length - stdin.length);
      assert.deepEqual(out.stdout.subarray(text.length), stdin);
      assert.equal(
        decoder.decode(text),
        args.map((a) => `${a}\0`).join("") +
          `END\nx  y\0it's $HOME \`id\`\nnext\0${dir}\n`,
      );
      // The run file is gone once the command is over.
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["busybox"]);
      const code = async (
        cmd: string[],
      ) => (await command(shell, relayedCommand(cmd, file), { cwd: dir }).output());
      const exit3 = await code(["sh", "-c", "echo out; echo err >&2; exit 3"]);
      assert.deepEqual([exit3.code, decoder.decode(exit3.stdout), decoder.decode(exit3.stderr)], [
        3,
        "out\n",
        "err\n",
      ]);
      // A command that dies of a signal: 128+N, and no "Killed" line of the wrapper's own.
      const killed = await code(["sh", "-c", "kill -KILL $$"]);
      assert.deepEqual([killed.code, decoder.decode(killed.stderr)], [137, ""]);
      const terminated = await code(["sh", "-c", "kill -TERM $$"]);
      assert.deepEqual([terminated.code, decoder.decode(terminated.stderr)], [143, ""]);
      const missing = await code(["no-such-tool-xyz"]);
      assert.equal(missing.code, 127);
      assert.match(decoder.decode(missing.stderr), /no-such-tool-xyz: (command )?not found/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  Deno.test(`relay signaller under ${name}: signals the run's whole group, once`, async () => {
    const dir = await tempDir();
    try {
      const file = relayFile(token(), dir);
      // The command and its foreground child both record SIGINT; a marker says they run.
      const script = `trap 'echo parent >> got; exit 5' INT; ` +
        `sh -c 'trap "echo child >> got; exit 6" INT; echo > started; while :; do sleep 1; done'`;
      const run = command(shell, relayedCommand(["sh", "-c", script], file), { cwd: dir })
        .spawn();
      await until(() => exists(`${dir}/started`));
      const signal = await command(shell, relaySignalCommand(file, "INT"), { cwd: dir }).output();
      assert.deepEqual([signal.code, decoder.decode(signal.stderr)], [0, ""]);
      const out = await run.output();
      assert.equal(out.code, 5);
      const got = (await Deno.readTextFile(`${dir}/got`)).split("\n").sort();
      assert.deepEqual(got, ["", "child", "parent"]);
      assert.equal(await exists(file), false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("relay signaller: a run file that does not name a live run signals nothing", async () => {
  const dir = await tempDir();
  try {
    // A process of this test stands for a recycled pid: it leads its own group and its parent is
    // the recorded "wrapper", but that parent's argv does not name the run file.
    const bystander = new Deno.Command("setsid", { args: ["sleep", "30"] }).spawn();
    try {
      const file = relayFile(token(), dir);
      await Deno.writeTextFile(file, `${Deno.pid} ${bystander.pid}\n`);
      const shell = SHELLS["dash"]!;
      const signalled = command(shell, relaySignalCommand(file, "TERM"), { cwd: dir });
      // It gives up after its bounded wait (about 5 s) with exit 3.
      const r = await signalled.output();
      assert.deepEqual([r.code, decoder.decode(r.stderr)], [3, ""]);
      // The bystander is still alive.
      assert.equal(Deno.readTextFileSync(`/proc/${bystander.pid}/stat`).match(/\) (\S)/)?.[1], "S");
    } finally {
      bystander.kill("SIGKILL");
      await bystander.status;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const [name, shell] of Object.entries(SHELLS)) {
  Deno.test(`terminal wrapper under ${name}: exact argv, 128+N, and the group's signal`, async () => {
    const dir = await tempDir();
    try {
      const args = ["a b", "it's", "$(id)", "", "x\ny"];
      const exact = await command(shell, terminalCommand(["printf", "%s|", ...args]), { cwd: dir })
        .output();
      assert.deepEqual([exact.code, decoder.decode(exact.stdout), decoder.decode(exact.stderr)], [
        0,
        args.map((a) => `${a}|`).join(""),
        "",
      ]);
      const killed = await command(shell, terminalCommand(["sh", "-c", "kill -KILL $$"]), {
        cwd: dir,
      }).output();
      assert.deepEqual([killed.code, decoder.decode(killed.stderr)], [137, ""]);
      // A terminal's Ctrl-C reaches the whole foreground group: here the wrapper leads a group
      // of its own (setsid) and the test signals all of it, as the terminal would.
      for (const [script, code] of [["trap 'exit 5' INT; ", 5], ["", 130]] as const) {
        await Deno.remove(`${dir}/started`).catch(() => {});
        const argv = terminalCommand([
          "sh",
          "-c",
          `${script}echo > started; while :; do sleep 1; done`,
        ]);
        const run = new Deno.Command("setsid", {
          args: [...shell.argv, ...argv.slice(1)],
          cwd: dir,
          clearEnv: true,
          env: {
            PATH: "/usr/bin:/bin",
            SHELL: shell.login.startsWith("/") ? shell.login : `${dir}/${shell.login}`,
          },
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        await until(() => exists(`${dir}/started`));
        Deno.kill(-run.pid, "SIGINT");
        const out = await run.output();
        assert.deepEqual([out.code, out.signal, decoder.decode(out.stderr)], [code, null, ""]);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
