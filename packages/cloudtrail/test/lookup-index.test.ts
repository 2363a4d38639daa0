import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  BloomFilter,
  blockMayAnswer,
  type CloudTrailRecord,
  decodeIndexBlock,
  encodeIndexBlock,
  type IndexBlock,
  IndexBlockBuilder,
  indexEntry,
  indexPartitionOf,
  LOOKUP_ATTRIBUTE_KEYS,
  type LookupAttributeKey,
  lookupMatches,
  lookupRecordOf,
  lookupRequest,
  lookupValues,
  newestUnread,
  nextRound,
  planIndexedRead,
  type ReadSegment,
} from "../src/index.ts";
import { realRecords } from "./support.ts";

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const NAMES = ["GetObject", "PutObject", "DeleteBucket", "AssumeRole"];

function event(i: number, name = NAMES[i % NAMES.length] as string, timeMs = T0 + i * 1_000): CloudTrailRecord {
  return {
    eventVersion: "1.11",
    eventTime: new Date(timeMs).toISOString().replace(/\.000Z$/, "Z"),
    eventSource: "s3.amazonaws.com",
    eventName: name,
    readOnly: name.startsWith("Get"),
    userIdentity: { type: "IAMUser", userName: `user-${i % 3}`, accessKeyId: `AKIA${i % 5}` },
    resources: [{ type: "AWS::S3::Bucket", ARN: `arn:aws:s3:::bucket-${i % 7}` }],
    recipientAccountId: "111122223333",
    eventID: `id-${i}`,
  };
}
const value = (record: CloudTrailRecord) =>
  Buffer.from(JSON.stringify({ v: 1, event: record, origin: { kind: "s3" }, enrichment: {} }));

function blocks(partition: number, from: number, records: CloudTrailRecord[], to?: number): IndexBlock[] {
  const b = new IndexBlockBuilder("t.events", partition, BigInt(from));
  records.forEach((r, i) => {
    b.add(BigInt(from + i), T0 + i, value(r));
  });
  if (to !== undefined) b.extendTo(BigInt(to));
  return b.finish();
}
/** The block's EventName record. */
function block(partition: number, from: number, records: CloudTrailRecord[], to?: number): IndexBlock {
  return blocks(partition, from, records, to).find((b) => b.key === "EventName") as IndexBlock;
}

describe("Bloom filter", () => {
  test("no false negatives; false positives near the rate it was sized for", () => {
    const n = 20_000;
    const bloom = BloomFilter.forCount(n, 0.001);
    assert.equal(bloom.hashes, 10);
    assert.ok(Math.abs(bloom.bits / n - 14.38) < 0.1, `${bloom.bits / n} bits per value`);
    for (let i = 0; i < n; i++) bloom.add(`EventId=member-${i}`);
    for (let i = 0; i < n; i++) assert.ok(bloom.has(`EventId=member-${i}`));
    let wrong = 0;
    const tries = 200_000;
    for (let i = 0; i < tries; i++) if (bloom.has(`EventId=other-${i}`)) wrong++;
    assert.ok(wrong / tries < 0.002, `false-positive rate ${wrong / tries}`);
  });

  test("non-ASCII and empty values, odd and even lengths", () => {
    const values = ["", "a", "ab", "é", "日本語", "emoji 🚀", "x".repeat(2_001)];
    const bloom = BloomFilter.forCount(values.length);
    for (const v of values) bloom.add(v);
    for (const v of values) assert.ok(bloom.has(v));
  });
});

