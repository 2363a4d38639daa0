// Kinesis shard leases in Redis (docs/decisions/0004-ingester-leases.md).
//
//   {stream}:lease:<shardId>  = workerId, PX leaseDuration     who reads the shard; expires when its holder dies
//   {stream}:workers          sorted set workerId -> last heartbeat (ms)   who is alive, for balancing
//
// Taking a lease is SET NX PX; renewing and releasing are compare-and-set scripts, so a replica
// can only touch a lease it still holds. Keys carry the stream in a hash tag so a Redis Cluster
// keeps one stream's keys in one slot (the checkpoint script touches a lease and a checkpoint).
import { defineScript, hashTag, type RedisStore, replyList, replyNumber, replyText } from "@trailstream/redis";

/** What leases, checkpoints and the file skip need of Redis. */
export type IngesterRedis = Pick<RedisStore, "command" | "batch" | "script">;

const RENEW = defineScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`,
);
const RELEASE = defineScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`,
);

export function streamKey(prefix: string, stream: string): string {
  return `${prefix}${hashTag(stream)}`;
}

export class LeaseTable {
  readonly #redis: IngesterRedis;
  readonly #base: string;
  readonly workerId: string;
  readonly durationMs: number;
  readonly #now: () => number;

  constructor(options: {
    redis: IngesterRedis;
    prefix: string;
    stream: string;
    workerId: string;
    durationMs: number;
    now?: () => number;
  }) {
    this.#redis = options.redis;
    this.#base = streamKey(options.prefix, options.stream);
    this.workerId = options.workerId;
    this.durationMs = options.durationMs;
    this.#now = options.now ?? Date.now;
  }

  leaseKey(shardId: string): string {
    return `${this.#base}:lease:${shardId}`;
  }

  /** Says this replica is alive and returns every live replica's id, sorted (this one included). */
  async heartbeat(): Promise<string[]> {
    const now = this.#now();
    const key = `${this.#base}:workers`;
    const [, , live] = await this.#redis.batch([
      ["ZADD", key, String(now), this.workerId],
      ["ZREMRANGEBYSCORE", key, "-inf", String(now - this.durationMs)],
      ["ZRANGE", key, "0", "-1"],
      ["PEXPIRE", key, String(Math.max(this.durationMs * 10, 60_000))],
    ]);
    const ids = replyList(live).filter((s): s is string => s !== null);
    if (!ids.includes(this.workerId)) ids.push(this.workerId);
    return ids.sort();
  }

  /** Leaves the replica set at once (on shutdown), so the others rebalance without waiting. */
  async leave(): Promise<void> {
    await this.#redis.command(["ZREM", `${this.#base}:workers`, this.workerId]);
  }

  /** The holder of each shard's lease, or null where nobody holds it. */
  async owners(shardIds: readonly string[]): Promise<(string | null)[]> {
    if (shardIds.length === 0) return [];
    const owners = replyList(await this.#redis.command(["MGET", ...shardIds.map((s) => this.leaseKey(s))]));
    return shardIds.map((_, i) => owners[i] ?? null);
  }

  async acquire(shardId: string): Promise<boolean> {
    const reply = await this.#redis.command([
      "SET",
      this.leaseKey(shardId),
      this.workerId,
      "NX",
      "PX",
      String(this.durationMs),
    ]);
    return replyText(reply) === "OK";
  }

  /** Renews the leases still held; returns the shards whose lease was lost. */
  async renew(shardIds: readonly string[]): Promise<string[]> {
    const replies = await Promise.all(
      shardIds.map((s) => this.#redis.script(RENEW, [this.leaseKey(s)], [this.workerId, String(this.durationMs)])),
    );
    return shardIds.filter((_, i) => replyNumber(replies[i]) !== 1);
  }

  async release(shardId: string): Promise<void> {
    await this.#redis.script(RELEASE, [this.leaseKey(shardId)], [this.workerId]);
  }
}

/**
 * How many of `shards` leases the replica at `rank` among `workers` live replicas should hold:
 * an even split, the first `shards % workers` replicas (by sorted id) taking one more. The targets
 * of all replicas add up to the number of shards, so when every replica moves toward its target
 * (taking free leases, handing back extra ones) the shards end up spread evenly.
 */
export function leaseTarget(shards: number, workers: number, rank: number): number {
  if (workers <= 0) return shards;
  const r = rank < 0 ? workers - 1 : rank;
  return Math.floor(shards / workers) + (r < shards % workers ? 1 : 0);
}
