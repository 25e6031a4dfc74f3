// deno-lint-ignore-file no-console
/**
 * A test stand-in for Lima's `limactl` (modelled on v2.2.0), run through the `limactl` sh wrapper
 * next to this file. Every behaviour cites where real Lima does the same; "A.n" refers to
 * `shared/reference/lima-and-peers.md`, paths to files in lima-vm/lima at tag v2.2.0.
 *
 * The "VM" is emulated: the host agent is a detached `sleep` (`ha.pid`) and the QEMU driver
 * (`qemu.pid`) a long-lived bubblewrap sandbox that sees only the host's /usr and /etc, the guest
 * home and the configured mounts, and runs OpenSSH's sshd on the instance's `sshLocalPort` (as the
 * host agent forwards a real guest's port 22). `start` writes `ssh.config` as Lima does and leaves
 * an ssh ControlMaster running; `shell` runs the real `ssh` with Lima's options and script, so the
 * guest command is run by sshd through the user's login shell, and transport faults are real
 * (`ssh: connect to host … Connection refused`, 255). `copy` runs `cp` in a per-call sandbox.
 *
 * Stand-in knobs: env `LIMACTL_STANDIN_VERSION` (reported version), `LIMACTL_STANDIN_NO_LOG=1`
 * (do not record this call in `$LIMA_HOME/_standin/argv.ndjson`), `LIMACTL_STANDIN_HANG=1`
 * (every call hangs, `--version` too: see {@linkcode hangForever}), and a file `standin-fault`
 * in an instance dir holding one of: kvm, degraded, timeout, ssh (read at start: the guest's sshd
 * is not started), slow-start (the boot holds after the essential requirements until a file
 * `slow-start.release` appears in the instance dir, so tests decide when it ends instead of
 * racing a fixed delay), hang (see {@linkcode hangForever}).
 *
 * @module
 */

/** The Lima release this stand-in models. */
const LIMA_VERSION = "2.2.0";
const DEFAULT_INSTANCE = "default";
// Ubuntu's /etc/environment PATH, which pam_env gives ssh sessions in Lima's Ubuntu guests.
const GUEST_PATH =
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games:/usr/local/games:/snap/bin";
const FAULTS = ["kvm", "degraded", "timeout", "ssh", "slow-start", "hang"] as const;
type Fault = typeof FAULTS[number];
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Fields = Record<string, string>;
const encoder = new TextEncoder();

/** An error that limactl reports with `logrus.Fatal` (exit 1). */
class LimaError extends Error {}
function fail(msg: string): never {
  throw new LimaError(msg);
}

// ---------------------------------------------------------------- Go formatting helpers

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}
const out = (text: string): void => writeAll(Deno.stdout, text);

/** Go's `%q` (strconv.Quote). */
function goQuote(s: string): string {
  // deno-fmt-ignore
  const named: Record<string, string> = {
    "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
    '"': '\\"', "\\": "\\\\",
  };
  let q = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (named[ch] !== undefined) q += named[ch];
    else if (c < 0x20 || c === 0x7f) q += "\\x" + c.toString(16).padStart(2, "0");
    else if (!/[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(ch)) {
      q += c > 0xffff
        ? "\\U" + c.toString(16).padStart(8, "0")
        : "\\u" + c.toString(16).padStart(4, "0");
    } else q += ch;
  }
  return q + '"';
}

/** Go's `%#q`: backquoted when strconv.CanBackquote, else `%q` (v2.2 messages use it). */
function bq(s: string): string {
  const canBackquote = [...s].every((ch) => {
    const c = ch.codePointAt(0) ?? 0;
    return ch !== "`" && c !== 0xfeff && c !== 0x7f && (c >= 0x20 || c === 0x09);
  });
  return canBackquote ? "`" + s + "`" : goQuote(s);
}

/** Go's time.RFC3339 (or RFC3339Nano) in local time. */
function rfc3339(d: Date, nano = false): string {
  const offset = -d.getTimezoneOffset();
  let s = new Date(d.getTime() + offset * 60_000).toISOString().slice(0, 19);
  const ms = d.getMilliseconds();
  if (nano && ms !== 0) s += "." + String(ms).padStart(3, "0").replace(/0+$/, "");
  if (offset === 0) return s + "Z";
  const abs = Math.abs(offset);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, "0")}:${
    String(abs % 60).padStart(2, "0")
  }`;
  return `${s}${offset < 0 ? "-" : "+"}${hhmm}`;
}

/** JSON as Go's encoding/json writes it with HTML escaping on (logrus, hostagent events). */
function goJson(value: Json): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => "\\u" + (c.codePointAt(0) ?? 0).toString(16).padStart(4, "0"),
  );
}

function sortedObject(obj: Fields): { [key: string]: Json } {
  return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, obj[k] ?? ""]));
}

/** docker/go-units BytesSize: "%.4g" of binary units. */
function bytesSize(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) [n, i] = [n / 1024, i + 1];
  const g = n.toPrecision(4);
  return (g.includes(".") ? g.replace(/\.?0+$/, "") : g) + units[i];
}

/** docker/go-units RAMInBytes (binary multiples, "4GiB", "4G", "512MiB"...). */
function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) return NaN;
  const mult = 1024 ** (" kmgtp".indexOf((m[2] ?? " ").toLowerCase()));
  return Math.trunc(Number(m[1]) * mult);
}

/** al.essio.dev/pkg/shellescape Quote (used by cmd/limactl/shell.go). */
export function shellQuote(s: string): string {
  if (s === "") return "''";
  return /[^\w@%+=:,./-]/.test(s) ? `'${s.replaceAll("'", `'"'"'`)}'` : s;
}

/** Go's filepath.Clean for absolute/relative slash paths. */
function cleanPath(p: string): string {
  const abs = p.startsWith("/");
  const parts: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === ".." && parts.length > 0 && parts.at(-1) !== "..") parts.pop();
    else if (seg !== ".." || !abs) parts.push(seg);
  }
  const joined = parts.join("/");
  return abs ? "/" + joined : joined || ".";
}
const joinPath = (...parts: string[]): string => cleanPath(parts.join("/"));
const dirName = (p: string): string => cleanPath(p + "/..");
const baseName = (p: string): string => cleanPath(p).split("/").at(-1) || "/";
const absPath = (p: string): string => p.startsWith("/") ? cleanPath(p) : joinPath(Deno.cwd(), p);

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function removeIfExists(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch { /* not there */ }
}

function realPathOr(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

function lookPath(name: string): string | undefined {
  for (const d of (Deno.env.get("PATH") ?? "").split(":")) {
    const p = joinPath(d || ".", name);
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* next */ }
  }
  return undefined;
}

/** semver comparison as pkg/version/versionutil: "" is older than anything. */
function versionAtLeast(version: string, min: string): boolean {
  if (version === "") return false;
  const parse = (v: string): number[] =>
    (v.replace(/^v/, "").split("-")[0] ?? "").split(".").map(Number);
  const [a, b] = [parse(version), parse(min)];
  if (a.some(Number.isNaN)) return true; // unparsable: "treated as very latest"
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

// ---------------------------------------------------------------- logging (logrus)

const LEVELS = ["panic", "fatal", "error", "warning", "info", "debug", "trace"] as const;
type Level = typeof LEVELS[number];

/** limactl's logrus logger on stderr (cmd/limactl/main.go processGlobalFlags). */
class Logger {
  level = LEVELS.indexOf("info");
  format: "text" | "json" = "text";
  private readonly started = Date.now();
  constructor(private readonly silent = false) {}

  log(level: Level, msg: string, fields: Fields = {}, time = new Date()): void {
    if (this.silent || LEVELS.indexOf(level) > this.level) return;
    const data: Fields = {};
    // logrus prefixFieldClashes: a "level" field becomes "fields.level"
    for (const [k, v] of Object.entries(fields)) {
      data[["time", "msg", "level"].includes(k) ? "fields." + k : k] = v;
    }
    writeAll(Deno.stderr, this.render(level, msg, data, time));
  }

  private render(level: Level, msg: string, data: Fields, time: Date): string {
    if (this.format === "json") {
      // logrus JSONFormatter: one object per line, keys sorted (Go map marshalling)
      return goJson(sortedObject({ ...data, level, msg, time: rfc3339(time) })) + "\n";
    }
    const keys = Object.keys(data).sort();
    if (Deno.stderr.isTerminal()) {
      // logrus TextFormatter.printColored: `INFO[0000] msg` on a terminal (A.1)
      const color =
        { panic: 31, fatal: 31, error: 31, warning: 33, info: 36, debug: 37, trace: 37 }[
          level
        ];
      const secs = String(Math.floor((time.getTime() - this.started) / 1000)).padStart(4, "0");
      const head = `\x1b[${color}m${level.toUpperCase().slice(0, 4)}\x1b[0m[${secs}] ${
        msg.padEnd(44)
      } `;
      return head + keys.map((k) =>
        ` \x1b[${color}m${k}\x1b[0m=${logValue(data[k] ?? "")}`
      ).join("") +
        "\n";
    }
    // logrus TextFormatter without a terminal: time="…" level=… msg="…" (A.1)
    const pairs = [["time", rfc3339(time)], ["level", level], ["msg", msg]];
    for (const k of keys) pairs.push([k, data[k] ?? ""]);
    return pairs.map(([k, v]) => `${k}=${logValue(v ?? "")}`).join(" ") + "\n";
  }

  info(msg: string, fields?: Fields): void {
    this.log("info", msg, fields);
  }
  warn(msg: string, fields?: Fields): void {
    this.log("warning", msg, fields);
  }
  error(msg: string, fields?: Fields): void {
    this.log("error", msg, fields);
  }
  debug(msg: string, fields?: Fields): void {
    this.log("debug", msg, fields);
  }
}

/** logrus TextFormatter.needsQuoting + appendValue (`%q`). */
function logValue(v: string): string {
  return /^[A-Za-z0-9\-._/@^+]*$/.test(v) ? v : goQuote(v);
}

/**
 * The host agent's logrus output: JSON lines in ha.stderr.log (cmd/limactl/hostagent.go
 * initLogrus), re-logged by `limactl start/stop` with a "[hostagent] " prefix
 * (pkg/logrusutil PropagateJSON: fatal/panic become error with a `level` field).
 */
class HostAgentLog {
  constructor(private readonly dir: string, private readonly limactl: Logger | null) {}

  line(level: Level, msg: string, fields: Fields = {}): void {
    const time = new Date();
    const entry = sortedObject({ ...fields, level, msg, time: rfc3339(time) });
    Deno.writeTextFileSync(joinPath(this.dir, "ha.stderr.log"), goJson(entry) + "\n", {
      append: true,
    });
    const lv = LEVELS.indexOf(level) <= 1 ? "error" : level;
    const extra = lv === level ? fields : { ...fields, level };
    this.limactl?.log(lv, "[hostagent] " + msg, extra, time);
  }

  /** pkg/hostagent/events: `{"time":…,"status":{…}}` lines in ha.stdout.log. */
  event(status: EventStatus): void {
    const st: { [key: string]: Json } = {};
    if (status.running) st.running = true;
    if (status.degraded) st.degraded = true;
    if (status.exiting) st.exiting = true;
    if (status.errors.length > 0) st.errors = status.errors;
    if (status.sshLocalPort) st.sshLocalPort = status.sshLocalPort;
    const line = goJson({ time: rfc3339(new Date(), true), status: st }) + "\n";
    Deno.writeTextFileSync(joinPath(this.dir, "ha.stdout.log"), line, { append: true });
  }
}

interface EventStatus {
  running: boolean;
  degraded: boolean;
  exiting: boolean;
  errors: string[];
  sshLocalPort: number;
}

/** Go `%+v` of events.Status, used in `exiting, status=…` / `degraded, status=…`. */
function statusV(s: EventStatus): string {
  return `{Running:${s.running} Degraded:${s.degraded} Exiting:${s.exiting} Errors:[${
    s.errors.join(" ")
  }] SSHLocalPort:${s.sshLocalPort} CloudInitProgress:<nil> PortForward:<nil> Vsock:<nil>}`;
}

// ---------------------------------------------------------------- flags (cobra / pflag)

type FlagKind = "bool" | "string" | "duration" | "stringArray";
interface FlagSpec {
  name: string;
  kind: FlagKind;
  short?: string;
}
interface ParsedFlags {
  values: Map<string, string | boolean | string[]>;
  changed: Set<string>;
  args: string[];
}

// cmd/limactl/main.go: persistent flags of the root command; cobra adds --help everywhere.
const GLOBAL_FLAGS: FlagSpec[] = [
  { name: "debug", kind: "bool" },
  { name: "log-level", kind: "string" },
  { name: "log-format", kind: "string" },
  { name: "tty", kind: "bool" },
  { name: "yes", kind: "bool", short: "y" },
  { name: "help", kind: "bool", short: "h" },
];

function parseBool(flag: string, v: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  fail(
    `invalid argument ${goQuote(v)} for ${goQuote(flag)} flag: strconv.ParseBool: parsing ${
      goQuote(v)
    }: invalid syntax`,
  );
}

/** Go time.ParseDuration, in milliseconds. */
function parseDuration(flag: string, v: string): number {
  const unit: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    "µs": 1e-3,
    ms: 1,
    s: 1e3,
    m: 6e4,
    h: 36e5,
  };
  if (v === "0") return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    total += Number(m[1]) * (unit[m[2] ?? "s"] ?? 0);
    pos = re.lastIndex;
  }
  if (v === "" || pos !== v.length) {
    fail(
      `invalid argument ${goQuote(v)} for ${goQuote(flag)} flag: time: invalid duration ${
        goQuote(v)
      }`,
    );
  }
  return total;
}

