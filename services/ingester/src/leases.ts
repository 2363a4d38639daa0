// Kinesis shard leases in Redis (docs/decisions/0004-ingester-leases.md).
//
//   {stream}:lease:<shardId>  = workerId, PX leaseDuration     who reads the shard; expires when its holder dies
//   {stream}:workers          sorted set workerId -> last heartbeat (ms)   who is alive, for balancing
//
// Taking a lease is SET NX PX; renewing and releasing are compare-and-set scripts, so a replica
// can only touch a lease it still holds. Keys carry the stream in a hash tag so a Redis Cluster
// keeps one stream's keys in one slot (the checkpoint script touches a lease and a checkpoint).
import { asNumber, asString, type RedisCommand } from "./redis.ts";

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export function streamKey(prefix: string, stream: string): string {
  return `${prefix}{${stream}}`;
}

export class LeaseTable {
  readonly #redis: RedisCommand;
  readonly #base: string;
  readonly workerId: string;
  readonly durationMs: number;
  readonly #now: () => number;

  constructor(options: {
    redis: RedisCommand;
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
    const [, , live] = await Promise.all([
      this.#redis(["ZADD", key, String(now), this.workerId]),
      this.#redis(["ZREMRANGEBYSCORE", key, "-inf", String(now - this.durationMs)]),
      this.#redis(["ZRANGE", key, "0", "-1"]),
      this.#redis(["PEXPIRE", key, String(Math.max(this.durationMs * 10, 60_000))]),
    ]);
    const ids = Array.isArray(live) ? live.map(asString).filter((s): s is string => s !== null) : [];
    if (!ids.includes(this.workerId)) ids.push(this.workerId);
    return ids.sort();
  }

  /** Leaves the replica set at once (on shutdown), so the others rebalance without waiting. */
  async leave(): Promise<void> {
    await this.#redis(["ZREM", `${this.#base}:workers`, this.workerId]);
  }

  /** The holder of each shard's lease, or null where nobody holds it. */
  async owners(shardIds: readonly string[]): Promise<(string | null)[]> {
    if (shardIds.length === 0) return [];
    const reply = await this.#redis(["MGET", ...shardIds.map((s) => this.leaseKey(s))]);
    return Array.isArray(reply) ? shardIds.map((_, i) => asString(reply[i])) : shardIds.map(() => null);
  }

  async acquire(shardId: string): Promise<boolean> {
    const reply = await this.#redis([
      "SET",
      this.leaseKey(shardId),
      this.workerId,
      "NX",
      "PX",
      String(this.durationMs),
    ]);
    return asString(reply) === "OK";
  }

  /** Renews the leases still held; returns the shards whose lease was lost. */
  async renew(shardIds: readonly string[]): Promise<string[]> {
    const replies = await Promise.all(
      shardIds.map((s) => this.#redis(["EVAL", RENEW, "1", this.leaseKey(s), this.workerId, String(this.durationMs)])),
    );
    return shardIds.filter((_, i) => asNumber(replies[i]) !== 1);
  }

  async release(shardId: string): Promise<void> {
    await this.#redis(["EVAL", RELEASE, "1", this.leaseKey(shardId), this.workerId]);
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
