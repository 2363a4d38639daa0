// The alerter's shared state in Redis, so that every replica counts into the same windows and no
// replica raises an alert another one already raised:
//   threshold:<rule>:<group>        sorted set of event identities scored by eventTime (sliding window)
//   suppress:<rule>:<group>         SET NX PX: the identity of the event that raised the window's alert
//   flood:<rule>:<minute>           sorted set: the first ALERT_FLOOD_PER_MINUTE identities that fired,
//                                   scored by arrival, and a count of the rest
//   alerted:<rule>:<identity>       SET NX PX: the record (`partition:offset`) evaluating this match,
//                                   then `done:<partition:offset>` once its alert is durable in the sinks
// Every key starts with the configured prefix. Threshold members are event identities, so a
// re-delivered event is not counted twice; a suppression claim that holds this event's own identity
// is this event's (the alerter died after claiming), so the alert is raised again, not lost.
// A window's transaction touches one key, and every other command is single-key: on a Redis
// Cluster the state spreads over the nodes with no hash tag needed.
import { defineScript, type RedisStore, replyList, replyText } from "@trailstream/redis";
import type { WindowStore } from "@trailstream/rules";

// KEYS: the window, the claim (one slot). ARGV: since, now, member (also the claim's owner), the
// window's expiry, threshold, the claim's TTL. Returns {count, claimed}.
const INCREMENT_AND_CLAIM = defineScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
local count = redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if count < tonumber(ARGV[5]) then return {count, 0} end
local held = redis.call('GET', KEYS[2])
if not held then
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[6])
  return {count, 1}
