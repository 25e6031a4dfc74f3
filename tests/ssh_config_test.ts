import assert from "node:assert/strict";
import {
  parseSshHostBlock,
  projectSshBlock,
  SSH_INCLUDE_LINE,
  sshRemoteCommand,
  withSshInclude,
} from "../lib/ssh_config.ts";

// The layout of the ssh.config Lima's host agent writes (hostagent writeSSHConfigFile with
// pkg/sshutil/format.go FormatConfig: "Host NAME", then "  Key value" lines; seen on Lima 2.2.0).
const LIMA = `# This SSH config file can be passed to 'ssh -F'.
# This file is created by Lima, but not used by Lima itself currently.
# Modifications to this file will be lost on restarting the Lima instance.
Host lima-dev
  IdentityFile "/home/me/.lima/_config/user"
  StrictHostKeyChecking no
  User me
  ControlPath "/home/me/.lima/dev/ssh.sock"
  Hostname 127.0.0.1
  Port 60022
`;

Deno.test("parseSshHostBlock() reads the first Host block as written", () => {
  assert.deepEqual(parseSshHostBlock(LIMA), {
    host: "lima-dev",
    options: [
      { key: "IdentityFile", value: '"/home/me/.lima/_config/user"' },
      { key: "StrictHostKeyChecking", value: "no" },
      { key: "User", value: "me" },
      { key: "ControlPath", value: '"/home/me/.lima/dev/ssh.sock"' },
      { key: "Hostname", value: "127.0.0.1" },
      { key: "Port", value: "60022" },
    ],
  });
  assert.deepEqual(parseSshHostBlock("Host a\n  Port=1\nHost b\n  Port 2\n"), {
    host: "a",
    options: [{ key: "Port", value: "1" }],
  });
  assert.equal(parseSshHostBlock("# nothing\n"), undefined);
});

Deno.test("projectSshBlock() renames the host and lands a login shell at the guest path", () => {
  const lima = parseSshHostBlock(LIMA + "  RemoteCommand old\n  RequestTTY no\n")!;
  assert.equal(
    projectSshBlock({
      host: "gamma-app",
      options: lima.options,
      guestDir: "/work/it's here",
      comments: ["made by a test"],
    }),
    [
      "# made by a test",
      "Host gamma-app",
      '  IdentityFile "/home/me/.lima/_config/user"',
      "  StrictHostKeyChecking no",
      "  User me",
      '  ControlPath "/home/me/.lima/dev/ssh.sock"',
      "  Hostname 127.0.0.1",
      "  Port 60022",
      "  RequestTTY yes",
      `  RemoteCommand cd '/work/it'"'"'s here' && exec "$SHELL" -l`,
      "",
    ].join("\n"),
  );
  const plain = projectSshBlock({
    host: "x",
    options: lima.options,
    guestDir: "/w",
    remoteCommand: false,
  });
  assert.doesNotMatch(plain, /RemoteCommand|RequestTTY/);
  assert.throws(
    () => projectSshBlock({ host: "a b", options: [], guestDir: "/w" }),
    {
      name: "RangeError",
      message:
        'Invalid ssh host name "a b": use letters, digits, ".", "_" and "-", starting with a letter or digit',
    },
  );
  for (const dir of ["relative", "/a\nb", "/a\\b"]) {
    assert.throws(() => sshRemoteCommand(dir), RangeError, dir);
  }
  assert.equal(sshRemoteCommand("/w/%h"), `cd '/w/%%h' && exec "$SHELL" -l`);
});

Deno.test("withSshInclude() adds the Include at the top once", () => {
  const once = withSshInclude("Host *\n  ServerAliveInterval 60\n")!;
  assert.equal(
    once,
    `# Added by gamma ssh-config --install\n${SSH_INCLUDE_LINE}\n\nHost *\n  ServerAliveInterval 60\n`,
  );
  assert.equal(withSshInclude(once), undefined);
  assert.equal(withSshInclude("  include   ~/.ssh/other ~/.ssh/gamma/*.conf\n"), undefined);
  assert.equal(withSshInclude(""), `# Added by gamma ssh-config --install\n${SSH_INCLUDE_LINE}\n`);
});
