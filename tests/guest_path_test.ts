import assert from "node:assert/strict";
import fc from "fast-check";
import { type Mount, normalizeAbsolutePath, toGuestPath, toHostPath } from "../lib/guest_path.ts";

const HOME_RO: Mount = { location: "/home/me", mountPoint: "/home/me", writable: false };
const WORK: Mount = { location: "/home/me/src", mountPoint: "/workspace", writable: true };
const REMAP: Mount = { location: "/Users/me/p", mountPoint: "/home/lima/p", writable: true };

Deno.test("toGuestPath() maps through the right mount", () => {
  const cases: [string, Mount[], string | undefined][] = [
    ["/home/me/src", [WORK], "/workspace"], // the location itself maps to the mount point
    ["/home/me/src/app/lib", [WORK], "/workspace/app/lib"],
    ["/home/me/srcs", [WORK], undefined], // component-wise: srcs is not under src
    ["/home/me/src/", [WORK], "/workspace"], // trailing slash
    ["/home/me//src/./app/../lib", [WORK], "/workspace/lib"], // lexically normalised
    ["/home/me/src/../secret", [WORK], undefined], // .. leaves the mount
    ["/home/me/src/app", [HOME_RO, WORK], "/workspace/app"], // the longest location wins
    ["/home/me/src/app", [WORK, HOME_RO], "/workspace/app"], // whatever the order
    ["/home/me/notes", [HOME_RO, WORK], "/home/me/notes"], // same-path mount (Lima's default ~)
    ["/Users/me/p/x", [REMAP], "/home/lima/p/x"], // remapped mount, lima-vm/lima#5520
    ["/etc/passwd", [WORK], undefined],
    ["/anything", [{ location: "/", mountPoint: "/host" }], "/host/anything"], // root mount
    ["/", [{ location: "/", mountPoint: "/host" }], "/host"],
    ["/home/me/src/x", [], undefined], // no mounts at all
  ];
  for (const [host, mounts, expected] of cases) {
    assert.equal(toGuestPath(host, mounts), expected, host);
  }
});

Deno.test("toGuestPath() skips a mapping that a deeper mount point hides", () => {
  // /data is shown at /g, but /g/sub in the guest is another mount, so /data/sub/x is hidden.
  const mounts: Mount[] = [
    { location: "/data", mountPoint: "/g" },
    { location: "/other", mountPoint: "/g/sub" },
  ];
  assert.equal(toGuestPath("/data/sub/x", mounts), undefined);
  assert.equal(toGuestPath("/data/subway", mounts), "/g/subway");
  // ...unless another mount shows it too.
  const withSecond: Mount[] = [...mounts, { location: "/data/sub", mountPoint: "/d" }];
  assert.equal(toGuestPath("/data/sub/x", withSecond), "/d/x");
});

Deno.test("toHostPath() maps back through the deepest mount point", () => {
  const cases: [string, Mount[], string | undefined][] = [
    ["/workspace/app", [WORK], "/home/me/src/app"],
    ["/workspace", [WORK], "/home/me/src"],
    ["/workspaces", [WORK], undefined], // component-wise
    ["/workspace/../etc/passwd", [WORK], undefined], // normalised before matching
    ["/home/me/x", [HOME_RO, WORK], "/home/me/x"],
    ["/home/lima/p/a b/ü", [REMAP], "/Users/me/p/a b/ü"],
    ["/g/sub/x", [{ location: "/data", mountPoint: "/g" }, {
      location: "/o",
      mountPoint: "/g/sub",
    }], "/o/x"],
  ];
  for (const [guest, mounts, expected] of cases) {
    assert.equal(toHostPath(guest, mounts), expected, guest);
  }
});

Deno.test("toGuestPath() and toHostPath() refuse relative paths", () => {
  assert.throws(() => toGuestPath("src/app", [WORK]), {
    name: "TypeError",
    message: 'Host path must be an absolute POSIX path: received "src/app"',
  });
  assert.throws(() => toHostPath("", [WORK]), {
    name: "TypeError",
    message: 'Guest path must be an absolute POSIX path: received ""',
  });
  assert.throws(() => toGuestPath("/a", [{ location: "~/src", mountPoint: "/w" }]), {
    name: "TypeError",
    message: 'Mount 0 location must be an absolute POSIX path: received "~/src"',
  });
});

Deno.test("normalizeAbsolutePath() resolves dots and slashes", () => {
  const cases: [string, string][] = [
    ["/", "/"],
    ["//", "/"],
    ["/a/b/../c", "/a/c"], // the original's Mode P case
    ["/../..", "/"], // cannot climb above the root
    ["/a/./b/", "/a/b"],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeAbsolutePath(input), expected);
});

// Properties over random trees of path segments, including "." and "..".
const segment = fc.oneof(
  fc.constantFrom(".", "..", "a", "b", "src", "a b", "ü", "-x"),
  fc.stringMatching(/^[a-z]{1,3}$/),
);
const absPath = fc.array(segment, { maxLength: 6 }).map((s) => "/" + s.join("/"));
const mount = fc.record({ location: absPath, mountPoint: absPath, writable: fc.boolean() });
const mounts = fc.array(mount, { maxLength: 4 });

Deno.test("toGuestPath() property: maps back to the same host path (round trip)", () => {
  fc.assert(
    fc.property(absPath, mounts, (host, ms) => {
      const guest = toGuestPath(host, ms);
      if (guest !== undefined) assert.equal(toHostPath(guest, ms), normalizeAbsolutePath(host));
    }),
    { numRuns: 3000 },
  );
});

Deno.test("toGuestPath() property: the result is never outside the chosen mount point", () => {
  fc.assert(
    fc.property(absPath, mounts, (host, ms) => {
      const guest = toGuestPath(host, ms);
      if (guest === undefined) return;
      assert.ok(!guest.split("/").includes(".."), guest);
      const points = ms.map((m) => normalizeAbsolutePath(m.mountPoint));
      assert.ok(points.some((p) => guest === p || guest.startsWith(p === "/" ? "/" : p + "/")));
    }),
    { numRuns: 3000 },
  );
});

Deno.test("toGuestPath() property: a path under a single mount always maps", () => {
  fc.assert(
    fc.property(mount, fc.array(segment, { maxLength: 5 }), (m, rest) => {
      const host = `${m.location}/${rest.join("/")}`;
      const normal = normalizeAbsolutePath(host);
      const loc = normalizeAbsolutePath(m.location);
      const inside = normal === loc || normal.startsWith(loc === "/" ? "/" : loc + "/");
      assert.equal(toGuestPath(host, [m]) !== undefined, inside);
    }),
    { numRuns: 3000 },
  );
});
