import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { decide, dedupBatch, MemoryDedupStore, SeenIdentities } from "../src/dedup.ts";
import { eventIdentity } from "../src/identity.ts";

describe("eventIdentity", () => {
  test("joins recipientAccountId and eventID", () => {
    assert.equal(eventIdentity({ recipientAccountId: "111122223333", eventID: "e-1" }), "111122223333:e-1");
  });
  test("is null without either part", () => {
    assert.equal(eventIdentity({ eventID: "e-1" }), null);
    assert.equal(eventIdentity({ recipientAccountId: "111122223333", eventID: null }), null);
    assert.equal(eventIdentity({ recipientAccountId: "111122223333", eventID: "" }), null);
  });
});

describe("decide", () => {
  test("first, replay and copy", () => {
    assert.equal(decide(null, "0:5"), "first");
    assert.equal(decide("0:5", "0:5"), "replay");
    assert.equal(decide("0:4", "0:5"), "copy");
  });
});

describe("MemoryDedupStore", () => {
  test("a batch emits each identity once and replays its own claim", async () => {
    const store = new MemoryDedupStore({ ttlMs: 60_000, maxEntries: 100 });
    const verdicts = await dedupBatch(store, [
      { identity: "a", owner: "0:1" },
      { identity: "b", owner: "0:2" },
      { identity: "a", owner: "0:3" },
    ]);
    assert.deepEqual(verdicts, ["first", "first", "copy"]);
    // The same record again, as after a crash between the claim and the commit.
    assert.deepEqual(await dedupBatch(store, [{ identity: "a", owner: "0:1" }]), ["replay"]);
  });

  test("claims expire after the TTL", async () => {
    let now = 1_000;
    const store = new MemoryDedupStore({ ttlMs: 100, maxEntries: 10, now: () => now });
    assert.equal(store.claimOne("a", "x"), null);
    now += 99;
    assert.equal(store.claimOne("a", "y"), "x");
    now += 1;
    assert.equal(store.claimOne("a", "y"), null);
  });

  test("a full store forgets the oldest claim and counts it", () => {
    const store = new MemoryDedupStore({ ttlMs: 60_000, maxEntries: 2 });
    store.claimOne("a", "1");
    store.claimOne("b", "2");
    store.claimOne("c", "3");
    assert.equal(store.size, 2);
    assert.equal(store.evicted, 1);
    assert.equal(store.claimOne("a", "4"), null, "a forgotten claim lets a copy through, never drops");
    assert.equal(store.claimOne("c", "5"), "3");
  });

  test("property: with room for every claim, exactly one copy of each identity is first", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 200 }), async (ids) => {
        const store = new MemoryDedupStore({ ttlMs: 60_000, maxEntries: 1_000 });
        const claims = ids.map((id, offset) => ({ identity: String(id), owner: `0:${offset}` }));
        const verdicts = await dedupBatch(store, claims);
        const firsts = claims.filter((_, i) => verdicts[i] === "first").map((c) => c.identity);
        assert.deepEqual(new Set(firsts), new Set(ids.map(String)));
        assert.equal(firsts.length, new Set(ids).size);
      }),
    );
  });
});

describe("SeenIdentities", () => {
  test("first time true, copies false, bounded with evictions counted", () => {
    const seen = new SeenIdentities(2);
    assert.equal(seen.firstTime("111111111111:6f1d9c3e-0000-4000-8000-000000000001"), true);
    assert.equal(seen.firstTime("111111111111:6f1d9c3e-0000-4000-8000-000000000001"), false);
    assert.equal(seen.firstTime("not-a-uuid:x"), true);
    assert.equal(seen.firstTime("222222222222:6f1d9c3e-0000-4000-8000-000000000001"), true);
    assert.equal(seen.size, 2);
    assert.equal(seen.evicted, 1);
  });

  test("copies and conflicts: the first copy's fingerprint wins", () => {
    const seen = new SeenIdentities(10);
    const id = "111111111111:6f1d9c3e-0000-4000-8000-000000000001";
    assert.equal(seen.offer(id, 5), "first");
    assert.equal(seen.offer(id, 5), "copy");
    assert.equal(seen.offer(id, 6), "conflict");
    assert.equal(seen.offer(id, 5), "copy", "a conflict does not replace what was seen first");
    assert.equal(seen.offer(`${id}:updated`, 6), "first", "a correction is an identity of its own");
    assert.equal(seen.offer("not-a-uuid:x", 0x7fffffff), "first");
    assert.equal(seen.offer("not-a-uuid:x", 0x7fffffff), "copy");
    assert.equal(seen.size, 3);
  });

  test("the oldest is forgotten past the cap, and then lets its copy through", () => {
    const seen = new SeenIdentities(3);
    for (const id of ["a:1", "a:2", "a:3", "a:4"]) assert.equal(seen.offer(id), "first");
    assert.equal(seen.evicted, 1);
    assert.equal(seen.offer("a:2"), "copy");
    assert.equal(seen.offer("a:1"), "first", "forgotten: a copy goes through as new, never an event dropped");
    assert.equal(seen.evicted, 2);
    assert.equal(seen.offer("a:2"), "first", "a:2 was the oldest then");
  });
});
