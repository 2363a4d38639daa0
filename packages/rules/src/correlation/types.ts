// Sigma correlation rules (SigmaHQ's correlation specification 2.x): rules over the matches of other
// rules, counted per group within a timespan of event time.
import type { Severity } from "../types.ts";

export type CorrelationType = "event_count" | "value_count" | "temporal" | "temporal_ordered";

export const CORRELATION_TYPES: readonly CorrelationType[] = [
  "event_count",
  "value_count",
  "temporal",
  "temporal_ordered",
];

export type ConditionOperator = "gt" | "gte" | "lt" | "lte" | "eq" | "neq";

export const CONDITION_OPERATORS: readonly ConditionOperator[] = ["gt", "gte", "lt", "lte", "eq", "neq"];

/** Every bound must hold (the specification's "AND in the mapping"). */
export type CorrelationCondition = Partial<Record<ConditionOperator, number>>;

export interface CorrelationRule {
  id: string;
  /** The specification's per-collection `name`, by which other correlations may refer to this one. */
  name?: string;
  title: string;
  severity: Severity;
  type: CorrelationType;
  /** The referenced rules, by id or name, as written. */
  rules: string[];
  groupBy: string[];
  timespanMs: number;
  condition: CorrelationCondition;
  /** value_count: the field (several: their combination) whose distinct values are counted. */
  field?: string[];
  /** alias -> rule name or id -> the field that alias stands for in that rule's events. */
  aliases: Record<string, Record<string, string>>;
  /** The specification's `generate`: referenced rules of the same file also alert on their own. */
  generate: boolean;
  description?: string;
  author?: string;
  references?: string[];
  tags?: string[];
  status?: string;
  file?: string;
  /** Referenced by another correlation of its file (without `generate: true`): it feeds that one and raises no alert. */
  silent?: true;
}
