// deno-lint-ignore-file no-console
/**
 * `gamma sync push|pull|status`: Mode S by hand.
 *
 * @module
 */

import { copyStateNote, type SyncReport } from "../lib/session/sync.ts";
import { formatBytes } from "../lib/sync/progress.ts";
import type { SyncAction } from "../lib/sync/plan.ts";
import { type CommandSpec, LIMA_PERMISSIONS, suggest, UsageError } from "./_spec.ts";
import { printJson } from "./_json.ts";
import { sessionFor } from "./_session.ts";

const ACTIONS = ["push", "pull", "status", "watch"] as const;

function describe(action: SyncAction): string {
  const where = action.side === "guest" ? "guest copy" : "host";
  const verb = action.op === "copy"
    ? "update"
    : action.op === "remove"
    ? "remove"
    : action.op === "mkdir"
    ? "create directory"
    : action.op === "symlink"
    ? "link"
    : "change mode of";
  return `  ${verb} ${action.path} (${where})`;
}

function summary(report: SyncReport, dry: boolean): string {
  const files = `${report.copied} file${report.copied === 1 ? "" : "s"}`;
  const verb = dry ? "would copy" : "copied";
  return `${verb} ${files} (${formatBytes(report.bytesCopied)}), ${
    dry ? "would remove" : "removed"
  } ${report.removed}`;
}

