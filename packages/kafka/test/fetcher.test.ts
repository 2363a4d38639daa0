import assert from "node:assert/strict";
import { test } from "node:test";
import type { RecordsBatch } from "@platformatic/kafka";
import { decode } from "../src/platformatic/fetcher.ts";

const TRANSACTIONAL = 1 << 4;
const CONTROL = 1 << 5;

function data(producerId: bigint, first: number, count: number, transactional = true): RecordsBatch {
  return {
    firstOffset: BigInt(first),
    lastOffsetDelta: count - 1,
    attributes: transactional ? TRANSACTIONAL : 0,
    producerId,
    firstTimestamp: 1_000n,
    records: Array.from({ length: count }, (_, i) => ({
      offsetDelta: i,
      timestampDelta: BigInt(i),
      key: null,
      value: Buffer.from(`v${first + i}`),
      headers: [],
    })),
  } as unknown as RecordsBatch;
}

/** A transaction marker: control record key version 0, type 0 (abort) or 1 (commit). */
function marker(producerId: bigint, offset: number, commit: boolean): RecordsBatch {
  const key = Buffer.alloc(4);
  key.writeInt16BE(commit ? 1 : 0, 2);
  return {
    firstOffset: BigInt(offset),
    lastOffsetDelta: 0,
    attributes: TRANSACTIONAL | CONTROL,
    producerId,
    firstTimestamp: 1_000n,
    records: [{ offsetDelta: 0, timestampDelta: 0n, key, value: Buffer.alloc(0), headers: [] }],
  } as unknown as RecordsBatch;
}

const offsets = (b: ReturnType<typeof decode>) => b.messages.map((m) => Number(m.offset));

test("read_committed: two aborted transactions of one producer in one response are both dropped", () => {
  const batches = [
    data(7n, 0, 2),
    marker(7n, 2, false),
    data(7n, 3, 2),
    marker(7n, 5, true),
    data(7n, 6, 2),
    marker(7n, 8, false),
    data(9n, 9, 1, false),
  ];
  const aborted = [
    { producerId: 7n, firstOffset: 6n },
    { producerId: 7n, firstOffset: 0n },
  ];
  const b = decode("t", 0, 0n, batches, aborted);
  assert.deepEqual(offsets(b), [3, 4, 9]);
  assert.equal(b.next, 10n);
  assert.equal(b.messages[0]?.value?.toString(), "v3");
});

test("read_committed: a committed transaction between an aborted one and a fenced empty one is kept", () => {
  // The broker's answer in the crash test that lost 98 events: producer 1158 aborted a transaction
  // with records (2533-2630, marker 2631), committed one (2632-2729, marker 2730), and was fenced
  // in a transaction that wrote nothing here (abort marker 2731), which the broker does not list.
  // The library's own filter dropped 2533-2730, committed records included.
  const batches = [
    data(1158n, 2533, 98),
    marker(1158n, 2631, false),
    data(1158n, 2632, 98),
    marker(1158n, 2730, true),
    marker(1158n, 2731, false),
    data(1158n, 2732, 3),
    marker(1158n, 2735, true),
  ];
  const b = decode("t", 0, 2446n, batches, [{ producerId: 1158n, firstOffset: 2533n }]);
  const kept = offsets(b);
  assert.equal(kept.length, 98 + 3);
  assert.equal(kept[0], 2632);
  assert.equal(kept.at(-1), 2734);
  assert.equal(b.next, 2736n);
});

test("read_committed: an aborted transaction whose marker is not in the response is dropped; the position passes it", () => {
  const b = decode("t", 1, 0n, [data(7n, 0, 2)], [{ producerId: 7n, firstOffset: 0n }]);
  assert.deepEqual(offsets(b), []);
  assert.equal(b.next, 2n);
});

test("records before the fetch position are left out; other producers' batches are kept", () => {
  const b = decode("t", 2, 1n, [data(5n, 0, 3, false), data(6n, 3, 1)], [{ producerId: 7n, firstOffset: 0n }]);
  assert.deepEqual(offsets(b), [1, 2, 3]);
  assert.equal(b.next, 4n);
});

test("offsets and timestamps: exact as numbers below 2^53, and as BigInts above", () => {
  const small = decode("t", 0, 3n, [data(1n, 2, 3, false)], []);
  assert.deepEqual(
    small.messages.map((m) => [m.offset, m.timestampMs]),
    [
      ["3", 1_001],
      ["4", 1_002],
    ],
  );
  assert.equal(small.next, 5n);
  const base = 2n ** 60n;
  const big = { ...data(1n, 0, 2, false), firstOffset: base } as RecordsBatch;
  const far = decode("t", 0, base + 1n, [big], []);
  assert.deepEqual(
    far.messages.map((m) => m.offset),
    [(base + 1n).toString()],
  );
  assert.equal(far.next, base + 2n);
});
