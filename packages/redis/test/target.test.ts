import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { describeTarget, parseRedisUrl, RedisUrlError } from "../src/target.ts";

describe("parseRedisUrl", () => {
  test("a single server: defaults, TLS, credentials and database", () => {
    assert.deepEqual(parseRedisUrl("redis://cache"), {
      kind: "single",
      tls: false,
      credentials: {},
      node: { host: "cache", port: 6379 },
      db: 0,
    });
    assert.deepEqual(parseRedisUrl("rediss://app%40team:p%3Ass@master.example.com:6380/2"), {
      kind: "single",
      tls: true,
      credentials: { username: "app@team", password: "p:ss" },
      node: { host: "master.example.com", port: 6380 },
      db: 2,
    });
    assert.deepEqual(parseRedisUrl("redis://:secret@[::1]:7000").credentials, { password: "secret" });
    assert.deepEqual(parseRedisUrl("redis://[::1]:7000"), {
      kind: "single",
      tls: false,
      credentials: {},
      node: { host: "::1", port: 7000 },
      db: 0,
    });
  });

  test("REDIS_USERNAME and REDIS_PASSWORD win over the URL's", () => {
    const t = parseRedisUrl("rediss://old:old@h:6379", { username: "app", password: "from-secret" });
    assert.deepEqual(t.credentials, { username: "app", password: "from-secret" });
    assert.deepEqual(parseRedisUrl("redis://h", { password: "p" }).credentials, { password: "p" });
  });

  test("Sentinels: several hosts, port 26379 by default, the master's name and a database", () => {
    assert.deepEqual(parseRedisUrl("redis+sentinel://u:p@s1,s2:26380,10.0.0.3/mymaster/1"), {
      kind: "sentinel",
      tls: false,
      credentials: { username: "u", password: "p" },
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26380 },
        { host: "10.0.0.3", port: 26379 },
      ],
      masterName: "mymaster",
      db: 1,
    });
    assert.equal(parseRedisUrl("rediss+sentinel://s1/m").tls, true);
  });

  test("a Redis Cluster: several seed nodes", () => {
    assert.deepEqual(parseRedisUrl("rediss+cluster://:tok@n1:7001,n2:7002,n3"), {
      kind: "cluster",
      tls: true,
      credentials: { password: "tok" },
      seeds: [
        { host: "n1", port: 7001 },
        { host: "n2", port: 7002 },
        { host: "n3", port: 6379 },
      ],
    });
    assert.equal(parseRedisUrl("redis+cluster://n1:7001/").kind, "cluster");
  });

  test("what is not in the grammar is refused with the reason", () => {
    const refused = (url: string, reason: RegExp) =>
      assert.throws(
        () => parseRedisUrl(url),
        (e: unknown) => e instanceof RedisUrlError && reason.test(e.message),
        url,
      );
    refused("http://h:6379", /must look like redis:\/\//);
    refused("h:6379", /must look like/);
    refused("redis://a:1,b:2", /redis\+cluster:\/\//);
    refused("redis+sentinel://s1:26379", /master's name/);
    refused("redis+cluster://n1:7001/3", /only database 0/);
    refused("redis://h:99999", /out of range/);
    refused("redis://h:6379/x", /not a number/);
    refused("redis://h:6379?tls=true", /no query/);
    refused("redis://", /no host/);
    refused("redis://:%zz@h", /percent-encoded/);
  });
});

describe("describeTarget", () => {
  test("masks the password, in every kind", () => {
    const urls = [
      "rediss://app:s3cr3t@h:6380/1",
      "redis+sentinel://:s3cr3t@s1,s2/m",
      "redis+cluster://u:s3cr3t@n1:7001,n2:7002",
    ];
    const described = urls.map((u) => describeTarget(parseRedisUrl(u)));
    assert.deepEqual(described, [
      "rediss://app:***@h:6380/1",
      "redis+sentinel://:***@s1:26379,s2:26379/m/0",
      "redis+cluster://u:***@n1:7001,n2:7002",
    ]);
    assert.equal(describeTarget(parseRedisUrl("redis://h", { password: "from-secret" })), "redis://:***@h:6379/0");
    assert.ok(described.every((d) => !d.includes("s3cr3t")));
  });

  test("what it prints parses back to the same target, secrets aside", () => {
    for (const url of [
      "redis://h:1/0",
      "rediss+sentinel://a,b:2/m/3",
      "redis+cluster://[::1]:7001,n:7002",
      "redis://u@h:6379/0",
    ]) {
      const target = parseRedisUrl(url);
      assert.deepEqual(parseRedisUrl(describeTarget(target)), target);
    }
  });
});
