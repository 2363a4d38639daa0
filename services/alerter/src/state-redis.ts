// The alerter's shared state in Redis, so that every replica counts into the same windows and no
// replica raises an alert another one already raised:
//   threshold:<rule>:<group>        sorted set of event identities scored by eventTime (sliding window)
//   suppress:<rule>:<group>         SET NX PX: the identity of the event that raised the window's alert
//   alerted:<rule>:<identity>       SET NX PX: the record (`partition:offset`) evaluating this match,
//                                   then `done:<partition:offset>` once its alert is durable in the sinks
// Every key starts with the configured prefix. Threshold members are event identities, so a
// re-delivered event is not counted twice; a suppression claim that holds this event's own identity
// is this event's (the alerter died after claiming), so the alert is raised again, not lost.
import type { WindowStore } from "@trailstream/rules";
import { createClient } from "redis";

/** The part of a node-redis client this module uses, so tests can hand in a fake. */
export interface StateClient {
  sendCommand(args: string[]): Promise<unknown>;
  multi(): {
    addCommand(args: string[]): unknown;
    exec(): Promise<unknown[]>;
    execAsPipeline(): Promise<unknown[]>;
  };
}

/** What an `alerted:` claim found: first time, this same record again, finished before, or a copy. */
export type ClaimVerdict = "new" | "again" | "done" | "copy";

export interface MatchClaim {
  ruleId: string;
  identity: string;
  /** `<partition>:<offset>` of the record. */
  owner: string;
}

const asText = (reply: unknown): string | null => {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === "string") return reply;
  if (Buffer.isBuffer(reply)) return reply.toString("utf8");
  if (reply instanceof Error) throw reply;
  return String(reply);
};

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
    };
  }

  /** Adds `member` at nowMs to the key's window and returns how many members fall in (nowMs - windowMs, nowMs]. */
  async increment(key: string, windowMs: number, nowMs: number, member: string): Promise<number> {
    const k = this.#prefix + key;
    const since = nowMs - windowMs;
    const tx = this.#client.multi();
    tx.addCommand(["ZREMRANGEBYSCORE", k, "-inf", String(since)]);
    tx.addCommand(["ZADD", k, String(nowMs), member]);
    tx.addCommand(["ZCOUNT", k, `(${since}`, String(nowMs)]);
    // Windows follow eventTime; the key lives in wall-clock time, a minute beyond one window.
    tx.addCommand(["PEXPIRE", k, String(Math.ceil(windowMs) + 60_000)]);
    const replies = await tx.exec();
    const count = Number(asText(replies[2]));
    if (!Number.isInteger(count)) throw new Error(`Redis answered ${String(replies[2])} to ZCOUNT ${key}`);
    return count;
  }

  /** True when this owner holds the key for ttlMs: it claimed it now, or had claimed it before. */
  async claimOnce(key: string, ttlMs: number, owner: string): Promise<boolean> {
    const reply = await this.#client.sendCommand([
      "SET",
      this.#prefix + key,
      owner,
      "NX",
      "PX",
      String(Math.max(1, Math.round(ttlMs))),
      "GET",
    ]);
    const stored = asText(reply);
    return stored === null || stored === owner;
  }

  #alertedKey(c: MatchClaim): string {
    return `${this.#prefix}alerted:${c.ruleId}:${c.identity}`;
  }

  /** One round trip: `SET alerted:<rule>:<identity> <owner> NX PX <ttl> GET` for each match. */
  async claimMatches(claims: readonly MatchClaim[]): Promise<ClaimVerdict[]> {
    if (claims.length === 0) return [];
    const pipeline = this.#client.multi();
    const ttl = String(this.#claimTtlMs);
    for (const c of claims) pipeline.addCommand(["SET", this.#alertedKey(c), c.owner, "NX", "PX", ttl, "GET"]);
    const replies = await pipeline.execAsPipeline();
    if (replies.length !== claims.length)
      throw new Error(`Redis answered ${replies.length} of ${claims.length} claims`);
    return claims.map((c, i) => claimVerdict(asText(replies[i]), c.owner));
  }

  /** Marks matches as finished (their alerts are durable), keeping each claim's expiry. */
  async markDone(claims: readonly MatchClaim[]): Promise<void> {
    if (claims.length === 0) return;
    const pipeline = this.#client.multi();
    for (const c of claims) pipeline.addCommand(["SET", this.#alertedKey(c), `done:${c.owner}`, "XX", "KEEPTTL"]);
    const replies = await pipeline.execAsPipeline();
    for (const reply of replies) if (reply instanceof Error) throw reply;
  }
}

export type RedisClient = ReturnType<typeof createClient>;

/**
 * A client that fails commands at once while disconnected (a failed batch is not committed and
 * comes again) and reconnects by itself with a capped, doubling backoff.
 */
export function createRedisClient(url: string, onError: (error: Error) => void): RedisClient {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5_000,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 16), 5_000),
    },
  });
  client.on("error", onError);
  return client;
}
