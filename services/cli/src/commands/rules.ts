import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import {
  type CorrelationRule,
  compileFilterPattern,
  describeCorrelation,
  FilterPatternSyntaxError,
  type Rule,
  type RuleCatalog,
  RuleSet,
} from "@trailstream/rules";
import { EXIT, UsageError } from "../exit.ts";
import { writeLine } from "../output.ts";
import { readRecords } from "../records.ts";
import { loadCliRuleCatalog, policyFromEnv } from "../rule-catalog.ts";
import { listInputs, type ScanInput } from "../scan/inputs.ts";
import { safe } from "../text.ts";

export const rulesHelp = `trailstream rules list [options]
trailstream rules test (--pattern PATTERN | --rule ID) [options] FILE...

list   prints the rules trailstream knows: the CIS monitoring controls, SigmaHQ's CloudTrail
       rules (shown with their author and id, as the Detection Rule License asks), any
       --custom rule files, and the Sigma correlation rules among them with what they correlate.
test   runs one filter pattern (like "aws logs test-metric-filter") or one rule over the
       records of each FILE: a CloudTrail log file (.json or .json.gz, {"Records": [...]}), a
       JSON array of records, or one record per line (NDJSON).

Options:
  --pattern PATTERN    a CloudWatch Logs filter pattern, for example '{ $.eventName = ConsoleLogin }'
  --rule ID            a rule id from "rules list"
  --custom FILE        also load the rules of this file: custom rules (YAML) or a Sigma file,
                       correlation rules included (repeatable)
  --sigma-dir DIR      load Sigma rules from DIR instead of the ones shipped with trailstream
  --json               print one JSON document: {"total", "matched", "matches"} for test
  -h, --help

Exit codes: 0 success (whether or not anything matched); 2 a usage error or a pattern that does
not parse (the position is shown), a folder with no log file; 1 a file or record that could not be
read; 3 the rule failed on some records (each is listed; it counts as no match there).`;

interface Options {
  json: boolean;
  custom: string[];
  sigmaDir: string | undefined;
}

export async function rulesCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      pattern: { type: "string" },
      rule: { type: "string" },
      custom: { type: "string", multiple: true, default: [] },
      "sigma-dir": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [sub, ...files] = positionals;
  if (values.help || sub === "help") {
    await writeLine(process.stdout, rulesHelp);
    return EXIT.ok;
  }
  const options: Options = { json: values.json, custom: values.custom, sigmaDir: values["sigma-dir"] };
  if (sub === "list") {
    if (files.length > 0) throw new UsageError("rules list takes no FILE");
    if (values.pattern !== undefined || values.rule !== undefined)
      throw new UsageError("--pattern and --rule belong to rules test");
    return list(options);
  }
  if (sub === "test") {
    if (files.length === 0) throw new UsageError("rules test needs at least one FILE");
    if ((values.pattern === undefined) === (values.rule === undefined))
      throw new UsageError("rules test needs exactly one of --pattern or --rule");
    if (values.pattern !== undefined) return testPattern(values.pattern, files, options);
    return testRule(values.rule ?? "", files, options);
  }
  throw new UsageError(
    sub === undefined
      ? 'rules needs a subcommand: list or test (see "trailstream rules --help")'
      : `unknown rules subcommand "${sub}"; use list or test`,
  );
}

async function loadRules(options: Options): Promise<Rule[]> {
  return (await loadCatalog(options)).loaded;
}

/** The alerter's catalog for these options, with RULES_DISABLED and RULE_OVERRIDES from the environment. */
async function loadCatalog(options: Options): Promise<RuleCatalog> {
  const catalog = await loadCliRuleCatalog(
    { builtin: true, sigmaDir: options.sigmaDir, customFiles: options.custom, policy: policyFromEnv(process.env) },
    { command: "trailstream", customFlag: "--custom" },
  );
  for (const f of catalog.correlationFailures)
    process.stderr.write(`trailstream: correlation ${f.id}${f.file ? ` (${f.file})` : ""} not loaded: ${f.reason}\n`);
  const failed = new Set(catalog.correlationFailures.map((f) => f.id));
  return { ...catalog, correlations: catalog.correlations.filter((c) => !failed.has(c.id)) };
}

