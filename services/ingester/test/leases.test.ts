import assert from "node:assert/strict";
import { test } from "node:test";
import { Checkpoints } from "../src/checkpoints.ts";
import { LeaseTable, leaseTarget } from "../src/leases.ts";

test("lease targets add up to the shard count and differ by at most one", () => {
  for (let shards = 0; shards <= 17; shards++) {
    for (let workers = 1; workers <= 6; workers++) {
      const targets = Array.from({ length: workers }, (_, rank) => leaseTarget(shards, workers, rank));
      assert.equal(
        targets.reduce((a, b) => a + b, 0),
        shards,
        `${shards} shards over ${workers}`,
      );
      assert.ok(Math.max(...targets) - Math.min(...targets) <= 1);
    }
  }
});

/** Just enough of Redis for the lease and checkpoint scripts, with a clock the test moves. */
function fakeRedis() {
  let now = 0;
  const strings = new Map<string, { value: string; expiresAt: number }>();
  const hashes = new Map<string, Map<string, string>>();
  const zsets = new Map<string, Map<string, number>>();
  const get = (k: string) => {
    const e = strings.get(k);
    if (!e || e.expiresAt <= now) return null;
    return e.value;
  };
  const command = async (args: readonly string[]): Promise<unknown> => {
    const [cmd, ...a] = args;
    switch (cmd) {
      case "SET": {
        const [k = "", v = "", nx, , px] = a;
        if (nx === "NX" && get(k) !== null) return null;
        strings.set(k, { value: v, expiresAt: now + Number(px) });
        return "OK";
      }
      case "MGET":
        return a.map(get);
      case "EVAL": {
        const [script = "", , k1 = "", ...rest] = a;
        if (script.includes("PEXPIRE")) {
          if (get(k1) !== rest[0]) return 0;
          strings.set(k1, { value: rest[0] ?? "", expiresAt: now + Number(rest[1]) });
          return 1;
        }
        if (script.includes("DEL")) {
          if (get(k1) !== rest[0]) return 0;
          strings.delete(k1);
          return 1;
        }
        // fenced HSET: KEYS = lease, hash; ARGV = worker, field, value
        const [hash = "", worker, field = "", value = ""] = rest;
        if (get(k1) !== worker) return 0;
        const h = hashes.get(hash) ?? new Map<string, string>();
        h.set(field, value);
        hashes.set(hash, h);
        return 1;
      }
      case "HGET":
        return hashes.get(a[0] ?? "")?.get(a[1] ?? "") ?? null;
      case "HGETALL":
        return Object.fromEntries(hashes.get(a[0] ?? "") ?? []);
      case "ZADD": {
        const z = zsets.get(a[0] ?? "") ?? new Map<string, number>();
        z.set(a[2] ?? "", Number(a[1]));
        zsets.set(a[0] ?? "", z);
        return 1;
      }
      case "ZREMRANGEBYSCORE": {
        const z = zsets.get(a[0] ?? "");
        for (const [m, score] of z ?? []) if (score <= Number(a[2])) z?.delete(m);
        return 0;
      }
      case "ZRANGE":
        return [...(zsets.get(a[0] ?? "")?.keys() ?? [])];
      case "ZREM":
        zsets.get(a[0] ?? "")?.delete(a[1] ?? "");
        return 1;
      case "PEXPIRE":
        return 1;
      default:
        throw new Error(`fake redis: ${cmd}`);
    }
  };
  return { command, tick: (ms: number) => (now += ms), now: () => now };
}

test("a lease is held by one replica, renewed only by it, and free once it expires", async () => {
  const redis = fakeRedis();
  const options = { redis: redis.command, prefix: "t:", stream: "s", durationMs: 3_000, now: redis.now };
  const a = new LeaseTable({ ...options, workerId: "a" });
  const b = new LeaseTable({ ...options, workerId: "b" });
  assert.equal(await a.acquire("shard-0"), true);
  assert.equal(await b.acquire("shard-0"), false, "held by a");
  redis.tick(2_000);
  assert.deepEqual(await a.renew(["shard-0"]), [], "a renews");
  assert.deepEqual(await b.renew(["shard-0"]), ["shard-0"], "b cannot renew a's lease");
  redis.tick(2_000);
  assert.deepEqual(await b.owners(["shard-0"]), ["a"], "still a's after the renewal");
  redis.tick(1_500);
  assert.deepEqual(await b.owners(["shard-0"]), [null], "expired: a died");
  assert.equal(await b.acquire("shard-0"), true);
  await a.release("shard-0");
  assert.deepEqual(await a.owners(["shard-0"]), ["b"], "a cannot release b's lease");
});

test("heartbeats list the live replicas; a silent one drops out after a lease duration", async () => {
  const redis = fakeRedis();
  const options = { redis: redis.command, prefix: "t:", stream: "s", durationMs: 3_000, now: redis.now };
  const a = new LeaseTable({ ...options, workerId: "a" });
  const b = new LeaseTable({ ...options, workerId: "b" });
  await a.heartbeat();
  assert.deepEqual(await b.heartbeat(), ["a", "b"]);
  redis.tick(3_500);
  assert.deepEqual(await b.heartbeat(), ["b"]);
  await b.leave();
  assert.deepEqual(await a.heartbeat(), ["a"]);
});

test("only the lease holder moves a checkpoint", async () => {
  const redis = fakeRedis();
  const leases = new LeaseTable({
    redis: redis.command,
    prefix: "t:",
    stream: "s",
    workerId: "a",
    durationMs: 3_000,
    now: redis.now,
  });
  const checkpoints = new Checkpoints({ redis: redis.command, prefix: "t:", stream: "s" });
  assert.equal(await checkpoints.set("shard-0", "100", "a"), false, "no lease, no checkpoint");
  await leases.acquire("shard-0");
  assert.equal(await checkpoints.set("shard-0", "100", "a"), true);
  assert.equal(await checkpoints.set("shard-0", "200", "b"), false);
  assert.equal(await checkpoints.get("shard-0"), "100");
  assert.deepEqual([...(await checkpoints.all())], [["shard-0", "100"]]);
});
