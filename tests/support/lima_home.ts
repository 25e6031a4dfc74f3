/**
 * Test helper: a throw-away `LIMA_HOME` for the `limactl` stand-in (`tests/support/limactl`).
 *
 * ```ts
 * await using lima = await createLimaHome();
 * await lima.addInstance("dev", { mounts: [{ location: "/tmp/work", writable: true }] });
 * const out = await new Deno.Command(lima.limactl, { args: ["list", "--json"], env: lima.env })
 *   .output();
 * ```
 *
 * @module
 */

/** A host directory shared with the guest (lima.yaml `mounts[]`). */
export interface MountSpec {
  /** Host path; `~` and `{{.Home}}` are expanded by the stand-in, as by Lima. */
  location: string;
  /** Guest path; defaults to `location`. */
  mountPoint?: string;
  /** Defaults to false (read-only), as in Lima. */
  writable?: boolean;
}

/** Options for {@link LimaHome.addInstance}. */
export interface InstanceSpec {
  /**
   * Mounts; defaults to Lima's template:default, a read-only `~` (the `HOME` the stand-in sees:
   * pass your own `HOME` in the spawn env to keep it inside the test).
   */
  mounts?: MountSpec[];
  /** lima.yaml `user` (name, home, shell); Lima's defaults otherwise. */
  user?: { name?: string; home?: string; shell?: string };
  /** Start the instance (through the stand-in, unrecorded) after creating it. */
  running?: boolean;
  /**
   * A stand-in fault: "kvm", "degraded", "timeout", "ssh", "slow-start", or "hang" (set after
   * a start with `running`, as when a file system stalls under a running VM).
   */
  fault?: string;
  /** The whole lima.yaml, instead of one built from `mounts` and `user`. */
  yamlText?: string;
}

/** A temporary Lima home; dispose it to kill its instances and delete it. */
export interface LimaHome extends AsyncDisposable {
  /** The `LIMA_HOME` directory. */
  readonly dir: string;
  /** Absolute path of the `limactl` stand-in. */
  readonly limactl: string;
  /** Environment for spawning the stand-in: LIMA_HOME, GAMMA_TEST_DENO, LIMA_TEMPLATES_PATH. */
  readonly env: Record<string, string>;
  /** Creates `$LIMA_HOME/NAME` as `limactl create` would; returns the instance dir. */
  addInstance(name: string, spec?: InstanceSpec): Promise<string>;
  /** Starts an instance via `limactl start --tty=false NAME`, not recorded in the argv log. */
  startInstance(name: string): Promise<void>;
  /** The recorded invocations of the stand-in (argv without the program), oldest first. */
  argvLog(): Promise<string[][]>;
  /** The pids of stand-in processes the `hang` fault blocked, in order. */
  hungPids(): Promise<number[]>;
  /**
   * Stops the sshd of a running instance's guest (the listener and every session), as
   * `systemctl stop ssh` would: the VM stays up, the ControlMaster loses its connection and
   * exits, and every ssh to the instance fails with 255. Resolves once `ssh.sock` is gone.
   * With `freeze`, sshd is stopped with SIGSTOP instead: connections stay open and nothing
   * answers (a wedged guest); resolves at once.
   */
  stopSshd(name: string, options?: { freeze?: boolean }): Promise<void>;
}

const LIMACTL = decodeURIComponent(new URL("./limactl", import.meta.url).pathname);

/** The template `limactl start` uses for new instances (self-contained: no `base:`). */
export const DEFAULT_TEMPLATE = `# stand-in template:default
minimumLimaVersion: 2.0.0
images:
- location: "https://cloud-images.ubuntu.com/releases/noble/release/ubuntu-24.04-server-cloudimg-amd64.img"
  arch: "x86_64"
- location: "https://cloud-images.ubuntu.com/releases/noble/release/ubuntu-24.04-server-cloudimg-arm64.img"
  arch: "aarch64"
mounts:
- location: "~"
`;

function instanceYaml(spec: InstanceSpec): string {
  const mounts = spec.mounts ?? [{ location: "~" }];
  let y = DEFAULT_TEMPLATE.replace(/mounts:\n[^]*$/, "");
  y += mounts.length === 0 ? "mounts: []\n" : "mounts:\n";
  for (const m of mounts) {
    y += `- location: ${JSON.stringify(m.location)}\n`;
    if (m.mountPoint !== undefined) y += `  mountPoint: ${JSON.stringify(m.mountPoint)}\n`;
    if (m.writable !== undefined) y += `  writable: ${m.writable}\n`;
  }
  const user = Object.entries(spec.user ?? {}).filter(([, v]) => v !== undefined);
  if (user.length > 0) {
    y += "user:\n" + user.map(([k, v]) => `  ${k}: ${JSON.stringify(v)}\n`).join("");
  }
  return y;
}