function correlationSummary(c: CorrelationRule) {
  return {
    id: c.id,
    source: "sigma",
    severity: c.severity,
    title: c.title,
    correlation: {
      type: c.type,
      rules: c.rules,
      groupBy: c.groupBy,
      timespanMs: c.timespanMs,
      condition: c.condition,
      ...(c.field ? { field: c.field } : {}),
    },
    description: describeCorrelation(c),
    ...(c.silent ? { alerts: false } : {}),
    ...(c.author === undefined ? {} : { author: c.author }),
    license: "DRL-1.1",
  };
}

function summary(rule: Rule) {
  return {
    id: rule.id,
    source: rule.source,
    severity: rule.severity,
    title: rule.title,
    ...(rule.author === undefined ? {} : { author: rule.author }),
    ...(rule.source === "sigma" ? { license: "DRL-1.1" } : {}),
    ...(rule.securityHubControl === undefined ? {} : { securityHubControl: rule.securityHubControl }),
    ...(rule.cisSection === undefined ? {} : { cisSection: rule.cisSection }),
    ...(rule.pattern === undefined ? {} : { pattern: rule.pattern }),
    ...(rule.references === undefined ? {} : { references: rule.references }),
    ...(rule.silent ? { alerts: false } : {}),
  };
}

async function list(options: Options): Promise<number> {
  // On or off, and why: the shipped defaults with RULES_DISABLED and RULE_OVERRIDES, as the alerter applies them.
  const catalog = await loadCatalog(options);
  const { loaded: rules, correlations } = catalog;
  const applied = { rules: catalog.rules, status: catalog.status };
  const statusOf = new Map(applied.status.map((s) => [s.id, s]));
  const effective = new Map(applied.rules.map((r) => [r.id, r]));
  if (options.json) {
    await writeLine(
      process.stdout,
      JSON.stringify(
        [
          ...rules.map((r) => ({
            ...summary(effective.get(r.id) ?? r),
            enabled: statusOf.get(r.id)?.enabled ?? true,
            why: statusOf.get(r.id)?.why ?? "",
            ...(effective.get(r.id)?.suppress ? { suppress: effective.get(r.id)?.suppress } : {}),
          })),
          ...correlations.map(correlationSummary),
        ],
        null,
        2,
      ),
    );
    return EXIT.ok;
  }
  const idWidth = Math.max(...rules.map((r) => r.id.length), ...correlations.map((c) => c.id.length), 2);
  await writeLine(process.stdout, `${"ID".padEnd(idWidth)}  ON   SOURCE  SEVERITY  TITLE`);
  for (const r of rules) {
    const by = r.source === "sigma" && r.author ? ` (by ${r.author})` : "";
    const quiet = r.silent ? " [feeds a correlation, no alert of its own]" : "";
    const state = statusOf.get(r.id);
    const on = state?.enabled === false ? "off" : "on ";
    const why =
      state?.enabled === false || state?.why.includes("RULE_OVERRIDES")
        ? `\n${" ".repeat(idWidth + 2)}${state.why}`
        : "";
    const severity = effective.get(r.id)?.severity ?? r.severity;
    await writeLine(
      process.stdout,
      safe(`${r.id.padEnd(idWidth)}  ${on}  ${r.source.padEnd(6)}  ${severity.padEnd(8)}  ${r.title}${by}${quiet}`) +
        why,
    );
  }
  if (correlations.length > 0) {
    await writeLine(process.stdout, "\nCorrelation rules (Sigma)");
    for (const c of correlations) {
      const by = c.author ? ` (by ${c.author})` : "";
      const quiet = c.silent ? " [feeds a correlation, no alert of its own]" : "";
      await writeLine(
        process.stdout,
        `${c.id.padEnd(idWidth)}  on   ${"sigma".padEnd(6)}  ${c.severity.padEnd(8)}  ${c.title}${by}${quiet}\n${" ".repeat(idWidth + 25)}${describeCorrelation(c)}`,
      );
    }
  }
  await writeLine(
    process.stdout,
    `${rules.length} rules (${applied.rules.length} on)${correlations.length > 0 ? `, ${correlations.length} correlation rules` : ""}`,
  );
  return EXIT.ok;
}

async function testPattern(pattern: string, files: string[], options: Options): Promise<number> {
  let matches: (record: unknown) => boolean;
  try {
    matches = compileFilterPattern(pattern);
  } catch (error) {
    if (!(error instanceof FilterPatternSyntaxError)) throw error;
    // Point at the position under the pattern, the way a compiler would.
    throw new UsageError(`${error.message}\n  ${pattern}\n  ${" ".repeat(error.position)}^`);
  }
  return runTest(matches, undefined, files, options);
}

