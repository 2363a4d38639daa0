import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  consumerGroupLag,
  createKafka,
  ensureTopics,
  openProducer,
  type Producer,
  startBatchConsumer,
} from "@trailstream/kafka";
import { endpoints, requireReachable, uniqueName } from "../support/servers.ts";
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
