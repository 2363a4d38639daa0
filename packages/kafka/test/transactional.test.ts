import assert from "node:assert/strict";
import { test } from "node:test";
import kafkajs from "kafkajs";
import { asRetriable } from "../src/retriable.ts";
import { chunkRecords, type OutgoingRecord } from "../src/transactional.ts";

test("chunkRecords keeps every record, in order, in produce calls under the byte bound", () => {
  const records: OutgoingRecord[] = Array.from({ length: 50 }, (_, i) => ({
    topic: i % 3 === 0 ? "dlq" : "events",
    key: `k${i}`,
    value: "x".repeat(1_000),
  }));
  const chunks = chunkRecords(records, 10_000);
  assert.ok(chunks.length >= 5, `${chunks.length} chunks`);
  for (const chunk of chunks) {
    const bytes = chunk.flatMap((t) => t.messages).reduce((n, m) => n + String(m.value).length + 64, 0);
    assert.ok(bytes <= 10_000 + 1_100, `a chunk of ${bytes} bytes`);
  }
  const flat = chunks.flatMap((c) => c.flatMap((t) => t.messages.map((m) => `${t.topic}/${String(m.key)}`)));
  assert.equal(flat.length, records.length);
  const perTopic = (topic: string) => flat.filter((f) => f.startsWith(`${topic}/`));
  assert.deepEqual(
    perTopic("events"),
    records.filter((r) => r.topic === "events").map((r) => `events/${r.key}`),
    "order within a topic is kept",
  );
  assert.deepEqual(chunkRecords([], 10), []);
  assert.equal(
    chunkRecords([{ topic: "t", key: null, value: "y".repeat(100) }], 10).length,
    1,
    "an oversized record goes alone",
  );
});

test("asRetriable: handler errors become retriable kafkajs errors, group errors pass through", () => {
  const plain = asRetriable(new Error("boom"));
  assert.ok(plain instanceof kafkajs.KafkaJSError);
  assert.equal((plain as kafkajs.KafkaJSError).retriable, true);
  assert.match(plain.message, /Error: boom/);
  assert.equal((plain as kafkajs.KafkaJSError).cause, undefined, "kafkajs judges by the innermost cause");

  const fenced = new kafkajs.KafkaJSProtocolError("old epoch");
  Object.assign(fenced, { type: "INVALID_PRODUCER_EPOCH", retriable: false });
  assert.equal((asRetriable(fenced) as kafkajs.KafkaJSError).retriable, true);

  const rebalancing = new kafkajs.KafkaJSProtocolError("rebalancing");
  Object.assign(rebalancing, { type: "REBALANCE_IN_PROGRESS", retriable: false });
  assert.equal(asRetriable(rebalancing), rebalancing, "kafkajs rejoins on these by type");

  const retriable = new kafkajs.KafkaJSError("retry me", { retriable: true });
  assert.equal(asRetriable(retriable), retriable);
});
