import assert from "node:assert/strict";
import { test } from "node:test";
import { LeaseTable, leaseTarget } from "../src/leases.ts";
import { Checkpoints } from "../src/sources/kinesis/checkpoints.ts";
import { fakeRedis } from "./fakes.ts";

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

test("a lease is held by one replica, renewed only by it, and free once it expires", async () => {
  const redis = fakeRedis();
  const options = { redis: redis.store, prefix: "t:", stream: "s", durationMs: 3_000, now: redis.now };
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
  const options = { redis: redis.store, prefix: "t:", stream: "s", durationMs: 3_000, now: redis.now };
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
    redis: redis.store,
    prefix: "t:",
    stream: "s",
    workerId: "a",
    durationMs: 3_000,
    now: redis.now,
  });
  const checkpoints = new Checkpoints({ redis: redis.store, prefix: "t:", stream: "s" });
  assert.equal(await checkpoints.set("shard-0", "100", "a"), false, "no lease, no checkpoint");
  await leases.acquire("shard-0");
  assert.equal(await checkpoints.set("shard-0", "100", "a"), true);
  assert.equal(await checkpoints.set("shard-0", "200", "b"), false);
  assert.equal(await checkpoints.get("shard-0"), "100");
  assert.deepEqual([...(await checkpoints.all())], [["shard-0", "100"]]);
});
