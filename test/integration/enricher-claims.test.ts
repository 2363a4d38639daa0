// The enricher's claims against the real Redis: the script's answers (first, copy, replay, copies
// inside one batch), the expiry each hash gets once, and the compact listpack encoding.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openRedis, type RedisStore, redisSettings, replyNumber, replyText } from "@trailstream/redis";
import { bucketExpiry, bucketKey, claimHour, HOUR_MS, identityDigest } from "../../services/enricher/src/claims.ts";
import { RedisDedupStore } from "../../services/enricher/src/dedup-redis.ts";
import { endpoints, requireReachable, uniqueName } from "../support/servers.ts";

let client: RedisStore;
const prefix = `${uniqueName("claims")}:`;
/** The hashes the tests wrote, deleted at the end (one by one: on a Cluster they live on several nodes). */
const written = new Set<string>();

before(async () => {
  const e = await endpoints();
  await requireReachable("Redis", e.redisUrl, "REDIS_URL");
  client = openRedis(redisSettings(e.redisUrl, { commandTimeoutMs: 10_000 }));
  await client.connected();
});

after(async () => {
  await client.batch([...written].map((key) => ["DEL", key] as const));
  await client.close();
});

test("first, copy, replay, and copies inside one batch, with one expiry per hash", async () => {
  const now = Date.now();
  const layout = { keyPrefix: prefix, shardsPerHour: 4, windowMs: 2 * HOUR_MS };
  const store = new RedisDedupStore({ redis: client, ...layout, now: () => now });
  const eventTimeMs = now - 30 * 60_000;
  const ids = Array.from({ length: 40 }, (_, i) => `123456789012:${i}-${prefix}`);

  const first = await store.claim(ids.map((identity, i) => ({ identity, owner: `0:${i}`, eventTimeMs })));
  assert.deepEqual(
    first,
    ids.map(() => null),
    "every identity is new",
  );

  // the same records again (a replay after a crash), and copies from other records
  const again = await store.claim([
    { identity: ids[0] ?? "", owner: "0:0", eventTimeMs },
    { identity: ids[1] ?? "", owner: "2:99", eventTimeMs },
  ]);
  assert.equal(again[0], "0:0", "its own claim: a replay");
  assert.ok(again[1] !== null && again[1] !== "2:99", "another record's claim: a copy");

  // a new identity twice in one batch: the first takes it, the second is its copy
  const fresh = `123456789012:new-${prefix}`;
  const twice = await store.claim([
    { identity: fresh, owner: "1:1", eventTimeMs },
    { identity: fresh, owner: "1:2", eventTimeMs },
  ]);
  assert.equal(twice[0], null);
  assert.ok(twice[1] !== null && twice[1] !== "1:2");

  const hour = claimHour(eventTimeMs, now);
  const keys = new Set(ids.map((id) => bucketKey(layout, hour, identityDigest(id))));
  assert.ok(keys.size > 1 && keys.size <= 4, `${keys.size} hashes`);
  let fields = 0;
  for (const key of keys) {
    written.add(key);
    fields += replyNumber(await client.command(["HLEN", key]));
    assert.equal(replyText(await client.command(["OBJECT", "ENCODING", key])), "listpack");
    assert.equal(replyNumber(await client.command(["EXPIRETIME", key])), bucketExpiry(layout, hour, now));
  }
  written.add(bucketKey(layout, hour, identityDigest(fresh)));
  assert.equal(fields, 41);
});

test("an event older than the window: its hash lives a window from now, so the replay still dedups", async () => {
  const now = Date.now();
  const layout = { keyPrefix: prefix, shardsPerHour: 1, windowMs: HOUR_MS };
  const store = new RedisDedupStore({ redis: client, ...layout, now: () => now });
  const eventTimeMs = now - 30 * 24 * HOUR_MS;
  const identity = `123456789012:old-${prefix}`;
  assert.deepEqual(await store.claim([{ identity, owner: "0:1", eventTimeMs }]), [null]);
  const copy = await store.claim([{ identity, owner: "3:7", eventTimeMs }]);
  assert.ok(copy[0] !== null && copy[0] !== "3:7");
  const key = bucketKey(layout, claimHour(eventTimeMs, now), identityDigest(identity));
  written.add(key);
  const ttl = replyNumber(await client.command(["TTL", key]));
  assert.ok(ttl > HOUR_MS / 1_000 - 60 && ttl <= HOUR_MS / 1_000 + 1, `ttl ${ttl}`);
});
