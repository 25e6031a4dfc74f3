import assert from "node:assert/strict";
import { parse } from "yaml";
import { createLimaHome, type LimaHome } from "../support/lima_home.ts";
import { commands, runGamma, testBothPaths, type Via } from "./_run.ts";

/** A lima.yaml as a user keeps it: comments everywhere, Lima's list style. */
const COMMENTED = `# My development VM.
# Edited by hand; keep these notes.
minimumLimaVersion: 2.0.0

images:
# Ubuntu, as in template:default
- location: "https://cloud-images.example/noble-amd64.img"
  arch: "x86_64"

# CPUs and memory
cpus: 2      # enough for cargo
memory: 4GiB

mounts:
- location: "~"
  # the home stays read-only
  writable: false

# - location: "/scratch"
#   writable: true

# Provisioning comes last.
`;

interface Mounts extends AsyncDisposable {
  lima: LimaHome;
  /** Canonical project directory (holds .git), not mounted. */
  project: string;
  yaml: string;
  env: Record<string, string>;
}

async function withInstance(
  opts: { running?: boolean; yamlText?: string; via?: Via } = {},
): Promise<Mounts> {
  const lima = await createLimaHome();
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "gamma-mounts-" }));
  const project = `${root}/app`;
  await Deno.mkdir(`${project}/.git`, { recursive: true });
  await Deno.mkdir(`${project}/src`);
  await lima.addInstance("dev", {
    yamlText: opts.yamlText ?? COMMENTED,
    running: opts.running ?? false,
  });
  return {
    lima,
    project,
    yaml: `${lima.dir}/dev/lima.yaml`,
    env: {
      ...lima.env,
      DEVSHELL_VM_LIMACTL: lima.limactl,
      DEVSHELL_VM_LIMA_INSTANCE: "dev",
      ...(opts.via === "limactl" ? { DEVSHELL_VM_SSH: "off" } : {}),
    },
    async [Symbol.asyncDispose]() {
      await lima[Symbol.asyncDispose]();
      await Deno.remove(root, { recursive: true });
    },
  };
}

function commentLines(text: string): string[] {
  return text.split("\n").filter((l) => l.includes("#"));
}

Deno.test("gamma mounts prints the entry for the cwd's project and writes nothing", async () => {
  await using m = await withInstance();
  const r = await runGamma(["mounts"], { env: m.env, cwd: `${m.project}/src` });
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    `# ${m.yaml}\nmounts:\n- location: "${m.project}"\n  writable: false\n`,
  );
  assert.equal(
    r.stderr,
    `gamma: to merge this into ${m.yaml}, run it again with --write (and --restart while the instance runs)\n`,
  );
  assert.equal(await Deno.readTextFile(m.yaml), COMMENTED);
  // the home mount (~ = the test HOME) does not cover this project: no note
  assert.deepEqual(await commands(m.lima), ["list"]);
});

Deno.test("gamma mounts --write merges into a commented lima.yaml, backs it up, and is idempotent", async () => {
  await using m = await withInstance();
  const args = ["mounts", "--writable", "--guest-path", "/src/app", "--write"];
  const r = await runGamma(args, { env: m.env, cwd: m.project });
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    `# ${m.yaml}\nmounts:\n- location: "${m.project}"\n  mountPoint: "/src/app"\n  writable: true\n`,
  );
  assert.equal(
    r.stderr,
    [
      `gamma: added mount ${m.project} -> /src/app (writable)`,
      `gamma: wrote ${m.yaml} (the previous version is ${m.yaml}.bak)`,
      "gamma: Lima reads it when instance dev next starts",
      "",
    ].join("\n"),
  );
  const written = await Deno.readTextFile(m.yaml);
  assert.equal(
    written,
    COMMENTED.replace(
      "  writable: false\n",
      `  writable: false\n- location: "${m.project}"\n  mountPoint: "/src/app"\n  writable: true\n`,
    ),
  );
  assert.equal(await Deno.readTextFile(`${m.yaml}.bak`), COMMENTED);
  assert.deepEqual(commentLines(written), commentLines(COMMENTED));
  assert.deepEqual(parse(written).mounts, [
    { location: "~", writable: false },
    { location: m.project, mountPoint: "/src/app", writable: true },
  ]);
  // Lima reads the result: the new mount is in the instance's config
  const status = await runGamma(["status", "--json"], { env: m.env, cwd: `${m.project}/src` });
  assert.equal(JSON.parse(status.stdout).guestCwd, "/src/app/src");

  // again: nothing to do, nothing written (the backup is not replaced either)
  await Deno.writeTextFile(`${m.yaml}.bak`, "# sentinel\n");
  const again = await runGamma(args, { env: m.env, cwd: m.project });
  assert.equal(again.code, 0);
  assert.equal(
    again.stderr,
    `gamma: note: instance dev already shows ${m.project} through its mount ${m.project} -> /src/app (writable)\n` +
      `gamma: ${m.yaml} already has these entries; nothing written\n`,
  );
  assert.equal(await Deno.readTextFile(m.yaml), written);
  assert.equal(await Deno.readTextFile(`${m.yaml}.bak`), "# sentinel\n");
});