describe("index blocks", () => {
  test("a block has one record per key, whose filter holds every value of its events for that key", () => {
    const records = realRecords().slice(0, 300);
    const all = blocks(2, 1_000, records);
    assert.deepEqual(
      all.map((b) => b.key),
      [...LOOKUP_ATTRIBUTE_KEYS],
    );
    const times = records.map((r) => Date.parse(r.eventTime ?? "")).filter(Number.isFinite);
    for (const b of all) {
      assert.equal(b.from, 1_000n);
      assert.equal(b.to, 1_300n);
      assert.equal(b.records, 300);
      assert.equal(b.minEventMs, Math.min(...times));
      assert.equal(b.maxEventMs, Math.max(...times));
      for (const r of records) {
        for (const v of lookupValues(r, b.key)) assert.ok(b.bloom.has(indexEntry(b.key, v)), `${b.key}=${v}`);
      }
    }
    const byKey = (k: LookupAttributeKey) => all.find((b) => b.key === k) as IndexBlock;
    // Filters are sized by distinct values: a block's EventName filter is small, its EventId one is not.
    assert.ok(byKey("EventName").bloom.bytes.length < byKey("EventId").bloom.bytes.length / 2);
    // The key is part of the entry: an EventName is not an EventSource.
    assert.ok(!byKey("EventSource").bloom.has(indexEntry("EventSource", records[0]?.eventName ?? "")));
  });

  test("index partitions: per key a run of the events topic's partitions", () => {
    assert.equal(indexPartitionOf("EventId", 3, 6, 48), 3);
    assert.equal(indexPartitionOf("EventName", 3, 6, 48), 9);
    assert.equal(indexPartitionOf("AccessKeyId", 5, 6, 48), 47);
    assert.equal(indexPartitionOf("AccessKeyId", 5, 6, 1), 0);
    assert.equal(indexPartitionOf("EventName", 5, 6, 10), 1);
  });

  test("encode and decode give the same block; anything else decodes to null", () => {
    const b = block(4, 77, [event(1), event(2), event(3)], 90);
    const d = decodeIndexBlock(encodeIndexBlock(b));
    assert.ok(d);
    assert.deepEqual({ ...d, bloom: undefined }, { ...b, bloom: undefined });
    assert.deepEqual([...d.bloom.bytes], [...b.bloom.bytes]);
    assert.equal(d.bloom.hashes, b.bloom.hashes);
    assert.equal(d.to, 90n);
    const bytes = encodeIndexBlock(b);
    assert.equal(decodeIndexBlock(null), null);
    assert.equal(decodeIndexBlock(Buffer.from("{}")), null);
    assert.equal(decodeIndexBlock(bytes.subarray(0, 20)), null);
    const bad = Buffer.from(bytes);
    bad.write("XXXX", 0, "latin1");
    assert.equal(decodeIndexBlock(bad), null);
  });

  test("records that are not events count as covered but hold nothing; a block may hold no event", () => {
    const b = new IndexBlockBuilder("t", 0, 10n);
    b.add(10n, T0, Buffer.from("not json"));
    b.add(12n, T0, null);
    b.add(13n, T0, Buffer.from(JSON.stringify({ v: 1, event: "x" })));
    const done = b.finish()[0] as IndexBlock;
    assert.equal(done.records, 0);
    assert.equal(done.to, 14n);
    assert.equal(done.minEventMs, null);
    assert.equal(blockMayAnswer(done, lookupRequest({})), false);
    assert.throws(() => b.add(11n, T0, null), RangeError);
  });

  test("lookupRecordOf reads what lookup reads", () => {
    const r = event(5);
    assert.deepEqual(lookupRecordOf(value(r)), r);
    assert.equal(lookupRecordOf(Buffer.from("[1]")), undefined);
    assert.equal(lookupRecordOf(Buffer.from('{"event":[]}')), undefined);
  });

  test("blockMayAnswer: the filter, the time range, the previous page's position", () => {
    const b = block(0, 0, [event(0, "GetObject", T0), event(1, "DeleteBucket", T0 + 60_000)]);
    const ask = (name: string, start?: number, end?: number) =>
      blockMayAnswer(
        b,
        lookupRequest({
          LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: name }],
          ...(start === undefined ? {} : { StartTime: start }),
          ...(end === undefined ? {} : { EndTime: end }),
        }),
      );
    assert.equal(ask("DeleteBucket"), true);
    assert.equal(ask("CreateBucket"), false);
    assert.equal(ask("DeleteBucket", T0 + 60_000, T0 + 120_000), true, "inclusive start");
    assert.equal(ask("DeleteBucket", T0 + 60_001), false);
    assert.equal(ask("DeleteBucket", T0 - 10_000, T0), true, "inclusive end");
    assert.equal(ask("DeleteBucket", T0 - 10_000, T0 - 1), false);
    const other = blocks(0, 0, [event(0, "GetObject", T0)]).find((x) => x.key === "EventId") as IndexBlock;
    assert.equal(
      blockMayAnswer(other, lookupRequest({ LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "x" }] })),
      true,
    );
    const paged = lookupRequest({});
    paged.after = { timeMs: T0 - 1, identity: "x" };
    assert.equal(blockMayAnswer(b, paged), false);
  });
});

