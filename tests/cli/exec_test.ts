import assert from "node:assert/strict";
import { limaShellScript } from "../../lib/lima_ssh.ts";
import { relayedCommand } from "../../lib/signal_relay.ts";
import {
  commands,
  denoEnv,
  onPath,
  runGamma,
  setup,
  testBothPaths,
  testHome,
  waitForFile,
} from "./_run.ts";

testBothPaths("gamma exec runs at the guest path of a remapped mount", async (via) => {
  await using t = await setup({ via });
  const r = await runGamma(["exec", "--", "pwd"], { env: t.env, cwd: `${t.project}/sub` });
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, "/work/p/sub\n", ""]);
});

testBothPaths("gamma exec passes the guest command's exit code through", async (via) => {
  await using t = await setup({ via });
  const opts = { env: t.env, cwd: t.project };
  assert.deepEqual(
    await runGamma(["exec", "--", "sh", "-c", "echo out; echo err >&2; exit 3"], opts),
    {
      code: 3,
      signal: null,
      stdout: "out\n",
      stdoutBytes: new TextEncoder().encode("out\n"),
      stderr: "err\n",
    },
  );
  const missing = await runGamma(["exec", "--", "no-such-tool-xyz"], opts);
  assert.equal(missing.code, 127);
  assert.equal(missing.stdout, "");
  assert.match(
    missing.stderr,
    /no-such-tool-xyz: command not found\ngamma: hint: no-such-tool-xyz is not on the PATH of instance dev \(exit 127\)/,
  );
  assert.equal((await runGamma(["exec", "true"], opts)).code, 0); // no -- needed
});

testBothPaths("gamma exec: a command ended by SIGTERM sent to gamma exits 143", async (via) => {
  await using t = await setup({ via });
  const r = await runGamma(["exec", "--", "sh", "-c", "touch ready; exec sleep 30"], {
    env: t.env,
    cwd: t.project,
    signal: { sig: "SIGTERM", after: () => waitForFile(`${t.project}/ready`) },
  });
  assert.equal(r.signal, null); // gamma itself was not killed
  assert.equal(r.code, 143);
});

testBothPaths(
  "gamma exec: a guest command killed by signal N exits 128+N, not ssh's 255",
  async (via) => {
    await using t = await setup({ via });
    const opts = { env: t.env, cwd: t.project };
    const killed = await runGamma(["exec", "--", "sh", "-c", "kill -KILL $$"], opts);
    assert.deepEqual([killed.code, killed.stderr], [137, ""]);
    const terminated = await runGamma(["exec", "--", "sh", "-c", "kill -TERM $$"], opts);
    assert.deepEqual([terminated.code, terminated.stderr], [143, ""]);
    // 255 stays the transport's: a guest command that exits 255 cannot be told from it.
    const own = await runGamma(["exec", "--", "sh", "-c", "exit 255"], opts);
    assert.deepEqual([own.code, own.stderr], [
      255,
      "gamma: cannot reach instance dev over ssh (limactl exited 255; Lima's message, if any, is above; a guest command that exits 255 ends the same way)\n",
    ]);
  },
);

testBothPaths(
  "gamma exec passes 1 MiB of binary stdin byte-exact, and -n closes it",
  async (via) => {
    await using t = await setup({ via });
    const data = new Uint8Array(1 << 20);
    for (let i = 0; i < data.length; i += 65536) {
      crypto.getRandomValues(
        data.subarray(i, i + 65536),
      );
    }
    const r = await runGamma(["exec", "--", "cat"], { env: t.env, cwd: t.project, stdin: data });
    assert.equal(r.code, 0);
    assert.equal(r.stdoutBytes.length, data.length);
    assert.deepEqual(r.stdoutBytes, data);
    const closed = await runGamma(["exec", "-n", "--", "wc", "-c"], {
      env: t.env,
      cwd: t.project,
      stdin: "would be swallowed",
    });
    assert.deepEqual([closed.code, closed.stdout.trim()], [0, "0"]);
  },
);

