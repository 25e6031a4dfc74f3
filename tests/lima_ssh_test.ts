import assert from "node:assert/strict";
import { limaQuote, limaShellScript, sshConfigHost, sshShellArgs } from "../lib/lima_ssh.ts";
import { guestArgv } from "../lib/limactl_args.ts";
import { remoteScript } from "./support/limactl.ts";

Deno.test("limaQuote() quotes as shellescape.Quote does", () => {
  const cases: [string, string][] = [
    ["", "''"],
    ["plain", "plain"],
    // shellescape's safe set: word characters and @%+=:,./-
    ["a-b_c@d%e+f=g:h,i./j", "a-b_c@d%e+f=g:h,i./j"],
    ["a b", "'a b'"],
    ["it's", `'it'"'"'s'`],
    ["$(id)", "'$(id)'"],
    ["x\ny", "'x\ny'"],
    ["~", "'~'"],
    ["*", "'*'"],
    // non-ASCII is not in the safe set
    ["é", "'é'"],
  ];
  for (const [input, quoted] of cases) assert.equal(limaQuote(input), quoted, input);
});

Deno.test("limaShellScript() is the script limactl shell --workdir sends, word for word", () => {
  const argvs: string[][] = [
    ["true"],
    ["printf", "%s|", "a b", "it's", "$(id)", "*", "~", ""],
    ...[["A=1 2", "B=", "sh", "-c", 'echo "$A"'], ["K=it's $HOME `id`\nx", "env"]],
    // a K=V word after the first non-assignment is an argument, quoted whole
    ["env", "X=1"],
    ["/bin/sh", "-c", "exit 7"],
  ];
  for (const argv of argvs) {
    for (const workdir of ["/work/p", "/w x/it's", "/"]) {
      assert.equal(
        limaShellScript(argv, workdir),
        remoteScript({ mounts: [] }, { workdir, shell: "", env: [] }, argv, {
          cwd: undefined,
          home: undefined,
        }),
        JSON.stringify([argv, workdir]),
      );
    }
  }
  assert.equal(limaShellScript([], "/w"), 'cd /w || exit 1 ; exec "$SHELL" -l');
  assert.throws(() => limaShellScript(["true"], "w"), TypeError);
});

Deno.test("limaShellScript() of guestArgv() carries env and argv as limactl shell does", () => {
  const argv = guestArgv(["echo", "a b"], { K: "v w" });
  assert.deepEqual(argv, ["K=v w", "echo", "a b"]);
  assert.equal(
    limaShellScript(argv, "/work/p"),
    `cd /work/p || exit 1 ; exec "$SHELL" -l -c 'K='"'"'v w'"'"' echo '"'"'a b'"'"''`,
  );
  assert.throws(() => guestArgv(["A=1", "x"]), RangeError);
  assert.throws(() => guestArgv(["x"], { "1A": "v" }), RangeError);
  assert.throws(() => guestArgv([]), TypeError);
});

Deno.test("sshShellArgs() adds -t and SendEnv=COLORTERM as Lima does", () => {
  const base = ["-F", "/l/d/ssh.config"];
  const tail = ["-o", "LogLevel=ERROR", "lima-d", "--", "s"];
  const args = (tty: boolean, colorterm: boolean): string[] =>
    sshShellArgs("/l/d/ssh.config", "lima-d", "s", { tty, colorterm });
  assert.deepEqual(args(false, false), [...base, ...tail]);
  assert.deepEqual(args(true, false), [...base, "-t", ...tail]);
  assert.deepEqual(args(true, true), [...base, "-t", "-o", "SendEnv=COLORTERM", ...tail]);
});

Deno.test("sshConfigHost() reads the Host alias Lima writes", () => {
  const text = '# comment\nHost lima-my-vm\n  IdentityFile "/x"\n  Port 1\n';
  assert.equal(sshConfigHost(text), "lima-my-vm");
  assert.equal(sshConfigHost("# nothing\n"), undefined);
});
