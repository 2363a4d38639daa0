// One measured run in a fresh process, so peak RSS belongs to this run alone.
//   node bench/scan-worker.ts trailstream DIR   `scan` as `trailstream scan --no-rules` runs it (its parse worker decodes the files)
//   node bench/scan-worker.ts trailstream-rules DIR   `scan` as `trailstream scan` runs it: the built-in CIS and Sigma
//                                               rules (RULES_DISABLED, RULE_OVERRIDES from the environment), evaluated on the worker
//   node bench/scan-worker.ts trailstream-rules-one-thread DIR   the same without the worker (parallel: false): every
//                                               file decoded and every rule evaluated on the one thread, as before the worker took rules
//   node bench/scan-worker.ts naive DIR         read each file whole, gunzip, JSON.parse: the obvious way
import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { loadScanRules, scanRuleInputs } from "../services/cli/src/commands/scan.ts";
import { RuleErrorTally } from "../services/cli/src/scan/alerts.ts";
import { listInputs } from "../services/cli/src/scan/inputs.ts";
import { AWS_PRICES } from "../services/cli/src/scan/report.ts";
import { preferSmallHeap, scan } from "../services/cli/src/scan/run.ts";

const [mode, dir] = process.argv.slice(2);
const MODES = ["trailstream", "trailstream-rules", "trailstream-rules-one-thread", "naive"];
if (!dir || !mode || !MODES.includes(mode)) {
  console.error(`usage: scan-worker.ts ${MODES.join("|")} DIR`);
  process.exit(2);
}

const inputs = await listInputs([dir]);
let records = 0;
let unique = 0;
let alerts: number | undefined;
let ruleErrors: number | undefined;
// The rules are loaded before the clock starts, as `trailstream scan` loads them before it reads files
// (the worker loads them again once the clock runs).
if (mode !== "naive") preferSmallHeap();
const ruleErrorTally = new RuleErrorTally();
const withRules = mode.startsWith("trailstream-rules");
const rules = withRules ? await loadScanRules(scanRuleInputs([]), ruleErrorTally) : undefined;
if (withRules && !rules) throw new Error("no rules loaded");
const started = process.hrtime.bigint();
if (mode !== "naive") {
  const report = await scan(inputs, {
    prices: AWS_PRICES,
    maxIdentities: 5_000_000,
    ...(rules
      ? {
          rules: rules.ruleSet,
          correlations: rules.correlations,
          ruleErrors: ruleErrorTally,
          ruleCatalog: rules.catalog,
        }
      : {}),
    ...(mode === "trailstream-rules-one-thread" ? { parallel: false } : {}),
  });
  records = report.records;
  unique = report.uniqueEvents;
  alerts = report.alerts?.reduce((sum, a) => sum + a.alerts, 0);
  ruleErrors = report.ruleErrors?.reduce((sum, e) => sum + e.events, 0);
} else {
  const seen = new Set<string>();
  for (const input of inputs) {
    const body = JSON.parse(gunzipSync(await readFile(input.name)).toString("utf8")) as {
      Records: Array<{ recipientAccountId: string; eventID: string }>;
    };
    for (const r of body.Records) {
      records++;
      seen.add(`${r.recipientAccountId}:${r.eventID}`);
    }
  }
  unique = seen.size;
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(
  JSON.stringify({
    mode,
    files: inputs.length,
    records,
    unique,
    ...(alerts === undefined ? {} : { alerts, ruleErrors }),
    seconds,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  }),
);
