// Sigma rule files: YAML with metadata and a detection. Only CloudTrail rules make sense here, so a
// rule for another log source is refused with the reason rather than silently never matching.
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseAllDocuments } from "yaml";
import { toIndexKeys } from "../index-keys.ts";
import type { Rule, Severity } from "../types.ts";
import { compileDetection } from "./detection.ts";
import { SigmaRuleError } from "./errors.ts";
import { isObject } from "./fields.ts";

const LEVELS: Record<string, Severity> = {
  informational: "info",
  info: "info",
  low: "low",
  medium: "medium",
  high: "high",
  critical: "critical",
};

export function compileSigmaRule(yamlText: string, file?: string): Rule {
  const docs = parseAllDocuments(yamlText);
  const list = Array.isArray(docs) ? docs : [docs];
  if (list.length !== 1) throw new SigmaRuleError("rule collections (several YAML documents) are not supported", file);
  const doc = list[0];
  if (!doc || doc.errors.length > 0) throw new SigmaRuleError(`YAML: ${doc?.errors[0]?.message ?? "empty file"}`, file);
  const y: unknown = doc.toJS();
  if (!isObject(y)) throw new SigmaRuleError("a Sigma rule must be a YAML map", file);

  const str = (key: string): string | undefined => {
    const v = y[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw new SigmaRuleError(`"${key}" must be a string`, file);
    return v;
  };
  const strList = (key: string): string[] | undefined => {
    const v = y[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string"))
      throw new SigmaRuleError(`"${key}" must be a list of strings`, file);
    return v;
  };

  const id = str("id");
  const title = str("title");
  if (!id) throw new SigmaRuleError('"id" is required (alerts must carry the rule id)', file);
  if (!title) throw new SigmaRuleError('"title" is required', file);

  const logsource = y.logsource;
  if (isObject(logsource)) {
    const product = String(logsource.product ?? "").toLowerCase();
    const service = String(logsource.service ?? "").toLowerCase();
    if (product !== "aws" || service !== "cloudtrail") {
      throw new SigmaRuleError(
        `logsource is product "${product}", service "${service}": only aws/cloudtrail rules apply`,
        file,
      );
    }
  }

  const levelText = str("level")?.toLowerCase();
  const severity = levelText === undefined ? "medium" : LEVELS[levelText];
  if (!severity)
    throw new SigmaRuleError(`level "${levelText}" is not one of informational, low, medium, high, critical`, file);

  const compiled = compileDetection(y.detection, file);
  const test = compiled.test;
  const rule: Rule = {
    id,
    title,
    severity,
    source: "sigma",
    indexKeys: toIndexKeys(compiled.constraints),
    matches: test,
  };
  const description = str("description");
  if (description !== undefined) rule.description = description.trim();
  const author = str("author");
  if (author !== undefined) rule.author = author;
  const references = strList("references");
  if (references) rule.references = references;
  const tags = strList("tags");
  if (tags) rule.tags = tags;
  const status = str("status");
  if (status !== undefined) rule.status = status;
  if (file !== undefined) rule.file = file;
  return rule;
}

export interface LoadFailure {
  file: string;
  reason: string;
}

/** Every `.yml` / `.yaml` file in `dir` (not recursive), in name order; a bad file never stops the rest. */
export async function loadSigmaRules(dir: string): Promise<{ rules: Rule[]; failures: LoadFailure[] }> {
  const names = (await readdir(dir)).filter((n) => /\.ya?ml$/i.test(n)).sort();
  const rules: Rule[] = [];
  const failures: LoadFailure[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      rules.push(compileSigmaRule(await readFile(file, "utf8"), file));
    } catch (error) {
      const reason =
        error instanceof SigmaRuleError && error.file
          ? error.message.slice(error.file.length + 2)
          : (error as Error).message;
      failures.push({ file: basename(file), reason });
    }
  }
  return { rules, failures };
}
