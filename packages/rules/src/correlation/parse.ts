// A correlation document (a YAML map with a `correlation` section) to a CorrelationRule, checked as
// the specification and its JSON schema require; every problem is a SigmaRuleError naming the key.
import { parseDuration } from "../duration.ts";
import { SigmaRuleError } from "../sigma/errors.ts";
import { isObject } from "../sigma/fields.ts";
import { LEVEL_PROBLEM, severityOfLevel } from "../sigma/level.ts";
import type { Severity } from "../types.ts";
import {
  CONDITION_OPERATORS,
  CORRELATION_TYPES,
  type ConditionOperator,
  type CorrelationCondition,
  type CorrelationRule,
  type CorrelationType,
} from "./types.ts";

/**
 * The specification's timespan: a whole number and one lower-case letter (s, m, h, d), a narrower
 * form of trailstream's one duration grammar, which reads it.
 */
export function parseTimespan(value: unknown): number | undefined {
  if (typeof value !== "string" || !/^\d+[smhd]$/.test(value.trim())) return undefined;
  const ms = parseDuration(value.trim());
  return ms !== undefined && Number.isSafeInteger(ms) ? ms : undefined;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

export function compileCorrelation(doc: Record<string, unknown>, file?: string): CorrelationRule {
  const fail = (problem: string): never => {
    const who =
      typeof doc.id === "string" ? doc.id : typeof doc.name === "string" ? doc.name : String(doc.title ?? "?");
    throw new SigmaRuleError(`correlation ${who}: ${problem}`, file);
  };
  const str = (key: string): string | undefined => {
    const v = doc[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") fail(`"${key}" must be a string`);
    return v as string;
  };
  const strList = (v: unknown, key: string): string[] | undefined => {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) fail(`"${key}" must be a list of strings`);
    return v as string[];
  };

  const title = str("title");
  if (!title) fail('"title" is required');
  const name = str("name");
  // The specification makes id optional; an alert and its Redis keys need one, so the name stands in.
  const id = str("id") ?? name;
  if (!id) fail('"id" (or "name") is required: alerts carry the rule id');
  if (!ID.test(id as string)) fail(`id "${id}" may hold only letters, digits and . _ : -`);
  if (doc.detection !== undefined) fail('a document holds either "detection" or "correlation", not both');

  const c = doc.correlation;
  if (!isObject(c)) return fail('"correlation" must be a map');
  const type = c.type;
  if (typeof type !== "string" || !CORRELATION_TYPES.includes(type as CorrelationType))
    fail(
      `correlation.type ${JSON.stringify(type)} is not one of ${CORRELATION_TYPES.join(", ")}` +
        (typeof type === "string" && type.startsWith("value_") ? " (the metric types are not supported)" : ""),
    );
  const t = type as CorrelationType;

  const rules = strList(c.rules, "correlation.rules");
  if (!rules || rules.length === 0) fail("correlation.rules must name at least one rule");
  if (new Set(rules).size !== rules?.length) fail("correlation.rules names a rule twice");

  const groupBy = strList(c["group-by"], "correlation.group-by") ?? [];
  if (new Set(groupBy).size !== groupBy.length) fail("correlation.group-by names a field twice");

  const timespanMs = parseTimespan(c.timespan);
  if (timespanMs === undefined)
    fail(`correlation.timespan ${JSON.stringify(c.timespan)} must be a number and s, m, h or d (for example 10m)`);

  let field: string[] | undefined;
  const condition: CorrelationCondition = {};
  if (c.condition !== undefined && c.condition !== null) {
    if (!isObject(c.condition)) fail("correlation.condition must be a map such as {gte: 10}");
    for (const [key, value] of Object.entries(c.condition as Record<string, unknown>)) {
      if (key === "field") {
        if (typeof value === "string") field = [value];
        else if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) field = value;
        else fail("correlation.condition.field must be a field name or a list of them");
        continue;
      }
      if (!CONDITION_OPERATORS.includes(key as ConditionOperator))
        fail(`correlation.condition.${key} is not one of ${CONDITION_OPERATORS.join(", ")}, field`);
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
        fail(`correlation.condition.${key} must be a whole number`);
      condition[key as ConditionOperator] = value as number;
    }
  }
  const bounds = Object.keys(condition).length;
  if ((t === "event_count" || t === "value_count") && bounds === 0)
    fail(`a ${t} correlation needs a condition such as {gte: 10}`);
  if (t === "value_count" && !field) fail("a value_count correlation needs condition.field");
  if (t !== "value_count" && field) fail(`condition.field belongs to value_count, not ${t}`);
  // temporal: the condition counts distinct rules that matched; without one, every rule must.
  if ((t === "temporal" || t === "temporal_ordered") && bounds === 0) condition.gte = rules?.length ?? 0;

  const aliases: Record<string, Record<string, string>> = {};
  if (c.aliases !== undefined && c.aliases !== null) {
    if (!isObject(c.aliases)) fail("correlation.aliases must be a map of alias to {rule: field}");
    for (const [alias, map] of Object.entries(c.aliases as Record<string, unknown>)) {
      if (!isObject(map) || !Object.values(map).every((v) => typeof v === "string"))
        fail(`correlation.aliases.${alias} must map rule names to field names`);
      for (const ruleRef of Object.keys(map as Record<string, string>))
        if (!rules?.includes(ruleRef)) fail(`correlation.aliases.${alias} names "${ruleRef}", which is not in rules`);
      aliases[alias] = { ...(map as Record<string, string>) };
    }
  }

  const levelText = str("level")?.toLowerCase();
  const severity = severityOfLevel(levelText);
  if (!severity) fail(`level "${levelText}" ${LEVEL_PROBLEM}`);
  const generate = c.generate ?? doc.generate ?? false;
  if (typeof generate !== "boolean") fail('"generate" must be true or false');

  const rule: CorrelationRule = {
    id: id as string,
    title: title as string,
    severity: severity as Severity,
    type: t,
    rules: rules as string[],
    groupBy,
    timespanMs: timespanMs as number,
    condition,
    aliases,
    generate: generate as boolean,
  };
  if (name !== undefined) rule.name = name;
  if (field) rule.field = field;
  const description = str("description");
  if (description !== undefined) rule.description = description.trim();
  const author = str("author");
  if (author !== undefined) rule.author = author;
  const references = strList(doc.references, "references");
  if (references) rule.references = references;
  const tags = strList(doc.tags, "tags");
  if (tags) rule.tags = tags;
  const status = str("status");
  if (status !== undefined) rule.status = status;
  if (file !== undefined) rule.file = file;
  return rule;
}
