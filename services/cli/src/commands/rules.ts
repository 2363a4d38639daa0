import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import {
  builtinRules,
  type CorrelationRule,
  compileFilterPattern,
  describeCorrelation,
  FilterPatternSyntaxError,
  loadRuleFile,
  type Rule,
  RuleValidationError,
  resolveCorrelations,
  SigmaRuleError,
} from "@trailstream/rules";
import { EXIT, UsageError } from "../exit.ts";
import { writeLine } from "../output.ts";
import { listInputs } from "../scan/inputs.ts";

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
not parse (the position is shown); 1 a file that could not be read.`;

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
  return (await loadCatalog(options)).rules;
}

async function loadCatalog(options: Options): Promise<{ rules: Rule[]; correlations: CorrelationRule[] }> {
  const { rules, correlations, failures } = await builtinRules(
    options.sigmaDir === undefined ? {} : { sigmaDir: options.sigmaDir },
  );
  for (const f of failures) process.stderr.write(`trailstream: Sigma rule ${f.file} not loaded: ${f.reason}\n`);
  for (const file of options.custom) {
    try {
      const loaded = await loadRuleFile(file);
      rules.push(...loaded.rules);
      correlations.push(...loaded.correlations);
    } catch (error) {
      if (error instanceof RuleValidationError || error instanceof SigmaRuleError) throw new UsageError(error.message);
      throw error;
    }
  }
  const { resolved, failures: unresolved } = resolveCorrelations(correlations, rules);
  for (const f of unresolved)
    process.stderr.write(`trailstream: correlation ${f.id}${f.file ? ` (${f.file})` : ""} not loaded: ${f.reason}\n`);
  return { rules, correlations: resolved.map((r) => r.rule) };
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
  const { rules, correlations } = await loadCatalog(options);
  if (options.json) {
    await writeLine(
      process.stdout,
      JSON.stringify([...rules.map(summary), ...correlations.map(correlationSummary)], null, 2),
    );
    return EXIT.ok;
  }
  const idWidth = Math.max(...rules.map((r) => r.id.length), ...correlations.map((c) => c.id.length), 2);
  await writeLine(process.stdout, `${"ID".padEnd(idWidth)}  SOURCE  SEVERITY  TITLE`);
  for (const r of rules) {
    const by = r.source === "sigma" && r.author ? ` (by ${r.author})` : "";
    const quiet = r.silent ? " [feeds a correlation, no alert of its own]" : "";
    await writeLine(
      process.stdout,
      `${r.id.padEnd(idWidth)}  ${r.source.padEnd(6)}  ${r.severity.padEnd(8)}  ${r.title}${by}${quiet}`,
    );
  }
  if (correlations.length > 0) {
    await writeLine(process.stdout, "\nCorrelation rules (Sigma)");
    for (const c of correlations) {
      const by = c.author ? ` (by ${c.author})` : "";
      const quiet = c.silent ? " [feeds a correlation, no alert of its own]" : "";
      await writeLine(
        process.stdout,
        `${c.id.padEnd(idWidth)}  ${"sigma".padEnd(6)}  ${c.severity.padEnd(8)}  ${c.title}${by}${quiet}\n${" ".repeat(idWidth + 20)}${describeCorrelation(c)}`,
      );
    }
  }
  await writeLine(
    process.stdout,
    `${rules.length} rules${correlations.length > 0 ? `, ${correlations.length} correlation rules` : ""}`,
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
  const errors: { file: string; reason: string }[] = [];
  // A folder stands for the log files under it, as with `scan`.
  const expanded: string[] = [];
  for (const path of files) {
    const isFolder = await stat(path).then(
      (info) => info.isDirectory(),
      () => false,
    );
    if (isFolder) expanded.push(...(await listInputs([path])).map((input) => input.name));
    else expanded.push(path);
  }
  for (const file of expanded) {
    let records: unknown[];
    try {
      records = parseRecords(await readFile(file), file);
    } catch (error) {
      errors.push({ file, reason: (error as Error).message });
      process.stderr.write(`trailstream: ${file}: ${(error as Error).message}\n`);
      continue;
    }
    records.forEach((record, index) => {
      total++;
      if (!matches(record)) return;
      const r = typeof record === "object" && record !== null ? (record as Record<string, unknown>) : {};
      found.push({
        eventNumber: total,
        file,
        index,
        eventID: r.eventID ?? null,
        eventTime: r.eventTime ?? null,
        eventSource: r.eventSource ?? null,
        eventName: r.eventName ?? null,
        event: record,
      });
    });
  }

  if (options.json) {
    const doc = {
      ...(rule ? { rule: summary(rule) } : {}),
      total,
      matched: found.length,
      matches: found,
      ...(errors.length > 0 ? { errors } : {}),
    };
    await writeLine(process.stdout, JSON.stringify(doc, null, 2));
  } else {
    if (rule) {
      const by = rule.author ? ` by ${rule.author}` : "";
      const licence = rule.source === "sigma" ? " (SigmaHQ, Detection Rule License 1.1)" : "";
      await writeLine(
        process.stdout,
        `rule ${rule.id} "${rule.title}" [${rule.source}, ${rule.severity}]${by}${licence}`,
      );
    }
    for (const m of found) {
      await writeLine(
        process.stdout,
        `${basename(m.file)}#${m.index}  ${String(m.eventTime)}  ${String(m.eventSource)}  ${String(m.eventName)}  ${String(m.eventID)}`,
      );
    }
    await writeLine(process.stdout, `${found.length} of ${total} records matched`);
  }
  return errors.length > 0 ? EXIT.failure : EXIT.ok;
}

/** Records from a CloudTrail log file, a JSON array, a single record, or NDJSON; gzip by content or name. */
export function parseRecords(bytes: Buffer, name: string): unknown[] {
  const gz = (bytes[0] === 0x1f && bytes[1] === 0x8b) || name.endsWith(".gz");
  const text = (gz ? gunzipSync(bytes) : bytes).toString("utf8");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // Not one JSON document: one record per line.
    return text
      .split("\n")
      .map((line, i) => ({ line: line.trim(), i }))
      .filter(({ line }) => line !== "")
      .map(({ line, i }) => {
        try {
          return JSON.parse(line) as unknown;
        } catch {
          throw new Error(`line ${i + 1} is not JSON (expected a log file, a JSON array or NDJSON)`);
        }
      });
  }
  if (Array.isArray(doc)) return doc;
  if (typeof doc === "object" && doc !== null) {
    const records = (doc as Record<string, unknown>).Records;
    if (Array.isArray(records)) return records;
    return [doc];
  }
  throw new Error("expected a log file, a JSON array of records or NDJSON");
}
