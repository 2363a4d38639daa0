// Sigma's `level` as trailstream's severity, for detection rules and correlation rules alike.
import type { Severity } from "../types.ts";

const LEVELS: Record<string, Severity> = {
  informational: "info",
  info: "info",
  low: "low",
  medium: "medium",
  high: "high",
  critical: "critical",
};

export const LEVEL_PROBLEM = "is not one of informational, low, medium, high, critical";

/** A rule's `level` (any case; absent: medium) as a severity, or undefined when it names none. */
export function severityOfLevel(levelText: string | undefined): Severity | undefined {
  return levelText === undefined ? "medium" : LEVELS[levelText.toLowerCase()];
}
