// The alerts a scan would raise: the same rules the alerter runs, with thresholds and suppression
// decided in memory on the events' own clock (eventTime), so a scan of old files says what the live
// pipeline would have said when those events happened.
import type { CloudTrailRecord } from "@trailstream/cloudtrail";
import { decideAlert, MemoryWindowStore, type RuleSet, type Severity } from "@trailstream/rules";

export interface RuleAlerts {
  ruleId: string;
  title: string;
  severity: Severity;
  source: string;
  /** Sigma rules: shown with every match, as their licence asks. */
  author?: string;
  matches: number;
  alerts: number;
  firstEventTime: string | null;
  /** The identities of the first few events that raised an alert. */
  examples: string[];
}

const EXAMPLES = 3;

export class AlertTally {
  readonly #rules: RuleSet;
  readonly #byRule = new Map<string, RuleAlerts>();
  #clock = 0;
  readonly #store = new MemoryWindowStore({ now: () => this.#clock });

  constructor(rules: RuleSet) {
    this.#rules = rules;
  }

  async evaluate(record: CloudTrailRecord, identity: string): Promise<void> {
    const matched = this.#rules.match(record);
    if (matched.length === 0) return;
    const time = typeof record.eventTime === "string" ? Date.parse(record.eventTime) : Number.NaN;
    if (Number.isFinite(time)) this.#clock = Math.max(this.#clock, time);
    for (const rule of matched) {
      let entry = this.#byRule.get(rule.id);
      if (!entry) {
        entry = {
          ruleId: rule.id,
          title: rule.title,
          severity: rule.severity,
          source: rule.source,
          ...(rule.author ? { author: rule.author } : {}),
          matches: 0,
          alerts: 0,
          firstEventTime: null,
          examples: [],
        };
        this.#byRule.set(rule.id, entry);
      }
      entry.matches++;
      const decision = await decideAlert(rule, record, this.#store, this.#clock);
      if (!decision.fire) continue;
      entry.alerts++;
      if (
        typeof record.eventTime === "string" &&
        (entry.firstEventTime === null || record.eventTime < entry.firstEventTime)
      ) {
        entry.firstEventTime = record.eventTime;
      }
      if (entry.examples.length < EXAMPLES) entry.examples.push(identity);
    }
  }

  report(): RuleAlerts[] {
    const order: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
    return [...this.#byRule.values()].sort(
      (a, b) => order[a.severity] - order[b.severity] || b.alerts - a.alerts || a.ruleId.localeCompare(b.ruleId),
    );
  }
}
