// Dedup claims in Redis: one pipelined round trip per batch, laid out by claims.ts (hashes per hour
// and shard, a 16-byte digest as field, the owner as value).
import type { DedupClaim, DedupStore } from "@trailstream/cloudtrail";
import { createClient } from "redis";
import { type ClaimLayout, planClaims, previousOwners, type RedisArgs } from "./claims.ts";

/** Sends commands as one pipeline and answers their replies in order (errors as Error values). */
export interface RedisPipeline {
  pipeline(commands: readonly RedisArgs[]): Promise<unknown[]>;
}

export interface RedisDedupOptions extends ClaimLayout {
  client: RedisPipeline;
  /** A round trip taking longer than this rejects (the batch is then retried, or passed). */
  timeoutMs: number;
  now?: () => number;
  /** Told how long each round trip took, in seconds. */
  observe?: (seconds: number) => void;
}

export class RedisTimeoutError extends Error {
  override readonly name = "RedisTimeoutError";
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
    const { client, timeoutMs, observe } = this.#o;
    const plan = planClaims(this.#o, claims, (this.#o.now ?? Date.now)());
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisTimeoutError(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const replies = await Promise.race([client.pipeline(plan.commands), timeout]);
      observe?.((performance.now() - started) / 1_000);
      return previousOwners(plan, replies);
    } finally {
      clearTimeout(timer);
    }
  }
}

export type RedisClient = ReturnType<typeof createClient>;

/** node-redis as a RedisPipeline. */
export function pipelineOf(client: RedisClient): RedisPipeline {
  return {
    async pipeline(commands) {
      const multi = client.multi();
      for (const c of commands) multi.addCommand(c);
      return (await multi.execAsPipeline()) as unknown[];
    },
  };
}

/**
 * A client that fails commands at once while disconnected (no offline queue: the enricher decides
 * what to do when Redis is down) and reconnects by itself with a capped, doubling backoff.
 */
export function createRedisClient(url: string, options: { retryMaxMs: number; onError: (error: Error) => void }) {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5_000,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 16), options.retryMaxMs),
    },
  });
  client.on("error", options.onError);
  return client;
}
