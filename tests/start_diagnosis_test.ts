import assert from "node:assert/strict";
import { diagnoseStart, type StartEvidence } from "../lib/start_diagnosis.ts";

const BASE: StartEvidence = {
  instance: "dev",
  limaHome: "/custom/lima",
  exitCode: 1,
  startStderr: "",
  existed: true,
};
const KVM_HINT =
  "this user cannot use /dev/kvm: run `sudo usermod -aG kvm $USER`, then log in again (or `newgrp kvm`)";

Deno.test("diagnoseStart() recognises KVM permission errors from this start", () => {
  const d = diagnoseStart({
    ...BASE,
    haStderrLog:
      "time=1 level=info msg=start\nCould not access KVM kernel module: Permission denied\n" +
      "qemu-system-x86_64: failed to initialize kvm: Permission denied\n",
    haStdoutLog: '{"status":{"exiting":true,"errors":["qemu exited"]}}\n',
  });
  assert.deepEqual(d, {
    degraded: false,
    hints: [KVM_HINT],
    eventErrors: ["qemu exited"],
    logTail: [
      "time=1 level=info msg=start",
      "Could not access KVM kernel module: Permission denied",
      "qemu-system-x86_64: failed to initialize kvm: Permission denied",
    ],
  });
});

Deno.test("diagnoseStart() ignores a stale log (undefined) and names the real LIMA_HOME", () => {
  const d = diagnoseStart({ ...BASE, haStderrLog: undefined });
  assert.deepEqual(d.hints, ["see /custom/lima/dev/ha.stderr.log and `limactl list`"]);
  assert.deepEqual(d.logTail, []);
});

Deno.test("diagnoseStart() explains degraded, missing templates, new instances and timeouts", () => {
  const degraded = diagnoseStart({
    ...BASE,
    haStdoutLog: '{"status":{"running":true}}\n{"status":{"running":true,"degraded":true}}\n{"torn',
  });
  assert.equal(degraded.degraded, true);
  assert.deepEqual(degraded.hints, [
    "the VM is up but degraded: file sharing and port forwarding may not work (see /custom/lima/dev/ha.stderr.log)",
  ]);
  const template = diagnoseStart({
    ...BASE,
    existed: false,
    startStderr: 'level=fatal msg="template \\"default\\" not found"',
  });
  assert.deepEqual(template.hints, [
    "Lima's templates are missing: reinstall Lima so that share/lima/templates sits next to limactl's bin directory, or set LIMA_TEMPLATES_PATH",
  ]);
  const created = diagnoseStart({ ...BASE, existed: false });
  assert.deepEqual(created.hints, [
    "instance dev did not exist: limactl start tried to create it from template:default; check /custom/lima/dev/lima.yaml or create it with `limactl create --name=dev`",
  ]);
  const timeout = diagnoseStart({
    ...BASE,
    startStderr: 'level=fatal msg="did not receive an event with the `running` status"',
  });
  assert.deepEqual(timeout.hints, [
    "the VM did not become ready in time: see /custom/lima/dev/ha.stderr.log, or start it by hand with `limactl start --timeout 30m dev`",
  ]);
});

Deno.test("diagnoseStart() reads the host agent's JSON log lines", () => {
  const d = diagnoseStart({
    ...BASE,
    haStderrLog: '{"level":"info","msg":"Starting QEMU","time":"t"}\n' +
      '{"level":"debug","msg":"qemu[stderr]: Could not access KVM kernel module: Permission denied","time":"t"}\n',
  });
  assert.deepEqual(d.hints, [KVM_HINT]);
  assert.deepEqual(d.logTail, [
    "Starting QEMU",
    "qemu[stderr]: Could not access KVM kernel module: Permission denied",
  ]);
});

Deno.test("diagnoseStart() keeps only the last 8 log lines", () => {
  const log = Array.from({ length: 20 }, (_, i) => `line ${i}`).join("\n") + "\n";
  assert.deepEqual(
    diagnoseStart({ ...BASE, haStderrLog: log }).logTail,
    Array.from({ length: 8 }, (_, i) => `line ${i + 12}`),
  );
});

Deno.test("diagnoseStart() sees a start time-out in the last event when Lima wrote to the terminal", () => {
  const HINT =
    "the VM did not become ready in time: see /custom/lima/dev/ha.stderr.log, or start it by hand with `limactl start --timeout 30m dev`";
  // startStderr "" (Lima wrote to the terminal); the host agent still waits for ssh
  const waiting = diagnoseStart({ ...BASE, haStdoutLog: '{"status":{"sshLocalPort":60022}}\n' });
  assert.deepEqual(waiting.hints, [HINT]);
  // a host agent that exited, or a VM that runs, is not a time-out
  const exited = diagnoseStart({ ...BASE, haStdoutLog: '{"status":{"exiting":true}}\n' });
  assert.deepEqual(exited.hints, ["see /custom/lima/dev/ha.stderr.log and `limactl list`"]);
  const captured = diagnoseStart({
    ...BASE,
    startStderr: 'level=fatal msg="something else"',
    haStdoutLog: '{"status":{"sshLocalPort":60022}}\n',
  });
  assert.ok(!captured.hints.includes(HINT));
});
