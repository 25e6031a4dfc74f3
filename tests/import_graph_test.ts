/**
 * The module graph as Deno resolves it (`deno info --json`, type-only and dynamic imports
 * included): no import circle under lib/ or cli/, and the layers import downwards only.
 */

import assert from "node:assert/strict";
import { posix } from "node:path";

const ROOT = posix.dirname(posix.dirname(new URL(import.meta.url).pathname));

/** Every .ts file under a directory of the repository, as a path relative to the root. */
async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(posix.join(ROOT, dir))) {
    const rel = posix.join(dir, entry.name);
    if (entry.isDirectory) out.push(...await sources(rel));
    else if (entry.isFile && entry.name.endsWith(".ts")) out.push(rel);
  }
  return out.sort();
}

/** Local module → the local modules it imports (by code, by type, statically or dynamically). */
async function importGraph(files: readonly string[]): Promise<Map<string, Set<string>>> {
  const dir = await Deno.makeTempDir({ prefix: "gamma-import-graph-" });
  try {
    const root = posix.join(dir, "all.ts");
    await Deno.writeTextFile(
      root,
      files.map((f) => `import ${JSON.stringify(`file://${posix.join(ROOT, f)}`)};\n`).join(""),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", posix.join(ROOT, "deno.json"), root],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
      }[];
    };
    const local = (specifier: string | undefined): string | undefined =>
      specifier?.startsWith(`file://${ROOT}/`)
        ? specifier.slice(`file://${ROOT}/`.length)
        : undefined;
    const graph = new Map<string, Set<string>>();
    for (const module of info.modules) {
      const from = local(module.specifier);
      if (from === undefined) continue;
      const to = new Set<string>();
      for (const dep of module.dependencies ?? []) {
        for (const target of [local(dep.code?.specifier), local(dep.type?.specifier)]) {
          if (target !== undefined) to.add(target);
        }
      }
      graph.set(from, to);
    }
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The strongly connected components with more than one module, or a module importing itself. */
function circles(graph: Map<string, Set<string>>): string[][] {
  // Tarjan's algorithm.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.has(v)) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

const ENTRIES = ["mod.ts", "sync.ts", "guest_fs.ts", "doctor.ts", "config.ts", "lima.ts", "cli.ts"];
const graph = await importGraph([...ENTRIES, ...await sources("lib"), ...await sources("cli")]);

Deno.test("circles() finds a two-module circle and a module importing itself", () => {
  const g = new Map([
    ["a.ts", new Set(["b.ts"])],
    ["b.ts", new Set(["a.ts", "c.ts"])],
    ["c.ts", new Set<string>()],
    ["d.ts", new Set(["d.ts"])],
  ]);
  assert.deepEqual(circles(g), [["a.ts", "b.ts"], ["d.ts"]]);
});

Deno.test("the module graph is read: cli.ts reaches cli/ and lib/", () => {
  assert.ok(graph.get("cli.ts")?.has("cli/_spec.ts"));
  assert.ok(graph.get("mod.ts")?.has("lib/errors.ts"));
});

Deno.test("no import circle under cli/", () => {
  const graphOf = new Map([...graph].filter(([file]) => file.startsWith("cli/")));
  assert.deepEqual(circles(graphOf), []);
});

Deno.test("lib/ never imports cli/ or an entry module", () => {
  const wrong = [...graph].flatMap(([from, to]) =>
    from.startsWith("lib/")
      ? [...to].filter((t) => t.startsWith("cli/") || ENTRIES.includes(t)).map((t) =>
        `${from} -> ${t}`
      )
      : []
  );
  assert.deepEqual(wrong, []);
});

Deno.test("no import circle under lib/", () => {
  const graphOf = new Map([...graph].filter(([file]) => file.startsWith("lib/")));
  assert.deepEqual(circles(graphOf), []);
});

Deno.test("in lib/, only the session's own users import lib/session/session.ts", () => {
  // The probe, provisioning and the doctor's fact gathering take a SessionView instead.
  const importers = [...graph].filter(([from, to]) =>
    from.startsWith("lib/") && to.has("lib/session/session.ts")
  ).map(([from]) => from).sort();
  assert.deepEqual(importers, ["lib/session/guest_fs.ts", "lib/session/run_doctor.ts"]);
});