async function testRule(id: string, files: string[], options: Options): Promise<number> {
  const rules = await loadRules(options);
  const rule = rules.find((r) => r.id === id);
  if (!rule) throw new UsageError(`no rule "${id}"; "trailstream rules list" shows the ids`);
  return runTest((r) => rule.matches(r), rule, files, options);
}

interface Match {
  eventNumber: number;
  file: string;
  index: number;
  eventID: unknown;
  eventTime: unknown;
  eventSource: unknown;
  eventName: unknown;
  event: unknown;
}

async function runTest(
  matches: (record: unknown) => boolean,
  rule: Rule | undefined,
  files: string[],
  options: Options,
): Promise<number> {
  let total = 0;
  const found: Match[] = [];
  const errors: { file: string; index?: number; reason: string }[] = [];
  const ruleErrors: { file: string; index: number; reason: string }[] = [];
  const report = (file: string, reason: string, index?: number) => {
    errors.push({ file, ...(index === undefined ? {} : { index }), reason });
    process.stderr.write(`trailstream: ${safe(file)}${index === undefined ? "" : ` #${index}`}: ${safe(reason)}\n`);
  };
  // A RuleSet of one: the same error handling and time budget as scan and the alerter.
  const probe: Rule = rule ?? { id: "--pattern", title: "--pattern", severity: "info", source: "custom", matches };
  const set = new RuleSet([probe], {
    onError: (_rule, error) => {
      ruleErrors.push({
        file: current,
        index: currentIndex,
        reason: error instanceof Error ? error.message : String(error),
      });
    },
  });
  let current = "";
  let currentIndex = 0;
  // A folder stands for the log files under it, as with `scan`.
  const expanded: ScanInput[] = [];
  for (const path of files) {
    const isFolder = await stat(path).then(
      (info) => info.isDirectory(),
      () => false,
    );
    if (isFolder) expanded.push(...(await listInputs([path])));
    else expanded.push({ name: path, key: path, open: () => readFile(path) });
  }
  for (const input of expanded) {
    const file = input.name;
    try {
      for await (const item of readRecords(input)) {
        if (!item.ok) {
          report(file, item.reason, item.index);
          continue;
        }
        total++;
        current = file;
        currentIndex = item.index;
        if (set.match(item.record).length === 0) continue;
        const r = item.record as Record<string, unknown>;
        found.push({
          eventNumber: total,
          file,
          index: item.index,
          eventID: r.eventID ?? null,
          eventTime: r.eventTime ?? null,
          eventSource: r.eventSource ?? null,
          eventName: r.eventName ?? null,
          event: item.record,
        });
      }
    } catch (error) {
      report(file, (error as Error).message);
    }
  }

  if (options.json) {
    const doc = {
      ...(rule ? { rule: summary(rule) } : {}),
      total,
      matched: found.length,
      matches: found,
      ...(errors.length > 0 ? { errors } : {}),
      ...(ruleErrors.length > 0 ? { ruleErrors } : {}),
    };
    await writeLine(process.stdout, JSON.stringify(doc, null, 2));
  } else {
    if (rule) {
      const by = rule.author ? ` by ${rule.author}` : "";
      const licence = rule.source === "sigma" ? " (SigmaHQ, Detection Rule License 1.1)" : "";
      await writeLine(
        process.stdout,
        safe(`rule ${rule.id} "${rule.title}" [${rule.source}, ${rule.severity}]${by}${licence}`),
      );
    }
    for (const m of found) {
      await writeLine(
        process.stdout,
        safe(
          `${basename(m.file)}#${m.index}  ${String(m.eventTime)}  ${String(m.eventSource)}  ${String(m.eventName)}  ${String(m.eventID)}`,
        ),
      );
    }
    for (const e of ruleErrors)
      await writeLine(
        process.stdout,
        safe(`${basename(e.file)}#${e.index}  the rule failed (counted as no match): ${e.reason}`),
      );
    await writeLine(process.stdout, `${found.length} of ${total} records matched`);
  }
  if (errors.length > 0) return EXIT.failure;
  return ruleErrors.length > 0 ? EXIT.partial : EXIT.ok;
}