/** pflag parsing; `interspersed=false` stops at the first positional (shell.go SetInterspersed). */
function parseFlags(argv: string[], specs: FlagSpec[], interspersed: boolean): ParsedFlags {
  const r: ParsedFlags = { values: new Map(), changed: new Set(), args: [] };
  const set = (spec: FlagSpec, raw: string | undefined, flagText: string): void => {
    let v: string | boolean | string[];
    if (spec.kind === "bool") v = raw === undefined ? true : parseBool(flagText, raw);
    else if (spec.kind === "duration") v = String(parseDuration(flagText, raw ?? ""));
    else if (spec.kind === "stringArray") {
      const prev = r.values.get(spec.name);
      v = [...(Array.isArray(prev) ? prev : []), raw ?? ""];
    } else v = raw ?? "";
    r.values.set(spec.name, v);
    r.changed.add(spec.name);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (a === "--") {
      r.args.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      if (!interspersed) {
        r.args.push(...argv.slice(i));
        break;
      }
      r.args.push(a);
      continue;
    }
    if (a.startsWith("--")) {
      const [name = "", ...rest] = a.slice(2).split("=");
      const spec = specs.find((s) => s.name === name);
      if (!spec) fail(`unknown flag: --${name}`);
      let raw: string | undefined = rest.length > 0 ? rest.join("=") : undefined;
      if (raw === undefined && spec.kind !== "bool") {
        if (i + 1 >= argv.length) fail(`flag needs an argument: --${name}`);
        raw = argv[++i];
      }
      set(spec, raw, `--${name}`);
      continue;
    }
    const shorts = a.slice(1);
    for (let j = 0; j < shorts.length; j++) {
      const c = shorts[j] ?? "";
      const spec = specs.find((s) => s.short === c);
      if (!spec) fail(`unknown shorthand flag: ${goQuote(c).replaceAll('"', "'")} in -${shorts}`);
      let raw: string | undefined;
      if (shorts[j + 1] === "=") raw = shorts.slice(j + 2);
      else if (spec.kind !== "bool" && j + 1 < shorts.length) raw = shorts.slice(j + 1);
      else if (spec.kind !== "bool") {
        if (i + 1 >= argv.length) {
          fail(`flag needs an argument: ${goQuote(c).replaceAll('"', "'")} in -${c}`);
        }
        raw = argv[++i];
      }
      set(spec, raw, `-${c}`);
      if (raw !== undefined) break;
    }
  }
  return r;
}

const flagBool = (f: ParsedFlags, name: string, dflt = false): boolean => {
  const v = f.values.get(name);
  return typeof v === "boolean" ? v : dflt;
};
const flagString = (f: ParsedFlags, name: string, dflt = ""): string => {
  const v = f.values.get(name);
  return typeof v === "string" ? v : dflt;
};

/** cobra's MinimumNArgs/MaximumNArgs wrapped by WrapArgsError (cmd/limactl/main.go). */
function checkArgs(command: string, spec: CommandSpec, n: number): void {
  let problem = "";
  if (spec.min !== undefined && n < spec.min) {
    problem = `requires at least ${spec.min} arg(s), only received ${n}`;
  } else if (spec.max !== undefined && n > spec.max) {
    problem = `accepts at most ${spec.max} arg(s), received ${n}`;
  }
  if (problem === "") return;
  const path = `limactl ${command}`;
  const use = spec.use.includes("[flags]") ? `limactl ${spec.use}` : `limactl ${spec.use} [flags]`;
  fail(`${bq(path)} ${problem}.\nSee ${bq(path + " --help")}.\n\nUsage:  ${use}\n\n${spec.short}`);
}

// ---------------------------------------------------------------- host facts

interface HostUser {
  username: string;
  name: string;
  uid: number;
}

/** Go's user.Current(): the passwd entry of the uid, falling back to $USER. */
function hostUser(): HostUser {
  const uid = Deno.uid() ?? 0;
  try {
    for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
      const f = line.split(":");
      if (f[2] === String(uid) && f[0]) {
        return { username: f[0], name: (f[4] ?? "").split(",")[0] ?? "", uid };
      }
    }
  } catch { /* fall back */ }
  return { username: Deno.env.get("USER") ?? "", name: "", uid };
}

/** os.UserHomeDir(): $HOME. */
function homeDir(): string {
  const home = Deno.env.get("HOME") ?? "";
  if (home === "") fail("$HOME is not defined");
  return home;
}

/** pkg/limatype/dirnames LimaDir: $LIMA_HOME, else ~/.lima, symlinks evaluated. */
function limaDir(): string {
  return realPathOr(Deno.env.get("LIMA_HOME") || joinPath(homeDir(), ".lima"));
}

function standinVersion(): string {
  return (Deno.env.get("LIMACTL_STANDIN_VERSION") || LIMA_VERSION).replace(/^v/, "");
}

/** pkg/identifiers + dirnames.ValidateInstName. */
function validateInstName(name: string): void {
  const re = "^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$";
  const prefix = `instance name ${bq(name)} is not a valid identifier: `;
  if (name === "") fail(prefix + "identifier must not be empty");
  if (name.length > 76) {
    fail(prefix + `identifier ${bq(name)} greater than maximum length (76 characters)`);
  }
  if (!new RegExp(re).test(name)) fail(prefix + `identifier ${bq(name)} must match ${re}`);
  if (/\.ya?ml$/i.test(name)) {
    fail(`instance name ${bq(name)} must not end with .yml or .yaml suffix`);
  }
}

// ---------------------------------------------------------------- configuration (lima.yaml)

interface Mount {
  location: string;
  mountPoint: string;
  writable: boolean;
}

interface Config {
  vmType: string;
  os: string;
  arch: string;
  mounts: Mount[];
  sshLocalPort: number;
  plain: boolean;
  containerd: boolean;
  user: { name: string; home: string; shell: string };
  /** The config as `limactl list --json` shows it (defaults filled, LimaYAML field order). */
  json: { [key: string]: Json };
}

