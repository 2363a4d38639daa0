import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type EventSelectors,
  EventSelectorsError,
  eventSelectorsFromSetting,
  Keyring,
  parsePublicKeyList,
} from "@trailstream/cloudtrail";
import { type CorrelationRule, parseDuration, type RuleCatalogInputs, RuleSet } from "@trailstream/rules";
import { EXIT, UsageError } from "../exit.ts";
import { writeLine } from "../output.ts";
import { loadCliRuleCatalog, policyFromEnv } from "../rule-catalog.ts";
import { RuleErrorTally } from "../scan/alerts.ts";
import { listInputs } from "../scan/inputs.ts";
import { ScanIntegrity } from "../scan/integrity.ts";
import { renderReport } from "../scan/render.ts";
import { AWS_PRICES } from "../scan/report.ts";
import { preferSmallHeap, scan } from "../scan/run.ts";

export const scanHelp = `trailstream scan [options] PATH...

Reads CloudTrail log files (.json.gz or .json; folders are read recursively, in path order; "-"
reads one log file from standard input), collapses the copies that overlapping trails deliver,
enriches each event and reports what it found. Needs no server.

Options:
  --json                       print the report as one JSON document
  --ndjson                     stream each unique, enriched event as one JSON line (report to stderr)
  --max-identities N           remember at most N event identities (default 5000000, at most 45 bytes each)
  --price-management USD       per 100,000 extra copies of management events (default ${AWS_PRICES.managementPer100k})
  --price-data USD             per 100,000 data events (default ${AWS_PRICES.dataPer100k})
  --selectors FILE|JSON        keep only the events these CloudTrail event selectors keep (the JSON of
                               put-event-selectors, basic or advanced, as the enricher's EVENT_SELECTORS)
  --rules FILE                 also evaluate the rules in FILE: custom rules (YAML) or a Sigma file,
                               correlation rules included (may be given again)
  --sigma-dir DIR              read the Sigma rules from DIR instead of the shipped ones (as the alerter's SIGMA_DIR)
  --no-rules                   do not evaluate the built-in CIS and Sigma rules
  --validate                   check log file integrity as aws cloudtrail validate-logs does, and more:
                               digest signatures and chains, log file hashes, deleted, edited, withheld
                               and unlisted files (each bucket synced into its own folder, BUCKET/...,
                               each digest's signature beside it as DIGEST.metadata; see the README)
  --public-keys FILE           what aws cloudtrail list-public-keys printed (default: public-keys.json
                               at the root of the first folder)
  --suppress DURATION          the built-in rules' default suppression per rule and account, as the
                               alerter's ALERT_SUPPRESS_DEFAULT (default 15m; 0 for one alert per match)

RULES_DISABLED and RULE_OVERRIDES in the environment turn rules off or change them, as for the
alerter (docs/rules.md); "trailstream rules list" shows which rules are on and why.
  --no-progress                no progress line on standard error
  -h, --help

Exit codes: 0 every file read; 3 some files, folders or records could not be read, or a rule failed
on some events (the report says which); 2 a usage error (a PATH that does not exist or is not a file
or folder, a folder with no log file); 1 an unexpected failure; 4 with --validate, some file or digest is not
valid (the report lists each with its kind).`;

function parseScanArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      ndjson: { type: "boolean", default: false },
      "max-identities": { type: "string", default: "5000000" },
      "price-management": { type: "string", default: String(AWS_PRICES.managementPer100k) },
      "price-data": { type: "string", default: String(AWS_PRICES.dataPer100k) },
      rules: { type: "string", multiple: true, default: [] },
      selectors: { type: "string" },
      "sigma-dir": { type: "string" },
      "no-rules": { type: "boolean", default: false },
      suppress: { type: "string", default: "15m" },
      "no-progress": { type: "boolean", default: false },
      validate: { type: "boolean", default: false },
      "public-keys": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

/**
 * The rule catalog a scan with these arguments evaluates (undefined: none): --no-rules, --sigma-dir,
 * --rules and --suppress with RULES_DISABLED and RULE_OVERRIDES from `env`, as the alerter's
 * settings give it.
 */
export function scanRuleInputs(
  argv: string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): RuleCatalogInputs | undefined {
  const { values } = parseScanArgs(argv);
  if (values["no-rules"] && values.rules.length === 0) return undefined;
  const suppressMs = parseDuration(values.suppress);
  if (suppressMs === undefined && values.suppress !== "0")
    throw new UsageError(`--suppress must be a duration such as 15m, or 0, not "${values.suppress}"`);
  return {
    builtin: !values["no-rules"],
    sigmaDir: values["sigma-dir"],
    customFiles: values.rules,
    policy: policyFromEnv(env, suppressMs ?? 0),
  };
}

