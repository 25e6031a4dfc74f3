import assert from "node:assert/strict";
import { GammaError } from "../lib/errors.ts";
import { sanitizeInstanceSegment, validateInstanceName } from "../lib/instance_name.ts";

const RULE =
  'Lima instance names are letters and digits joined by single ".", "_" or "-", at most 76 characters';

Deno.test("validateInstanceName() accepts Lima identifiers", () => {
  for (const name of ["default", "devshell-rust", "a.b_c-d", "Dev2", "x".repeat(76), "1"]) {
    assert.equal(validateInstanceName(name), name);
  }
});

Deno.test("validateInstanceName() says why a name is refused", () => {
  const cases: [string, string][] = [
    ["", "it is empty"],
    ["-rf", 'it starts with "-", so limactl would read it as a flag'], // flag injection
    ["--debug", 'it starts with "-", so limactl would read it as a flag'],
    ["a/b", 'it contains "/"'], // would escape LIMA_HOME
    ["../x", 'it contains "/"'],
    ["a\u0007b", "it contains a control character"],
    ["a\nb", "it contains a control character"], // newline is a control character first
    ["my vm", "it contains white space"],
    ["a\u00a0b", "it contains white space"], // no-break space is white space, not a control
    ["x".repeat(77), "it is 77 characters long"],
    ["dev.yaml", "it ends with .yml or .yaml, which limactl reads as a template file"],
    ["DEV.YML", "it ends with .yml or .yaml, which limactl reads as a template file"],
    ["a..b", "it does not match [A-Za-z0-9]+([._-][A-Za-z0-9]+)*"], // doubled separator
    ["a-", "it does not match [A-Za-z0-9]+([._-][A-Za-z0-9]+)*"], // trailing separator
    ["ünï", "it does not match [A-Za-z0-9]+([._-][A-Za-z0-9]+)*"], // non-ASCII letters
  ];
  for (const [name, why] of cases) {
    assert.throws(() => validateInstanceName(name), {
      name: "InvalidInstanceNameError",
      message: `Invalid instance name ${JSON.stringify(name)}: ${why}; ${RULE}`,
      instance: name,
      reason: why,
    }, JSON.stringify(name));
    assert.throws(() => validateInstanceName(name), GammaError);
  }
});

Deno.test("sanitizeInstanceSegment() replaces each unsafe character with one _", () => {
  const cases: [string, string][] = [
    ["a.b", "a_b"], // the original's own case
    ["my.instance", "my_instance"],
    ["devshell-rust", "devshell-rust"],
    ["a b/c", "a_b_c"],
    ["ü🙂", "__"], // one _ per character, not per UTF-16 unit
  ];
  for (const [input, expected] of cases) assert.equal(sanitizeInstanceSegment(input), expected);
});
