import assert from "node:assert/strict";
import { tracingChannel } from "node:diagnostics_channel";
import { after, before, test } from "node:test";
import { loadTemplates } from "@trailstream/bucket-tree";
import {
  COMPRESSION_CODECS,
  consumerGroupLag,
  createKafka,
  ensureTopics,
  openProducer,
  type Producer,
  startBatchConsumer,
  startTransactionalPipe,
  topicSizeBytes,
} from "@trailstream/kafka";
import { endpoints, requireReachable, uniqueName } from "../support/servers.ts";
import { readTopic } from "../support/topic-reader.ts";
import { eventually, withTimeout } from "../support/wait.ts";

let kafka: ReturnType<typeof createKafka>;
let producer: Producer;

before(async () => {
  const { kafkaBrokers } = await endpoints();
  await requireReachable("Kafka", kafkaBrokers[0] ?? "", "KAFKA_BROKERS");
  kafka = createKafka({ brokers: kafkaBrokers, clientId: "smoke-test" });
  producer = await openProducer(kafka);
});

after(async () => {
  await producer?.close();
});

test("Kafka: 10,000 records go through the real broker to a consumer group with committed offsets", async () => {
  const topic = uniqueName("smoke");
  const groupId = uniqueName("smoke-group");
  await ensureTopics(kafka, [{ topic, partitions: 3 }]);

  const total = 10_000;
  const sent = new Set<string>();
  for (let start = 0; start < total; start += 1_000) {
    const batch = Array.from({ length: 1_000 }, (_, i) => {
      const id = `record-${start + i}`;
      sent.add(id);
      return { key: id, value: JSON.stringify({ id }) };
    });
    await producer.send(topic, batch);
  }

  const received = new Map<string, number>();
  let resolveAll: () => void = () => {};
  const allReceived = new Promise<void>((resolve) => {
    resolveAll = resolve;
  });
  const consumer = await startBatchConsumer(kafka, {
    groupId,
    topics: [topic],
    handle: async (batch) => {
      for (const m of batch.messages) {
        const { id } = JSON.parse(m.value?.toString() ?? "{}") as { id: string };
        assert.equal(m.key?.toString(), id, "the key travels with the value");
        received.set(id, (received.get(id) ?? 0) + 1);
      }
      if (received.size === total) resolveAll();
    },
  });
  try {
    await withTimeout(allReceived, 60_000, () => `only ${received.size} of ${total} records arrived`);
    assert.deepEqual(new Set(received.keys()), sent);
    // Commits follow the handler; give the last one a moment to land, then the group owes nothing.
    await eventually(async () => assert.equal(await consumerGroupLag(kafka, groupId, topic), 0n), 10_000);
  } finally {
    await consumer.close();
  }
});

for (const prefetch of [false, true]) {
  test(`Kafka${prefetch ? ", prefetching" : ""}: a handler that keeps its commit where it was sends one OffsetCommit, not one a batch`, async () => {
    const topic = uniqueName("smoke-commit");
    const groupId = uniqueName("smoke-commit-group");
    await ensureTopics(kafka, [{ topic, partitions: 1 }]);
    // Every OffsetCommit request (API key 8) this process sends, as the Kafka client traces them.
    const api = tracingChannel("plt:kafka:connections:api");
    let offsetCommits = 0;
    const onRequest = (request: unknown) => {
      if ((request as { apiKey?: number }).apiKey === 8) offsetCommits++;
    };
    api.start.subscribe(onRequest);
    let batches = 0;
    let records = 0;
    const consumer = await startBatchConsumer(kafka, {
      groupId,
      topics: [topic],
      prefetch,
      // As the lookup indexer does until it writes a block: nothing read is committed past offset 0.
      handle: async (batch) => {
        batches++;
        records += batch.messages.length;
        return { commitOffset: "0" };
      },
    });
    try {
      await consumer.started;
      // Twenty sends 50 ms apart: the consumer fetches them in several batches.
      for (let i = 0; i < 20; i++) {
        await producer.send(
          topic,
          Array.from({ length: 10 }, (_, k) => ({ key: `k${i}-${k}`, value: "{}" })),
        );
        await new Promise((r) => setTimeout(r, 50));
      }
      await eventually(async () => assert.equal(records, 200), 20_000);
      assert.ok(batches >= 3, `${batches} batches`);
      assert.equal(offsetCommits, 1, `${offsetCommits} OffsetCommits for ${batches} batches that all kept offset 0`);
      assert.equal(await consumerGroupLag(kafka, groupId, topic), 200n);
    } finally {
      api.start.unsubscribe(onRequest);
      await consumer.close();
    }
  });
}

