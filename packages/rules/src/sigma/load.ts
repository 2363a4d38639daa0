// Sigma rule files: YAML with metadata and a detection. Only CloudTrail rules make sense here, so a
// rule for another log source is refused with the reason rather than silently never matching.
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseAllDocuments } from "yaml";
import { compileCorrelation } from "../correlation/parse.ts";
import type { CorrelationRule } from "../correlation/types.ts";
import { toIndexKeys } from "../index-keys.ts";
import type { Rule } from "../types.ts";
import { compileDetection } from "./detection.ts";
import { SigmaRuleError } from "./errors.ts";
import { isObject } from "./fields.ts";
import { LEVEL_PROBLEM, severityOfLevel } from "./level.ts";

export function compileSigmaRule(yamlText: string, file?: string): Rule {
  const docs = parseAllDocuments(yamlText);
  const list = Array.isArray(docs) ? docs : [docs];
  if (list.length !== 1) throw new SigmaRuleError("rule collections (several YAML documents) are not supported", file);
  return compileSigmaDocument(documentObject(list[0], file), file);
}

/** One parsed YAML document as a map, or a SigmaRuleError naming the file. */
export function documentObject(doc: ReturnType<typeof parseAllDocuments>[number] | undefined, file?: string) {
  if (!doc || !("errors" in doc) || doc.errors.length > 0)
    throw new SigmaRuleError(`YAML: ${doc && "errors" in doc ? doc.errors[0]?.message : "empty file"}`, file);
  const y: unknown = doc.toJS();
  if (!isObject(y)) throw new SigmaRuleError("a Sigma rule must be a YAML map", file);
  return y;
}

/** A detection rule from its parsed YAML map. */
export function compileSigmaDocument(y: Record<string, unknown>, file?: string): Rule {
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
  const severity = severityOfLevel(levelText);
  if (!severity) throw new SigmaRuleError(`level "${levelText}" ${LEVEL_PROBLEM}`, file);

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
  if (compiled.definition !== undefined) rule.definition = compiled.definition;
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
  const name = str("name");
  if (name !== undefined) rule.name = name;
  if (file !== undefined) rule.file = file;
  return rule;
}

// A file holding one rule or a collection (several YAML documents): detection rules and correlation
// rules together, as in the correlation specification's examples. Rules of the file that a
// correlation refers to exist only to feed it and raise no alerts of their own, unless that
// correlation says `generate: true`; the same holds for a correlation another one refers to.
export interface SigmaFile {
  rules: Rule[];
  correlations: CorrelationRule[];
}

export function compileSigmaFile(yamlText: string, file?: string): SigmaFile {
  const docs = parseAllDocuments(yamlText);
  const list = Array.isArray(docs) ? docs : [docs];
  const rules: Rule[] = [];
  const correlations: CorrelationRule[] = [];
  list.forEach((doc, i) => {
    const y = documentObject(doc, file);
    if (typeof y.action === "string")
      throw new SigmaRuleError(
        `document ${i + 1}: Sigma 1 collection actions ("action: ${y.action}") are not supported`,
        file,
      );
    if (y.correlation !== undefined) correlations.push(compileCorrelation(y, file));
    else rules.push(compileSigmaDocument(y, file));
  });
  if (list.length > 1 && correlations.length === 0)
    throw new SigmaRuleError("several YAML documents without a correlation: put each rule in its own file", file);
  const named = (ref: string) => (x: { id: string; name?: string }) => x.id === ref || x.name === ref;
  for (const c of correlations) {
    if (c.generate) continue;
    for (const ref of c.rules) {
      for (const r of rules.filter(named(ref))) r.silent = true;
      for (const inner of correlations.filter(named(ref))) if (inner !== c) inner.silent = true;
    }
  }
  return { rules, correlations };
}

export interface LoadFailure {
  file: string;
  reason: string;
}

/** Every `.yml` / `.yaml` file in `dir` (not recursive), in name order; a bad file never stops the rest. */
export async function loadSigmaRules(
  dir: string,
): Promise<{ rules: Rule[]; correlations: CorrelationRule[]; failures: LoadFailure[] }> {
  const names = (await readdir(dir)).filter((n) => /\.ya?ml$/i.test(n)).sort();
  const rules: Rule[] = [];
  const correlations: CorrelationRule[] = [];
  const failures: LoadFailure[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      const compiled = compileSigmaFile(await readFile(file, "utf8"), file);
      rules.push(...compiled.rules);
      correlations.push(...compiled.correlations);
    } catch (error) {
      const reason =
        error instanceof SigmaRuleError && error.file
          ? error.message.slice(error.file.length + 2)
          : (error as Error).message;
      failures.push({ file: basename(file), reason });
    }
  }
  return { rules, correlations, failures };
}
