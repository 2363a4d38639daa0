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
  SLOT_GROUPS_PER_HOUR,
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
  assert.match(early, new RegExp(`^d:\\{${Math.floor(eventTimeMs / HOUR_MS)}\\.\\d+\\}:\\d+$`));
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

/** A planned command read back: its keys, expiry, and its claims' hashes, fields and tokens, in answer order. */
function readCommand(args: readonly (string | Buffer)[]) {
  assert.deepEqual(args.slice(0, 2), ["EVALSHA", CLAIM.sha]);
  const count = Number(args[2]);
  const keys = args.slice(3, 3 + count).map(String);
  const expiry = String(args[3 + count]);
  assert.equal(args.length, 5 + count, "the keys, the expiry and the packed claims");
  const packed = args[4 + count] as Buffer;
  const answers: { key: string; field: Buffer; token: string }[] = [];
  for (let at = 0; at < packed.length; ) {
    const key = keys[packed.readUInt16BE(at) - 1];
    assert.ok(key, "a claim names one of the call's hashes");
    const size = packed[at + 18] as number;
    answers.push({
      key,
      field: packed.subarray(at + 2, at + 18),
      token: packed.subarray(at + 19, at + 19 + size).toString(),
    });
    at += 19 + size;
  }
  return { keys, expiry, answers };
}

test("planClaims: one EVALSHA per hash slot, its hashes and its claims packed, each claim's place known", () => {
  const now = 50 * HOUR_MS;
  const claims = Array.from({ length: 400 }, (_, i) => ({
    identity: `a:${i % 300}`,
    owner: `0:${i}`,
    eventTimeMs: (i % 2 === 0 ? 49 : 48) * HOUR_MS,
  }));
  const plan = planClaims(layout, claims, now);
  assert.deepEqual(
    plan.owners,
    claims.map((c) => c.owner),
  );
  const read = plan.commands.map(readCommand);
  const slots = new Set(
    claims.map((c) => {
      const key = bucketKey(layout, claimHour(c.eventTimeMs, now), identityDigest(c.identity));
      return key.slice(0, key.indexOf("}"));
    }),
  );
  assert.equal(plan.commands.length, slots.size, "one command per slot");
  assert.ok(plan.commands.length <= 2 * SLOT_GROUPS_PER_HOUR, "at most the slot groups of two hours");
  const placeOf = new Map<number, [number, number]>();
  plan.claimsOf.forEach((claims, command) => {
    claims.forEach((claim, answer) => {
      placeOf.set(claim, [command, answer]);
    });
  });
  assert.equal(placeOf.size, claims.length, "every claim is in one command");
  for (const [i, c] of claims.entries()) {
    const hour = claimHour(c.eventTimeMs, now);
    const [command, answer] = placeOf.get(i) ?? [-1, -1];
    const r = read[command];
    assert.ok(r, `claim ${i} has a command`);
    assert.equal(r.expiry, String(bucketExpiry(layout, hour, now)));
    assert.deepEqual(r.answers[answer], {
      key: bucketKey(layout, hour, identityDigest(c.identity)),
      field: identityDigest(c.identity),
      token: ownerToken(c.owner),
    });
    // every hash of a call shares its slot (the part in braces)
    assert.equal(new Set(r.keys.map((k) => k.slice(0, k.indexOf("}")))).size, 1);
    assert.equal(new Set(r.keys).size, r.keys.length, "a call names each hash once");
  }
  // a copy in the same batch comes after the first claim, in the same call
  const [firstCommand, firstAnswer] = placeOf.get(0) ?? [-1, -1];
  const [copyCommand, copyAnswer] = placeOf.get(300) ?? [-1, -1];
  assert.equal(copyCommand, firstCommand);
  assert.ok(copyAnswer > firstAnswer);
});

test("planClaims: an owner token longer than the packing's byte of length is refused", () => {
  assert.throws(() => planClaims(layout, [{ identity: "x", owner: "o".repeat(256) }], 0), RangeError);
  assert.equal(planClaims(layout, [{ identity: "x", owner: "o".repeat(255) }], 0).commands.length, 1);
});

test("previousOwners: taken now is null, held is its holder, own token is a replay, errors throw", () => {
  const plan = planClaims(
    { ...layout, shardsPerHour: 1 },
    [
      { identity: "x", owner: "0:1" },
      { identity: "y", owner: "0:2" },
      { identity: "z", owner: "0:3" },
    ],
    0,
  );
  assert.equal(plan.commands.length, 1);
  // only the held claims are answered: their place in the call from 1, then the holder
  assert.deepEqual(previousOwners(plan, [[]]), [null, null, null]);
  assert.deepEqual(previousOwners(plan, [[2, ownerToken("3:4")]]), [null, ownerToken("3:4"), null]);
  // its own token (here as a Buffer): the claim's own owner, a replay
  assert.deepEqual(previousOwners(plan, [[3, Buffer.from(ownerToken("0:3"))]]), [null, null, "0:3"]);
  assert.throws(() => previousOwners(plan, []), /0 replies to 1 commands/);
  assert.throws(() => previousOwners(plan, [[4, "7"]]), /claim 4 of a call of 3/);
  assert.throws(() => previousOwners(plan, [[1]]), /pairs of a claim and its holder/);
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
