// The same state as state-redis.ts in process memory, for unit tests and single-process runs: the
// same owner-aware claims, the same identity-keyed windows.
import type { WindowStore } from "@trailstream/rules";
import { type ClaimVerdict, claimVerdict, type MatchClaim } from "./state-redis.ts";

export interface AlertState {
  forEvent(identity: string): WindowStore;
  claimMatches(claims: readonly MatchClaim[]): Promise<ClaimVerdict[]>;
  markDone(claims: readonly MatchClaim[]): Promise<void>;
  /**
   * The event's place among the alerts counted under `key` (one rule, one minute of event time), in
   * order of first arrival; the same place when it comes again. Past `limit`, only a count is kept.
   */
  floodPosition(key: string, identity: string, limit: number, ttlMs: number): Promise<number>;
}

export class MemoryAlertState implements AlertState {
  readonly #windows = new Map<string, Map<string, number>>();
  readonly #claims = new Map<string, { value: string; until: number }>();
  readonly #floods = new Map<string, { first: Map<string, number>; over: number }>();
  readonly #now: () => number;
  readonly #claimTtlMs: number;

  constructor(options: { now?: () => number; claimTtlMs?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#claimTtlMs = options.claimTtlMs ?? 86_400_000;
  }

  #get(key: string): string | null {
    const c = this.#claims.get(key);
    if (!c || c.until <= this.#now()) return null;
    return c.value;
  }

  forEvent(identity: string): WindowStore {
    return {
      increment: async (key, windowMs, nowMs) => {
        const window = this.#windows.get(key) ?? new Map<string, number>();
        this.#windows.set(key, window);
        for (const [member, at] of window) if (at <= nowMs - windowMs) window.delete(member);
        window.set(identity, nowMs);
        let count = 0;
        for (const at of window.values()) if (at > nowMs - windowMs && at <= nowMs) count++;
        return count;
      },
      claimOnce: async (key, ttlMs) => {
        const stored = this.#get(key);
        if (stored === null) this.#claims.set(key, { value: identity, until: this.#now() + ttlMs });
        return stored === null || stored === identity;
      },
    };
  }

  async claimMatches(claims: readonly MatchClaim[]): Promise<ClaimVerdict[]> {
    return claims.map((c) => {
      const key = `alerted:${c.ruleId}:${c.identity}`;
      const stored = this.#get(key);
      if (stored === null) this.#claims.set(key, { value: c.owner, until: this.#now() + this.#claimTtlMs });
      return claimVerdict(stored, c.owner);
    });
  }

  async floodPosition(key: string, identity: string, limit: number): Promise<number> {
    const flood = this.#floods.get(key) ?? { first: new Map<string, number>(), over: 0 };
    this.#floods.set(key, flood);
    const known = flood.first.get(identity);
    if (known !== undefined) return known;
    if (flood.first.size < limit) {
      flood.first.set(identity, flood.first.size + 1);
      return flood.first.size;
    }
    return limit + ++flood.over;
  }

  async markDone(claims: readonly MatchClaim[]): Promise<void> {
    for (const c of claims) {
      const existing = this.#claims.get(`alerted:${c.ruleId}:${c.identity}`);
      if (existing) existing.value = `done:${c.owner}`;
    }
  }
}
