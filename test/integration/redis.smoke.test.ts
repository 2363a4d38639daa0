import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createClient } from "redis";
import { endpoints, requireReachable, uniqueName } from "../support/servers.ts";

let redis: ReturnType<typeof createClient>;

before(async () => {
  const { redisUrl } = await endpoints();
  await requireReachable("Redis", redisUrl, "REDIS_URL");
  redis = createClient({ url: redisUrl });
  await redis.connect();
});

after(async () => {
  await redis?.quit();
});

// The dedup step of the design: `SET dedup:<identity> <partition>:<offset> NX PX <ttl> GET`.
test("Redis: SET NX PX GET claims once, answers the owner to later claims, and expires", async () => {
  const key = `dedup:${uniqueName("smoke")}`;
  const set = (value: string, ttlMs: number) =>
    redis.sendCommand(["SET", key, value, "NX", "PX", String(ttlMs), "GET"]) as Promise<string | null>;

  assert.equal(await set("0:1", 300), null, "the first claim finds nothing");
  assert.equal(await set("0:2", 300), "0:1", "a copy learns who holds the claim");
  assert.equal(await redis.get(key), "0:1", "NX kept the first owner");
  const ttl = await redis.pTTL(key);
  assert.ok(ttl > 0 && ttl <= 300, `a TTL was set (${ttl} ms)`);

  await new Promise((r) => setTimeout(r, 350));
  assert.equal(await set("0:3", 300), null, "after the TTL the identity is free again");
});

test("Redis: a pipelined batch of claims answers in order in one round trip", async () => {
  const base = uniqueName("batch");
  const claims = [`${base}:a`, `${base}:b`, `${base}:a`];
  const multi = redis.multi();
  claims.forEach((identity, offset) => {
    multi.addCommand(["SET", `dedup:${identity}`, `0:${offset}`, "NX", "PX", "60000", "GET"]);
  });
  const answers = await multi.execAsPipeline();
  assert.deepEqual(answers, [null, null, "0:0"]);
});
