// Kinesis checkpoints in Redis: one hash per stream, `{stream}:checkpoints`, shardId -> the last
// sequence number whose records (and everything before them) Kafka acknowledged, or SHARD_END
// once a closed shard has been read to its end, or AT_TIMESTAMP:<ms>, the starting time fixed
// when a shard is first read from LATEST or a timestamp. A checkpoint is written only by the replica that
// holds the shard's lease (checked in the same script), so a replica that lost its lease while a
// batch was in flight cannot move the checkpoint of the shard's new holder.
import { defineScript, replyMap, replyNumber, replyText } from "@trailstream/redis";
import { type IngesterRedis, streamKey } from "../../leases.ts";

export const SHARD_END = "SHARD_END";
/** A starting time (ms) stored before the first record, for LATEST and AT_TIMESTAMP starts. */
export const AT_TIMESTAMP = "AT_TIMESTAMP:";

const FENCED_SET = defineScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) return 1 else return 0 end`,
);

export class Checkpoints {
  readonly #redis: IngesterRedis;
  readonly #key: string;
  readonly #base: string;

  constructor(options: { redis: IngesterRedis; prefix: string; stream: string }) {
    this.#redis = options.redis;
    this.#base = streamKey(options.prefix, options.stream);
    this.#key = `${this.#base}:checkpoints`;
  }

  async all(): Promise<Map<string, string>> {
    return replyMap(await this.#redis.command(["HGETALL", this.#key]));
  }

  async get(shardId: string): Promise<string | null> {
    return replyText(await this.#redis.command(["HGET", this.#key, shardId]));
  }

  /** Stores `sequence` for the shard if `workerId` still holds its lease; false when it does not. */
  async set(shardId: string, sequence: string, workerId: string): Promise<boolean> {
    const lease = `${this.#base}:lease:${shardId}`;
    const reply = await this.#redis.script(FENCED_SET, [lease, this.#key], [workerId, shardId, sequence]);
    return replyNumber(reply) === 1;
  }
}
