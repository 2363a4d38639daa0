import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bucketExpiry,
  bucketKey,
  CLAIM,
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

test("planClaims: one EVALSHA per hash with its expiry and field/token pairs, answers located per claim", () => {
  const now = 50 * HOUR_MS;
  const claims = [
    { identity: "a:1", owner: "0:1", eventTimeMs: 49 * HOUR_MS },
    { identity: "a:1", owner: "1:9", eventTimeMs: 49 * HOUR_MS },
    { identity: "a:2", owner: "0:2", eventTimeMs: 48 * HOUR_MS },
  ];
  const plan = planClaims(layout, claims, now);
  assert.deepEqual(plan.owners, ["0:1", "1:9", "0:2"]);
  const keys = claims.map((c) => bucketKey(layout, claimHour(c.eventTimeMs, now), identityDigest(c.identity)));
  assert.equal(plan.commands.length, new Set(keys).size, "one command per hash");
  for (const [i, c] of claims.entries()) {
    const [command, field] = plan.at[i] ?? [-1, -1];
    const args = plan.commands[command] ?? [];
    assert.deepEqual(args.slice(0, 4), ["EVALSHA", CLAIM.sha, "1", keys[i]]);
    assert.equal(args[4], String(bucketExpiry(layout, claimHour(c.eventTimeMs, now), now)));
    assert.deepEqual(args[5 + 2 * field], identityDigest(c.identity));
    assert.equal(args[6 + 2 * field], ownerToken(c.owner));
  }
  // the copy in the same batch is the second field of the first claim's hash, after it
  assert.deepEqual(plan.at[1], [plan.at[0]?.[0], 1]);
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
  assert.equal(plan.commands.length, 1);
  assert.deepEqual(previousOwners(plan, [[null, ownerToken("3:4")]]), [null, ownerToken("3:4")]);
  // its own token (here as a Buffer): the claim's own owner, a replay
  assert.deepEqual(previousOwners(plan, [[null, Buffer.from(ownerToken("0:2"))]]), [null, "0:2"]);
  assert.throws(() => previousOwners(plan, []), /0 replies to 1 commands/);
  assert.throws(() => previousOwners(plan, [[null]]), /fewer than asked/);
  assert.throws(() => previousOwners(plan, [new Error("OOM")]), /OOM/);
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