type Raw = { [key: string]: unknown };
const asRaw = (
  v: unknown,
): Raw => (v && typeof v === "object" && !Array.isArray(v) ? v as Raw : {});
const asStr = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Parses lima.yaml; the parse is cached (keyed by the text) to keep `shell` fast. */
async function loadYaml(cacheDir: string, name: string, text: string): Promise<unknown> {
  const cache = joinPath(cacheDir, `${name}.json`);
  try {
    const c = JSON.parse(Deno.readTextFileSync(cache));
    if (c.text === text) return c.value;
  } catch { /* parse it */ }
  const { parse } = await import("yaml");
  // pkg/limayaml/marshal.go Unmarshal: goccy/go-yaml, which applies `<<: *anchor` merge keys
  const value: unknown = parse(text, { merge: true });
  try {
    Deno.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cache}.${Deno.pid}`;
    Deno.writeTextFileSync(tmp, JSON.stringify({ text, value }));
    Deno.renameSync(tmp, cache);
  } catch { /* cache is optional */ }
  return value;
}

/** Go text/template `{{.Key}}` / `{{.Param.Key}}` as used in mount paths (defaults.go). */
function expandTemplate(s: string, data: Record<string, string>, param: Raw): string {
  return s.replace(/\{\{\s*\.(\w+)(?:\.(\w+))?\s*\}\}/g, (_, key: string, sub?: string) => {
    const v = sub !== undefined && key === "Param" ? asStr(param[sub]) : data[key];
    return v ?? "<no value>";
  });
}

/** The lima version an instance was created with (pkg/limayaml ExistingLimaVersion). */
function existingLimaVersion(dir: string): string {
  const markers = ["ha.stdout.log", "ha.stderr.log", "vz-identifier", "iso", "disk", "basedisk"];
  if (!["diffdisk", "cidata.iso", ...markers].some((f) => exists(joinPath(dir, f)))) {
    return "v" + standinVersion();
  }
  try {
    return Deno.readTextFileSync(joinPath(dir, "lima-version")).trim();
  } catch {
    return ""; // created before Lima v0.20
  }
}

/** pkg/limayaml/defaults.go FillDefault, for the fields a wrapper looks at. */
function fillDefaults(raw: Raw, dir: string, name: string): Config {
  const host = hostUser();
  const param = asRaw(raw.param);
  const os = asStr(raw.os) ?? "Linux";
  const vmType = asStr(raw.vmType) ?? "qemu"; // driverutil.ResolveVMType on Linux hosts
  const arch = asStr(raw.arch) ?? (Deno.build.arch === "aarch64" ? "aarch64" : "x86_64");
  const cpus = Number(raw.cpus) || Math.min(4, navigator.hardwareConcurrency); // defaultCPUs
  const memory = asStr(raw.memory) || // defaultMemory: min(4GiB, half the host memory)
    bytesSize(Math.min(4 * 1024 ** 3, Deno.systemMemoryInfo().total / 2));
  const disk = asStr(raw.disk) || "100GiB";
  const plain = raw.plain === true;
  const unsupported = Array.isArray(raw.mountTypesUnsupported) ? raw.mountTypesUnsupported : [];
  const dfltMountType = vmType === "vz" ? "virtiofs" : vmType === "wsl2" ? "wsl2" : "9p";
  const mountType = asStr(raw.mountType) ??
    (unsupported.includes(dfltMountType) ? "reverse-sshfs" : dfltMountType);
  // osutil.LimaUser: the host user name if it is a valid Linux name, else "lima"
  const version = existingLimaVersion(dir);
  let limaUser = /^[a-z_][a-z0-9_-]*$/.test(host.username) ? host.username : "lima";
  if (limaUser === "admin" && versionAtLeast(version, "1.0.0")) limaUser = "lima";
  const rawUser = asRaw(raw.user);
  const userName = asStr(rawUser.name) ?? limaUser;
  const uid = typeof rawUser.uid === "number" ? rawUser.uid : host.uid;
  // `/home/{{.User}}.guest` since v2.1, `.linux` before (pkg/osutil/user.go, A.10)
  const homeTmpl = asStr(rawUser.home) ??
    (version === "<unknown>" || versionAtLeast(version, "2.1.0")
      ? "/home/{{.User}}.guest"
      : "/home/{{.User}}.linux");
  const guestData = { Name: name, Hostname: hostnameOf(name), UID: String(uid), User: userName };
  const userHome = expandTemplate(homeTmpl, { ...guestData, Home: "" }, param);
  const userShell = asStr(rawUser.shell) ?? "/bin/bash"; // default for Linux guests
  const homeData = {
    Dir: dir,
    Name: name,
    UID: String(host.uid),
    User: host.username,
    Home: homeDir(),
    GlobalTempDir: "/tmp",
    TempDir: Deno.env.get("TMPDIR") || "/tmp",
    Instance: name,
    LimaHome: dirName(dir),
  };
  const mounts: Mount[] = [];
  const mountsJson: Json[] = [];
  for (const m of plain || !Array.isArray(raw.mounts) ? [] : raw.mounts) {
    const rm = asRaw(m);
    // location: host template, filepath.Clean, then `~` expansion (localpathutil.Expand)
    let location = cleanPath(expandTemplate(asStr(rm.location) ?? "", homeData, param));
    if (location === "~" || location.startsWith("~/")) {
      location = absPath(homeDir() + location.slice(1));
    }
    const mp = asStr(rm.mountPoint);
    const mountPoint = mp === undefined
      ? location
      : expandTemplate(mp, { ...guestData, Home: userHome }, param);
    const writable = typeof rm.writable === "boolean" ? rm.writable : undefined;
    const same = mounts.findIndex((x) => x.mountPoint === mountPoint); // merged by mountPoint
    if (same >= 0) {
      const prev = mounts[same];
      if (prev && writable !== undefined) prev.writable = writable;
    } else mounts.push({ location, mountPoint, writable: writable ?? false });
  }
  for (const m of mounts) {
    mountsJson.push({
      location: m.location,
      mountPoint: m.mountPoint,
      writable: m.writable,
      sshfs: { cache: true, followSymlinks: false, sftpDriver: "" },
      "9p": {
        securityModel: "none",
        protocolVersion: "9p2000.L",
        msize: "128KiB",
        cache: m.writable ? "mmap" : "fscache",
      },
    });
  }
  const rawSsh = asRaw(raw.ssh);
  const sshLocalPort = typeof rawSsh.localPort === "number" ? rawSsh.localPort : 0;
  const containerdUser = !plain && (asRaw(raw.containerd).user as boolean | undefined ??
    (os === "Linux" && ["x86_64", "aarch64"].includes(arch)));
  const containerdSystem = !plain && asRaw(raw.containerd).system === true;
  const json: { [key: string]: Json } = {};
  const put = (k: string, v: unknown): void => {
    if (v !== undefined && v !== null) json[k] = v as Json;
  };
  put("minimumLimaVersion", raw.minimumLimaVersion);
  put("vmType", vmType);
  put("os", os);
  put("arch", arch);
  put("images", raw.images);
  put("cpus", cpus);
  put("memory", memory);
  put("disk", disk);
  if (mountsJson.length > 0) put("mounts", mountsJson);
  put("mountType", mountType);
  put("mountInotify", raw.mountInotify === true);
  put("ssh", {
    localPort: sshLocalPort,
    loadDotSSHPubKeys: rawSsh.loadDotSSHPubKeys === true,
    forwardAgent: rawSsh.forwardAgent === true,
    forwardX11: rawSsh.forwardX11 === true,
    forwardX11Trusted: rawSsh.forwardX11Trusted === true,
  });
  put("containerd", { system: containerdSystem, user: containerdUser });
  put("message", raw.message);
  if (Object.keys(asRaw(raw.env)).length > 0) put("env", raw.env);
  if (Object.keys(param).length > 0) put("param", param);
  put("plain", plain);
  put("user", {
    name: userName,
    comment: asStr(rawUser.comment) ?? host.name,
    home: userHome,
    shell: userShell,
    uid,
    passwordlessSudo: rawUser.passwordlessSudo !== false,
  });
  return {
    vmType,
    os,
    arch,
    mounts,
    sshLocalPort,
    plain,
    containerd: containerdUser || containerdSystem,
    user: { name: userName, home: userHome, shell: userShell },
    json,
  };
}

// ---------------------------------------------------------------- instances (pkg/store)

interface Instance {
  name: string;
  hostname: string;
  status: string;
  dir: string;
  vmType: string;
  arch: string;
  cpus: number;
  memory: number;
  disk: number;
  sshLocalPort: number;
  hostAgentPID: number;
  driverPID: number;
  errors: string[];
  config: Config | null;
  limaVersion: string;
}

/** An Instance with Go zero values (list.go brokenInstance builds one like it). */
function emptyInstance(name: string, dir: string): Instance {
  return {
    name,
    hostname: "",
    status: "",
    dir,
    vmType: "",
    arch: "",
    cpus: 0,
    memory: 0,
    disk: 0,
    sshLocalPort: 0,
    hostAgentPID: 0,
    driverPID: 0,
    errors: [],
    config: null,
    limaVersion: "",
  };
}

/** pkg/instance/hostname FromInstName. */
function hostnameOf(name: string): string {
  return "lima-" + name.replaceAll(".", "-").replaceAll("_", "-");
}

/** A live process (a zombie counts as gone, as it would be once init reaps it). */
function processAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

/** pkg/store ReadPIDFile: 0 when missing or dead (and then the file is removed). */
function readPidFile(path: string): number {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return 0;
  }
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) fail(`strconv.Atoi: parsing ${goQuote(t)}: invalid syntax`);
  const pid = Number(t);
  if (processAlive(pid)) return pid;
  try {
    Deno.removeSync(path);
  } catch { /* already gone */ }
  return 0;
}

/** Port from ssh.config's `Port N` line (pkg/store sshPortFromConfig). */
function sshPortFromConfig(dir: string): number {
  try {
    const m = /^\s*Port (\d+)\s*$/m.exec(Deno.readTextFileSync(joinPath(dir, "ssh.config")));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Runtime context of one limactl invocation. */
interface Ctx {
  home: string;
  log: Logger;
}

/**
 * pkg/store/instance.go Inspect: null when the instance (its lima.yaml) does not exist.
 * Status is Running iff both the host agent and the driver pid are alive.
 */
async function inspect(ctx: Ctx, name: string): Promise<Instance | null> {
  validateInstName(name);
  const dir = joinPath(ctx.home, name);
  if (readFault(dir) === "hang") await hangForever(ctx);
  let text: string;
  try {
    text = Deno.readTextFileSync(joinPath(dir, "lima.yaml"));
  } catch {
    return null;
  }
  const inst: Instance = { ...emptyInstance(name, dir), hostname: hostnameOf(name) };
  try {
    inst.config = fillDefaults(
      asRaw(await loadYaml(joinPath(ctx.home, "_standin", "yaml-cache"), name, text)),
      dir,
      name,
    );
  } catch (e) {
    inst.errors.push(e instanceof Error ? e.message : String(e));
    return inst;
  }
  const c = inst.config;
  Object.assign(inst, { vmType: c.vmType, arch: c.arch, sshLocalPort: c.sshLocalPort });
  inst.cpus = Number(c.json.cpus);
  inst.memory = ramInBytes(String(c.json.memory)) || 0;
  inst.disk = ramInBytes(String(c.json.disk)) || 0;
  const pid = (file: string): number => {
    try {
      return readPidFile(joinPath(dir, file));
    } catch (e) {
      inst.status = "Broken";
      inst.errors.push(e instanceof Error ? e.message : String(e));
      return 0;
    }
  };
  inst.hostAgentPID = pid("ha.pid");
  inst.driverPID = pid(`${c.vmType}.pid`);
  if (inst.sshLocalPort === 0) inst.sshLocalPort = sshPortFromConfig(dir);
  if (inst.status === "") {
    const [ha, drv] = [inst.hostAgentPID > 0, inst.driverPID > 0];
    if (ha && drv) inst.status = "Running";
    else if (!ha && !drv) inst.status = "Stopped";
    else {
      inst.status = "Broken";
      inst.errors.push(
        ha
          ? "host agent is running but driver is not"
          : `${c.vmType} driver is running but host agent is not`,
      );
    }
  }
  try {
    inst.limaVersion = Deno.readTextFileSync(joinPath(dir, "lima-version")).trim();
  } catch { /* no version file */ }
  return inst;
}

/** pkg/store Instances: directories not starting with `.` or `_`, in name order. */
function instanceNames(home: string): string[] {
  try {
    return [...Deno.readDirSync(home)]
      .filter((e) => e.isDirectory && !/^[._]/.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** limatype.Instance MarshalJSON field order; zero values dropped per `omitempty`. */
function instanceJson(inst: Instance): { [key: string]: Json } {
  const j: { [key: string]: Json } = {
    name: inst.name,
    hostname: inst.hostname,
    status: inst.status,
    dir: inst.dir,
    vmType: inst.vmType,
    arch: inst.arch,
  };
  const opt = (k: string, v: Json | undefined): void => {
    if (v !== undefined && v !== 0 && v !== "") j[k] = v;
  };
  opt("cpus", inst.cpus);
  opt("memory", inst.memory);
  opt("disk", inst.disk);
  if (inst.config) {
    opt("sshLocalPort", inst.sshLocalPort);
    opt("sshConfigFile", joinPath(inst.dir, "ssh.config"));
  }
  opt("hostAgentPID", inst.hostAgentPID);
  opt("driverPID", inst.driverPID);
  if (inst.config) j.config = inst.config.json;
  if (inst.config) j.sshAddress = "127.0.0.1";
  j.protected = exists(joinPath(inst.dir, "protected"));
  j.limaVersion = inst.limaVersion;
  if (inst.errors.length > 0) j.errors = inst.errors; // the outer Errors field sorts last
  return j;
}

// ---------------------------------------------------------------- start (pkg/instance/start.go)

function readFault(dir: string): Fault | undefined {
  try {
    const word = Deno.readTextFileSync(joinPath(dir, "standin-fault")).trim();
    return (FAULTS as readonly string[]).includes(word) ? word as Fault : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `hang` fault: every command that looks at the instance (list, shell, start, stop) blocks
 * until it is killed, after appending its pid to `$LIMA_HOME/_standin/hung` (the signal a test
 * waits for). Real limactl blocks like this when the instance's files sit on a stalled file
 * system: main.go's PersistentPreRunE stats LIMA_HOME (and statfs-checks it for NFS) and
 * pkg/store/instance.go Inspect reads the instance's files, none of them with a time-out; and
 * `limactl shell` blocks on a wedged ssh ControlMaster after the host slept (lima-vm/lima#5420;
 * rancher-sandbox/rancher-desktop-2#313 added ssh keep-alives because such sessions "hang
 * forever"). Lima's only bound there is Inspect's 3 s on the host-agent query. With
 * `LIMACTL_STANDIN_HANG=1` every call blocks before it starts, `--version` too: a `limactl`
 * executable on a stalled network file system cannot even be loaded.
 */
async function hangForever(ctx: { home: string }): Promise<never> {
  const dir = joinPath(ctx.home, "_standin");
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(joinPath(dir, "hung"), `${Deno.pid}\n`, { append: true });
  return await new Promise<never>(() => setInterval(() => {}, 1 << 30));
}

/** A free loopback port, as the host agent picks one (hostagent.go determineSSHLocalPort). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A detached long-lived process in its own session (PR lima-vm/lima#2574: own process group). */
function spawnDetached(): number {
  const child = new Deno.Command("setsid", {
    args: ["sleep", "2147483647"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  return child.pid;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Host agent requirement lists (pkg/hostagent/requirements.go). */
function requirementLists(c: Config): [string, string[]][] {
  const essential = ["ssh"];
  if (c.plain || c.os !== "Linux") essential.push("Explicitly start ssh ControlMaster");
  else {
    essential.push("user session is ready for ssh");
    if (c.json.mountType === "reverse-sshfs" && c.mounts.length > 0) {
      essential.push("sshfs binary to be installed", "fuse to allow_other as user");
    } else essential.push("Explicitly start ssh ControlMaster");
  }
  const optional = c.os === "Linux" && c.containerd && !c.plain
    ? ["systemd must be available", "containerd binaries to be installed"]
    : [];
  return [["essential", essential], ["optional", optional], ["final", [
    "boot scripts must have finished",
  ]]];
}

/**
 * instance.StartWithPaths + the host agent's run: launches the (emulated) host agent and QEMU,
 * writes ha.stdout.log/ha.stderr.log, and watches the events like watchHostAgentEvents.
 */
async function startInstance(
  ctx: Ctx,
  inst: Instance,
  opts: { launchingShell: boolean; timeoutMs: number },
): Promise<void> {
  const c = inst.config;
  if (!c) fail(`instance ${bq(inst.name)} has no configuration`);
  const dir = inst.dir;
  const haPid = joinPath(dir, "ha.pid");
  const haStderr = joinPath(dir, "ha.stderr.log");
  if (exists(haPid)) {
    fail(
      `instance ${bq(inst.name)} seems running (hint: remove ${
        bq(haPid)
      } if the instance is not actually running)`,
    );
  }
  ctx.log.info(`Starting the instance ${bq(inst.name)} with internal VM driver ${bq(c.vmType)}`);
  // pkg/driver/qemu/qemu.go Cmdline: os.MkdirAll(f.Location, 0o755) for 9p/virtiofs mounts
  // (pkg/hostagent/mount.go does the same for reverse-sshfs)
  for (const m of c.mounts) Deno.mkdirSync(m.location, { recursive: true, mode: 0o755 });
  // start.go: remove and recreate ha.stdout.log / ha.stderr.log before launching the host agent
  for (const f of ["ha.stdout.log", "ha.stderr.log"]) Deno.writeTextFileSync(joinPath(dir, f), "");
  const guestTmp = joinPath(dir, "_guesttmp"); // a fresh boot has an empty /tmp
  removeIfExists(guestTmp);
  const fault = readFault(dir);
  const ha = new HostAgentLog(dir, ctx.log);
  const port = c.sshLocalPort > 0 ? c.sshLocalPort : freePort();
  ha.line("info", `hostagent socket created at ${joinPath(dir, "ha.sock")}`);
  writeSshConfig(inst, port);
  ha.line(
    "info",
    `Starting QEMU (hint: to watch the boot progress, see ${bq(joinPath(dir, "serial*.log"))})`,
  );
  const status: EventStatus = {
    running: false,
    degraded: false,
    exiting: false,
    errors: [],
    sshLocalPort: port,
  };
  const lists = requirementLists(c);
  if (fault === "kvm") {
    // QEMU exits at once; its stderr is logged at debug level (qemu_driver.go logPipeRoutine)
    ha.line("debug", "qemu[stderr]: Could not access KVM kernel module: Permission denied");
    ha.line(
      "debug",
      `qemu[stderr]: qemu-system-${c.arch}: failed to initialize kvm: Permission denied`,
    );
    emit(ctx, ha, status, true);
    ha.line(
      "info",
      `Waiting for the essential requirement 1 of ${lists[0]?.[1].length}: ${bq("ssh")}`,
    );
    ha.line("info", `Driver stopped due to error: ${bq("exit status 1")}`);
    ha.line("info", "Shutting down the host agent");
    ha.line("info", "QEMU has already exited");
    // hostagent.go Run: the deferred event is just {exiting: true}; the host agent then exits
    const exiting = { ...status, exiting: true, sshLocalPort: 0 };
    ha.event(exiting);
    fail(`exiting, status=${statusV(exiting)} (hint: see ${bq(haStderr)})`);
  }
  // The "VM": a long-lived guest sandbox whose sshd listens on the forwarded port (Lima's guest
  // runs OpenSSH's sshd; the host agent forwards 127.0.0.1:<sshLocalPort> to its port 22).
  // Its keys and config are made first, so that ha.pid and qemu.pid appear together.
  const boot = fault === "ssh" ? spawnDetached : await prepareGuest(inst, c, port);
  Deno.writeTextFileSync(haPid, `${spawnDetached()}\n`);
  Deno.writeTextFileSync(joinPath(dir, `${c.vmType}.pid`), `${boot()}\n`);
  emit(ctx, ha, status, true);
  if (fault === "timeout") {
    // the host agent keeps waiting for ssh; start gives up after --timeout (10m by default) and
    // leaves the host agent running (start.go: "leave the hostagent process running")
    ha.line(
      "info",
      `Waiting for the essential requirement 1 of ${lists[0]?.[1].length}: ${bq("ssh")}`,
    );
    await sleep(Math.min(opts.timeoutMs, 300));
    fail("did not receive an event with the `running` status");
  }
  for (const [label, reqs] of lists) {
    for (const [i, req] of reqs.entries()) {
      ha.line(
        "info",
        `Waiting for the ${label} requirement ${i + 1} of ${reqs.length}: ${bq(req)}`,
      );
      // "ssh" waits for sshd to answer; the ControlMaster requirement leaves the master running
      // (pkg/hostagent/requirements.go: `ssh` with ControlPersist=yes, which detaches).
      if (fault !== "ssh" && req === "ssh") await waitForPort(port);
      if (fault !== "ssh" && req === "Explicitly start ssh ControlMaster") await startMaster(inst);
      ha.line("info", `The ${label} requirement ${i + 1} of ${reqs.length} is satisfied`);
    }
    if (label === "optional" && !c.plain) {
      ha.line("info", "Waiting for the guest agent to be running");
      if (fault === "degraded") {
        // hostagent.go startHostAgentRoutines: no guest agent within a minute → degraded
        status.errors.push("guest agent does not seem to be running; port forwards will not work");
      } else ha.line("info", "Guest agent is running");
    }
    if (fault === "slow-start" && label === "essential") {
      while (!exists(joinPath(dir, "slow-start.release"))) await sleep(20);
    }
  }
  // with reverse-sshfs mounts, sshfs's own ssh starts the master
  if (fault !== "ssh" && !exists(joinPath(dir, "ssh.sock"))) await startMaster(inst);
  status.running = true;
  status.degraded = status.errors.length > 0;
  emit(ctx, ha, status);
  if (status.degraded) {
    ctx.log.warn(
      `DEGRADED. The VM seems running, but file sharing and port forwarding may not work. (hint: see ${
        bq(haStderr)
      })`,
    );
    fail(`degraded, status=${statusV(status)}`);
  }
  if (!opts.launchingShell) {
    // instance.LimactlShellCmd: `lima` for the default instance
    const cmd = inst.name === DEFAULT_INSTANCE ? "lima" : `limactl shell ${inst.name}`;
    ctx.log.info(`READY. Run ${bq(cmd)} to open the shell.`);
  }
}

/**
 * Writes an event and logs it as watchHostAgentEvents' onEvent does: the first port seen,
 * then any errors (`logrus.Errorf("%+v", ev.Status.Errors)`).
 */
function emit(ctx: Ctx, ha: HostAgentLog, status: EventStatus, first = false): void {
  ha.event(status);
  if (first && status.sshLocalPort !== 0) ctx.log.info(`SSH Local Port: ${status.sshLocalPort}`);
  if (status.errors.length > 0) ctx.log.error(`[${status.errors.join(" ")}]`);
}

/** hostagent.go writeSSHConfigFile (a subset of the options). */
function writeSshConfig(inst: Instance, port: number): void {
  const user = inst.config?.user.name ?? "lima";
  const opts = [
    `IdentityFile "${joinPath(dirName(inst.dir), "_config", "user")}"`,
    "StrictHostKeyChecking no",
    "UserKnownHostsFile /dev/null",
    "NoHostAuthenticationForLocalhost yes",
    "PreferredAuthentications publickey",
    "Compression no",
    "BatchMode yes",
    "IdentitiesOnly yes",
    `User ${user}`,
    "ControlMaster auto",
    `ControlPath "${joinPath(inst.dir, "ssh.sock")}"`,
    "ControlPersist yes",
    "Hostname 127.0.0.1",
    `Port ${port}`,
  ];
  const head = "# This SSH config file can be passed to 'ssh -F'.\n" +
    "# This file is created by Lima, but not used by Lima itself currently.\n" +
    "# Modifications to this file will be lost on restarting the Lima instance.\n";
  Deno.writeTextFileSync(
    joinPath(inst.dir, "ssh.config"),
    `${head}Host ${inst.hostname}\n${opts.map((o) => `  ${o}\n`).join("")}`,
  );
}

/**
 * cmd/limactl/start.go loadOrCreateInstance for an instance-name argument or a `template:NAME`
 * locator; `createOnly` is `limactl create` (an existing instance is an error there).
 */
async function loadOrCreate(
  ctx: Ctx,
  arg: string,
  flags: ParsedFlags,
  createOnly = false,
): Promise<Instance> {
  const nameFlag = flagString(flags, "name");
  if (nameFlag !== "") validateInstName(nameFlag);
  if (arg.startsWith("template:")) return await createFromTemplate(ctx, arg, nameFlag, flags);
  if (arg !== "" && nameFlag !== "" && nameFlag !== arg) {
    fail(
      `instance name ${bq(arg)} and CLI flag --name=${bq(nameFlag)} cannot be specified together`,
    );
  }
  const name = arg || nameFlag || DEFAULT_INSTANCE;
  const existing = await inspect(ctx, name);
  if (existing) {
    if (existing.errors.length > 0) {
      ctx.log.error(`Instance ${goQuote(name)} has configuration errors`, {
        error: existing.errors.join("\n"),
      });
    }
    if (!existing.config) {
      fail(`instance ${goQuote(name)} has configuration errors: ${existing.errors.join("\n")}`);
    }
    // start.go: createOnly refuses an existing instance
    if (createOnly) fail(`instance ${bq(name)} already exists`);
    ctx.log.info(`Using the existing instance ${bq(name)}`);
    return existing;
  }
  if (arg !== "" && arg !== DEFAULT_INSTANCE) {
    ctx.log.info(
      `Creating an instance ${bq(name)} from template:default (Not from template:${name})`,
    );
    ctx.log.warn(
      `This form is deprecated. Use ${
        bq(`limactl create --name=${name} template:default`)
      } instead`,
    );
  }
  return await createInstance(ctx, name, readTemplate("default"), flags);
}

/**
 * start.go loadOrCreateInstance's other branch: limatmpl.Read of a `template:NAME` locator (the
 * instance is named by --name, else after the template: limatmpl.InstNameFromURL), then
 * store.Inspect refuses an existing instance when creating only. Only `template:` locators are
 * emulated; the stand-in's `start` takes instance names only.
 */
async function createFromTemplate(
  ctx: Ctx,
  arg: string,
  nameFlag: string,
  flags: ParsedFlags,
): Promise<Instance> {
  const templateName = arg.slice("template:".length);
  const template = readTemplate(templateName);
  const name = nameFlag || templateName.split("/").pop() || templateName;
  validateInstName(name);
  if (await inspect(ctx, name)) fail(`instance ${bq(name)} already exists`);
  return await createInstance(ctx, name, template, flags);
}

/** The common tail of loadOrCreateInstance: no TUI without a terminal, then instance.Create. */
async function createInstance(
  ctx: Ctx,
  name: string,
  template: string,
  flags: ParsedFlags,
): Promise<Instance> {
  // with a TTY, Lima would offer its TUI menu; the stand-in always proceeds like --tty=false
  if (!flagBool(flags, "tty")) {
    ctx.log.info("Terminal is not available, proceeding without opening an editor");
  }
  const dir = joinPath(ctx.home, name);
  // pkg/instance/create.go: refuse an existing directory, then write lima.yaml and lima-version
  if (exists(dir)) fail(`instance ${bq(name)} already exists (${bq(dir)})`);
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  Deno.writeTextFileSync(joinPath(dir, "lima.yaml"), template);
  Deno.writeTextFileSync(joinPath(dir, "lima-version"), "v" + standinVersion(), { mode: 0o444 });
  return await inspect(ctx, name) ?? fail(`instance ${bq(name)} does not exist`);
}

/**
 * pkg/templatestore Read: $LIMA_TEMPLATES_PATH (colon-separated), else $LIMA_HOME/_templates
 * and <prefix>/share/lima/templates (prefix = the dir above the one holding limactl).
 */
function readTemplate(name: string): string {
  const env = Deno.env.get("LIMA_TEMPLATES_PATH");
  const dirs = env ? env.split(":") : [
    joinPath(limaDir(), "_templates"),
    joinPath(import.meta.dirname ?? ".", "..", "share", "lima", "templates"),
  ];
  for (const d of dirs) {
    try {
      return Deno.readTextFileSync(joinPath(d, `${name}.yaml`));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  fail(`template ${bq(name + ".yaml")} not found`);
}

// ---------------------------------------------------------------- commands

/** cmd/limactl/start.go startAction (instance-name arguments only). */
async function cmdStart(ctx: Ctx, f: ParsedFlags): Promise<number> {
  const arg = f.args[0] ?? ""; // "" means the instance `default` (A.2)
  const notEmulated = START_FLAGS.find((x) =>
    f.changed.has(x.name) && !["name", "timeout"].includes(x.name)
  );
  if (notEmulated) fail(`limactl stand-in: start --${notEmulated.name} is not emulated`);
  if (arg !== "") {
    try {
      validateInstName(arg);
    } catch {
      fail(`limactl stand-in: template locator ${bq(arg)} is not emulated (pass an instance name)`);
    }
  }
  const inst = await loadOrCreate(ctx, arg, f);
  if (inst.errors.length > 0) fail(`errors inspecting instance: [${inst.errors.join(" ")}]`);
  if (inst.status === "Running") { // idempotent: "Not an error"
    const cmd = inst.name === DEFAULT_INSTANCE ? "lima" : `limactl shell ${inst.name}`;
    ctx.log.info(
      `The instance ${bq(inst.name)} is already running. Run ${bq(cmd)} to open the shell.`,
    );
    return 0;
  }
  if (inst.status !== "Stopped") {
    ctx.log.warn(`expected status ${bq("Stopped")}, got ${bq(inst.status)}`);
  }
  const timeout = Number(flagString(f, "timeout", "600000")); // --timeout, 10m by default
  await startInstance(ctx, inst, {
    launchingShell: false,
    timeoutMs: timeout > 0 ? timeout : 600000,
  });
  return 0;
}

/**
 * cmd/limactl/start.go createAction: loadOrCreateInstance with createOnly, then (instance.Prepare,
 * not emulated: no disk here) "Run `limactl start NAME` to start the instance."
 */
async function cmdCreate(ctx: Ctx, f: ParsedFlags): Promise<number> {
  const arg = f.args[0] ?? "";
  const notEmulated = START_FLAGS.find((x) => f.changed.has(x.name) && x.name !== "name");
  if (notEmulated) fail(`limactl stand-in: create --${notEmulated.name} is not emulated`);
  if (arg !== "" && !arg.startsWith("template:")) {
    try {
      validateInstName(arg);
    } catch {
      fail(`limactl stand-in: template locator ${bq(arg)} is not emulated (pass template:NAME)`);
    }
  }
  const inst = await loadOrCreate(ctx, arg, f, true);
  if (inst.errors.length > 0) fail(`errors inspecting instance: [${inst.errors.join(" ")}]`);
  ctx.log.info(`Run ${bq(`limactl start ${inst.name}`)} to start the instance.`);
  return 0;
}

/** cmd/limactl/stop.go stopAction: at most one instance, `default` when none is named. */
async function cmdStop(ctx: Ctx, f: ParsedFlags): Promise<number> {
  const name = f.args[0] ?? DEFAULT_INSTANCE;
  const inst = await inspect(ctx, name);
  if (!inst) fail(`open ${joinPath(ctx.home, name, "lima.yaml")}: no such file or directory`);
  const vmType = inst.config?.vmType ?? "qemu";
  if (flagBool(f, "force")) {
    // pkg/instance/stop.go StopForcibly
    if (inst.driverPID > 0) {
      ctx.log.info(`Sending SIGKILL to the ${vmType} driver process ${inst.driverPID}`);
      kill(inst.driverPID, "SIGKILL");
    } else ctx.log.info(`The ${vmType} driver process seems already stopped`);
    if (inst.hostAgentPID > 0) {
      ctx.log.info(`Sending SIGKILL to the host agent process ${inst.hostAgentPID}`);
      kill(inst.hostAgentPID, "SIGKILL");
    } else ctx.log.info("The host agent process seems already stopped");
    ctx.log.info(`Removing *.pid *.sock *.tmp under ${bq(inst.dir)}`);
    for (const e of [...Deno.readDirSync(inst.dir)].sort((a, b) => a.name < b.name ? -1 : 1)) {
      if (/\.(pid|sock|tmp)$/.test(e.name)) {
        ctx.log.info(`Removing ${bq(joinPath(inst.dir, e.name))}`);
        Deno.removeSync(joinPath(inst.dir, e.name), { recursive: true });
      }
    }
    return 0;
  }
  // pkg/instance/stop.go StopGracefully
  if (inst.status !== "Running") {
    fail(
      `expected status ${bq("Running")}, got ${bq(inst.status)} (maybe use \`limactl stop -f\`?)`,
    );
  }
  await exitMaster(inst); // the host agent closes its ControlMaster on the way down
  ctx.log.info(`Sending SIGINT to hostagent process ${inst.hostAgentPID}`);
  kill(inst.hostAgentPID, "SIGINT");
  ctx.log.info("Waiting for the host agent and the driver processes to shut down");
  const ha = new HostAgentLog(inst.dir, ctx.log);
  ha.line("info", "Received SIGINT, shutting down the host agent");
  ha.line("info", "Shutting down the host agent");
  ha.line("info", "Shutting down QEMU with the power button");
  ha.line("info", "Sending QMP system_powerdown command");
  kill(inst.driverPID, "SIGTERM");
  await reap([inst.hostAgentPID, inst.driverPID]);
  ha.line("info", "QEMU has exited");
  for (const f of ["ha.pid", "ha.sock", `${vmType}.pid`, "qmp.sock"]) {
    removeIfExists(joinPath(inst.dir, f));
  }
  ha.event({ running: false, degraded: false, exiting: true, errors: [], sshLocalPort: 0 });
  ctx.log.info("Waiting for the instance to shut down");
  ctx.log.info(`The instance ${inst.name} has shut down`);
  return 0;
}

