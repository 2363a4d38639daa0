// packages/redis against the real server of REDIS_URL: scripts/run-tests.ts runs this file again
// with REDIS_URL set to the local Redis Cluster, so every claim here holds on both.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  defineScript,
  openRedis,
  RedisCrossSlotError,
  type RedisStore,
  RedisUnavailableError,
  redisSettings,
  replyNumber,
  replyText,
} from "@trailstream/redis";
import { freePort, PrivateRedis } from "../support/enricher.ts";
import { endpoints, uniqueName } from "../support/servers.ts";

let redis: RedisStore;

before(async () => {
  const { redisUrl } = await endpoints();
  redis = openRedis(redisSettings(redisUrl));
  await redis.connected();
});

after(async () => {
  await redis?.close();
});

describe(`packages/redis on ${process.env.REDIS_URL?.startsWith("redis+cluster") ? "the Redis Cluster" : "one server"}`, () => {
  // The enricher's claim: `SET <identity> <partition>:<offset> NX PX <ttl> GET`.
  test("SET NX PX GET claims once, answers the owner to later claims, and expires", async () => {
    const key = `dedup:${uniqueName("claim")}`;
    const claim = async (owner: string) =>
      replyText(await redis.command(["SET", key, owner, "NX", "PX", "300", "GET"]));
    assert.equal(await claim("0:1"), null, "the first claim finds nothing");
    assert.equal(await claim("0:2"), "0:1", "a copy learns who holds the claim");
    const ttl = replyNumber(await redis.command(["PTTL", key]));
    assert.ok(ttl > 0 && ttl <= 300, `a TTL was set (${ttl} ms)`);
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(await claim("0:3"), null, "after the TTL the identity is free again");
  });

  test("a batch over keys in every slot answers in order (one pipeline per node on a Cluster)", async () => {
    const base = uniqueName("batch");
    const identities = Array.from({ length: 300 }, (_, i) => `${base}:${i % 200}`);
    const replies = await redis.batch(
      identities.map((id, offset) => ["SET", `dedup:${id}`, `0:${offset}`, "NX", "PX", "60000", "GET"] as const),
    );
    const expected = identities.map((_, offset) => (offset < 200 ? null : `0:${offset - 200}`));
    assert.deepEqual(replies, expected);
  });

  test("a transaction and a script over keys with one hash tag", async () => {
    const tag = `{${uniqueName("tag")}}`;
    const replies = await redis.transaction([
      ["ZADD", `${tag}:window`, "1", "a"],
      ["ZADD", `${tag}:window`, "2", "b"],
      ["ZCOUNT", `${tag}:window`, "-inf", "+inf"],
      ["SET", `${tag}:lease`, "me"],
    ]);
    assert.deepEqual(replies, [1, 1, 2, "OK"]);
    const fencedSet = defineScript(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('HSET', KEYS[2], 'f', ARGV[2]) return 1 else return 0 end",
    );
    assert.equal(await redis.script(fencedSet, [`${tag}:lease`, `${tag}:hash`], ["me", "v1"]), 1);
    assert.equal(await redis.script(fencedSet, [`${tag}:lease`, `${tag}:hash`], ["other", "v2"]), 0);
    assert.equal(replyText(await redis.command(["HGET", `${tag}:hash`, "f"])), "v1");
  });

  test("a batch of EVALSHA calls loads its scripts on the nodes that lack them and goes again", async () => {
    // A script no node has seen: its text names this run.
    const name = uniqueName("sha");
    const bump = defineScript(`-- ${name}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`);
    const calls = Array.from({ length: 60 }, (_, i) => ["EVALSHA", bump.sha, "1", `${name}:${i}`, String(i)] as const);
    await assert.rejects(redis.batch(calls), /NOSCRIPT/, "without its scripts a batch fails as Redis answers");
    assert.deepEqual(
      await redis.batch(calls, { scripts: [bump] }),
      calls.map((_, i) => i),
    );
    assert.deepEqual(
      await redis.batch(calls, { scripts: [bump] }),
      calls.map((_, i) => 2 * i),
      "loaded now: sent once",
    );
  });

  test("keys without a shared hash tag are refused before Redis sees them, on every kind of server", async () => {
    const a = `${uniqueName("a")}:x`;
    const b = `${uniqueName("b")}:y`;
    await assert.rejects(redis.command(["MGET", a, b]), RedisCrossSlotError);
    await assert.rejects(
      redis.transaction([
        ["SET", a, "1"],
        ["SET", b, "1"],
      ]),
      RedisCrossSlotError,
    );
  });
});

describe("when Redis is down", () => {
  test("a call fails at once with a clear error, and works again once Redis is back", async () => {
    const server = new PrivateRedis(await freePort());
    await server.start();
    let downs = 0;
    let ups = 0;
    const store = openRedis(redisSettings(server.url, { commandTimeoutMs: 5_000, retryMaxMs: 200 }), {
      onDown: () => downs++,
      onUp: () => ups++,
    });
    try {
      await store.connected();
      assert.equal(await store.command(["PING"]), "PONG");
      await server.kill();
      await new Promise((r) => setTimeout(r, 100));
      const started = performance.now();
      await assert.rejects(store.command(["GET", "k"]), (error: unknown) => {
        assert.ok(error instanceof RedisUnavailableError, String(error));
        assert.match(error.message, new RegExp(`Redis redis://127.0.0.1:${server.port}/0 is not reachable`));
        return true;
      });
      const ms = performance.now() - started;
      assert.ok(ms < 1_000, `failed after ${ms.toFixed(0)} ms, not after the 5 s command timeout`);
      assert.equal(store.ready(), false);
      assert.equal(downs, 1);

      await server.start();
      for (let i = 0; i < 50 && !store.ready(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await store.command(["PING"]), "PONG");
      assert.equal(ups, 2);
    } finally {
      await store.close();
      await server.kill();
    }
  });

  test("close() is a stop, not a lost connection: onDown is not called", async () => {
    let downs = 0;
    const store = openRedis(redisSettings((await endpoints()).redisUrl, { commandTimeoutMs: 5_000 }), {
      onDown: () => downs++,
    });
    await store.connected();
    assert.equal(await store.command(["PING"]), "PONG");
    await store.close();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(store.ready(), false);
    assert.equal(downs, 0);
  });

  test("a client that never reached Redis fails calls at once", async () => {
    const store = openRedis(redisSettings(`redis://127.0.0.1:${await freePort()}`, { commandTimeoutMs: 5_000 }));
    try {
      const started = performance.now();
      await assert.rejects(store.batch([["GET", "k"]]), RedisUnavailableError);
      assert.ok(performance.now() - started < 1_000);
    } finally {
      await store.close();
    }
  });
});
