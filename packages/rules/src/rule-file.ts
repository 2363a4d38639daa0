// A rule file as users hand it over (`RULE_FILES`, `scan --rules`, `rules --custom`): trailstream's
// custom rule list, or a Sigma file (one rule, or a collection with correlation rules). A Sigma file
// is told apart by a document with a top-level `detection` or `correlation`.
import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";
import type { CorrelationRule } from "./correlation/types.ts";
import { compileCustomRules } from "./custom/load.ts";
import { isObject } from "./sigma/fields.ts";
import { compileSigmaFile } from "./sigma/load.ts";
import type { Rule } from "./types.ts";

export function isSigmaText(yamlText: string): boolean {
  return parseAllDocuments(yamlText).some((doc) => {
    if (!("contents" in doc) || !doc.contents) return false;
    const y: unknown = doc.errors.length > 0 ? undefined : doc.toJS();
    return isObject(y) && (y.detection !== undefined || y.correlation !== undefined);
  });
}

export function compileRuleFile(yamlText: string, file: string): { rules: Rule[]; correlations: CorrelationRule[] } {
  if (isSigmaText(yamlText)) return compileSigmaFile(yamlText, file);
  return { rules: compileCustomRules(yamlText, file), correlations: [] };
}

export async function loadRuleFile(file: string): Promise<{ rules: Rule[]; correlations: CorrelationRule[] }> {
  return compileRuleFile(await readFile(file, "utf8"), file);
}