function kill(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch { /* already gone */ }
}

/** Waits up to 1 s for the processes to end, then SIGKILLs what is left. */
async function reap(pids: number[]): Promise<void> {
  for (let i = 0; i < 50 && pids.some(processAlive); i++) await sleep(20);
  for (const pid of pids.filter(processAlive)) kill(pid, "SIGKILL");
}

/** cmd/limactl/list.go listAction (json, table, -q and `{{.Field}}` formats). */
async function cmdList(ctx: Ctx, f: ParsedFlags): Promise<number> {
  const json = flagBool(f, "json");
  let format = json ? "json" : flagString(f, "format", "table");
  const quiet = flagBool(f, "quiet");
  // cmd/limactl/list.go listAction: flag conflicts
  if (json && f.changed.has("format")) fail("option --json conflicts with option --format");
  if (quiet && format !== "table") fail("option --quiet can only be used with '--format table'");
  for (const unsupported of ["list-fields", "all-fields", "yq", "filter"]) {
    if (f.changed.has(unsupported)) fail(`limactl stand-in: list --${unsupported} is not emulated`);
  }
  const all = instanceNames(ctx.home);
  const invalid = all.find((n) => !exists(joinPath(ctx.home, n, "lima.yaml")));
  if (invalid !== undefined) {
    // store.Validate: every instance dir needs a lima.yaml
    ctx.log.warn(
      `The directory ${bq(ctx.home)} does not look like a valid Lima directory: stat ${
        joinPath(ctx.home, invalid, "lima.yaml")
      }: no such file or directory`,
    );
  }
  if (f.args.length === 0 && all.length === 0) {
    ctx.log.warn("No instance found. Run `limactl create` to create an instance.");
    return 0;
  }
  let unmatched = false;
  const names: string[] = [];
  for (const arg of f.args) {
    if (all.includes(arg)) names.push(arg);
    else {
      ctx.log.warn(`No instance matching ${arg} found.`);
      unmatched = true;
    }
  }
  if (f.args.length === 0) names.push(...all);
  // unmatchedInstancesError goes to logrus.Fatal like any error (main.go): "unmatched instances"
  const done = (): number => unmatched ? fail("unmatched instances") : 0;
  if (quiet) {
    out(names.map((n) => n + "\n").join(""));
    return done();
  }
  const instances: Instance[] = [];
  for (const name of names) {
    const inst = await inspect(ctx, name) ?? {
      // list.go brokenInstance: a directory without lima.yaml
      ...emptyInstance(name, joinPath(ctx.home, name)),
      status: "Broken",
      errors: [`open ${joinPath(ctx.home, name, "lima.yaml")}: no such file or directory`],
    };
    instances.push(inst);
  }
  for (const inst of instances) {
    if (inst.errors.length > 0) {
      ctx.log.warn(`instance ${bq(inst.name)} has errors`, {
        errors: `[${inst.errors.join(" ")}]`,
      });
    }
  }
  if (format === "json") {
    // NDJSON, one compact object per instance (A.4; list.go pipes through yq with indent 0)
    out(instances.map((i) => JSON.stringify(instanceJson(i)) + "\n").join(""));
  } else if (format === "table") out(table(instances));
  else if (/^\s*\{\{.*\}\}\s*$/s.test(format)) {
    format = format.trim();
    out(instances.map((i) => goTemplate(format, i) + "\n").join(""));
  } else fail(`limactl stand-in: list --format ${bq(format)} is not emulated`);
  return done();
}

