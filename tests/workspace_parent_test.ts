import assert from "node:assert/strict";
import { defaultWorkspaceParent, type WorkspaceParentInputs } from "../lib/workspace_parent.ts";

const BASE: WorkspaceParentInputs = {
  useCargoRoot: true,
  instance: "devshell-rust",
  tempDir: "/tmp",
};

Deno.test("defaultWorkspaceParent() follows override → Cargo root → cache layout", () => {
  const cases: [Partial<WorkspaceParentInputs>, string, string][] = [
    [{ override: "/ws/", cargoWorkspaceRoot: "/repo", home: "/h" }, "/ws", "override"],
    [{ cargoWorkspaceRoot: "/repo", home: "/h" }, "/repo", "cargo"],
    // Cargo rule off: the legacy cache layout, with the instance sanitised (original test).
    [
      { useCargoRoot: false, cargoWorkspaceRoot: "/repo", home: "/h", instance: "my.instance" },
      "/h/.cache/cargo-devshell-exports/vm-workspace/my_instance",
      "cache",
    ],
    [
      { exportBase: "/exports", xdgCacheHome: "/xdg", home: "/h" },
      "/exports/vm-workspace/devshell-rust",
      "cache",
    ],
    [
      { xdgCacheHome: "/xdg", home: "/h" },
      "/xdg/cargo-devshell-exports/vm-workspace/devshell-rust",
      "cache",
    ],
    [
      { xdgCacheHome: "relative/xdg", home: "/h" },
      "/h/.cache/cargo-devshell-exports/vm-workspace/devshell-rust",
      "cache",
    ], // XDG: relative values are ignored
    [{}, "/tmp/vm-workspace/devshell-rust", "cache"], // no HOME at all: the temp dir
    [
      { override: "  ", home: "/h" },
      "/h/.cache/cargo-devshell-exports/vm-workspace/devshell-rust",
      "cache",
    ], // blank override is unset
  ];
  for (const [inputs, path, source] of cases) {
    assert.deepEqual(
      defaultWorkspaceParent({ ...BASE, ...inputs }),
      { path, source },
      JSON.stringify(inputs),
    );
  }
});