testBothPaths(
  "gamma exec -e passes values with spaces, quotes, $ and newlines exactly",
  async (via) => {
    await using t = await setup({ via });
    const r = await runGamma([
      "exec",
      "-e",
      "A=x  y",
      "-e",
      'B=it\'s "$HOME" `id`',
      "-e",
      "C=line1\nline2",
      "-e",
      "FROM_HOST",
      "-e",
      "UNSET_ON_HOST",
      "--",
      "sh",
      "-c",
      'printf "%s|%s|%s|%s|%s" "$A" "$B" "$C" "$FROM_HOST" "${UNSET_ON_HOST-unset}"',
    ], { env: { ...t.env, FROM_HOST: "host value" }, cwd: t.project });
    assert.deepEqual([r.code, r.stdout, r.stderr], [
      0,
      'x  y|it\'s "$HOME" `id`|line1\nline2|host value|unset',
      "",
    ]);
  },
);

testBothPaths("gamma exec starts a stopped instance on demand exactly once", async (via) => {
  await using t = await setup({ via, running: false });
  const first = await runGamma(["exec", "--", "echo", "hi"], { env: t.env, cwd: t.project });
  assert.equal(first.code, 0);
  assert.equal(first.stdout, "hi\n"); // Lima's start logs went to stderr, not stdout
  assert.ok(first.stderr.startsWith("gamma: starting instance dev…\n"), first.stderr);
  assert.match(first.stderr, /READY/);
  // start; list (facts, then cached); the first-run mount probe; the command.
  assert.deepEqual(await commands(t.lima), onPath(via, ["start", "list", "shell", "shell"]));
  // Warm: exactly one limactl process (the command), no start, no list, no probe.
  const second = await runGamma(["exec", "--", "true"], { env: t.env, cwd: t.project });
  assert.deepEqual([second.code, second.stderr], [0, ""]);
  assert.deepEqual(
    await commands(t.lima),
    onPath(via, ["start", "list", "shell", "shell", "shell"]),
  );
});

testBothPaths("gamma exec: two gamma processes at once start the instance once", async (via) => {
  await using t = await setup({ via, running: false, fault: "slow-start" });
  const both = Promise.all([
    runGamma(["exec", "--", "echo", "a"], { env: t.env, cwd: t.project }),
    runGamma(["exec", "--", "echo", "b"], { env: t.env, cwd: t.project }),
  ]);
  // The boot holds until released: let it go once the host agent is up.
  await waitForFile(`${t.lima.dir}/dev/ha.pid`);
  await Deno.writeTextFile(`${t.lima.dir}/dev/slow-start.release`, "");
  const [a, b] = await both;
  assert.deepEqual([a.code, a.stdout, b.code, b.stdout], [0, "a\n", 0, "b\n"]);
  assert.equal((await commands(t.lima)).filter((c) => c === "start").length, 1);
});

testBothPaths(
  "gamma exec explains a KVM start failure and retries on the next run",
  async (via) => {
    await using t = await setup({ via, running: false, fault: "kvm" });
    const r = await runGamma(["exec", "--", "true"], { env: t.env, cwd: t.project });
    assert.equal(r.code, 125);
    assert.match(r.stderr, /\ngamma: limactl start dev failed \(exit code 1\)\n/);
    assert.match(
      r.stderr,
      /\nhint: this user cannot use \/dev\/kvm: run `sudo usermod -aG kvm \$USER`, then log in again \(or `newgrp kvm`\)\n/,
    );
    assert.match(
      r.stderr,
      /\nlast lines of ha\.stderr\.log:\n( {2}.*\n)* {2}.*failed to initialize kvm: Permission denied\n/,
    );
    const again = await runGamma(["exec", "--", "true"], { env: t.env, cwd: t.project });
    assert.equal(again.code, 125);
    assert.deepEqual(await commands(t.lima), onPath(via, ["start", "start"]));
    // With hints off, the error and the log remain but not the hint.
    const quiet = await runGamma(["exec", "--", "true"], {
      env: { ...t.env, DEVSHELL_VM_LIMA_HINTS: "off" },
      cwd: t.project,
    });
    assert.equal(quiet.code, 125);
    assert.doesNotMatch(quiet.stderr, /\nhint: /);
  },
);

