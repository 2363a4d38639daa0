// The chain tracker's state in Redis, shared by every replica and kept across restarts. Each
// hand-over is one atomic command (GETDEL), so of two replicas racing for a log file and its
// digest entry exactly one decides; a chain's state is changed under a short lock.
import { randomUUID } from "node:crypto";
import type { ChainState, ExpectedFile, IntegrityStore, PendingFile } from "@trailstream/cloudtrail";
import { replyList, replyNumber, replyText } from "@trailstream/redis";
import type { IngesterRedis } from "../leases.ts";

const DAY_MS = 86_400_000;
const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;

export class RedisIntegrityStore implements IntegrityStore {
  readonly #redis: IngesterRedis;
  readonly #p: string;
  /** How long unlisted log files, listed-but-unseen entries and verdict marks are kept. */
  readonly #ttlMs: number;

  constructor(redis: IngesterRedis, prefix: string, ttlMs = 2 * DAY_MS) {
    this.#redis = redis;
    this.#p = `${prefix}integrity:`;
    this.#ttlMs = ttlMs;
  }

  async putPending(id: string, file: PendingFile): Promise<void> {
    await this.#redis.command(["SET", `${this.#p}pending:${id}`, JSON.stringify(file), "PX", String(this.#ttlMs)]);
    await this.#redis.command(["ZADD", `${this.#p}pending-due`, String(Math.max(file.deliveredMs, file.seenMs)), id]);
  }

  async takePending(id: string): Promise<PendingFile | undefined> {
    const got = replyText(await this.#redis.command(["GETDEL", `${this.#p}pending:${id}`]));
    await this.#redis.command(["ZREM", `${this.#p}pending-due`, id]);
    await this.#redis.command(["ZREM", `${this.#p}overdue`, id]);
    return got === null ? undefined : (JSON.parse(got) as PendingFile);
  }

  async stalePending(beforeMs: number, limit: number): Promise<PendingFile[]> {
    return this.#due<PendingFile>("pending", beforeMs, limit);
  }

  async deferPending(id: string, checkMs: number, overdue: boolean): Promise<void> {
    await this.#redis.command(["ZADD", `${this.#p}pending-due`, "XX", String(checkMs), id]);
    await this.#redis.command(
      overdue ? ["ZADD", `${this.#p}overdue`, String(checkMs), id] : ["ZREM", `${this.#p}overdue`, id],
    );
  }

  async overdueCount(): Promise<number> {
    return replyNumber(await this.#redis.command(["ZCARD", `${this.#p}overdue`]));
  }

  async putExpected(id: string, file: ExpectedFile): Promise<void> {
    await this.#redis.command(["SET", `${this.#p}expected:${id}`, JSON.stringify(file), "PX", String(this.#ttlMs)]);
    await this.#redis.command(["ZADD", `${this.#p}expected-due`, String(file.deadlineMs), id]);
  }

  async takeExpected(id: string): Promise<ExpectedFile | undefined> {
    const got = replyText(await this.#redis.command(["GETDEL", `${this.#p}expected:${id}`]));
    await this.#redis.command(["ZREM", `${this.#p}expected-due`, id]);
    return got === null ? undefined : (JSON.parse(got) as ExpectedFile);
  }

  async dueExpected(nowMs: number, limit: number): Promise<ExpectedFile[]> {
    return this.#due<ExpectedFile>("expected", nowMs, limit);
  }

  async #due<T>(kind: "pending" | "expected", beforeMs: number, limit: number): Promise<T[]> {
    const index = `${this.#p}${kind}-due`;
    const ids = replyList(
      await this.#redis.command(["ZRANGE", index, "-inf", String(beforeMs), "BYSCORE", "LIMIT", "0", String(limit)]),
    );
    const out: T[] = [];
    for (const raw of ids) {
      const id = raw;
      if (id === null) continue;
      const value = replyText(await this.#redis.command(["GET", `${this.#p}${kind}:${id}`]));
      if (value === null) {
        // expired
        await this.#redis.command(["ZREM", index, id]);
        if (kind === "pending") await this.#redis.command(["ZREM", `${this.#p}overdue`, id]);
      } else out.push(JSON.parse(value) as T);
    }
    return out;
  }

  async markResolved(id: string): Promise<void> {
    await this.#redis.command(["SET", `${this.#p}resolved:${id}`, "1", "PX", String(this.#ttlMs)]);
  }

  async isResolved(id: string): Promise<boolean> {
    return replyNumber(await this.#redis.command(["EXISTS", `${this.#p}resolved:${id}`])) === 1;
  }

  async updateChain<T>(
    chain: string,
    change: (state: ChainState | undefined) => { state: ChainState | undefined; result: T },
  ): Promise<T> {
    const lock = `${this.#p}lock:${chain}`;
    const token = randomUUID();
    for (let waited = 0; ; waited += 20) {
      if ((await this.#redis.command(["SET", lock, token, "NX", "PX", "10000"])) !== null) break;
      if (waited > 15_000) throw new Error(`chain ${chain} stayed locked for 15 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    try {
      const key = `${this.#p}chain:${chain}`;
      const raw = replyText(await this.#redis.command(["GET", key]));
      const { state, result } = change(raw === null ? undefined : (JSON.parse(raw) as ChainState));
      if (state) {
        await this.#redis.command(["SET", key, JSON.stringify(state), "PX", String(7 * DAY_MS)]);
        await this.#redis.command(["SADD", `${this.#p}chains`, chain]);
      } else {
        await this.#redis.command(["DEL", key]);
        await this.#redis.command(["SREM", `${this.#p}chains`, chain]);
      }
      return result;
    } finally {
      await this.#redis.command(["EVAL", RELEASE, "1", lock, token]);
    }
  }

  async chains(): Promise<string[]> {
    const members = replyList(await this.#redis.command(["SMEMBERS", `${this.#p}chains`]));
    return members.filter((m): m is string => m !== null);
  }

  async raiseSiteEnd(site: string, endMs: number): Promise<void> {
    await this.#redis.command(["ZADD", `${this.#p}site-ends`, "GT", String(endMs), site]);
  }

  async siteEnd(site: string): Promise<number | undefined> {
    const got = replyText(await this.#redis.command(["ZSCORE", `${this.#p}site-ends`, site]));
    return got === null ? undefined : Number(got);
  }

  async addSiteHole(site: string, fromMs: number, toMs: number): Promise<void> {
    const key = `${this.#p}holes:${site}`;
    await this.#redis.command(["RPUSH", key, `${fromMs}:${toMs}`]);
    await this.#redis.command(["PEXPIRE", key, String(3 * DAY_MS)]);
  }

  async inSiteHole(site: string, ms: number): Promise<boolean> {
    const holes = replyList(await this.#redis.command(["LRANGE", `${this.#p}holes:${site}`, "0", "-1"]));
    return holes.some((h) => {
      const [from, to] = (h ?? "").split(":").map(Number) as [number, number];
      return ms >= from - 60_000 && ms <= to + 60_000;
    });
  }
}
