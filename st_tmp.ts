const base = Deno.args[0]!;
const { HostTree } = await import(`${base}/lib/session/host_tree.ts`);
const { syncTrees } = await import(`${base}/lib/session/sync.ts`);
const t = performance.now();
const r = await syncTrees(
  "push",
  new HostTree("/tmp/g11/b10k/code/app"),
  new HostTree("/tmp/g11/b10k/ws/app"),
  { stateDir: Deno.args[1], project: "/tmp/g11/b10k/code/app", progress: false },
);
console.log(base, (performance.now() - t).toFixed(0), r.copied, r.copyState);