testBothPaths("gamma exec: a degraded start warns and runs the command", async (via) => {
  await using t = await setup({ via, running: false, fault: "degraded" });
  const r = await runGamma(["exec", "--", "echo", "up"], { env: t.env, cwd: t.project });
  assert.deepEqual([r.code, r.stdout], [0, "up\n"]);
  assert.match(
    r.stderr,
    /gamma: warning: the VM is up but degraded: file sharing and port forwarding may not work/,
  );
});

testBothPaths(
  "gamma start --create without Lima's templates fails with the template hint",
  async (via) => {
    await using t = await setup({ via });
    const r = await runGamma(["start", "-i", "nope", "--create"], {
      env: { ...t.env, LIMA_TEMPLATES_PATH: "/nonexistent" },
      cwd: t.project,
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /gamma: limactl create --tty=false --name=nope template:default failed/);
    assert.match(r.stderr, /\nhint: Lima's templates are missing/);
  },
);

testBothPaths(
  "gamma exec refuses an unmapped directory with the mounts and the fixes",
  async (via) => {
    await using t = await setup({ via });
    const outside = await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-outside-" }));
    try {
      const r = await runGamma(["exec", "--", "true"], {
        // Guest mode: no sync copy to fall back on (sync mode has its own test in sync_test.ts).
        env: {
          ...t.env,
          DEVSHELL_VM_WORKSPACE_PARENT: "/srv/ws",
          DEVSHELL_VM_WORKSPACE_MODE: "guest",
        },
        cwd: outside,
      });
      assert.equal(r.code, 125);
      assert.equal(r.stdout, "");
      assert.equal(
        r.stderr,
        [
          `gamma: cannot run in instance dev: the current directory ${outside} is not under any of its mounts`,
          "  mounts of dev:",
          `    ${t.project} -> /work/p (writable)`,
          "fix: run gamma from inside a mounted directory, or mount this one by adding to",
          `  ${t.lima.dir}/dev/lima.yaml:`,
          "    mounts:",
          `    - location: ${JSON.stringify(outside)}`,
          "      writable: true",
          "  then restart the instance: limactl stop dev && limactl start dev",
          "  or name a guest directory with -w GUEST_DIR",
          "  or let gamma copy the project (Mode S): DEVSHELL_VM_WORKSPACE_MODE=sync, with the workspace",
          "  parent /srv/ws mounted",
          "",
        ].join("\n"),
      );
      // -w names a guest directory explicitly, so the cwd does not matter.
      const w = await runGamma(["exec", "-w", "/work/p/sub", "--", "pwd"], {
        env: t.env,
        cwd: outside,
      });
      assert.deepEqual([w.code, w.stdout], [0, "/work/p/sub\n"]);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  },
);

testBothPaths("gamma exec maps paths with spaces, quotes and unicode", async (via) => {
  await using t = await setup({ via, projectName: "my proj's ünï 🙂" });
  const lima = t.lima;
  await lima.addInstance("odd", {
    mounts: [{ location: t.project, mountPoint: "/g/it's a ü", writable: true }],
    running: true,
  });
  const r = await runGamma(["exec", "-i", "odd", "--", "pwd"], {
    env: t.env,
    cwd: `${t.project}/sub`,
  });
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, "/g/it's a ü/sub\n", ""]);
});

testBothPaths("gamma refuses invalid instance names before running limactl", async (via) => {
  await using t = await setup({ via });
  const r = await runGamma(["exec", "--instance=-rf", "--", "true"], {
    env: t.env,
    cwd: t.project,
  });
  assert.equal(r.code, 125);
  assert.equal(
    r.stderr,
    'gamma: Invalid instance name "-rf": it starts with "-", so limactl would read it as a flag; Lima instance names are letters and digits joined by single ".", "_" or "-", at most 76 characters\n',
  );
  const env = await runGamma(["exec", "--", "true"], {
    env: { ...t.env, DEVSHELL_VM_LIMA_INSTANCE: "my vm" },
    cwd: t.project,
  });
  assert.equal(env.code, 2); // a bad setting is the user's input, as a bad option
  assert.equal(
    env.stderr,
    'gamma: Invalid DEVSHELL_VM_LIMA_INSTANCE "my vm": it contains white space; Lima instance names are letters and digits joined by single ".", "_" or "-", at most 76 characters\n',
  );
  assert.deepEqual(await t.lima.argvLog(), []);
});

Deno.test("gamma exec falls back to the host without limactl, unless the backend is lima", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-host-" }));
  try {
    const r = await runGamma(["exec", "--", "pwd"], { cwd: dir });
    assert.deepEqual([r.code, r.stdout], [0, `${dir}\n`]);
    assert.equal(
      r.stderr,
      "gamma: limactl not found in PATH; VM unavailable, running on the host (install Lima from https://lima-vm.io/, set DEVSHELL_VM_LIMACTL, or set DEVSHELL_VM_BACKEND=host to run on the host without this notice)\n",
    );
    const quiet = await runGamma(["exec", "--", "sh", "-c", "exit 4"], {
      cwd: dir,
      env: { DEVSHELL_VM_BACKEND: "host" },
    });
    assert.deepEqual([quiet.code, quiet.stderr], [4, ""]);
    const off = await runGamma(["exec", "--", "true"], { cwd: dir, env: { DEVSHELL_VM: "off" } });
    assert.deepEqual([off.code, off.stderr], [0, ""]);
    const lima = await runGamma(["exec", "--", "true"], {
      cwd: dir,
      env: { DEVSHELL_VM_BACKEND: "lima" },
    });
    assert.deepEqual([lima.code, lima.stdout, lima.stderr], [
      125,
      "",
      "gamma: limactl not found in PATH; install Lima (https://lima-vm.io/) or set DEVSHELL_VM_LIMACTL\n",
    ]);
    const bad = await runGamma(["exec", "--", "true"], {
      cwd: dir,
      env: { DEVSHELL_VM_LIMACTL: "/nonexistent/limactl" },
    });
    assert.deepEqual([bad.code, bad.stderr], [
      125,
      'gamma: DEVSHELL_VM_LIMACTL names "/nonexistent/limactl", which is not an executable file; install Lima (https://lima-vm.io/) or point DEVSHELL_VM_LIMACTL at limactl\n',
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

testBothPaths(
  "gamma exec with DEVSHELL_VM_STOP_ON_EXIT stops only a VM it started",
  async (via) => {
    await using t = await setup({ via, running: false });
    const env = { ...t.env, DEVSHELL_VM_STOP_ON_EXIT: "yes" };
    const started = await runGamma(["exec", "--", "true"], { env, cwd: t.project });
    assert.equal(started.code, 0);
    assert.match(
      started.stderr,
      /gamma: stopped instance dev \(stopOnExit, variable DEVSHELL_VM_STOP_ON_EXIT\)\n$/,
    );
    assert.deepEqual(
      await commands(t.lima),
      onPath(via, ["start", "list", "shell", "shell", "stop"]),
    );
    await t.lima.startInstance("dev");
    const found = await runGamma(["exec", "--", "sh", "-c", "exit 6"], { env, cwd: t.project });
    assert.deepEqual([found.code, found.stderr], [6, ""]);
    assert.equal((await commands(t.lima)).filter((c) => c === "stop").length, 1);
  },
);

Deno.test("gamma exec usage errors exit 2 with the usage on stderr", async () => {
  const cases: [string[], string][] = [
    [["exec"], "gamma exec: missing command"],
    [
      ["exec", "-w", "rel", "--", "true"],
      'gamma exec: -w "rel": the guest directory must be an absolute path',
    ],
    [
      ["exec", "-e", "=x", "--", "true"],
      `gamma exec: -e "=x": missing name (write -e K=V, or -e K to pass the host's value)`,
    ],
    [
      ["exec", "-e", "", "--", "true"],
      `gamma exec: -e "": missing name (write -e K=V, or -e K to pass the host's value)`,
    ],
    [
      ["exec", "-e", "1X=2", "--", "true"],
      'gamma exec: -e "1X=2": invalid name "1X": use letters, digits and "_", not starting with a digit',
    ],
    [
      ["exec", "-e", "A B=1", "--", "true"],
      'gamma exec: -e "A B=1": invalid name "A B": use letters, digits and "_", not starting with a digit',
    ],
    [["exec", "-e"], "gamma exec: -e/--env needs a value"],
    [["exec", "--nope", "--", "true"], 'gamma exec: unknown option "--nope"'],
  ];
  for (const [args, first] of cases) {
    const r = await runGamma(args);
    assert.deepEqual([r.code, r.stdout, r.stderr], [
      2,
      "",
      [
        first,
        "usage: gamma exec [-i NAME] [-e K=V | -e K]... [-w GUEST_DIR] [-n] [--live [--verbose]] [--] CMD [ARG...]",
        "Run 'gamma help exec' for its options.",
        "",
      ].join("\n"),
    ], args.join(" "));
  }
});

testBothPaths(
  "gamma exec runs through the workspace parent mounted at the guest workspace",
  async (via) => {
    await using t = await setup({ via });
    const ws = `${t.project}/../ws`;
    await Deno.mkdir(`${ws}/app`, { recursive: true });
    const wsReal = await Deno.realPath(ws);
    await t.lima.addInstance("wsvm", {
      mounts: [{ location: wsReal, mountPoint: "/workspace", writable: true }],
      running: true,
    });
    const r = await runGamma(["exec", "-i", "wsvm", "--", "pwd"], {
      env: { ...t.env, DEVSHELL_VM_WORKSPACE_PARENT: wsReal },
      cwd: `${wsReal}/app`,
    });
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, "/workspace/app\n", ""]);
  },
);

testBothPaths("gamma --debug prints the path taken and every argv it spawns", async (via) => {
  await using t = await setup({ via });
  const args = ["--debug", "exec", "-e", "K=v w", "--", "echo", "a b"];
  const r = await runGamma(args, { env: t.env, cwd: t.project });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "a b\n");
  const debug = (stderr: string): string[] =>
    stderr.split("\n").filter((l) => l.startsWith("gamma: debug: "));
  const dir = `${t.lima.dir}/dev`;
  const overSsh = `gamma: debug: ssh path (${dir}/ssh.config and ${dir}/ssh.sock): `;
  const throughLimactl = "gamma: debug: limactl path (DEVSHELL_VM_SSH=off)";
  const json = (argv: string[]): string => JSON.stringify(argv);
  // Without a terminal the command runs under the signal relay (lib/signal_relay.ts): the same
  // guest argv either way, as limactl shell's own arguments or as the script Lima would send.
  const command = (line: string): string => {
    const file = /\/tmp\/gamma-relay\.[0-9a-f]{32}/.exec(line)?.[0] ?? "no relay file";
    const guest = ["K=v w", ...relayedCommand(["echo", "a b"], file)];
    return via === "ssh"
      ? overSsh + json([
        "/usr/bin/ssh",
        "-F",
        `${dir}/ssh.config`,
        "-o",
        "LogLevel=ERROR",
        "lima-dev",
        "--",
        limaShellScript(guest, "/work/p"),
      ])
      : `gamma: debug: ${
        json([t.lima.limactl, "shell", "--workdir", "/work/p", "dev", "--", ...guest])
      }`;
  };
  const cold = debug(r.stderr);
  assert.equal(cold[0], `gamma: debug: ${json([t.lima.limactl, "list", "--json", "dev"])}`);
  // The first-run mount probe: a captured /bin/sh script, no terminal, on the same path.
  if (via === "ssh") {
    assert.equal(cold.length, 3);
    assert.ok(cold[1]!.startsWith(overSsh + json(["/usr/bin/ssh", "-F"]).slice(0, -1)));
    assert.match(cold[1]!, /"cd \/ \|\| exit 1 ; exec \\"\$SHELL\\" -l -c '\/bin\/sh -c /);
  } else {
    assert.equal(cold.length, 5);
    assert.equal(cold[1], throughLimactl);
    assert.ok(
      cold[2]!.startsWith(
        `gamma: debug: ${
          json([t.lima.limactl, "shell", "--workdir", "/", "--tty=false", "dev", "--", "/bin/sh"])
            .slice(0, -1)
        }`,
      ),
    );
    assert.equal(cold[3], throughLimactl);
  }
  assert.equal(cold.at(-1), command(cold.at(-1)!));
  const warm = debug((await runGamma(args, { env: t.env, cwd: t.project })).stderr);
  assert.deepEqual(
    warm,
    via === "ssh" ? [command(warm[0]!)] : [throughLimactl, command(warm[1]!)],
  );
});

testBothPaths("gamma exec gets a pseudo-terminal exactly when stdout is one", async (via) => {
  await using t = await setup({ via });
  const cli = new URL("../../cli.ts", import.meta.url).pathname;
  const env = {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: testHome(),
    XDG_CACHE_HOME: `${t.lima.dir}/_cache`,
    NO_COLOR: "1",
    TERM: "xterm",
    ...denoEnv(),
    ...t.env,
  };
  const gamma = `'${Deno.execPath()}' run -A --quiet '${cli}' exec -- tty`;
  // script(1) gives gamma a terminal as stdout; plain pipes give none
  const withPty = await new Deno.Command("script", {
    args: ["-qec", gamma, "/dev/null"],
    cwd: t.project,
    clearEnv: true,
    env,
    stdin: "null",
  }).output();
  assert.equal(withPty.code, 0);
  // (the terminal may echo the EOF script(1) reads from its closed stdin: ^@ or ^D)
  assert.match(new TextDecoder().decode(withPty.stdout), /^(\^[@D])*\/dev\/pts\/\d+\r?\n$/);
  const without = await runGamma(["exec", "-n", "--", "tty"], { env: t.env, cwd: t.project });
  assert.deepEqual([without.code, without.stdout], [1, "not a tty\n"]);
});

testBothPaths("gamma exec: a stopped sshd ends in 255 with ssh's own message", async (via) => {
  await using t = await setup({ via });
  await t.lima.stopSshd("dev");
  const r = await runGamma(["exec", "--", "true"], { env: t.env, cwd: t.project });
  assert.equal(r.code, 255);
  // Without its ControlMaster gamma goes through limactl shell (on both paths), whose ssh
  // cannot connect: OpenSSH's line, then gamma's note.
  const port = Number(
    /^\s*Port (\d+)$/m.exec(await Deno.readTextFile(`${t.lima.dir}/dev/ssh.config`))![1],
  );
  assert.equal(
    r.stderr,
    `ssh: connect to host 127.0.0.1 port ${port}: Connection refused\r\n` +
      "gamma: cannot reach instance dev over ssh (limactl exited 255; Lima's message, if any, is above; a guest command that exits 255 ends the same way)\n",
  );
});

Deno.test("gamma exec: without the ControlMaster, limactl shell runs and brings it back", async () => {
  await using t = await setup({ via: "ssh" });
  const dir = `${t.lima.dir}/dev`;
  const exit = await new Deno.Command("ssh", {
    args: ["-F", `${dir}/ssh.config`, "-O", "exit", "lima-dev"],
    stdout: "null",
    stderr: "null",
  }).output();
  assert.equal(exit.code, 0);
  const debug = (stderr: string): string[] =>
    stderr.split("\n").filter((l) => l.startsWith("gamma: debug: ") && l.includes(" path ("));
  const first = await runGamma(["--debug", "exec", "--", "pwd"], { env: t.env, cwd: t.project });
  assert.deepEqual([first.code, first.stdout], [0, "/work/p\n"]);
  // The first-run probe went through limactl shell, whose ssh (ControlMaster=auto,
  // ControlPersist=yes) left a new master behind: the command itself took the ssh path.
  const [probe, command] = debug(first.stderr);
  assert.equal(probe, `gamma: debug: limactl path (no ControlMaster socket ${dir}/ssh.sock)`);
  assert.ok(command!.startsWith("gamma: debug: ssh path ("));
  const second = await runGamma(["--debug", "exec", "--", "pwd"], { env: t.env, cwd: t.project });
  assert.deepEqual([second.code, second.stdout], [0, "/work/p\n"]);
  assert.equal(debug(second.stderr).length, 1);
  assert.ok(debug(second.stderr)[0]!.startsWith("gamma: debug: ssh path ("));
  // DEVSHELL_VM_SSH=off always takes limactl shell
  const off = await runGamma(["--debug", "exec", "--", "true"], {
    env: { ...t.env, DEVSHELL_VM_SSH: "off" },
    cwd: t.project,
  });
  assert.deepEqual(debug(off.stderr), ["gamma: debug: limactl path (DEVSHELL_VM_SSH=off)"]);
});