end
if held == ARGV[3] then return {count, 1} end
return {count, 0}
`);

// KEYS: one rule's flood key for one minute of event time. ARGV: the event's identity, the key's
// expiry, the limit. Returns the event's place among the rule's alerts of that minute, in order of
// first arrival: the same for a re-delivered event, whatever the eventTimes' order. Only the first
// `limit` identities are kept; past them a counter (the member '~over', scored negative so it never
// counts among them) says how many more came.
const FLOOD_POSITION = defineScript(`
local limit = tonumber(ARGV[3])
local pos = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not pos then
  local n = redis.call('ZCOUNT', KEYS[1], 1, limit)
  if n < limit then
    pos = n + 1
    redis.call('ZADD', KEYS[1], pos, ARGV[1])
  else
    pos = limit - tonumber(redis.call('ZINCRBY', KEYS[1], -1, '~over'))
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return tonumber(pos)
`);

/** The part of the Redis client this module uses. */
export type StateClient = Pick<RedisStore, "command" | "batch" | "transaction" | "script">;

/** What an `alerted:` claim found: first time, this same record again, finished before, or a copy. */
export type ClaimVerdict = "new" | "again" | "done" | "copy";

export interface MatchClaim {
  ruleId: string;
  identity: string;
  /** `<partition>:<offset>` of the record. */
  owner: string;
}

/** What a claim's stored value means for the record claiming it. */
export function claimVerdict(stored: string | null, owner: string): ClaimVerdict {
  if (stored === null) return "new";
  if (stored === owner) return "again";
  if (stored.startsWith("done:")) return "done";
  return "copy";
}

export class RedisAlertState {
  readonly #client: StateClient;
  readonly #prefix: string;
  readonly #claimTtlMs: number;

  constructor(options: { client: StateClient; keyPrefix?: string; claimTtlMs: number }) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix ?? "";
    this.#claimTtlMs = options.claimTtlMs;
  }

  /** The WindowStore that decideAlert() uses for one event: its identity is its member and owner. */
  forEvent(identity: string): WindowStore {
    return {
      increment: (key, windowMs, nowMs) => this.increment(key, windowMs, nowMs, identity),
      claimOnce: (key, ttlMs) => this.claimOnce(key, ttlMs, identity),
      incrementAndClaim: (windowKey, windowMs, nowMs, threshold, claimKey, claimTtlMs) =>
        this.incrementAndClaim(windowKey, windowMs, nowMs, identity, threshold, claimKey, claimTtlMs),
    };
  }

  /** Adds `member` at nowMs to the key's window and returns how many members fall in (nowMs - windowMs, nowMs]. */
  async increment(key: string, windowMs: number, nowMs: number, member: string): Promise<number> {
    const k = this.#prefix + key;
    const since = nowMs - windowMs;
    const replies = await this.#client.transaction([
      ["ZREMRANGEBYSCORE", k, "-inf", String(since)],
      ["ZADD", k, String(nowMs), member],
      ["ZCOUNT", k, `(${since}`, String(nowMs)],
      // Windows follow eventTime; the key lives in wall-clock time, a minute beyond one window.
      ["PEXPIRE", k, String(Math.ceil(windowMs) + 60_000)],
    ]);
    const count = Number(replyText(replies[2]));
    if (!Number.isInteger(count)) throw new Error(`Redis answered ${String(replies[2])} to ZCOUNT ${key}`);
    return count;
  }

  /** increment() and, once the count reaches threshold, claimOnce() in one script: the crossing event claims. */
  async incrementAndClaim(
    windowKey: string,
    windowMs: number,
    nowMs: number,
    member: string,
    threshold: number,
    claimKey: string,
    claimTtlMs: number,
  ): Promise<{ count: number; claimed: boolean }> {
    const reply = await this.#client.script(
      INCREMENT_AND_CLAIM,
      [this.#prefix + windowKey, this.#prefix + claimKey],
      [
        String(nowMs - windowMs),
        String(nowMs),
        member,
        String(Math.ceil(windowMs) + 60_000),
        String(threshold),
        String(Math.max(1, Math.round(claimTtlMs))),
      ],
    );
    const [count, claimed] = replyList(reply).map(Number);
    if (!Number.isInteger(count)) throw new Error(`Redis answered ${JSON.stringify(reply)} to the threshold script`);
    return { count: count as number, claimed: claimed === 1 };
  }

  /** True when this owner holds the key for ttlMs: it claimed it now, or had claimed it before. */
  async claimOnce(key: string, ttlMs: number, owner: string): Promise<boolean> {
    const reply = await this.#client.command([
      "SET",
      this.#prefix + key,
      owner,
      "NX",
      "PX",
      String(Math.max(1, Math.round(ttlMs))),
      "GET",
    ]);
    const stored = replyText(reply);
    return stored === null || stored === owner;
  }

  /** The event's place among its rule's alerts in one minute of event time (FLOOD_POSITION above). */
  async floodPosition(key: string, identity: string, limit: number, ttlMs: number): Promise<number> {
    const reply = await this.#client.script(
      FLOOD_POSITION,
      [this.#prefix + key],
      [identity, String(Math.max(1, Math.round(ttlMs))), String(limit)],
    );
    const n = Number(replyText(reply));
    if (!Number.isInteger(n)) throw new Error(`Redis answered ${JSON.stringify(reply)} to the flood script`);
    return n;
  }

  #alertedKey(c: MatchClaim): string {
    return `${this.#prefix}alerted:${c.ruleId}:${c.identity}`;
  }

  /** One round trip: `SET alerted:<rule>:<identity> <owner> NX PX <ttl> GET` for each match. */
  async claimMatches(claims: readonly MatchClaim[]): Promise<ClaimVerdict[]> {
    if (claims.length === 0) return [];
    const ttl = String(this.#claimTtlMs);
    const replies = await this.#client.batch(
      claims.map((c) => ["SET", this.#alertedKey(c), c.owner, "NX", "PX", ttl, "GET"] as const),
    );
    return claims.map((c, i) => claimVerdict(replyText(replies[i]), c.owner));
  }

  /** Marks matches as finished (their alerts are durable), keeping each claim's expiry. */
  async markDone(claims: readonly MatchClaim[]): Promise<void> {
    if (claims.length === 0) return;
    await this.#client.batch(
      claims.map((c) => ["SET", this.#alertedKey(c), `done:${c.owner}`, "XX", "KEEPTTL"] as const),
    );
  }
}