test("Kafka, prefetching: a batch that fails comes again, the batches fetched behind it too; every record is committed", async () => {
  const topic = uniqueName("smoke-prefetch");
  const groupId = uniqueName("smoke-prefetch-group");
  await ensureTopics(kafka, [{ topic, partitions: 2 }]);
  const total = 6_000;
  const pad = "x".repeat(1_000);
  for (let start = 0; start < total; start += 500) {
    // 3 MB per partition: more than one fetch (1 MB per partition) holds.
    await producer.send(
      topic,
      Array.from({ length: 500 }, (_, i) => ({ key: `k${start + i}`, value: `record-${start + i} ${pad}` })),
    );
  }
  const handled = new Map<string, number>();
  const failedOnce = new Set<string>();
  let failures = 0;
  /** Per partition, where the last batch handled without failing ended: the next batch starts there. */
  const handledUpTo = new Map<number, bigint>();
  const outOfOrder: string[] = [];
  const consumer = await startBatchConsumer(kafka, {
    groupId,
    topics: [topic],
    prefetch: true,
    concurrentPartitions: 2,
    handle: async (batch) => {
      // A batch fetched ahead of one that failed must not be handled: its partition starts over at
      // the failed batch, so every batch starts where the last good one ended.
      const start = BigInt(batch.messages[0]?.offset ?? "0");
      const expected = handledUpTo.get(batch.partition) ?? 0n;
      if (start !== expected) outOfOrder.push(`partition ${batch.partition} at ${start}, expected ${expected}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      // The second batch of each partition fails once, after the next one was already fetched.
      const where = `${batch.partition}`;
      const first = batch.messages[0];
      if (first && first.offset !== "0" && !failedOnce.has(where)) {
        failedOnce.add(where);
        failures++;
        throw new Error(`planned failure of partition ${where} at offset ${first.offset}`);
      }
      for (const m of batch.messages) {
        const id = m.value?.toString().split(" ")[0] ?? "";
        handled.set(id, (handled.get(id) ?? 0) + 1);
      }
      handledUpTo.set(batch.partition, BigInt(batch.messages.at(-1)?.offset ?? "-1") + 1n);
    },
  });
  try {
    await eventually(async () => assert.equal(handled.size, total), 60_000);
    await eventually(async () => assert.equal(await consumerGroupLag(kafka, groupId, topic), 0n), 15_000);
    assert.ok(failures >= 1, "a batch failed");
    assert.deepEqual(outOfOrder, [], "each partition's batches in order, from the failed one on");
    assert.ok(consumer.running(), "the consumer recovered from the failure");
  } finally {
    await consumer.close();
  }
});

test("Kafka, prefetching: a rebalance while batches wait behind the ones being handled; what was fetched ahead is dropped, not handled", async () => {
  const topic = uniqueName("smoke-prefetch-rebalance");
  const groupId = uniqueName("smoke-prefetch-rebalance-group");
  await ensureTopics(kafka, [{ topic, partitions: 2 }]);
  const perPartition = 3_000;
  const pad = "x".repeat(1_000);
  for (let start = 0; start < perPartition; start += 500) {
    // 3 MB per partition, one fetch holds 1 MB of it: each lane has a batch waiting behind the first.
    for (const partition of [0, 1]) {
      await producer.send(
        topic,
        Array.from({ length: 500 }, (_, i) => ({
          key: `k${partition}-${start + i}`,
          value: `${partition}-${start + i} ${pad}`,
          partition,
        })),
      );
    }
  }
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let released = false;
  /** The first batch of each partition, held until the second member has joined. */
  const held = new Map<number, string>();
  const afterRelease: { partition: number; first: string }[] = [];
  const handledBy = { a: new Set<string>(), b: new Set<string>() };
  const record = (who: "a" | "b", batch: { messages: { value: Buffer | null }[] }) => {
    for (const m of batch.messages) handledBy[who].add(m.value?.toString().split(" ")[0] ?? "");
  };
  const a = await startBatchConsumer(kafka, {
    groupId,
    topics: [topic],
    prefetch: true,
    concurrentPartitions: 2,
    handle: async (batch) => {
      const first = batch.messages[0]?.offset ?? "";
      if (!released && !held.has(batch.partition)) {
        held.set(batch.partition, first);
        await gate;
      } else if (released) afterRelease.push({ partition: batch.partition, first });
      record("a", batch);
    },
  });
  let b: Awaited<ReturnType<typeof startBatchConsumer>> | undefined;
  try {
    await eventually(async () => assert.equal(held.size, 2, "both first batches are held"), 30_000);
    // Time for the next batches to be fetched and queued behind the held ones.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    b = await startBatchConsumer(kafka, {
      groupId,
      topics: [topic],
      prefetch: true,
      handle: async (batch) => record("b", batch),
    });
    await withTimeout(b.started, 60_000, () => "the second member did not join");
    // Both members are in the new generation once the second one has joined.
    await new Promise((resolve) => setTimeout(resolve, 500));
    released = true;
    release();
    const everything = new Set([...Array(perPartition).keys()].flatMap((i) => [`0-${i}`, `1-${i}`]));
    await eventually(async () => {
      const union = new Set([...handledBy.a, ...handledBy.b]);
      assert.equal(union.size, everything.size);
    }, 60_000);
    await eventually(async () => assert.equal(await consumerGroupLag(kafka, groupId, topic), 0n), 15_000);
    // The held batches were not committed (the generation changed under them), so each partition the
    // first member kept starts again at its held batch; a batch queued behind a held one would start
    // past it, and one of a partition handed to the second member must not be handled by the first.
    const bPartitions = new Set([...handledBy.b].map((id) => Number(id.split("-")[0])));
    for (const { partition } of afterRelease) {
      assert.ok(!bPartitions.has(partition), `the first member handled partition ${partition} after handing it away`);
    }
    for (const partition of [0, 1]) {
      const mine = afterRelease.filter((x) => x.partition === partition);
      if (mine.length > 0) assert.equal(mine[0]?.first, held.get(partition), `partition ${partition} starts again`);
    }
  } finally {
    release();
    await b?.close();
    await a.close();
  }
});

test("KAFKA_COMPRESSION: producers and the transactional pipe write gzip and zstd batches that every reader gets back, smaller on the broker", async () => {
  const { kafkaBrokers } = await endpoints();
  const base = uniqueName("codec");
  const templates = await loadTemplates();
  const values = Array.from({ length: 2_000 }, (_, i) =>
    JSON.stringify({
      v: 1,
      event: { ...templates[i % templates.length], eventID: `${base}-${i}` },
      origin: { kind: "s3" },
    }),
  );
  const sizes = new Map<string, bigint>();
  for (const codec of COMPRESSION_CODECS) {
    const client = createKafka({ brokers: kafkaBrokers, clientId: `codec-${codec}`, compression: codec });
    const topics = { plain: `${base}.${codec}`, piped: `${base}.${codec}.piped` };
    await ensureTopics(client, [
      { topic: topics.plain, partitions: 2 },
      { topic: topics.piped, partitions: 2 },
    ]);
    const codecProducer = await openProducer(client);
    try {
      await codecProducer.send(
        topics.plain,
        values.map((value, i) => ({ key: `k${i}`, value })),
      );
    } finally {
      await codecProducer.close();
    }
    // The enricher's way: a transaction per poll, read back read_committed.
    const pipe = await startTransactionalPipe(client, {
      groupId: `${topics.piped}-group`,
      inputTopic: topics.plain,
      transactionalIdPrefix: `${topics.piped}-txn`,
      sessionTimeoutMs: 10_000,
      handle: async (batch) => ({
        records: batch.messages.map((m) => ({
          topic: topics.piped,
          key: m.key?.toString() ?? null,
          value: m.value ?? "",
        })),
      }),
    });
    try {
      for (const topic of [topics.plain, topics.piped]) {
        const read = await readTopic(kafka, topic, (r) => r.until((x) => x.length >= values.length, 60_000));
        assert.equal(read.length, values.length, `${codec}: ${topic} holds every record once`);
        assert.deepEqual(new Set(read.values.map((v) => JSON.stringify(v))), new Set(values), `${codec}: as written`);
      }
    } finally {
      await pipe.close();
    }
    sizes.set(codec, await topicSizeBytes(client, topics.plain));
  }
  const none = Number(sizes.get("none"));
  for (const codec of ["gzip", "zstd"]) {
    const size = Number(sizes.get(codec));
    assert.ok(size > 0 && size < none / 3, `${codec}: ${size} bytes on the broker against ${none} uncompressed`);
  }
});