testBothPaths(
  "gamma mounts --write refuses while the instance runs; --restart stops and starts it",
  async (via) => {
    await using m = await withInstance({ running: true, via });
    const refused = await runGamma(["mounts", "--writable", "--write"], {
      env: m.env,
      cwd: m.project,
    });
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `gamma: instance dev is running and Lima reads ${m.yaml} only when it starts: rerun with --restart to stop and start it, or stop it first (limactl stop dev)\n`,
    );
    assert.equal(await Deno.readTextFile(m.yaml), COMMENTED);
    assert.equal(await Deno.stat(`${m.yaml}.bak`).catch(() => undefined), undefined);

    const restarted = await runGamma(["mounts", "--writable", "--write", "--restart"], {
      env: m.env,
      cwd: m.project,
    });
    assert.equal(restarted.code, 0);
    assert.match(
      restarted.stderr,
      /^gamma: restarting instance dev so that Lima reads the new mounts\n[^]*\ngamma: wrote /,
    );
    assert.deepEqual(await commands(m.lima), ["list", "stop", "start"]); // the second list is cached
    // the running guest sees the project now, writable
    const exec = await runGamma(["exec", "--", "sh", "-c", "pwd; touch made-in-guest"], {
      env: m.env,
      cwd: m.project,
    });
    assert.deepEqual([exec.code, exec.stdout], [0, `${m.project}\n`]);
    assert.equal(Deno.statSync(`${m.project}/made-in-guest`).isFile, true);
  },
);

Deno.test("gamma mounts --add and --path-prepend: a read-only release directory on the PATH", async () => {
  await using m = await withInstance();
  const r = await runGamma(
    [
      "mounts",
      "--writable",
      "--add",
      "target/release:/host-bin:ro",
      "--path-prepend",
      "/host-bin",
      "--write",
    ],
    { env: m.env, cwd: m.project },
  );
  assert.equal(r.code, 0, r.stderr);
  const path =
    "/host-bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games:/usr/local/games:/snap/bin";
  assert.equal(
    r.stdout,
    [
      `# ${m.yaml}`,
      "mounts:",
      `- location: "${m.project}"`,
      "  writable: true",
      `- location: "${m.project}/target/release"`,
      '  mountPoint: "/host-bin"',
      "  writable: false",
      "env:",
      `  PATH: "${path}"`,
      "",
    ].join("\n"),
  );
  const written = parse(await Deno.readTextFile(m.yaml));
  assert.deepEqual(written.mounts.slice(1), [
    { location: m.project, writable: true },
    { location: `${m.project}/target/release`, mountPoint: "/host-bin", writable: false },
  ]);
  assert.deepEqual(written.env, { PATH: path });
  assert.deepEqual(commentLines(await Deno.readTextFile(m.yaml)), commentLines(COMMENTED));
});

Deno.test("gamma mounts --writable makes an existing read-only entry writable instead of adding one", async () => {
  await using m = await withInstance();
  const yaml = `${COMMENTED}`.replace(
    "# - location",
    `- location: "${m.project}"\n  mountPoint: /src/app\n  writable: false # for now\n# - location`,
  );
  await Deno.writeTextFile(m.yaml, yaml);
  const r = await runGamma(["mounts", "--writable", "--guest-path", "/src/app", "--write"], {
    env: m.env,
    cwd: m.project,
  });
  assert.equal(r.code, 0);
  assert.equal(
    await Deno.readTextFile(m.yaml),
    yaml.replace("writable: false # for now", "writable: true # for now"),
  );
  assert.equal(
    r.stderr,
    [
      `gamma: note: instance dev already shows ${m.project} through its mount ${m.project} -> /src/app (read-only)`,
      `gamma: made mount ${m.project} -> /src/app writable`,
      `gamma: wrote ${m.yaml} (the previous version is ${m.yaml}.bak)`,
      "gamma: Lima reads it when instance dev next starts",
      "",
    ].join("\n"),
  );
});