/** store.PrintInstances "table": text/tabwriter(minwidth 4, tabwidth 8, padding 4). */
function table(instances: Instance[]): string {
  const width = Deno.stdout.isTerminal() ? Deno.consoleSize().columns : 0;
  const cols = ["NAME", "STATUS", "SSH", "VMTYPE", "ARCH", "CPUS", "MEMORY", "DISK", "DIR"];
  const hide = new Set<string>();
  const hostArch = Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";
  if (width !== 0 && 12 * 8 > width && new Set(instances.map((i) => i.vmType)).size === 1) {
    hide.add("VMTYPE");
  }
  const used = hide.has("VMTYPE") ? 5 : 6;
  if (
    width !== 0 && (used + 6) * 8 > width && new Set(instances.map((i) => i.arch)).size === 1 &&
    instances[0]?.arch === hostArch
  ) hide.add("ARCH");
  if (width !== 0 && (used + (hide.has("ARCH") ? 0 : 1) + 5) * 8 > width) hide.add("DIR");
  const home = Deno.env.get("HOME") ?? "";
  const rows = [
    cols,
    ...instances.map((i) => [
      i.name,
      i.status,
      `${i.config ? "127.0.0.1" : ""}:${i.sshLocalPort}`,
      i.vmType,
      i.arch,
      String(i.cpus),
      bytesSize(i.memory),
      bytesSize(i.disk),
      home !== "" && i.dir.startsWith(home) ? "~" + i.dir.slice(home.length) : i.dir,
    ]),
  ].map((r) => r.filter((_, k) => !hide.has(cols[k] ?? "")));
  const n = rows[0]?.length ?? 0;
  const widths = Array.from(
    { length: n - 1 },
    (_, k) => Math.max(4, ...rows.map((r) => [...(r[k] ?? "")].length + 4)),
  );
  return rows.map((r) =>
    r.map((cell, k) => k < n - 1 ? cell.padEnd(widths[k] ?? 0) : cell).join("") + "\n"
  )
    .join("");
}

