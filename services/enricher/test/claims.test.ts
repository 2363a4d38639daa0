import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bucketExpiry,
  bucketKey,
  claimHour,
  HOUR_MS,
  identityDigest,
  ownerToken,
  planClaims,
  previousOwners,
} from "../src/claims.ts";

const layout = { keyPrefix: "d:", shardsPerHour: 1_024, windowMs: 24 * HOUR_MS };

test("the digest is 16 bytes, the same for the same identity and different for another", () => {
  const a = identityDigest("123456789012:0d1f3c1e-7c55-4b7a-9d35-3b0a3f0c2a11");
  assert.equal(a.length, 16);
  assert.deepEqual(identityDigest("123456789012:0d1f3c1e-7c55-4b7a-9d35-3b0a3f0c2a11"), a);
  assert.notDeepEqual(identityDigest("123456789013:0d1f3c1e-7c55-4b7a-9d35-3b0a3f0c2a11"), a);
});

test("copies of an event share a bucket: the event's own hour, whenever they arrive", () => {
  const eventTimeMs = Date.parse("2026-12-06T02:59:59Z");
  const digest = identityDigest("111122223333:e");
  const early = bucketKey(layout, claimHour(eventTimeMs, eventTimeMs + 1_000), digest);
  const late = bucketKey(layout, claimHour(eventTimeMs, eventTimeMs + 5 * HOUR_MS), digest);
  assert.equal(early, late);
  assert.match(early, new RegExp(`^d:${Math.floor(eventTimeMs / HOUR_MS)}:\\d+$`));
  // no usable eventTime: the hour of the claim
  assert.equal(claimHour(Number.NaN, 7 * HOUR_MS + 1), 7);
  assert.equal(claimHour(undefined, 7 * HOUR_MS + 1), 7);
});

test("identities spread evenly over the shards", () => {
  const counts = new Array<number>(16).fill(0);
  const small = { ...layout, shardsPerHour: 16 };
  for (let i = 0; i < 16_000; i++) {
    const shard = Number(bucketKey(small, 1, identityDigest(`123456789012:${i}`)).split(":")[2]);
    counts[shard] = (counts[shard] ?? 0) + 1;
  }
  for (const c of counts) assert.ok(c > 850 && c < 1_150, `shard count ${c} of 16,000 over 16`);
});

test("a bucket expires a window after its hour ends, or a window from now for an old replay", () => {
  assert.equal(bucketExpiry(layout, 10, 10 * HOUR_MS + 5), (11 * HOUR_MS + 24 * HOUR_MS) / 1_000);
  const now = 100 * HOUR_MS + 1_500;
  assert.equal(bucketExpiry(layout, 10, now), Math.ceil((now + 24 * HOUR_MS) / 1_000));
});

test("planClaims: HSETNX and HGET per claim in order, one EXPIREAT NX per bucket", () => {
  const now = 50 * HOUR_MS;
  const claims = [
    { identity: "a:1", owner: "0:1", eventTimeMs: 49 * HOUR_MS },
    { identity: "a:1", owner: "1:9", eventTimeMs: 49 * HOUR_MS },
    { identity: "a:2", owner: "0:2", eventTimeMs: 48 * HOUR_MS },
  ];
  const plan = planClaims(layout, claims, now);
  assert.deepEqual(plan.owners, ["0:1", "1:9", "0:2"]);
  const expected = claims.map((c) => bucketKey(layout, claimHour(c.eventTimeMs, now), identityDigest(c.identity)));
  assert.deepEqual(
    plan.commands.slice(0, 6).map((c) => [c[0], c[1]]),
    expected.flatMap((k) => [
      ["HSETNX", k],
      ["HGET", k],
    ]),
  );
  const expires = plan.commands.slice(6);
  assert.deepEqual(expires.map((c) => c[1]).sort(), [...new Set(expected)].sort());
  for (const c of expires) assert.deepEqual([c[0], c[3]], ["EXPIREAT", "NX"]);
});

test("previousOwners: taken now is null, held is its holder, errors throw, counts must match", () => {
  const plan = planClaims(
    { ...layout, shardsPerHour: 1 },
    [
      { identity: "x", owner: "0:1" },
      { identity: "y", owner: "0:2" },
    ],
    0,
  );
  assert.deepEqual(previousOwners(plan, [1, ownerToken("0:1"), 0, ownerToken("3:4"), 1]), [null, ownerToken("3:4")]);
  // its own token: the claim's own owner (a replay)
  assert.deepEqual(previousOwners(plan, [1, ownerToken("0:1"), 0, ownerToken("0:2"), 1]), [null, "0:2"]);
  assert.throws(() => previousOwners(plan, [1, "0:1", 0, "3:4"]), /4 replies to 5 commands/);
  assert.throws(() => previousOwners(plan, [new Error("OOM"), null, 0, "3:4", 1]), /OOM/);
});

test("owner tokens are 31-bit integers, apart for nearby records of one partition or of several", () => {
  const seen = new Set<string>();
  for (let partition = 0; partition < 64; partition++) {
    for (let offset = 1_000_000; offset < 1_002_000; offset++) {
      const token = ownerToken(`${partition}:${offset}`);
      assert.ok(Number(token) >= 0 && Number(token) < 2 ** 31, token);
      seen.add(token);
    }
  }
  assert.equal(seen.size, 64 * 2_000);
  assert.equal(ownerToken("3:9007199254740993"), ownerToken("3:9007199254740993"));
  assert.equal(ownerToken("file-7"), "file-7");
});