Deno.test("gamma mounts: a guest path taken by another directory, a missing instance, usage errors", async () => {
  await using m = await withInstance();
  await Deno.writeTextFile(
    m.yaml,
    COMMENTED.replace("# - location", '- location: "/opt"\n  mountPoint: /src/app\n# - location'),
  );
  const taken = await runGamma(["mounts", "--guest-path", "/src/app", "--write"], {
    env: m.env,
    cwd: m.project,
  });
  assert.equal(taken.code, 1);
  assert.equal(
    taken.stderr,
    `gamma: lima.yaml already mounts /opt at /src/app; choose another guest path for ${m.project}\n`,
  );
  const ghost = await runGamma(["mounts", "-i", "ghost", "--write"], {
    env: m.env,
    cwd: m.project,
  });
  assert.equal(ghost.code, 1);
  assert.equal(
    ghost.stderr.split("\n").at(-2),
    `gamma: instance ghost does not exist (no ${m.lima.dir}/ghost/lima.yaml); create it first: limactl create --name=ghost template:default`,
  );
  const usage: [string[], string][] = [
    [["mounts", "--restart"], "gamma mounts: --restart only goes with --write"],
    [
      ["mounts", "--add", "/data"],
      'gamma mounts: Invalid mount "/data": expected HOST:GUEST[:ro], with GUEST an absolute guest directory',
    ],
    [
      ["mounts", "--guest-path", "rel"],
      'gamma mounts: Invalid guest path "rel": it must be an absolute guest directory',
    ],
    [
      ["mounts", "--path-prepend", "bin"],
      'gamma mounts: Invalid PATH entry "bin": it must be an absolute guest directory without ":"',
    ],
    [["mounts", "extra"], 'gamma mounts: unexpected argument "extra"'],
  ];
  for (const [args, line] of usage) {
    const r = await runGamma(args, { env: m.env, cwd: m.project });
    assert.equal(r.code, 2, args.join(" "));
    assert.ok(r.stderr.startsWith(`${line}\n`), r.stderr);
  }
});

Deno.test("gamma mounts maps DEVSHELL_VM_WORKSPACE_PARENT at the guest workspace, and notes an existing mount", async () => {
  await using m = await withInstance();
  await Deno.writeTextFile(m.yaml, `mounts:\n- location: "${m.project}"\n  writable: true\n`);
  const r = await runGamma(["mounts"], {
    env: { ...m.env, DEVSHELL_VM_WORKSPACE_PARENT: m.project },
    cwd: `${m.project}/src`,
  });
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    `# ${m.yaml}\nmounts:\n- location: "${m.project}"\n  mountPoint: "/workspace"\n  writable: false\n`,
  );
  assert.ok(
    r.stderr.startsWith(
      `gamma: note: instance dev already shows ${m.project} through its mount ${m.project} -> ${m.project} (writable)\n`,
    ),
  );
});

Deno.test("gamma mounts --write sees an entry written as a YAML alias or with a merge key", async () => {
  await using m = await withInstance();
  const anchor = `x-app: &app\n  location: "${m.project}"\n  mountPoint: /src/app\n`;
  // an alias of a writable entry: nothing to write, no duplicate
  const alias = `${anchor}  writable: true\n${COMMENTED}`.replace(
    'mounts:\n- location: "~"',
    'mounts:\n- *app # the project\n- location: "~"',
  );
  await Deno.writeTextFile(m.yaml, alias);
  const args = ["mounts", "--writable", "--guest-path", "/src/app", "--write"];
  const same = await runGamma(args, { env: m.env, cwd: m.project });
  assert.equal(same.code, 0, same.stderr);
  assert.equal(await Deno.readTextFile(m.yaml), alias);
  assert.match(same.stderr, /already has these entries; nothing written\n$/);
  // a merge key whose base is read-only: the entry itself becomes writable
  const merged = `${anchor}  writable: false\n${COMMENTED}`.replace(
    'mounts:\n- location: "~"',
    'mounts:\n- <<: *app\n  # from x-app\n- location: "~"',
  );
  await Deno.writeTextFile(m.yaml, merged);
  const made = await runGamma(args, { env: m.env, cwd: m.project });
  assert.equal(made.code, 0, made.stderr);
  assert.equal(
    await Deno.readTextFile(m.yaml),
    merged.replace(
      "- <<: *app\n  # from x-app\n",
      "- <<: *app\n  writable: true\n  # from x-app\n",
    ),
  );
});