/** The `{{.Field}}` subset of list's go-template format (store.FormatData field names). */
function goTemplate(format: string, inst: Instance): string {
  const data: Record<string, string | number | boolean> = {
    Name: inst.name,
    Hostname: inst.hostname,
    Status: inst.status,
    Dir: inst.dir,
    VMType: inst.vmType,
    Arch: inst.arch,
    CPUs: inst.cpus,
    Memory: inst.memory,
    Disk: inst.disk,
    SSHLocalPort: inst.sshLocalPort,
    SSHConfigFile: inst.config ? joinPath(inst.dir, "ssh.config") : "",
    SSHAddress: inst.config ? "127.0.0.1" : "",
    HostAgentPID: inst.hostAgentPID,
    DriverPID: inst.driverPID,
    LimaVersion: inst.limaVersion,
    HostOS: "linux",
    HostArch: Deno.build.arch === "aarch64" ? "aarch64" : "x86_64",
    LimaHome: dirName(inst.dir),
    IdentityFile: joinPath(dirName(inst.dir), "_config", "user"),
  };
  return format.replace(/\{\{\s*(.*?)\s*\}\}/g, (_, expr: string) => {
    if (expr === "json .") return goJson(instanceJson(inst)); // textutil's json func
    const m = /^\.(\w+)$/.exec(expr);
    const v = m ? data[m[1] ?? ""] : undefined;
    if (v === undefined) fail(`limactl stand-in: template action {{${expr}}} is not emulated`);
    return String(v);
  });
}

/** Go os.Getwd: $PWD when it names the current directory, else getcwd. */
function hostCwd(): string {
  const cwd = Deno.cwd();
  const pwd = Deno.env.get("PWD");
  if (pwd?.startsWith("/")) {
    try {
      const [a, b] = [Deno.statSync(pwd), Deno.statSync(".")];
      if (a.dev === b.dev && a.ino === b.ino) return pwd;
    } catch { /* use getcwd */ }
  }
  return cwd;
}

/** shell.go mountsContainPath: compares with symlinks evaluated on both sides. */
function mountsContainPath(mounts: Mount[], path: string): boolean {
  const p = realPathOr(path);
  return mounts.some((m) => {
    const loc = realPathOr(m.location);
    return p === loc || loc === "/" || p.startsWith(loc + "/");
  });
}

/** pkg/envutil FilterEnvironment with LIMA_SHELLENV_BLOCK / LIMA_SHELLENV_ALLOW (A.5). */
function filteredEnv(): string[] {
  // deno-fmt-ignore
  const defaults = [
    "BASH*", "DISPLAY", "DYLD_*", "EUID", "FPATH", "GID", "GROUP", "HOME", "HOSTNAME", "LD_*",
    "LOGNAME", "OLDPWD", "PATH", "PWD", "SHELL", "SHLVL", "SSH_*", "TERM", "TERMINFO", "TMPDIR",
    "UID", "USER", "XAUTHORITY", "XDG_*", "ZDOTDIR", "ZSH*", "_*",
  ];
  const list = (v: string): string[] => v.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const blockEnv = Deno.env.get("LIMA_SHELLENV_BLOCK") ?? "";
  const block = blockEnv === ""
    ? defaults
    : [...(blockEnv.startsWith("+") ? defaults : []), ...list(blockEnv.replace(/^\+/, ""))];
  const allow = list(Deno.env.get("LIMA_SHELLENV_ALLOW") ?? "");
  const matches = (name: string, pats: string[]): boolean =>
    pats.some((p) => p === name || new RegExp("^" + p.replaceAll("*", ".*") + "$").test(name));
  return Object.entries(Deno.env.toObject())
    .filter(([k]) => (allow.length > 0 && matches(k, allow)) || !matches(k, block))
    .map(([k, v]) => `${k}=${v}`);
}

/** The remote script exactly as cmd/limactl/shell.go builds it (Linux guests). */
export function remoteScript(
  c: { mounts: Mount[] },
  opts: { workdir: string; shell: string; env: string[] },
  command: string[],
  host: { cwd: string | undefined; home: string | undefined },
): string {
  let changeDir = "";
  if (opts.workdir !== "") changeDir = `cd ${shellQuote(opts.workdir)} || exit 1`;
  else if (host.cwd !== undefined && mountsContainPath(c.mounts, host.cwd)) {
    changeDir = `cd ${shellQuote(host.cwd)}`;
    if (host.home) changeDir += ` || cd ${shellQuote(host.home)}`;
  } else if (host.home && mountsContainPath(c.mounts, host.home)) {
    changeDir = `cd ${shellQuote(host.home)}`;
  }
  if (changeDir === "") changeDir = "false";
  // shell.go (v2.x): `--shell` quoted, else the literal "$SHELL" that the guest's login shell
  // (sshd runs the script with it) expands
  const shell = opts.shell !== "" ? shellQuote(opts.shell) : '"$SHELL"';
  const envPrefix = opts.env.length > 0
    ? "env " + opts.env.map((e) => shellQuote(e) + " ").join("")
    : "";
  let script = `${changeDir} ; exec ${envPrefix}${shell} -l`;
  if (command.length > 0) {
    // leading NAME=value arguments are env assignments: only the value is quoted (isEnv/quoteEnv)
    let parsingEnv = true;
    const quoted = command.map((arg) => {
      const eq = arg.indexOf("=");
      if (parsingEnv && eq >= 0) return arg.slice(0, eq + 1) + shellQuote(arg.slice(eq + 1));
      parsingEnv = false;
      return shellQuote(arg);
    });
    script += ` -c ${shellQuote(quoted.join(" "))}`;
  }
  return script;
}

