// Thresholds and suppression as pure decisions over a small state store. The alerter backs the store
// with Redis so that every replica counts into the same windows; tests and `scan` use the in-memory
// store below. Keys are namespaced by rule id and group, so a store can be shared by all rules.
import { fieldValues } from "./sigma/fields.ts";
import type { Rule } from "./types.ts";

export interface WindowStore {
  /** Records one occurrence at nowMs and returns how many fell within the last windowMs (this one included). */
  increment(key: string, windowMs: number, nowMs: number): Promise<number>;
  /** True for the first caller until ttlMs has passed; false while an earlier claim holds. */
  claimOnce(key: string, ttlMs: number, nowMs?: number): Promise<boolean>;
  /**
   * Optional: increment, and when the count reaches `threshold` claim, as one atomic step. Without it,
   * two replicas (or two events of one batch) can both cross the threshold and the claim goes to
   * whichever arrives first, so the alert may report 6 or 7 instead of the crossing's 5. Both keys
   * share a `{…}` part, so a Redis Cluster keeps them on one node.
   */
  incrementAndClaim?(
    windowKey: string,
    windowMs: number,
    nowMs: number,
    threshold: number,
    claimKey: string,
    claimTtlMs: number,
  ): Promise<{ count: number; claimed: boolean }>;
}

/** A sliding-window store in process memory: exact counts, for one process only. */
export class MemoryWindowStore implements WindowStore {
  readonly #events = new Map<string, number[]>();
  readonly #claims = new Map<string, number>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async increment(key: string, windowMs: number, nowMs: number): Promise<number> {
    const since = nowMs - windowMs;
    const kept = (this.#events.get(key) ?? []).filter((t) => t > since);
    kept.push(nowMs);
    this.#events.set(key, kept);
    return kept.length;
  }

  async claimOnce(key: string, ttlMs: number, nowMs: number = this.#now()): Promise<boolean> {
    const until = this.#claims.get(key);
    if (until !== undefined && until > nowMs) return false;
    this.#claims.set(key, nowMs + ttlMs);
    return true;
  }

  /** Forgets windows and claims that can no longer matter; call now and then in long runs. */
  sweep(nowMs: number, maxWindowMs: number): void {
    for (const [key, times] of this.#events)
      if ((times[times.length - 1] ?? 0) <= nowMs - maxWindowMs) this.#events.delete(key);
    for (const [key, until] of this.#claims) if (until <= nowMs) this.#claims.delete(key);
  }
}

/** The group a record falls in: the JSON of its groupBy field values (absent fields count as null). */
export function groupKey(record: unknown, groupBy: readonly string[]): string {
  if (groupBy.length === 0) return "";
  return JSON.stringify(
    groupBy.map((path) => {
      const values = fieldValues(record, path.split("."));
      return values.length === 0 ? null : values.length === 1 ? values[0] : values;
    }),
  );
}

export interface AlertDecision {
  fire: boolean;
  reason: "fire" | "below-threshold" | "suppressed";
  /** Occurrences in the threshold window (1 when the rule has no threshold). */
  count: number;
  group: string;
}

/**
 * Whether a match of `rule` on `record` at nowMs raises an alert. With a threshold, the group's count
 * within the window must reach threshold.count. Then suppression: one alert per group per window.
 * A threshold without an explicit suppression suppresses for its own window and groups, so a burst
 * that crosses the threshold raises one alert, not one per further event.
 */
export async function decideAlert(
  rule: Rule,
  record: unknown,
  store: WindowStore,
  nowMs: number,
): Promise<AlertDecision> {
  const t = rule.threshold;
  const group = groupKey(record, t?.groupBy ?? rule.suppress?.groupBy ?? []);
  if (t && store.incrementAndClaim) {
    const s = rule.suppress ?? { windowMs: t.windowMs, groupBy: t.groupBy };
    if (groupKey(record, s.groupBy) === group) {
      const slot = `{${rule.id}:${group}}`;
      const { count, claimed } = await store.incrementAndClaim(
        `threshold:${slot}`,
        t.windowMs,
        nowMs,
        t.count,
        `suppress:${slot}`,
        s.windowMs,
      );
      if (count < t.count) return { fire: false, reason: "below-threshold", count, group };
      return claimed
        ? { fire: true, reason: "fire", count, group }
        : { fire: false, reason: "suppressed", count, group };
    }
  }
  let count = 1;
  if (t) {
    count = await store.increment(`threshold:${rule.id}:${groupKey(record, t.groupBy)}`, t.windowMs, nowMs);
    if (count < t.count) return { fire: false, reason: "below-threshold", count, group };
  }
  const s = rule.suppress ?? (t ? { windowMs: t.windowMs, groupBy: t.groupBy } : undefined);
  if (s && !(await store.claimOnce(`suppress:${rule.id}:${groupKey(record, s.groupBy)}`, s.windowMs, nowMs))) {
    return { fire: false, reason: "suppressed", count, group };
  }
  return { fire: true, reason: "fire", count, group };
}
