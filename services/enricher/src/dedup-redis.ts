// Dedup claims in Redis: one batch per Kafka batch, laid out by claims.ts (hashes per hour and
// shard, a 16-byte digest as field, the owner as value). One single-key script call per hash, so
// on a Redis Cluster the buckets spread over the nodes and the batch is one pipeline per node.
import type { DedupClaim, DedupStore } from "@trailstream/cloudtrail";
import type { RedisStore } from "@trailstream/redis";
import { CLAIM, type ClaimLayout, planClaims, previousOwners } from "./claims.ts";

export interface RedisDedupOptions extends ClaimLayout {
  /** Its command timeout bounds a round trip (the batch is then retried, or passed). */
  redis: Pick<RedisStore, "batch">;
  now?: () => number;
  /** Told how long each round trip took, in seconds. */
  observe?: (seconds: number) => void;
}

export class RedisDedupStore implements DedupStore {
  readonly #o: RedisDedupOptions;

  constructor(options: RedisDedupOptions) {
    if (!(options.windowMs >= 1)) throw new RangeError("RedisDedupStore needs a windowMs of at least 1");
    if (!(Number.isInteger(options.shardsPerHour) && options.shardsPerHour >= 1)) {
      throw new RangeError("RedisDedupStore needs a whole shardsPerHour of at least 1");
    }
    this.#o = options;
  }

  async claim(claims: readonly DedupClaim[]): Promise<(string | null)[]> {
    if (claims.length === 0) return [];
    const { redis, observe } = this.#o;
    const plan = planClaims(this.#o, claims, (this.#o.now ?? Date.now)());
    const started = performance.now();
    // Claims are safe to send twice (the batch's own tokens come back as its own): see RedisStore.batch.
    const replies = await redis.batch(
      plan.commands.map(([name, ...args]) => [String(name), ...args] as const),
      { scripts: [CLAIM] },
    );
    observe?.((performance.now() - started) / 1_000);
    return previousOwners(plan, replies);
  }
}
