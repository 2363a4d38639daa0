// Correlation state in Redis, shared by every replica and kept across restarts:
//   corr:<rule>:<group>        sorted set of matches (rule position, value, event identity) scored by eventTime
//   corr-alert:<rule>:<group>  sorted set of raised alerts (`<window end>|<event identity>`) scored by window end
// Each call touches one key (a MULTI on one key, or one script with one key), so the keys spread
// over a Redis Cluster's slots with no hash tags. Members carry the event identity, so a batch that
// comes again after a crash adds nothing and claims its own alert again (it is raised again, not lost).
import { defineScript, type RedisCommand, replyList, replyNumber } from "@trailstream/redis";
import type { CorrelationStore, Entry } from "@trailstream/rules";
import type { StateClient } from "./state-redis.ts";

// Atomic across replicas: look for an alert of this group within a timespan of this window's end;
// this event's own claim lets it through, another's holds it back; otherwise claim it.
const CLAIM_ALERT = defineScript(`
local near = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2])
for _, m in ipairs(near) do
  local bar = string.find(m, '|', 1, true)
  if bar and string.sub(m, bar + 1) == ARGV[4] then return 1 end
end
if #near > 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[3] .. '|' .. ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`);

export class RedisCorrelationStore implements CorrelationStore {
  readonly #client: StateClient;
  readonly #prefix: string;

  constructor(options: { client: StateClient; keyPrefix?: string }) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix ?? "";
  }

  async record(
    key: string,
    member: string,
    t: number,
    range: { fromMs: number; toMs: number; forgetBeforeMs: number; ttlMs: number },
  ): Promise<Entry[]> {
    const k = this.#prefix + key;
    const commands: RedisCommand[] = [
      // NX: a match seen again keeps its place.
      ["ZADD", k, "NX", String(t), member],
      ...(Number.isFinite(range.forgetBeforeMs)
        ? [["ZREMRANGEBYSCORE", k, "-inf", `(${range.forgetBeforeMs}`] as const]
        : []),
      ["ZRANGEBYSCORE", k, String(range.fromMs), String(range.toMs), "WITHSCORES"],
      ["PEXPIRE", k, String(Math.ceil(range.ttlMs))],
    ];
    const replies = await this.#client.transaction(commands);
    const listed = replyList(replies[replies.length - 2]);
    const entries: Entry[] = [];
    for (let i = 0; i + 1 < listed.length; i += 2) {
      entries.push({ member: listed[i] ?? "", t: Number(listed[i + 1]) });
    }
    return entries;
  }

  async claimAlert(key: string, t: number, spanMs: number, owner: string, ttlMs: number): Promise<boolean> {
    const reply = await this.#client.script(
      CLAIM_ALERT,
      [this.#prefix + key],
      [`(${t - spanMs}`, `(${t + spanMs}`, String(t), owner, String(Math.ceil(ttlMs)), `(${t - ttlMs}`],
    );
    return replyNumber(reply) === 1;
  }
}
