// Where correlation state lives: per correlation and group, a log of matches scored by event time,
// and the alerts raised. The alerter keeps it in Redis (shared by replicas, kept across restarts);
// `scan` and the tests in memory. Every operation touches one key, so a Redis Cluster serves it.
import type { Entry } from "./window.ts";

export interface CorrelationStore {
  /**
   * Adds `member` at time t to the log under `key` (adding it again changes nothing), forgets members
   * older than forgetBeforeMs, and returns the members within [fromMs, toMs], sorted by time.
   * ttlMs bounds how long an idle log is kept.
   */
  record(
    key: string,
    member: string,
    t: number,
    range: { fromMs: number; toMs: number; forgetBeforeMs: number; ttlMs: number },
  ): Promise<Entry[]>;
  /**
   * Claims the alert of a window ending at t, unless another owner holds one ending within
   * (t - spanMs, t + spanMs): one alert per group and timespan. True when claimed now, or when this
   * owner (the event's identity) had claimed it before: its alert is raised again after a crash.
   */
  claimAlert(key: string, t: number, spanMs: number, owner: string, ttlMs: number): Promise<boolean>;
}

/** The store in process memory, for one process: `scan`, tests. */
export class MemoryCorrelationStore implements CorrelationStore {
  readonly #logs = new Map<string, { entries: Entry[]; members: Set<string> }>();
  readonly #alerts = new Map<string, { t: number; owner: string }[]>();

  async record(
    key: string,
    member: string,
    t: number,
    range: { fromMs: number; toMs: number; forgetBeforeMs: number },
  ): Promise<Entry[]> {
    let log = this.#logs.get(key);
    if (!log) {
      log = { entries: [], members: new Set() };
      this.#logs.set(key, log);
    }
    if (!log.members.has(member)) {
      log.members.add(member);
      const at = upperBound(log.entries, t);
      log.entries.splice(at, 0, { t, member });
    }
    let drop = 0;
    while (drop < log.entries.length && (log.entries[drop]?.t ?? 0) < range.forgetBeforeMs) {
      log.members.delete(log.entries[drop]?.member ?? "");
      drop++;
    }
    if (drop > 0) log.entries.splice(0, drop);
    return log.entries.slice(lowerBound(log.entries, range.fromMs), upperBound(log.entries, range.toMs));
  }

  async claimAlert(key: string, t: number, spanMs: number, owner: string, _ttlMs?: number): Promise<boolean> {
    const held = this.#alerts.get(key) ?? [];
    const near = held.filter((a) => a.t > t - spanMs && a.t < t + spanMs);
    if (near.some((a) => a.owner === owner)) return true;
    if (near.length > 0) return false;
    held.push({ t, owner });
    this.#alerts.set(key, held);
    return true;
  }

  /** How many matches are kept, over all logs (for tests and memory checks). */
  get size(): number {
    let n = 0;
    for (const log of this.#logs.values()) n += log.entries.length;
    return n;
  }
}

function lowerBound(entries: readonly Entry[], t: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((entries[mid]?.t ?? 0) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(entries: readonly Entry[], t: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((entries[mid]?.t ?? 0) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