describe("planning the read", () => {
  const del = (b: IndexBlock) => b.bloom.has(indexEntry("EventName", "DeleteBucket"));
  const offsets = (segments: ReadSegment[]) => segments.map((s) => [s.partition, Number(s.from), Number(s.to)]);

  test("no blocks: the whole window is one gap per partition", () => {
    const plan = planIndexedRead(
      [
        { partition: 0, from: 10n, to: 20n },
        { partition: 1, from: 5n, to: 5n },
      ],
      [],
      () => true,
    );
    assert.deepEqual(offsets(plan), [[0, 10, 20]]);
    assert.equal(plan[0]?.indexed, false);
    assert.equal(plan[0]?.boundMs, Number.POSITIVE_INFINITY);
  });

  test("blocks that cannot answer are skipped, the rest and the gaps read, clipped to the window", () => {
    const noDelete = (from: number) => block(0, from, [event(0), event(1), event(4), event(5)]);
    const withDelete = block(0, 20, [event(0), event(2), event(4), event(6)]);
    const blocks = [noDelete(0), noDelete(4), noDelete(8), withDelete, noDelete(40), block(1, 0, [event(2)])];
    // 0-12 indexed (no), 12-20 not indexed (a crash), 20-24 yes, 24-40 not indexed, 40-44 no, 44-50 the tail.
    const plan = planIndexedRead([{ partition: 0, from: 2n, to: 50n }], blocks, del);
    assert.deepEqual(offsets(plan), [
      [0, 12, 20],
      [0, 20, 24],
      [0, 24, 40],
      [0, 44, 50],
    ]);
    assert.deepEqual(
      plan.map((s) => s.indexed),
      [false, true, false, false],
    );
    assert.equal(plan[1]?.boundMs, withDelete.maxEventMs);
  });

  test("overlapping blocks (an index record written twice, or across a restart): a no wins", () => {
    const yes = block(0, 0, [event(2), event(3), event(4), event(5)]);
    const no = block(0, 2, [event(0), event(1), event(0), event(1)]);
    const plan = planIndexedRead([{ partition: 0, from: 0n, to: 8n }], [yes, no], del);
    assert.deepEqual(offsets(plan), [
      [0, 0, 2],
      [0, 6, 8],
    ]);
  });

  test("every offset whose record answers is read, whatever the blocks (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 60 }),
        fc.array(fc.tuple(fc.nat(70), fc.nat(20), fc.boolean()), { maxLength: 12 }),
        fc.nat(70),
        fc.nat(70),
        fc.constantFrom(...NAMES),
        (names, cuts, w1, w2, asked) => {
          const records = names.map((n, i) => event(i, n, T0 + ((i * 7919) % 60) * 1_000));
          // Blocks over arbitrary ranges (overlapping, missing, past the end), some lost.
          const blocks = cuts
            .filter(([, , lost]) => !lost)
            .map(([from, len]) => {
              const to = Math.min(records.length, from + len);
              return from < to ? block(0, from, records.slice(from, to)) : undefined;
            })
            .filter((b): b is IndexBlock => b !== undefined);
          const window = { partition: 0, from: BigInt(Math.min(w1, w2)), to: BigInt(Math.max(w1, w2)) };
          const request = lookupRequest({
            LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: asked }],
            StartTime: T0 + 10_000,
            EndTime: T0 + 40_000,
          });
          const plan = planIndexedRead([window], blocks, (b) => blockMayAnswer(b, request));
          const read = (o: number) => plan.some((s) => BigInt(o) >= s.from && BigInt(o) < s.to);
          records.forEach((r, o) => {
            const inWindow = BigInt(o) >= window.from && BigInt(o) < window.to;
            if (inWindow && lookupMatches(request, r, Date.parse(r.eventTime ?? ""))) assert.ok(read(o), `offset ${o}`);
            if (!inWindow) assert.ok(!read(o), `offset ${o} is outside the window`);
          });
          for (const s of plan) {
            const inside = records.slice(Number(s.from), Number(s.to));
            const newest = Math.max(...inside.map((r) => Date.parse(r.eventTime ?? "")));
            if (inside.length > 0) assert.ok(newest <= s.boundMs, "the bound holds");
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test("rounds: the gaps and the newest segments first, then by budget", () => {
    const seg = (from: number, to: number, boundMs: number, indexed = true): ReadSegment => ({
      partition: 0,
      from: BigInt(from),
      to: BigInt(to),
      boundMs,
      indexed,
    });
    const all = [seg(0, 10, 5), seg(10, 20, 9), seg(20, 30, Number.POSITIVE_INFINITY, false), seg(30, 40, 7)];
    const first = nextRound(all, 15n);
    assert.deepEqual(
      first.now.map((s) => Number(s.from)),
      [20, 10],
    );
    assert.equal(newestUnread(first.later), 7);
    const second = nextRound(first.later, 1n);
    assert.deepEqual(
      second.now.map((s) => Number(s.from)),
      [30],
    );
    assert.equal(newestUnread(nextRound(second.later, 100n).later), Number.NEGATIVE_INFINITY);
  });
});
