// deno-lint-ignore-file no-console
/**
 * Benchmark of the signal relay (lib/signal_relay.ts) on the `limactl` stand-in: how long a
 * signal sent to gamma takes to reach the guest command, what one extra guest call costs, and
 * what the wrapper adds to every run without a terminal. Prints a markdown table on stdout.
 *
 * ```sh
 * deno task bench:relay                       # this checkout only
 * BENCH_BEFORE=/path/to/other/cli.ts deno task bench:relay   # also time another gamma, side by side
 * ```
 *
 * @module
 */

import { denoEnv } from "../tests/cli/_run.ts";
import { createLimaHome } from "../tests/support/lima_home.ts";
import { relayedCommand, relayFile } from "../lib/signal_relay.ts";

const REPO = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
const CLI = `${REPO}/cli.ts`;
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? "15");
const decoder = new TextDecoder();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timed(cmd: Deno.Command): Promise<number> {
  const t0 = performance.now();
  const out = await cmd.output();
  const t = performance.now() - t0;
  if (out.code !== 0) {
    throw new Error(`exit ${out.code}: ${decoder.decode(out.stderr)}`);
  }
  return t;
}

async function until(path: string): Promise<void> {
  for (;;) {
    try {
      await Deno.lstat(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

async function main(): Promise<void> {
  await using lima = await createLimaHome();
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-relay-bench-" }));
  try {
    const project = `${root}/p`;
    await Deno.mkdir(project);
    await Deno.mkdir(`${root}/home`);
    await lima.addInstance("bench", {
      mounts: [{ location: project, mountPoint: "/work/p", writable: true }],
      running: true,
    });
    const env = {
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: `${root}/home`,
      XDG_CACHE_HOME: `${root}/home/.cache`,
      NO_COLOR: "1",
      ...denoEnv(),
      ...lima.env,
      DEVSHELL_VM_LIMACTL: lima.limactl,
      DEVSHELL_VM_LIMA_INSTANCE: "bench",
    };
    const gamma = (cli: string, args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", cli, ...args],
        cwd: project,
        clearEnv: true,
        env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      });
    const rows: string[] = [];

    // 1. Signal to guest: SIGINT to gamma until the guest's trap has written its timestamp.
    const latency: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      for (const f of ["started", "trapped"]) await Deno.remove(`${project}/${f}`).catch(() => {});
      const child = gamma(CLI, [
        "exec",
        "--",
        "sh",
        "-c",
        "trap 'date +%s%N > trapped; exit 130' INT; echo > started; sleep 60",
      ]).spawn();
      await until(`${project}/started`);
      const sentNs = BigInt(Date.now()) * 1_000_000n;
      child.kill("SIGINT");
      const out = await child.output();
      if (out.code !== 130) throw new Error(`relay run: exit ${out.code}`);
      const gotNs = BigInt((await Deno.readTextFile(`${project}/trapped`)).trim());
      latency.push(Number(gotNs - sentNs) / 1e6);
    }
    rows.push(`| SIGINT to gamma → guest trap runs (relay) | ${median(latency).toFixed(0)} ms |`);

    // 2. The extra guest call on its own: one warm `limactl shell --tty=false` of `true`.
    const shellCall = new Deno.Command(lima.limactl, {
      args: ["shell", "--workdir", "/", "--tty=false", "bench", "--", "true"],
      env: { ...lima.env, HOME: `${root}/home` },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
    const calls: number[] = [];
    for (let i = 0; i < RUNS; i++) calls.push(await timed(shellCall));
    rows.push(`| one extra \`limactl shell\` call (stand-in) | ${median(calls).toFixed(0)} ms |`);

    // 3. The wrapper's guest-side cost per run: a login bash running `true`, bare and wrapped.
    const file = relayFile("0123456789abcdef0123", root);
    const wrapped = relayedCommand(["true"], file).map((a) => `'${a.replaceAll("'", `'"'"'`)}'`)
      .join(" ");
    const bash = (line: string) =>
      new Deno.Command("bash", {
        args: ["-c", line],
        clearEnv: true,
        env: { PATH: "/usr/bin:/bin", HOME: `${root}/home`, SHELL: "/bin/bash" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      });
    const bare: number[] = [];
    const wrap: number[] = [];
    for (let i = 0; i < RUNS * 4; i++) {
      bare.push(await timed(bash("true")));
      wrap.push(await timed(bash(wrapped)));
    }
    rows.push(`| guest side, \`bash -c true\` bare | ${median(bare).toFixed(1)} ms |`);
    rows.push(`| guest side, same under the relay wrapper | ${median(wrap).toFixed(1)} ms |`);

    // 4. Warm `gamma exec -- true` without a terminal: this checkout, and another gamma.
    const before = Deno.env.get("BENCH_BEFORE");
    const clis = before ? [["before", before], ["after", CLI]] : [["this checkout", CLI]];
    for (const [, cli] of clis) await timed(gamma(cli!, ["exec", "--", "true"])); // warm
    const execs = clis.map((): number[] => []);
    for (let i = 0; i < RUNS; i++) {
      for (let k = 0; k < clis.length; k++) {
        execs[k]!.push(await timed(gamma(clis[k]![1]!, ["exec", "--", "true"])));
      }
    }
    clis.forEach(([name], k) =>
      rows.push(`| warm \`gamma exec -- true\`, ${name} | ${median(execs[k]!).toFixed(0)} ms |`)
    );

    const load = Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
    console.log(`Medians of ${RUNS} runs (guest side: ${RUNS * 4}); load average ${load}.\n`);
    console.log("| what | median wall |\n|---|---|");
    for (const row of rows) console.log(row);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

await main();
