import assert from "node:assert/strict";
import { InvalidInstanceNameError } from "../lib/errors.ts";
import { limactlArgs } from "../lib/limactl_args.ts";

Deno.test("limactlArgs builds start, stop, list, copy and --version", () => {
  assert.deepEqual(limactlArgs.start("dev"), ["start", "--tty=false", "dev"]);
  assert.deepEqual(limactlArgs.start("dev", { timeout: "20m" }), [
    "start",
    "--tty=false",
    "--timeout",
    "20m",
    "dev",
  ]);
  assert.deepEqual(limactlArgs.stop("dev"), ["stop", "dev"]);
  assert.deepEqual(limactlArgs.stop("dev", { force: true }), ["stop", "-f", "dev"]);
  assert.deepEqual(limactlArgs.list("dev"), ["list", "--json", "dev"]);
  assert.deepEqual(limactlArgs.list(), ["list", "--json"]);
  assert.deepEqual(limactlArgs.listNames(), ["list", "-q"]);
  assert.deepEqual(limactlArgs.version(), ["--version"]);
  assert.deepEqual(
    limactlArgs.copy(["dev:/etc/hosts", "/tmp/a"], "/tmp/out", {
      recursive: true,
      backend: "rsync",
    }),
    ["copy", "-r", "--backend=rsync", "dev:/etc/hosts", "/tmp/a", "/tmp/out"],
  );
});

Deno.test("limactlArgs.shell() puts flags first, then the name, --, K=V and the argv unquoted", () => {
  assert.deepEqual(
    limactlArgs.shell("dev", ["printf", "%s\n", "a b", "it's", "$HOME"], {
      workdir: "/workspace/my app/",
      env: { GREETING: "hello world", EMPTY: "", MULTI: "a\nb'c$d" },
      noTty: true,
      shell: "/bin/sh",
    }),
    [
      "shell",
      "--workdir",
      "/workspace/my app",
      "--tty=false",
      "--shell",
      "/bin/sh",
      "dev",
      "--",
      "GREETING=hello world",
      "EMPTY=",
      "MULTI=a\nb'c$d", // Lima quotes the values itself
      "printf",
      "%s\n",
      "a b",
      "it's",
      "$HOME", // never pre-quoted: Lima quotes each element
    ],
  );
});

Deno.test("limactlArgs refuses input Lima would misread", () => {
  assert.throws(
    () => limactlArgs.shell("-x", ["true"], { workdir: "/" }),
    InvalidInstanceNameError,
  );
  assert.throws(() => limactlArgs.stop("a/b"), {
    name: "InvalidInstanceNameError",
    instance: "a/b",
  });
  assert.throws(() => limactlArgs.shell("dev", ["true"], { workdir: "rel" }), {
    name: "TypeError",
    message: 'Guest workdir must be an absolute POSIX path: received "rel"',
  });
  // Lima leaves the name of a K=V element unquoted, so only plain names are safe.
  assert.throws(() => limactlArgs.shell("dev", ["true"], { workdir: "/", env: { "A B": "1" } }), {
    name: "RangeError",
    message:
      'Invalid environment variable name "A B": use letters, digits and "_", not starting with a digit',
  });
  assert.throws(
    () => limactlArgs.shell("dev", ["true"], { workdir: "/", env: { "1A": "1" } }),
    RangeError,
  );
  assert.throws(() => limactlArgs.shell("dev", ["a=b"], { workdir: "/" }), {
    name: "RangeError",
    message:
      'Cannot run "a=b": limactl reads a first command word containing "=" as an environment assignment; name the program by a path without "=", or run it through sh -c',
  });
  assert.throws(() => limactlArgs.shell("dev", [], { workdir: "/" }), {
    name: "TypeError",
    message: "Cannot build limactl shell arguments: the command is empty",
  });
  assert.throws(() => limactlArgs.shell("dev", ["echo", "a\0b"], { workdir: "/" }), TypeError);
  assert.throws(() => limactlArgs.copy([], "/x"), TypeError);
});
