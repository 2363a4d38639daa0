// The shapes every rule source compiles to. A Rule is plain data plus one closure, so the alerter,
// the CLI and the benchmarks treat CIS, Sigma and custom rules alike.

export type Severity = "info" | "low" | "medium" | "high" | "critical";

export const SEVERITIES: readonly Severity[] = ["info", "low", "medium", "high", "critical"];

export type RuleSource = "cis" | "sigma" | "custom";

/**
 * Values (lower-cased) a record must hold in a field for the rule to match, derived statically from
 * the rule's pattern or detection. A field absent here is unconstrained. RuleSet indexes on these.
 */
export type IndexKeys = Readonly<Record<string, readonly string[]>>;

export interface Threshold {
  count: number;
  windowMs: number;
  groupBy: string[];
}

export interface Suppression {
  windowMs: number;
  groupBy: string[];
}

export interface Rule {
  id: string;
  title: string;
  severity: Severity;
  source: RuleSource;
  description?: string;
  author?: string;
  references?: string[];
  labels?: Record<string, string>;
  runbook?: string;
  threshold?: Threshold;
  suppress?: Suppression;
  /** The CloudWatch Logs filter pattern, for pattern rules (shown verbatim to users). */
  pattern?: string;
  /**
   * What the matcher was compiled from, as JSON text, for Sigma rules (their `detection`): the
   * matcher is a closure, so this is how two loads of a catalog compare (scan's parse worker checks
   * it loaded the rules the main thread did). Pattern rules have `pattern`.
   */
  definition?: string;
  /** Sigma tags (attack.*, cve.*), for Sigma rules. */
  tags?: string[];
  /** Sigma rule status (stable, test, experimental...). */
  status?: string;
  /** The Security Hub control id (CloudWatch.1) and CIS section, for CIS rules. */
  securityHubControl?: string;
  cisSection?: string;
  /** Where the rule was loaded from, when it came from a file. */
  file?: string;
  /** The Sigma `name` a correlation rule may refer to it by. */
  name?: string;
  /**
   * Defined beside a correlation in one Sigma file, only to feed it: it matches (so the correlation
   * sees it) but raises no alert of its own, unless the correlation says `generate: true`.
   */
  silent?: true;
  /** Alerts carry the principal (userIdentity.arn) as a label and group by it; else by account only. */
  principalLabel?: boolean;
  /** Static index keys; RuleSet falls back to evaluating the rule on every record without them. */
  indexKeys?: IndexKeys;
  matches(record: unknown): boolean;
}
