// The kinesis source against a stand-in Kinesis: throttling and expired iterators are retried
// without losing or skipping a record; a closed parent is read to its end before its children.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import { createRegistry } from "@trailstream/runtime";
import { createMetrics } from "../src/metrics.ts";
import { Sink } from "../src/sink.ts";
import { Checkpoints } from "../src/sources/kinesis/checkpoints.ts";
import { KinesisSource } from "../src/sources/kinesis/source.ts";
import { FakeProducer, fakeClient, fakeRedis, silent } from "./fakes.ts";

function record(id: string): Uint8Array {
  return Buffer.from(JSON.stringify({ eventID: id, recipientAccountId: "111122223333", eventVersion: "1.08" }));
}

interface FakeShard {
  id: string;
  parent?: string;
  data: Uint8Array[];
  closed: boolean;
}

function fakeKinesis(shards: FakeShard[], faults: string[]) {
  const reads: string[] = [];
  const client = fakeClient({
    ListShardsCommand: () => ({
      Shards: shards.map((s) => ({ ShardId: s.id, ...(s.parent ? { ParentShardId: s.parent } : {}) })),
    }),
    GetShardIteratorCommand: (input) => {
      const shard = shards.find((s) => s.id === input.ShardId);
      const after = input.StartingSequenceNumber === undefined ? -1 : Number(input.StartingSequenceNumber) % 1000;
      return { ShardIterator: `${shard?.id}|${after + 1}` };
    },
    GetRecordsCommand: (input) => {
      const fault = faults.shift();
      if (fault) throw Object.assign(new Error(fault), { name: fault });
      const [id = "", from = "0"] = String(input.ShardIterator).split("|");
      const shard = shards.find((s) => s.id === id);
      const start = Number(from);
      const data = shard?.data.slice(start, start + 3) ?? [];
      const end = start + data.length;
      reads.push(`${id}:${start}-${end}`);
      const atEnd = end >= (shard?.data.length ?? 0);
      return {
        Records: data.map((Data, k) => ({
          Data,
          SequenceNumber: String(1000 * (shards.indexOf(shard as FakeShard) + 1) + start + k),
        })),
        NextShardIterator: atEnd && shard?.closed ? undefined : `${id}|${end}`,
        MillisBehindLatest: atEnd ? 0 : 1,
      };
    },
  });
  return { client, reads };
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

function source(
  client: unknown,
  redis: ReturnType<typeof fakeRedis>,
  producer: FakeProducer,
  start: { startPosition: "trim_horizon" | "latest" | "at_timestamp"; startTimestamp?: Date } = {
    startPosition: "trim_horizon",
  },
) {
  const metrics = createMetrics(createRegistry("test"));
  const sink = new Sink(producer, { topicRaw: "raw", topicDlq: "dlq", batchRecords: 100, lingerMs: 0, metrics });
  const kinesis = new KinesisSource({
    client: client as KinesisClient,
    stream: "s",
    redis: redis.store,
    redisPrefix: "t:",
    workerId: "w",
    leaseDurationMs: 5_000,
    leaseRenewMs: 50,
    shardSyncMs: 100,
    idleMs: 20,
    maxRecords: 3,
    ...start,
    sink,
    metrics,
    log: silent,
  });
  return { kinesis, metrics };
}

test("throttling and an expired iterator are retried; every record arrives and the checkpoint is the last one", async () => {
  const data = Array.from({ length: 10 }, (_, i) => record(`e${i}`));
  const { client, reads } = fakeKinesis(
    [{ id: "shardId-000000000000", data, closed: false }],
    ["ProvisionedThroughputExceededException", "ExpiredIteratorException"],
  );
  const redis = fakeRedis();
  const producer = new FakeProducer();
  const { kinesis, metrics } = source(client, redis, producer);
  kinesis.start();
  await until(() => producer.values("raw").length >= 10);
  const checkpoints = new Checkpoints({ redis: redis.store, prefix: "t:", stream: "s" });
  await until(() => reads.length >= 4);
  await kinesis.stop();
  const ids = (producer.values("raw") as { event: { eventID: string } }[]).map((v) => v.event.eventID);
  assert.deepEqual([...new Set(ids)].sort(), data.map((_, i) => `e${i}`).sort());
  assert.equal(await checkpoints.get("shardId-000000000000"), "1009");
  const errors = await metrics.kinesisErrors.get();
  // Every kind has a zero series from the start; these two were counted.
  assert.deepEqual(
    errors.values
      .filter((v) => v.value > 0)
      .map((v) => v.labels.kind)
      .sort(),
    ["expired-iterator", "throttled"],
  );
  assert.deepEqual(await redis.command(["MGET", "t:{s}:lease:shardId-000000000000"]), [null], "released on stop");
});

test("a closed parent is read to its end (SHARD_END) before its child is read", async () => {
  const parent: FakeShard = {
    id: "shardId-000000000000",
    data: [record("p0"), record("p1"), record("p2"), record("p3")],
    closed: true,
  };
  const child: FakeShard = {
    id: "shardId-000000000001",
    parent: parent.id,
    data: [record("c0"), record("c1")],
    closed: false,
  };
  const { client, reads } = fakeKinesis([parent, child], []);
  const redis = fakeRedis();
  const producer = new FakeProducer();
  const { kinesis } = source(client, redis, producer);
  kinesis.start();
  await until(() => producer.values("raw").length >= 6);
  await kinesis.stop();
  const firstChildRead = reads.findIndex((r) => r.startsWith(child.id));
  const lastParentRead = reads.findLastIndex((r) => r.startsWith(parent.id));
  assert.ok(lastParentRead < firstChildRead, reads.join(", "));
  const ids = (producer.values("raw") as { event: { eventID: string } }[]).map((v) => v.event.eventID);
  assert.deepEqual(ids, ["p0", "p1", "p2", "p3", "c0", "c1"]);
  const checkpoints = new Checkpoints({ redis: redis.store, prefix: "t:", stream: "s" });
  assert.equal(await checkpoints.get(parent.id), "SHARD_END");
});

test("at_timestamp: the start time is pinned as the shard's checkpoint and used for the iterator", async () => {
  const { client } = fakeKinesis([{ id: "shardId-000000000000", data: [record("t0")], closed: false }], []);
  const redis = fakeRedis();
  const producer = new FakeProducer();
  const at = new Date("2026-11-25T08:00:00Z");
  const { kinesis } = source(client, redis, producer, { startPosition: "at_timestamp", startTimestamp: at });
  kinesis.start();
  await until(() => producer.values("raw").length >= 1);
  await kinesis.stop();
  const iterator = client.calls.find((c) => c.name === "GetShardIteratorCommand");
  assert.ok(iterator);
  assert.equal(iterator.input.ShardIteratorType, "AT_TIMESTAMP");
  assert.equal((iterator.input.Timestamp as Date).getTime(), at.getTime());
  const checkpoints = new Checkpoints({ redis: redis.store, prefix: "t:", stream: "s" });
  assert.equal(await checkpoints.get("shardId-000000000000"), "1000", "then moved by the first record");
});