/** `gamma sync`. */
export const syncCommand: CommandSpec = {
  name: "sync",
  summary: "copy a project that no mount shows to the guest and back (sync mode, by hand)",
  usage: [
    "sync push|pull|status [-i NAME] [--dry-run] [--force] [--adopt] [--no-gitignore] [--json]",
    "sync watch [-i NAME] [--verbose]",
  ],
  actions: ACTIONS,
  description: [
    "The project is the nearest ancestor of the current directory holding .git, Cargo.toml,",
    "deno.json or package.json. Its copy lives at <workspace parent>/<project name>, which a",
    "mount must show in the guest; gamma exec and gamma shell push before and pull after on",
    "their own (DEVSHELL_VM_WORKSPACE_MODE=sync, the default). push carries host changes to the",
    "copy, pull the guest's changes back, status shows both without changing anything.",
    "Deletions propagate both ways; unchanged files are not read; when both sides changed a",
    "file, the host version stays and the guest's is kept beside it as",
    "NAME.gamma-conflict-guest-<time>. What the project's .gitignore files ignore (every level,",
    "as git reads them) and what .gammaignore files name stays on its side; .git itself is",
    "synced. --no-gitignore (or DEVSHELL_VM_SYNC_GITIGNORE=0) syncs git-ignored files too.",
    "A sync that would delete all of the host project, or more than half of it and over 50",
    "entries, stops and lists them; --force carries it out. gamma never merges into a staging",
    "directory it did not make; --adopt takes one you have checked. --json prints schema (1),",
    "the project, staging and guestStaging paths and the report: direction, dryRun, copyState,",
    "actions, conflicts, deferred, notDone, skipped, copied, removed, bytesCopied,",
    "debrisRemoved, ok.",
    "watch syncs both ways, then keeps the copy live until Ctrl-C: a change on either side",
    "reaches the other within about a second (gamma shell does this while it runs); conflicts",
    "are told as they happen, --verbose adds one line per batch that changed something.",
  ],
  permissions: LIMA_PERMISSIONS,
  options: [
    { name: "dry-run", short: "n", help: "show what would change, change nothing" },
    { name: "force", help: "carry out a sync that deletes most of the host project" },
    { name: "adopt", help: "take an existing staging directory as this project's copy" },
    { name: "no-gitignore", help: "sync what .gitignore files ignore too" },
    { name: "json", help: "print the report as JSON" },
    { name: "verbose", help: "watch: one line per sync batch that changed something" },
  ],
  examples: [
    "gamma sync status          # what push and pull would do",
    "gamma sync push --dry-run",
    "gamma sync pull --json | jq .conflicts",
    "gamma sync watch --verbose   # live both ways until Ctrl-C",
  ],
  exitCodes: [
    "0     synced (or nothing to do: also not pushed yet, or the project is mounted)",
    "1     conflicts were found (listed), or a file could not be synced",
    "2     usage error",
    "125   gamma refused or failed before syncing (mass deletion, foreign or linked copy)",
  ],
  failureCode: 125,
  async run(parsed, context) {
    const [action, ...extra] = parsed.positionals;
    if (action === undefined || !(ACTIONS as readonly string[]).includes(action)) {
      const hint = action === undefined ? undefined : suggest(action, [...ACTIONS]);
      throw new UsageError(
        `gamma sync: expected push, pull, status or watch${
          action === undefined ? "" : `, got ${JSON.stringify(action)}`
        }${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ""}`,
        this,
      );
    }
    if (extra.length > 0) {
      throw new UsageError(`gamma sync: unexpected argument ${JSON.stringify(extra[0])}`, this);
    }
    const session = await sessionFor(parsed, context);
    if (session.backend === "host") {
      context.error("gamma: sync needs the Lima backend, but gamma runs on the host");
      return 1;
    }
    const status = action === "status";
    const dry = status || parsed.values["dry-run"] === true;
    const mounted = await session.guestPathOf();
    if (mounted !== undefined) {
      // The guest sees this directory through a mount: there is no copy to keep in step.
      if (parsed.values["json"] === true) {
        printJson({ cwd: session.cwd, guestCwd: mounted, mounted: true });
      } else {
        console.log(
          `${session.cwd} is mounted in instance ${session.instance} at ${mounted}: the guest sees it directly, so there is nothing to sync`,
        );
      }
      return 0;
    }
    const target = await session.syncTarget();
    if (action === "watch") {
      const stop = new AbortController();
      const signals: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
      const onSignal = () => stop.abort();
      for (const signal of signals) Deno.addSignalListener(signal, onSignal);
      try {
        await session.watchProject({
          signal: stop.signal,
          target,
          verbose: parsed.values["verbose"] === true,
          onWatching: () =>
            context.notice(
              `gamma: sync: watching ${target.project} <-> ${target.staging}; Ctrl-C stops`,
            ),
        });
      } finally {
        for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
      }
      return 0;
    }
    const report = await session.syncProject(status ? "both" : action as "push" | "pull", {
      dryRun: dry,
      target,
      force: parsed.values["force"] === true,
      adopt: parsed.values["adopt"] === true,
      ...(parsed.values["no-gitignore"] === true ? { gitignore: false } : {}),
    });
    if (parsed.values["json"] === true) {
      printJson({
        project: target.project,
        staging: target.staging,
        guestStaging: target.guestStaging,
        ...report,
      });
    } else {
      console.log(`${target.project} <-> ${target.staging} (guest ${target.guestStaging})`);
      if (status && report.copyState === "new") {
        console.log(
          `not pushed yet: the first push copies ${report.copied} file${
            report.copied === 1 ? "" : "s"
          } (${formatBytes(report.bytesCopied)})`,
        );
      } else if (status) {
        const toGuest = report.actions.filter((a) => a.side === "guest");
        const toHost = report.actions.filter((a) => a.side === "host");
        console.log(`to push: ${toGuest.length} change${toGuest.length === 1 ? "" : "s"}`);
        for (const a of toGuest) console.log(describe(a));
        console.log(`to pull: ${toHost.length} change${toHost.length === 1 ? "" : "s"}`);
        for (const a of toHost) console.log(describe(a));
      } else {
        console.log(`${action}: ${summary(report, dry)}`);
        if (dry) { for (const a of report.actions) console.log(describe(a)); }
      }
    }
    const note = copyStateNote(report, target.staging);
    if (note !== undefined) context.notice(note);
    for (const s of report.skipped) {
      context.error(
        `gamma: sync: skipped ${s.path} (${s.side}): its name is not valid UTF-8, and gamma syncs only UTF-8 names; rename it to sync it`,
      );
    }
    for (const c of report.conflicts) {
      context.error(
        `gamma: sync: conflict at ${c.path}: both sides changed it; the host version stays, the guest's ${
          dry ? "would be" : "is"
        } kept as ${c.conflictPath}`,
      );
    }
    for (const n of report.notDone) {
      context.error(
        `gamma: sync: ${n.failed ? "failed" : "skipped"} ${n.action.path}: ${n.reason}`,
      );
    }
    return report.conflicts.length > 0 || !report.ok ? 1 : 0;
  },
};
