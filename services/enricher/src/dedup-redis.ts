// Dedup claims in Redis: one pipelined round trip per batch of
// `SET <prefix><identity> <partition>:<offset> NX PX <ttl> GET` (Redis 7.0 or later).
import type { DedupClaim, DedupStore } from "@trailstream/cloudtrail";
import { createClient } from "redis";

/** The part of a node-redis client the store uses, so tests can hand in a fake. */
export interface PipelineClient {
  multi(): {
    addCommand(args: string[]): unknown;
    execAsPipeline(): Promise<unknown[]>;
  };
}

export interface RedisDedupOptions {
  client: PipelineClient;
  keyPrefix: string;
  ttlMs: number;
  /** A round trip taking longer than this rejects (the batch is then retried, or passed). */
  timeoutMs: number;
  /** Told how long each round trip took, in seconds. */
  observe?: (seconds: number) => void;
}

export class RedisTimeoutError extends Error {
  override readonly name = "RedisTimeoutError";
}

export class RedisDedupStore implements DedupStore {
  readonly #o: RedisDedupOptions;

  constructor(options: RedisDedupOptions) {
    if (!(options.ttlMs >= 1)) throw new RangeError("RedisDedupStore needs a ttlMs of at least 1");
    this.#o = options;
  }

  async claim(claims: readonly DedupClaim[]): Promise<(string | null)[]> {
    if (claims.length === 0) return [];
    const { client, keyPrefix, ttlMs, timeoutMs, observe } = this.#o;
    const pipeline = client.multi();
    const ttl = String(Math.round(ttlMs));
    for (const c of claims) pipeline.addCommand(["SET", keyPrefix + c.identity, c.owner, "NX", "PX", ttl, "GET"]);
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisTimeoutError(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const replies = await Promise.race([pipeline.execAsPipeline(), timeout]);
      observe?.((performance.now() - started) / 1_000);
      if (replies.length !== claims.length) {
        throw new Error(`Redis answered ${replies.length} replies to ${claims.length} claims`);
      }
      return replies.map((reply, i) => {
        if (reply === null || reply === undefined) return null;
        if (typeof reply === "string") return reply;
        if (Buffer.isBuffer(reply)) return reply.toString("utf8");
        if (reply instanceof Error) throw reply;
        throw new Error(`Redis answered ${typeof reply} to the claim of ${claims[i]?.identity ?? "?"}`);
      });
    } finally {
      clearTimeout(timer);
    }
  }
}

export type RedisClient = ReturnType<typeof createClient>;

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
