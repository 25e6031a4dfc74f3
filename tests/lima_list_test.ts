import assert from "node:assert/strict";
import { parseLimaList } from "../lib/lima_list.ts";

Deno.test("parseLimaList() reads NDJSON, one instance per line", () => {
  const a = {
    name: "a",
    status: "Running",
    dir: "/lima/a",
    errors: ["boom"],
    config: {
      mounts: [
        { location: "/home/me", mountPoint: "/home/me", writable: false },
        { location: "/src", mountPoint: "/workspace", writable: true },
        { location: "/tmp/x" }, // Lima's defaults: mount point = location, read-only
        { location: "~/not-expanded" }, // not absolute: left out
        { mountPoint: "/nowhere" }, // no location: left out
      ],
      user: { name: "me", home: "/home/me.guest" },
    },
  };
  const b = { name: "b", status: "Stopped" };
  const parsed = parseLimaList(`${JSON.stringify(a)}\n\n${JSON.stringify(b)}\n`);
  assert.deepEqual(parsed, [
    {
      name: "a",
      status: "Running",
      dir: "/lima/a",
      errors: ["boom"],
      userHome: "/home/me.guest",
      mounts: [
        { location: "/home/me", mountPoint: "/home/me", writable: false },
        { location: "/src", mountPoint: "/workspace", writable: true },
        { location: "/tmp/x", mountPoint: "/tmp/x", writable: false },
      ],
    },
    { name: "b", status: "Stopped", dir: undefined, errors: [], userHome: undefined, mounts: [] },
  ]);
  assert.deepEqual(parseLimaList(""), []); // "No instance found": empty stdout
});

Deno.test("parseLimaList() names the line it cannot read", () => {
  assert.throws(() => parseLimaList('{"name":"a"}\n[{"name":"b"}]\n'), {
    name: "SyntaxError",
    message: 'Cannot parse limactl list output line 2: it is not an object with a "name"',
  });
  assert.throws(
    () => parseLimaList("{oops\n"),
    (e: Error) =>
      e instanceof SyntaxError && e.message.startsWith("Cannot parse limactl list output line 1: "),
  );
});
