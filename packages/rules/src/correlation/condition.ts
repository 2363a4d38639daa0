import type { CorrelationCondition } from "./types.ts";

/** Whether a measured count meets every bound of the condition. */
export function meets(condition: CorrelationCondition, n: number): boolean {
  if (condition.gt !== undefined && !(n > condition.gt)) return false;
  if (condition.gte !== undefined && !(n >= condition.gte)) return false;
  if (condition.lt !== undefined && !(n < condition.lt)) return false;
  if (condition.lte !== undefined && !(n <= condition.lte)) return false;
  if (condition.eq !== undefined && n !== condition.eq) return false;
  if (condition.neq !== undefined && n === condition.neq) return false;
  return true;
}

/**
 * A condition with only lower bounds can only become true as events are added, so a window that
 * meets it stays met whatever order its events arrive in. Upper bounds (lt, lte, eq, neq) can be
 * broken by a late event; those windows are judged once, when the event ending them arrives.
 */
export function isMonotone(condition: CorrelationCondition): boolean {
  return (
    condition.lt === undefined &&
    condition.lte === undefined &&
    condition.eq === undefined &&
    condition.neq === undefined
  );
}

export function describeCondition(condition: CorrelationCondition): string {
  return Object.entries(condition)
    .map(([op, v]) => `${op} ${v}`)
    .join(" and ");
}