/** Whether the guest's sshd accepts connections (scp would get "Connection refused"). */
async function accepts(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

/** OpenSSH's message when nothing listens on the forwarded port (log.c ends lines with \r\n). */
function sshRefused(port: number): number {
  writeAll(Deno.stderr, `ssh: connect to host 127.0.0.1 port ${port}: Connection refused\r\n`);
  return 255; // A.5: connection failures give 255
}

/** Checks a guest-side instance the way shell.go / copytool parseCopyPaths do. */
async function requireInstance(ctx: Ctx, name: string): Promise<Instance> {
  const inst = await inspect(ctx, name);
  if (!inst) {
    fail(
      `instance ${
        bq(name)
      } does not exist, run \`limactl create ${name}\` to create a new instance`,
    );
  }
  return inst;
}

/**
 * cmd/limactl/shell.go shellAction. `--reconnect` is a no-op: the stand-in has no ssh.sock
 * ControlMaster, and Lima skips the reconnect without one (sshutil.IsControlMasterExisting).
 */
async function cmdShell(ctx: Ctx, f: ParsedFlags): Promise<number> {
  let args = f.args;
  let name = flagString(f, "instance");
  if (flagString(f, "sync") !== "") fail("limactl stand-in: shell --sync is not emulated");
  if (name !== "") args = [name, ...args]; // --instance (v2.1+): every argument is the command
  else {
    if (args.length === 0) fail("requires instance name as first argument");
    if (args[1] === "--") args = [args[0] ?? "", ...args.slice(2)]; // "simulate the behavior of double dash"
    name = args[0] ?? "";
  }
  if (["create", "start", "delete", "shell"].includes(args[1] ?? "")) {
    ctx.log.warn(`Perhaps you meant ${bq("limactl " + args.slice(1).join(" "))}?`);
  }
  let inst = await requireInstance(ctx, name);
  if (inst.errors.length > 0) {
    ctx.log.error(`Instance ${bq(name)} has configuration errors`, {
      error: inst.errors.join("\n"),
    });
  }
  if (!inst.config) fail(`instance ${bq(name)} has no configuration`);
  if (inst.status === "Stopped") {
    let startNow = flagBool(f, "start");
    if (flagBool(f, "tty") && !f.changed.has("start")) startNow = askWhetherToStart();
    if (!startNow) {
      fail(`instance ${bq(name)} is stopped, run \`limactl start ${name}\` to start the instance`);
    }
    await startInstance(ctx, inst, { launchingShell: true, timeoutMs: 600000 });
    inst = await requireInstance(ctx, name);
  }
  const c = inst.config;
  if (!c) fail(`instance ${bq(name)} has no configuration`);
  let cwd: string | undefined;
  try {
    cwd = hostCwd();
  } catch (e) {
    ctx.log.warn("failed to get the current directory", { error: String(e) });
  }
  const home = Deno.env.get("HOME") || undefined;
  if (home === undefined) {
    ctx.log.warn("failed to get the home directory", { error: "$HOME is not defined" });
  }
  const script = remoteScript(
    { mounts: c.mounts },
    {
      workdir: flagString(f, "workdir"),
      shell: flagString(f, "shell"),
      env: flagBool(f, "preserve-env") ? filteredEnv() : [],
    },
    args.slice(1),
    { cwd, home },
  );
  // shell.go: `ssh -F /dev/null <SSHOpts> [-t] [-o SendEnv=COLORTERM] -o LogLevel=ERROR
  // -p <port> 127.0.0.1 -- <script>`, -t exactly when stdout is a terminal (OpenSSH >= 8.9 here)
  const sshArgs = ["-F", "/dev/null", ...sshOpts(inst, c)];
  if (Deno.stdout.isTerminal()) sshArgs.push("-t");
  if (Deno.env.get("COLORTERM") !== undefined) sshArgs.push("-o", "SendEnv=COLORTERM");
  sshArgs.push("-o", "LogLevel=ERROR", "-p", String(inst.sshLocalPort), "127.0.0.1", "--", script);
  ctx.log.debug(`executing ssh (may take a long)): [ssh ${sshArgs.join(" ")}]`);
  const status = await new Deno.Command(lookPath("ssh") ?? "ssh", {
    args: sshArgs,
    stdin: "inherit", // sshCmd.Stdin = os.Stdin (lima-vm/lima#2924)
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  // osutil.HandleExitError: ssh's exit code; a signal death is ExitCode() -1, exit status 255
  return status.signal !== null ? 255 : status.code;
}

/** cmd/limactl/edit.go askWhetherToStart: prompts only when stdin is a terminal. */
function askWhetherToStart(): boolean {
  if (!Deno.stdin.isTerminal()) return false;
  writeAll(Deno.stdout, "? Do you want to start the instance now? (Y/n) ");
  const buf = new Uint8Array(256);
  const n = Deno.stdin.readSync(buf) ?? 0;
  return !/^\s*n/i.test(new TextDecoder().decode(buf.subarray(0, n)));
}

/**
 * Runs argv in the "guest": a bubblewrap sandbox with the host's /usr and /etc (read-only), a
 * persistent home and /tmp under the instance dir, and the configured mounts. The command is
 * run as sshd runs it (login shell `-c`, a clean environment); `binds` add host paths (copy).
 */
async function runInGuest(
  inst: Instance,
  c: Config,
  argv: string[],
  binds: string[],
): Promise<number> {
  const b = sandboxArgs(inst, c);
  b.push(...binds, "--chdir", c.user.home, "--");
  // sshd (session.c) execs the login shell as `basename -c cmd`; a small perl parent plays
  // sshd's part of reporting a signal death, which the OpenSSH client turns into exit 255.
  // Without perl the status is bwrap's (128+signal).
  const perl = exists("/usr/bin/perl")
    ? [
      "/usr/bin/perl",
      "-e",
      'my $p = fork // die "fork: $!\\n"; if (!$p) { my $s = shift; exec {$s} @ARGV or ' +
      'do { print STDERR "$s: $!\\n"; exit 1 } } waitpid($p, 0); exit(($? & 127) ? 255 : $? >> 8)',
      argv[0] ?? "/bin/sh",
    ]
    : [];
  const shell = argv[0] ?? "/bin/sh";
  const env: Record<string, string> = {
    HOME: c.user.home,
    USER: c.user.name,
    LOGNAME: c.user.name,
    SHELL: shell,
    PATH: GUEST_PATH,
    MAIL: `/var/mail/${c.user.name}`,
    SSH_CLIENT: `192.168.5.2 ${inst.sshLocalPort} 22`,
    SSH_CONNECTION: `192.168.5.2 ${inst.sshLocalPort} 192.168.5.15 22`,
  };
  const bwrap = lookPath("bwrap") ?? "bwrap";
  const args = [...b, ...perl, perl.length > 0 ? baseName(shell) : shell, ...argv.slice(1)];
  const child = new Deno.Command(bwrap, {
    args,
    clearEnv: true,
    env,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const status = await child.status;
  return status.signal !== null ? 255 : status.code;
}

/**
 * The guest's bubblewrap arguments: the host's /usr and /etc (read-only), a persistent home and
 * /tmp under the instance dir, the configured mounts; callers add their own binds and command.
 */
function sandboxArgs(inst: Instance, c: Config): string[] {
  const guestHome = joinPath(inst.dir, "_guesthome");
  const guestTmp = joinPath(inst.dir, "_guesttmp");
  if (!exists(guestHome)) {
    Deno.mkdirSync(guestHome, { recursive: true, mode: 0o755 });
    try { // cloud-init creates the user with /etc/skel's files
      for (const e of Deno.readDirSync("/etc/skel")) {
        if (e.isFile) Deno.copyFileSync(joinPath("/etc/skel", e.name), joinPath(guestHome, e.name));
      }
    } catch { /* no skel */ }
  }
  Deno.mkdirSync(guestTmp, { recursive: true, mode: 0o1777 });
  const b = ["--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts"];
  b.push("--hostname", inst.hostname, "--ro-bind", "/usr", "/usr");
  for (const top of ["bin", "sbin", "lib", "lib32", "lib64", "libx32"]) {
    try { // merged-/usr symlinks as on the host (Debian/Ubuntu)
      b.push("--symlink", Deno.readLinkSync("/" + top), "/" + top);
    } catch {
      if (exists("/" + top)) b.push("--ro-bind", "/" + top, "/" + top);
    }
  }
  b.push("--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/run");
  b.push("--bind", guestTmp, "/tmp", "--bind", guestHome, c.user.home);
  const depth = (p: string): number => cleanPath(p).split("/").length;
  for (const m of [...c.mounts].sort((x, y) => depth(x.mountPoint) - depth(y.mountPoint))) {
    b.push(m.writable ? "--bind-try" : "--ro-bind-try", m.location, m.mountPoint);
  }
  return b;
}

/** pkg/sshutil DefaultPubKeys: `$LIMA_HOME/_config/user`, an ed25519 key made on first use. */
async function ensureUserKey(home: string): Promise<string> {
  const key = joinPath(home, "_config", "user");
  if (exists(key) && exists(`${key}.pub`)) return key;
  Deno.mkdirSync(joinPath(home, "_config"), { recursive: true, mode: 0o755 });
  const tmp = `${key}.${Deno.pid}.tmp`;
  await sshKeygen(tmp, "lima");
  Deno.renameSync(`${tmp}.pub`, `${key}.pub`);
  Deno.renameSync(tmp, key);
  return key;
}

async function sshKeygen(path: string, comment: string): Promise<void> {
  const out = await new Deno.Command("ssh-keygen", {
    args: ["-t", "ed25519", "-q", "-N", "", "-C", comment, "-f", path],
    stdin: "null",
  }).output();
  if (!out.success) fail(`failed to run ssh-keygen: ${new TextDecoder().decode(out.stderr)}`);
}

/** The guest's /etc/passwd: the host's, with the Lima user as cloud-init creates it. */
function guestPasswd(c: Config): string {
  const uid = Number((c.json.user as { uid?: number } | undefined)?.uid ?? 0);
  const entry = `${c.user.name}:x:${uid}:${uid}::${c.user.home}:${c.user.shell}`;
  let lines: string[] = [];
  try {
    lines = Deno.readTextFileSync("/etc/passwd").split("\n").filter((l) => l !== "");
  } catch { /* none */ }
  const at = lines.findIndex((l) => l.split(":")[0] === c.user.name);
  if (at >= 0) lines[at] = entry;
  else lines.push(entry);
  return lines.join("\n") + "\n";
}

const SSHD_DIR = "/run/limactl-standin-sshd";

/**
 * Boots the emulated VM: a detached guest sandbox in its own session running OpenSSH's sshd on
 * 127.0.0.1:<port> (the host agent's forward of the guest's port 22), with the user's key from
 * `$LIMA_HOME/_config/user` authorized. Makes the keys and sshd's config, and returns the
 * function that boots it and returns the sandbox's pid (the "driver" process).
 */
async function prepareGuest(inst: Instance, c: Config, port: number): Promise<() => number> {
  const dir = joinPath(inst.dir, "_sshd");
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const userKey = await ensureUserKey(dirName(inst.dir));
  const hostKey = joinPath(dir, "ssh_host_ed25519_key");
  if (!exists(hostKey)) await sshKeygen(hostKey, `root@${inst.hostname}`);
  Deno.copyFileSync(`${userKey}.pub`, joinPath(dir, "authorized_keys"));
  Deno.writeTextFileSync(joinPath(dir, "passwd"), guestPasswd(c));
  Deno.writeTextFileSync(
    joinPath(dir, "sshd_config"),
    [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${SSHD_DIR}/ssh_host_ed25519_key`,
      `AuthorizedKeysFile ${SSHD_DIR}/authorized_keys`,
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "StrictModes no",
      "UsePAM no",
      "PidFile none",
      "PrintMotd no",
      "PrintLastLog no",
      "AcceptEnv COLORTERM",
      "MaxSessions 100",
      "MaxStartups 100:30:200",
      // pam_env gives Ubuntu's /etc/environment PATH to ssh sessions in Lima's guests
      `SetEnv PATH=${GUEST_PATH}`,
      "",
    ].join("\n"),
  );
  const b = sandboxArgs(inst, c);
  b.push("--ro-bind", joinPath(dir, "passwd"), "/etc/passwd", "--dir", "/run/sshd");
  b.push("--ro-bind", dir, SSHD_DIR, "--chdir", "/", "--");
  const sshd = lookPath("sshd") ?? "/usr/sbin/sshd";
  // sshd as a child of a keeper process: stopping sshd (a test's transport fault) leaves the
  // VM running, as `systemctl stop ssh` would in a real guest.
  b.push("/bin/sh", "-c", `${sshd} -D -f ${SSHD_DIR}/sshd_config & exec sleep 2147483647`);
  // The driver process is a detached sh waiting for bwrap: the VM outlives `limactl start`, and
  // killing the driver takes the whole sandbox down (bwrap's --die-with-parent).
  return () => {
    const child = new Deno.Command("setsid", {
      args: ["/bin/sh", "-c", '"$0" "$@"; exit $?', lookPath("bwrap") ?? "bwrap", ...b],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.unref();
    return child.pid;
  };
}

/** Waits until something accepts connections on 127.0.0.1:port (sshd is up), at most 10 s. */
async function waitForPort(port: number): Promise<void> {
  for (
    let delay = 5, waited = 0;
    waited < 10_000;
    waited += delay, delay = Math.min(delay * 2, 100)
  ) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await sleep(delay);
    }
  }
  fail(`stand-in: the guest's sshd did not listen on 127.0.0.1:${port} within 10s`);
}

/** The ssh options Lima passes (pkg/sshutil SSHOpts + SSHArgsFromOpts), as `-o K=V`. */
function sshOpts(inst: Instance, c: Config): string[] {
  return [
    `IdentityFile="${joinPath(dirName(inst.dir), "_config", "user")}"`,
    "StrictHostKeyChecking=no",
    "UserKnownHostsFile=/dev/null",
    "NoHostAuthenticationForLocalhost=yes",
    "PreferredAuthentications=publickey",
    "Compression=no",
    "BatchMode=yes",
    "IdentitiesOnly=yes",
    `User=${c.user.name}`,
    "ControlMaster=auto",
    `ControlPath="${joinPath(inst.dir, "ssh.sock")}"`,
    "ControlPersist=yes",
  ].flatMap((o) => ["-o", o]);
}

/**
 * The host agent's "Explicitly start ssh ControlMaster" requirement: one ssh with
 * ControlMaster=auto and ControlPersist=yes, which leaves the `ssh: …/ssh.sock [mux]` master
 * running in the background.
 */
async function startMaster(inst: Instance): Promise<void> {
  const c = inst.config;
  if (!c) return;
  const port = sshPortFromConfig(inst.dir);
  await new Deno.Command(lookPath("ssh") ?? "ssh", {
    args: [...sshOpts(inst, c), "-p", String(port), "127.0.0.1", "--", "true"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
}

/** hostagent Close → sshutil ExitMaster: `ssh -O exit` on the ControlMaster. */
async function exitMaster(inst: Instance): Promise<void> {
  if (!inst.config || !exists(joinPath(inst.dir, "ssh.sock"))) return;
  await new Deno.Command(lookPath("ssh") ?? "ssh", {
    args: [
      ...sshOpts(inst, inst.config),
      "-O",
      "exit",
      "-p",
      String(inst.sshLocalPort),
      "127.0.0.1",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
}

/** cmd/limactl/copy.go + pkg/copytool: guest paths are `INSTANCE:PATH` (A.6). */
async function cmdCopy(ctx: Ctx, f: ParsedFlags): Promise<number> {
  const backend = flagString(f, "backend", "auto");
  // pkg/copytool New: rsync preferred, scp as a fallback; the stand-in copies with cp
  if (backend === "rsync" && !lookPath("rsync")) {
    fail('rsync not found on host: exec: "rsync": executable file not found in $PATH');
  } else if (backend === "scp" && !lookPath("scp")) {
    fail('scp not found on host: exec: "scp": executable file not found in $PATH');
  } else if (backend === "auto" && !lookPath("rsync") && !lookPath("scp")) {
    fail(
      'neither rsync nor scp found on host: scp not found on host: exec: "scp": executable file not found in $PATH',
    );
  } else if (!["auto", "rsync", "scp"].includes(backend)) {
    fail(`invalid backend ${bq(backend)}, must be one of: scp, rsync, auto`);
  }
  const paths: { inst?: Instance; path: string }[] = [];
  for (const arg of f.args) {
    const colon = arg.indexOf(":"); // parseCopyPaths: strings.SplitN(path, ":", 2)
    if (colon < 0) {
      paths.push({ path: arg });
      continue;
    }
    const name = arg.slice(0, colon);
    const inst = await requireInstance(ctx, name);
    if (inst.status === "Stopped") {
      fail(`instance ${bq(name)} is stopped, run \`limactl start ${name}\` to start the instance`);
    }
    paths.push({ inst, path: arg.slice(colon + 1) });
  }
  const flags = [
    ...(flagBool(f, "recursive") ? ["-r"] : []),
    ...(flagBool(f, "verbose") ? ["-v"] : []),
  ];
  const remote = paths.filter((p) => p.inst).map((p) => p.inst as Instance);
  if (remote.length === 0) {
    // scp between two local paths runs cp on the host
    const st = await new Deno.Command("cp", { args: [...flags, "--", ...f.args] }).spawn().status;
    return st.signal !== null ? 255 : st.code;
  }
  const inst = remote[0] as Instance;
  if (remote.some((i) => i.name !== inst.name)) {
    fail("limactl stand-in: copying between instances is not emulated");
  }
  if (inst.status !== "Running" || !inst.config || !await accepts(inst.sshLocalPort)) {
    return sshRefused(inst.sshLocalPort);
  }
  const binds: string[] = [];
  const target = paths.length - 1;
  const cpArgs = paths.map((p, i) => {
    if (p.inst) return p.path === "" ? "." : p.path; // relative to the guest home, as with scp
    const host = absPath(p.path);
    const at = `/run/limactl-standin/${i}`;
    if (i === target) {
      let isDir = false;
      try {
        isDir = Deno.statSync(host).isDirectory;
      } catch { /* a new file */ }
      binds.push("--bind-try", isDir ? host : dirName(host), at);
      return isDir ? at : `${at}/${baseName(host)}`;
    }
    binds.push("--ro-bind-try", host, `${at}/${baseName(host)}`);
    return `${at}/${baseName(host)}`;
  });
  // like scp's remote side, run through the login shell by sshd
  const cp = ["cp", ...flags, "--", ...cpArgs].map(shellQuote).join(" ");
  return await runInGuest(inst, inst.config, [inst.config.user.shell, "-c", cp], binds);
}

// ---------------------------------------------------------------- main

// start.go + editflags.RegisterCreate: all accepted; only --name and --timeout are emulated
// deno-fmt-ignore
const START_FLAGS: FlagSpec[] = [
  ...["name", "cpus", "dns", "memory", "mount", "mount-only", "mount-type", "network", "ssh-port",
    "disk", "vm-type", "shell", "arch", "image-variant", "containerd", "port-forward", "audio-device",
    "audio-interface"].map((name): FlagSpec => ({ name, kind: "string" })),
  ...["set", "param"].map((name): FlagSpec => ({ name, kind: "stringArray" })),
  ...["mount-none", "mount-writable", "mount-inotify", "nested-virt", "rosetta", "video", "plain",
    "list-templates", "list-drivers", "foreground", "progress"].map((name): FlagSpec => ({ name, kind: "bool" })),
  { name: "timeout", kind: "duration" },
];

interface CommandSpec {
  use: string;
  short: string;
  flags: FlagSpec[];
  interspersed: boolean;
  alias?: string;
  min?: number;
  max?: number;
}

// Use/Short/Args/flags of each emulated command (cmd/limactl/{start,stop,list,shell,copy}.go;
// create is in start.go)
const COMMANDS: Record<string, CommandSpec> = {
  create: {
    use: "create FILE.yaml|URL",
    short: "Create an instance of Lima",
    interspersed: true,
    max: 1,
    flags: START_FLAGS.filter((x) => !["timeout", "foreground", "progress"].includes(x.name) // start.go: start-only flags
    ),
  },
  start: {
    use: "start NAME|FILE.yaml|URL",
    short: "Start an instance of Lima",
    interspersed: true,
    max: 1,
    flags: START_FLAGS,
  },
  stop: {
    use: "stop INSTANCE",
    short: "Stop an instance",
    interspersed: true,
    max: 1,
    flags: [{ name: "force", kind: "bool", short: "f" }],
  },
  list: {
    use: "list [flags] [INSTANCE]...",
    short: "List instances of Lima",
    interspersed: true,
    alias: "ls",
    flags: [
      { name: "format", kind: "string", short: "f" },
      { name: "json", kind: "bool" },
      { name: "quiet", kind: "bool", short: "q" },
      { name: "list-fields", kind: "bool" },
      { name: "all-fields", kind: "bool" },
      { name: "yq", kind: "stringArray" },
      { name: "filter", kind: "stringArray", short: "l" },
    ],
  },
  shell: {
    use: "shell [flags] INSTANCE [COMMAND...]",
    short: "Execute shell in Lima",
    interspersed: false, // shellCmd.Flags().SetInterspersed(false)
    flags: [
      { name: "instance", kind: "string" },
      { name: "shell", kind: "string" },
      { name: "workdir", kind: "string" },
      { name: "reconnect", kind: "bool" },
      { name: "preserve-env", kind: "bool" },
      { name: "start", kind: "bool" },
      { name: "sync", kind: "string" },
    ],
  },
  copy: {
    use: "copy SOURCE ... TARGET",
    short: "Copy files between host and guest",
    interspersed: true,
    alias: "cp",
    min: 2,
    flags: [
      { name: "recursive", kind: "bool", short: "r" },
      { name: "verbose", kind: "bool", short: "v" },
      { name: "backend", kind: "string" },
    ],
  },
};
// the rest of cmd/limactl/main.go's commands: real, but not emulated here
// deno-fmt-ignore
const OTHER_COMMANDS = [
  "delete", "validate", "prune", "hostagent", "guest-install", "info", "show-ssh", "debug",
  "edit", "factory-reset", "disk", "usernet", "generate-doc", "generate-jsonschema", "snapshot",
  "screenshot", "protect", "unprotect", "tunnel", "template", "restart", "sudoers", "autostart",
  "start-at-login", "network", "clone", "rename", "watch", "completion", "help", "yq-restrictions",
];
// not offered as suggestions by cobra: hidden, deprecated, and the help command
// deno-fmt-ignore
const UNSUGGESTED = [
  "debug", "generate-doc", "generate-jsonschema", "guest-install", "hostagent", "usernet",
  "start-at-login", "help",
];

/** Appends argv as one JSON line to $LIMA_HOME/_standin/argv.ndjson, in one O_APPEND write. */
function logInvocation(argv: string[]): void {
  if (Deno.env.get("LIMACTL_STANDIN_NO_LOG") === "1") return;
  try {
    const dir = joinPath(limaDir(), "_standin");
    Deno.mkdirSync(dir, { recursive: true });
    using file = Deno.openSync(joinPath(dir, "argv.ndjson"), { append: true, create: true });
    writeAll(file, JSON.stringify(argv) + "\n");
  } catch { /* the log is best effort */ }
}

/** cobra's "Did you mean this?" (Levenshtein distance ≤ 2, or a prefix). */
function suggestions(typed: string): string {
  const lev = (a: string, b: string): number => {
    const d = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = d[0] ?? 0;
      d[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const tmp = d[j] ?? 0;
        d[j] = Math.min(
          (d[j] ?? 0) + 1,
          (d[j - 1] ?? 0) + 1,
          prev + (a[i - 1] === b[j - 1] ? 0 : 1),
        );
        prev = tmp;
      }
    }
    return d[b.length] ?? 0;
  };
  const t = typed.toLowerCase();
  const hits = [...Object.keys(COMMANDS), ...OTHER_COMMANDS].sort()
    .filter((c) => !UNSUGGESTED.includes(c))
    .filter((c) => lev(t, c) <= 2 || c.startsWith(t) || (c === "shell" && t === "ssh"));
  return hits.length > 0 ? `\n\nDid you mean this?\n${hits.map((h) => `\t${h}\n`).join("")}` : "";
}

/** Runs one limactl invocation; returns the exit code. */
export async function main(argv: string[], log = new Logger()): Promise<number> {
  logInvocation(argv);
  if (Deno.env.get("LIMACTL_STANDIN_HANG") === "1") await hangForever({ home: limaDir() });
  try {
    // cobra Find: the first argument that is neither a flag nor a global flag's value
    let ci = -1;
    for (let i = 0; i < argv.length && ci < 0; i++) {
      const a = argv[i] ?? "";
      if (a === "--") break;
      if (!a.startsWith("-")) ci = i;
      else if (["--log-level", "--log-format"].includes(a)) i++;
    }
    const word = ci >= 0 ? argv[ci] ?? "" : "";
    if (ci < 0) {
      const f = parseFlags(
        argv,
        [...GLOBAL_FLAGS, { name: "version", kind: "bool", short: "v" }],
        true,
      );
      if (flagBool(f, "version")) {
        out(`limactl version ${standinVersion()}\n`); // cobra's version template
        return 0;
      }
      out("Lima: Linux virtual machines\n\nUsage:\n  limactl [command]\n"); // cobra help
      return 0;
    }
    const name = Object.keys(COMMANDS).find((k) => k === word || COMMANDS[k]?.alias === word);
    if (name === undefined) {
      if (OTHER_COMMANDS.includes(word)) {
        fail(`limactl stand-in: command ${bq(word)} is not emulated`);
      }
      fail(`unknown command ${goQuote(word)} for "limactl"${suggestions(word)}`);
    }
    const spec = COMMANDS[name] ?? fail("unreachable");
    const rest = [...argv.slice(0, ci), ...argv.slice(ci + 1)];
    const f = parseFlags(rest, [...GLOBAL_FLAGS, ...spec.flags], spec.interspersed);
    if (flagBool(f, "help")) {
      out(`${spec.short}\n\nUsage:\n  limactl ${spec.use}\n`); // (abridged cobra help)
      return 0;
    }
    checkArgs(name, spec, f.args.length); // cobra validates args before PersistentPreRunE
    // PersistentPreRunE (main.go): log level/format, then --tty/--yes
    if (flagBool(f, "debug")) log.level = LEVELS.indexOf("debug");
    const lv = flagString(f, "log-level").toLowerCase();
    if (lv !== "") {
      const idx = LEVELS.indexOf((lv === "warn" ? "warning" : lv) as Level);
      if (idx < 0) fail(`not a valid logrus Level: ${goQuote(flagString(f, "log-level"))}`);
      log.level = idx;
    }
    const lf = flagString(f, "log-format", "text");
    if (lf !== "text" && lf !== "json") fail(`unsupported log-format: ${bq(lf)}`);
    log.format = lf;
    if (f.changed.has("yes") && f.changed.has("tty")) {
      fail("cannot use both --tty and --yes flags at the same time");
    }
    // --tty defaults to isatty(stdout); -y is an alias of --tty=false
    const tty = f.changed.has("tty")
      ? flagBool(f, "tty")
      : !flagBool(f, "yes") && Deno.stdout.isTerminal();
    f.values.set("tty", tty);
    const ctx: Ctx = { home: limaDir(), log };
    const run = {
      create: cmdCreate,
      start: cmdStart,
      stop: cmdStop,
      list: cmdList,
      shell: cmdShell,
      copy: cmdCopy,
    }[
      name as "start"
    ];
    return await run(ctx, f);
  } catch (e) {
    if (!(e instanceof LimaError)) {
      console.error("limactl stand-in: internal error:", e);
      return 2; // like a Go panic
    }
    log.log("fatal", e.message); // logrus.Fatal → exit 1
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
