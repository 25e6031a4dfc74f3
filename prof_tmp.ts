import { createLimaHome } from "./tests/support/lima_home.ts";
const WS = "/tmp/g11/a10k/ws";
const lima = await createLimaHome();
await lima.addInstance("dev", {
  mounts: [{ location: WS, mountPoint: "/workspace", writable: true }],
  running: true,
});
console.log(
  JSON.stringify({
    ...lima.env,
    DEVSHELL_VM_LIMACTL: lima.limactl,
    DEVSHELL_VM_LIMA_INSTANCE: "dev",
    DEVSHELL_VM_WORKSPACE_PARENT: WS,
    XDG_CACHE_HOME: "/tmp/g11/a10k/cache",
  }),
);