export async function scanCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseScanArgs(argv);
  if (values.help) {
    await writeLine(process.stdout, scanHelp);
    return EXIT.ok;
  }
  if (positionals.length === 0)
    throw new UsageError("scan needs at least one PATH (a file, a folder, or - for standard input)");
  if (values.json && values.ndjson) throw new UsageError("--json and --ndjson cannot be used together");
  const maxIdentities = positiveNumber("--max-identities", values["max-identities"]);
  const prices = {
    managementPer100k: nonNegativeNumber("--price-management", values["price-management"]),
    dataPer100k: nonNegativeNumber("--price-data", values["price-data"]),
  };

  const selectors = values.selectors === undefined ? undefined : readSelectors(values.selectors);
  preferSmallHeap();
  const ruleErrors = new RuleErrorTally();
  const rules = await loadScanRules(scanRuleInputs(argv), ruleErrors);
  if (values["public-keys"] !== undefined && !values.validate)
    throw new UsageError("--public-keys goes with --validate");
  const integrity = values.validate ? new ScanIntegrity(await loadKeys(values["public-keys"], positionals)) : undefined;
  const inputs = await listInputs(positionals);
  const progress = !values["no-progress"] ? progressLine() : undefined;
  const report = await scan(inputs, {
    prices,
    maxIdentities,
    ...(values.ndjson ? { onEvent: (e) => writeLine(process.stdout, JSON.stringify(e)) } : {}),
    ...(progress ? { onProgress: progress.update } : {}),
    ...(rules
      ? { rules: rules.ruleSet, correlations: rules.correlations, ruleErrors, ruleCatalog: rules.catalog }
      : {}),
    ...(selectors ? { selectors } : {}),
    ...(integrity ? { integrity } : {}),
  });
  progress?.done();

  if (values.json) await writeLine(process.stdout, JSON.stringify(report, null, 2));
  else if (values.ndjson) process.stderr.write(renderReport(report));
  else process.stdout.write(renderReport(report));
  if (report.integrity && report.integrity.problems.length > 0) return EXIT.integrity;
  const failedRules = report.ruleErrors !== null && report.ruleErrors.length > 0;
  return report.errors.length > 0 || report.invalidRecords > 0 || failedRules ? EXIT.partial : EXIT.ok;
}

function readSelectors(setting: string): EventSelectors {
  try {
    return eventSelectorsFromSetting(setting, (path) => readFileSync(path, "utf8"));
  } catch (error) {
    if (error instanceof EventSelectorsError) throw new UsageError(`--selectors: ${error.message}`);
    throw error;
  }
}

async function loadKeys(file: string | undefined, paths: readonly string[]): Promise<Keyring> {
  const path = file ?? paths.map((p) => join(p, "public-keys.json")).find((p) => existsSync(p));
  if (path === undefined) {
    throw new UsageError("--validate needs public keys: --public-keys FILE, or public-keys.json at the folder's root");
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new UsageError(`--public-keys ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const keys = parsePublicKeyList(json);
  if (!keys.ok) throw new UsageError(`--public-keys ${path}: ${keys.error.message}`);
  const ring = new Keyring();
  ring.add(keys.value);
  return ring;
}

/**
 * The rules of a scan (scanRuleInputs), their failures reported to `errors`; `catalog` is what they
 * were loaded from, which lets scan's parse worker load them too (ScanOptions.ruleCatalog).
 */
export async function loadScanRules(
  inputs: RuleCatalogInputs | undefined,
  errors: RuleErrorTally,
): Promise<{ ruleSet: RuleSet; correlations: CorrelationRule[]; catalog: RuleCatalogInputs } | undefined> {
  if (inputs === undefined) return undefined;
  const catalog = await loadCliRuleCatalog(inputs, { command: "scan", customFlag: "--rules" });
  // A correlation of a file the user named that cannot run is a mistake to show, not to skip.
  for (const f of catalog.correlationFailures) {
    if (f.file !== undefined && inputs.customFiles.includes(f.file))
      throw new UsageError(`--rules ${f.file}: correlation ${f.id} ${f.reason}`);
    process.stderr.write(`scan: correlation ${f.id} not loaded: ${f.reason}\n`);
  }
  return {
    ruleSet: new RuleSet(catalog.rules, { onError: errors.add }),
    correlations: catalog.correlations,
    catalog: inputs,
  };
}

function positiveNumber(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, not "${value}"`);
  return n;
}

function nonNegativeNumber(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number of dollars, not "${value}"`);
  return n;
}

/** On a terminal, one line rewritten in place; elsewhere (CI logs), a line every 10 seconds. */
function progressLine() {
  const tty = process.stderr.isTTY === true;
  const interval = tty ? 250 : 10_000;
  const started = Date.now();
  let lastShown = 0;
  let shown = false;
  return {
    update(p: { files: number; totalFiles: number; records: number; unique: number }) {
      const now = Date.now();
      if (now - lastShown < interval) return;
      lastShown = now;
      const rate = Math.round(p.records / Math.max(0.001, (now - started) / 1000));
      const line = `scan: ${p.files}/${p.totalFiles} files, ${p.records.toLocaleString("en-US")} records, ${p.unique.toLocaleString("en-US")} unique, ${rate.toLocaleString("en-US")} records/s`;
      process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
      shown = true;
    },
    done() {
      if (tty && shown) process.stderr.write("\r\x1b[K");
    },
  };
}
