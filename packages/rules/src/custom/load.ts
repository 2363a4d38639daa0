// Custom rules: a YAML list (or `rules:` holding one) of rules with a filter pattern or a Sigma
// detection, plus thresholds and suppression. Every problem names the file, the rule and the key,
// because these files are edited by hand and loaded at start-up by the alerter.
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { parseDuration } from "../duration.ts";
import { compileFilterPattern, FilterPatternSyntaxError, patternIndexKeys } from "../filter-pattern/index.ts";
import { toIndexKeys } from "../index-keys.ts";
import { compileDetection } from "../sigma/detection.ts";
import { SigmaRuleError } from "../sigma/errors.ts";
import { isObject } from "../sigma/fields.ts";
import { type Rule, SEVERITIES, type Severity, type Suppression, type Threshold } from "../types.ts";

export class RuleValidationError extends Error {
  override readonly name = "RuleValidationError";
  readonly file: string;
  readonly rule: string;
  readonly key: string;

  constructor(file: string, rule: string, key: string, problem: string) {
    super(`${file}: rule ${rule}: ${key}: ${problem}`);
    this.file = file;
    this.rule = rule;
    this.key = key;
  }
}

const KEYS = new Set([
  "id",
  "title",
  "severity",
  "description",
  "author",
  "references",
  "pattern",
  "sigma",
  "labels",
  "runbook",
  "threshold",
  "suppress",
  "suppression",
]);
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

export async function loadCustomRules(file: string): Promise<Rule[]> {
  return compileCustomRules(await readFile(file, "utf8"), file);
}

export function compileCustomRules(yamlText: string, file = "<rules>"): Rule[] {
  let doc: unknown;
  try {
    doc = parse(yamlText);
  } catch (error) {
    throw new RuleValidationError(file, "-", "(file)", `not valid YAML: ${(error as Error).message}`);
  }
  const list = isObject(doc) && Array.isArray(doc.rules) ? doc.rules : doc;
  if (!Array.isArray(list))
    throw new RuleValidationError(file, "-", "(file)", "expected a list of rules (or rules: [...])");
  const seen = new Set<string>();
  return list.map((raw, i) => {
    const rule = compileCustomRule(raw, file, i);
    if (seen.has(rule.id))
      throw new RuleValidationError(file, `"${rule.id}"`, "id", "is used by an earlier rule in this file");
    seen.add(rule.id);
    return rule;
  });
}

function compileCustomRule(raw: unknown, file: string, index: number): Rule {
  let name = `#${index + 1}`;
  const fail = (key: string, problem: string): never => {
    throw new RuleValidationError(file, name, key, problem);
  };
  if (!isObject(raw)) return fail("(rule)", "must be a map");
  if (typeof raw.id === "string" && raw.id !== "") name = `"${raw.id}"`;
  for (const key of Object.keys(raw)) if (!KEYS.has(key)) fail(key, `unknown key (known: ${[...KEYS].join(", ")})`);

  const text = (key: string, required: boolean): string | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return required ? fail(key, "is required") : undefined;
    if (typeof v !== "string" || v.trim() === "") return fail(key, "must be a non-empty string");
    return v;
  };
  const id = text("id", true) ?? "";
  if (!ID.test(id)) fail("id", "may hold letters, digits and . _ : - only");
  const title = text("title", true) ?? "";
  const severity = text("severity", true) as Severity;
  if (!SEVERITIES.includes(severity)) fail("severity", `must be one of ${SEVERITIES.join(", ")}`);

  const hasPattern = raw.pattern !== undefined;
  const hasSigma = raw.sigma !== undefined;
  if (hasPattern === hasSigma) fail(hasPattern ? "sigma" : "pattern", "a rule needs exactly one of pattern: or sigma:");

  let matches: (record: unknown) => boolean;
  let indexKeys: Rule["indexKeys"];
  let pattern: string | undefined;
  let definition: string | undefined;
  if (hasPattern) {
    pattern = text("pattern", true) ?? "";
    try {
      matches = compileFilterPattern(pattern);
      indexKeys = patternIndexKeys(pattern);
    } catch (error) {
      if (error instanceof FilterPatternSyntaxError) fail("pattern", error.message);
      throw error;
    }
  } else {
    try {
      const compiled = compileDetection(raw.sigma);
      matches = compiled.test;
      indexKeys = toIndexKeys(compiled.constraints);
      definition = compiled.definition;
    } catch (error) {
      if (error instanceof SigmaRuleError) fail("sigma", error.message);
      throw error;
    }
  }

  const rule: Rule = { id, title, severity, source: "custom", indexKeys, matches };
  if (pattern !== undefined) rule.pattern = pattern;
  if (definition !== undefined) rule.definition = definition;
  const description = text("description", false);
  if (description !== undefined) rule.description = description;
  const author = text("author", false);
  if (author !== undefined) rule.author = author;
  const runbook = text("runbook", false);
  if (runbook !== undefined) rule.runbook = runbook;
  rule.file = file;

  if (raw.references !== undefined) {
    const refs = raw.references;
    if (!Array.isArray(refs) || !refs.every((r) => typeof r === "string"))
      fail("references", "must be a list of strings");
    else rule.references = refs;
  }
  if (raw.labels !== undefined) {
    const labels = raw.labels;
    if (!isObject(labels)) fail("labels", "must be a map of names to strings");
    else {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(labels)) {
        if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean")
          fail(`labels.${k}`, "must be a string");
        out[k] = String(v);
      }
      rule.labels = out;
    }
  }

  const groupBy = (key: string, v: unknown): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((g) => typeof g === "string" && g !== ""))
      return fail(key, "must be a list of field paths");
    return v;
  };
  const duration = (key: string, v: unknown): number => {
    const ms = parseDuration(v);
    return ms === undefined ? fail(key, `must be a duration such as 30s, 5m, 1h (got ${JSON.stringify(v)})`) : ms;
  };

  if (raw.threshold !== undefined) {
    const t = raw.threshold;
    if (!isObject(t)) fail("threshold", "must be a map with count, window and groupBy");
    else {
      for (const k of Object.keys(t))
        if (!["count", "window", "groupBy"].includes(k))
          fail(`threshold.${k}`, "unknown key (known: count, window, groupBy)");
      const count = t.count;
      if (typeof count !== "number" || !Number.isInteger(count) || count < 1)
        fail("threshold.count", "must be a whole number of at least 1");
      const threshold: Threshold = {
        count: Number(count),
        windowMs: duration("threshold.window", t.window),
        groupBy: groupBy("threshold.groupBy", t.groupBy),
      };
      rule.threshold = threshold;
    }
  }
  if (raw.suppress !== undefined && raw.suppression !== undefined)
    fail("suppression", "give suppress: or suppression:, not both");
  if (raw.suppress !== undefined) {
    rule.suppress = { windowMs: duration("suppress", raw.suppress), groupBy: rule.threshold?.groupBy ?? [] };
  } else if (raw.suppression !== undefined) {
    const s = raw.suppression;
    if (!isObject(s)) fail("suppression", "must be a map with window and groupBy");
    else {
      for (const k of Object.keys(s))
        if (!["window", "groupBy"].includes(k)) fail(`suppression.${k}`, "unknown key (known: window, groupBy)");
      const suppress: Suppression = {
        windowMs: duration("suppression.window", s.window),
        groupBy: groupBy("suppression.groupBy", s.groupBy),
      };
      rule.suppress = suppress;
    }
  }
  return rule;
}
