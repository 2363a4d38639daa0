// The alerts a scan would raise: the same rules the alerter runs, with thresholds, suppression and
// correlations decided in memory on the events' own clock (eventTime), so a scan of old files says
// what the live pipeline would have said when those events happened.
import {
  alertIdentity,
  type CloudTrailRecord,
  IdentityTable,
  KEY_WORDS,
  packTaggedIdentity,
} from "@trailstream/cloudtrail";
import {
  CorrelationEngine,
  type CorrelationRule,
  decideAlert,
  describeCorrelation,
  MemoryCorrelationStore,
  MemoryWindowStore,
  type Rule,
  type RuleSet,
  type Severity,
} from "@trailstream/rules";

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
  /** Correlation rules: what they correlate ("event_count over ... within 5m: gte 10"). */
  correlation?: string;
  /** Correlation rules: the groups that raised an alert (JSON of the group-by values). */
  groups?: string[];
}

const EXAMPLES = 3;
/** Past this many (rule, event) claims the oldest is forgotten: memory stays bounded on any input. */
const MAX_CLAIMS = 1_000_000;

/**
 * The top-level fields of a record that `evaluateMatched` reads, for these rules: eventTime (the
 * clock), the fields of `alertIdentity`, and the first step of every path thresholds, suppression
 * and correlations group by or count (their values are read by `fieldValues`, which starts at the
 * record's own key). Keep it beside `evaluateMatched`: a field read there and missing here would
 * make a scan with the parse worker differ from one without (scan-parallel.test.ts compares them).
 */
export function alertFields(rules: readonly Rule[], correlations: readonly CorrelationRule[] = []): string[] {
  const paths = ["eventTime", "recipientAccountId", "eventID", "addendum"];
  for (const rule of rules) paths.push(...(rule.threshold?.groupBy ?? []), ...(rule.suppress?.groupBy ?? []));
  for (const c of correlations) {
    paths.push(...c.groupBy, ...(c.field ?? []));
    for (const byRule of Object.values(c.aliases)) paths.push(...Object.values(byRule));
  }
  return [...new Set(paths.map((path) => path.split(".")[0] ?? path))];
}

export class AlertTally {
  readonly #rules: RuleSet;
  readonly #byRule = new Map<string, RuleAlerts>();
  #clock = 0;
  readonly #store = new MemoryWindowStore({ now: () => this.#clock });
  readonly #correlations: CorrelationEngine | undefined;
  /**
   * (rule, alert identity) pairs already matched: a correction does not alert again for its event.
   * Packed off the JS heap (the rule's number as the identity's tag), oldest forgotten past MAX_CLAIMS:
   * as strings in a Set, the 1 GiB bench's ~200,000 claims held ~28 MB of the heap, 140 bytes each,
   * for the collector to walk, beside the scan's 300 MB bound; packed, 36 bytes each outside it.
   */
  readonly #claimed = new IdentityTable(MAX_CLAIMS);
  readonly #claimKey = new Uint32Array(KEY_WORDS);
  /** Numbers for the rule ids claims were made for, in the order first seen. */
  readonly #ruleNumbers = new Map<string, number>();

  /**
   * Correlations keep every match they refer to for the whole scan (no lateness bound): files are
   * read in path order, not time order, and the verdict must not depend on it.
   */
  constructor(rules: RuleSet, correlations: readonly CorrelationRule[] = []) {
    this.#rules = rules;
    if (correlations.length > 0) {
      this.#correlations = new CorrelationEngine(correlations, rules.rules, {
        store: new MemoryCorrelationStore(),
        latenessMs: Number.POSITIVE_INFINITY,
      });
    }
  }

  /** Correlations that could not be resolved, with the reason. */
  get correlationFailures() {
    return this.#correlations?.failures ?? [];
  }

  async evaluate(record: CloudTrailRecord, identity: string): Promise<void> {
    const matched = this.#rules.match(record);
    if (matched.length > 0) await this.evaluateMatched(record, identity, matched);
  }

  /**
   * `evaluate` for an event whose matches were found elsewhere (the parse worker, rule-marks.ts),
   * with the rules of this tally's RuleSet. `record` needs only the fields `alertFields` names:
   * the worker sends those of a matching record, not the whole record.
   */
  async evaluateMatched(record: CloudTrailRecord, identity: string, matched: readonly Rule[]): Promise<void> {
    const time = typeof record.eventTime === "string" ? Date.parse(record.eventTime) : Number.NaN;
    if (Number.isFinite(time)) this.#clock = Math.max(this.#clock, time);
    if (this.#correlations && Number.isFinite(time)) {
      const raised = await this.#correlations.observe({ record, identity, timeMs: time, matched });
      for (const a of raised) {
        const entry = this.#entry(a.rule.id, a.rule, describeCorrelation(a.rule));
        entry.matches++;
        entry.alerts++;
        const at = typeof record.eventTime === "string" ? record.eventTime : null;
        if (at !== null && (entry.firstEventTime === null || at < entry.firstEventTime)) entry.firstEventTime = at;
        if (entry.examples.length < EXAMPLES) entry.examples.push(identity);
        entry.groups = [...new Set([...(entry.groups ?? []), a.group])].sort();
      }
    }
    for (const rule of matched) {
      if (rule.silent) continue;
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
      let ruleNumber = this.#ruleNumbers.get(rule.id);
      if (ruleNumber === undefined) {
        ruleNumber = this.#ruleNumbers.size;
        this.#ruleNumbers.set(rule.id, ruleNumber);
      }
      packTaggedIdentity(alertIdentity(record) ?? identity, ruleNumber, this.#claimKey);
      if (this.#claimed.offer(this.#claimKey, 0) !== -1) continue;
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

  #entry(id: string, rule: { title: string; severity: Severity; author?: string }, correlation: string): RuleAlerts {
    let entry = this.#byRule.get(id);
    if (!entry) {
      entry = {
        ruleId: id,
        title: rule.title,
        severity: rule.severity,
        source: "sigma",
        ...(rule.author ? { author: rule.author } : {}),
        matches: 0,
        alerts: 0,
        firstEventTime: null,
        examples: [],
        correlation,
      };
      this.#byRule.set(id, entry);
    }
    return entry;
  }

  report(): RuleAlerts[] {
    const order: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
    return [...this.#byRule.values()].sort(
      (a, b) => order[a.severity] - order[b.severity] || b.alerts - a.alerts || a.ruleId.localeCompare(b.ruleId),
    );
  }
}

export interface RuleErrorReport {
  ruleId: string;
  /** Events the rule threw on: counted as no match, as the alerter counts them. */
  events: number;
  /** The first error's message. */
  reason: string;
}

/** Rules that threw on an event: the alerter counts them (`rule_errors_total`); a scan reports them. */
export class RuleErrorTally {
  readonly #byRule = new Map<string, RuleErrorReport>();

  readonly add = (rule: { id: string }, error: unknown): void => {
    const entry = this.#byRule.get(rule.id);
    if (entry) entry.events++;
    else
      this.#byRule.set(rule.id, {
        ruleId: rule.id,
        events: 1,
        reason: error instanceof Error ? error.message : String(error),
      });
  };

  report(): RuleErrorReport[] {
    return [...this.#byRule.values()].sort((a, b) => b.events - a.events || a.ruleId.localeCompare(b.ruleId));
  }
}