function killPidFiles(dir: string): void {
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.isDirectory) continue;
    for (const f of Deno.readDirSync(`${dir}/${entry.name}`)) {
      if (!f.name.endsWith(".pid")) continue;
      try {
        const pid = Number(Deno.readTextFileSync(`${dir}/${entry.name}/${f.name}`).trim());
        // only the stand-in's own detached `sleep`, or the guest sandbox of an instance of this
        // Lima home (a stale pid may have been reused)
        const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
        const own = cmdline === "sleep\x002147483647\x00" ||
          (cmdline.startsWith("/bin/sh\x00-c\x00") && cmdline.includes(`\x00--bind\x00${dir}/`));
        if (pid > 1 && own) Deno.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
  }
}

/** Creates a temporary `LIMA_HOME` (and a templates dir holding `default.yaml`). */
export async function createLimaHome(
  opts: { template?: string } = {},
): Promise<LimaHome> {
  const dir = await Deno.makeTempDir({ prefix: "gamma-lima-home-" });
  const templates = await Deno.makeTempDir({ prefix: "gamma-lima-templates-" });
  await Deno.writeTextFile(`${templates}/default.yaml`, opts.template ?? DEFAULT_TEMPLATE);
  const env = { LIMA_HOME: dir, GAMMA_TEST_DENO: Deno.execPath(), LIMA_TEMPLATES_PATH: templates };

  const startInstance = async (name: string): Promise<void> => {
    const out = await new Deno.Command(LIMACTL, {
      args: ["start", "--tty=false", name],
      env: { ...env, LIMACTL_STANDIN_NO_LOG: "1" },
      stdin: "null",
    }).output();
    if (!out.success) {
      throw new Error(`limactl start ${name} failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
  };

  return {
    dir,
    limactl: LIMACTL,
    env,
    startInstance,
    async addInstance(name: string, spec: InstanceSpec = {}): Promise<string> {
      const inst = `${dir}/${name}`;
      await Deno.mkdir(inst, { mode: 0o700 });
      await Deno.writeTextFile(`${inst}/lima.yaml`, spec.yamlText ?? instanceYaml(spec));
      await Deno.writeTextFile(`${inst}/lima-version`, "v2.2.0");
      const fault = (): Promise<void> => Deno.writeTextFile(`${inst}/standin-fault`, spec.fault!);
      if (spec.fault !== undefined && spec.fault !== "hang") await fault();
      if (spec.running) await startInstance(name);
      if (spec.fault === "hang") await fault();
      return inst;
    },
    async hungPids(): Promise<number[]> {
      try {
        const text = await Deno.readTextFile(`${dir}/_standin/hung`);
        return text.split("\n").filter((l) => l !== "").map(Number);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return [];
        throw e;
      }
    },
    async stopSshd(name: string, options: { freeze?: boolean } = {}): Promise<void> {
      const inst = `${dir}/${name}`;
      const driver = Number((await Deno.readTextFile(`${inst}/qemu.pid`)).trim());
      const children = (pid: number): number[] => {
        try {
          return Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).split(" ")
            .filter((w) => w !== "").map(Number);
        } catch {
          return [];
        }
      };
      const pending = [driver];
      while (pending.length > 0) {
        const pid = pending.pop()!;
        pending.push(...children(pid));
        try {
          if (Deno.readTextFileSync(`/proc/${pid}/comm`).trim() === "sshd") {
            Deno.kill(pid, options.freeze ? "SIGSTOP" : "SIGKILL");
          }
        } catch { /* gone */ }
      }
      if (options.freeze) return;
      // readiness: the master removes its socket when its connection is gone
      for (let delay = 5;; delay = Math.min(delay * 2, 100)) {
        try {
          await Deno.lstat(`${inst}/ssh.sock`);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    },
    async argvLog(): Promise<string[][]> {
      try {
        const text = await Deno.readTextFile(`${dir}/_standin/argv.ndjson`);
        return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return [];
        throw e;
      }
    },
    async [Symbol.asyncDispose](): Promise<void> {
      killPidFiles(dir);
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(templates, { recursive: true });
    },
  };
}
