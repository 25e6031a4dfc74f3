import assert from "node:assert/strict";
import {
  LIMACTL_TIMEOUTS_MS,
  limactlTimeoutHint,
  limactlTimeoutMs,
} from "../lib/limactl_timeout.ts";
import { LimactlTimeoutError } from "../lib/errors.ts";

Deno.test("limactlTimeoutMs() gives each call its own bound unless overridden", () => {
  assert.deepEqual(LIMACTL_TIMEOUTS_MS, { version: 10_000, list: 30_000, probe: 60_000 });
  assert.equal(limactlTimeoutMs("list"), 30_000);
  assert.equal(limactlTimeoutMs("list", 3), 3_000);
  assert.equal(limactlTimeoutMs("probe", 0.25), 250);
});

Deno.test("limactlTimeoutHint() names the next command for each kind of call", () => {
  assert.equal(
    limactlTimeoutHint("version", "dev"),
    "check that limactl runs at all: limactl --version; or allow more time with DEVSHELL_VM_LIMACTL_TIMEOUT=SECONDS",
  );
  assert.equal(
    limactlTimeoutHint("list", "dev"),
    "limactl could not read instance dev (a stalled file system under LIMA_HOME?): try limactl list dev; or allow more time with DEVSHELL_VM_LIMACTL_TIMEOUT=SECONDS",
  );
  assert.match(limactlTimeoutHint("probe", "dev"), /^the guest of instance dev does not answer/);
});

Deno.test("LimactlTimeoutError names the call up to the guest command's first word", () => {
  const e = new LimactlTimeoutError(
    ["shell", "--workdir", "/", "--tty=false", "dev", "--", "/bin/sh", "-c", "long\nscript"],
    "probe",
    60_000,
    "hint",
  );
  assert.equal(
    e.message,
    "limactl shell --workdir / --tty=false dev -- /bin/sh … did not finish within 60 s and was stopped; hint",
  );
  assert.equal(e.name, "LimactlTimeoutError");
  assert.equal(e.call, "probe");
  assert.equal(e.timeoutMs, 60_000);
});
