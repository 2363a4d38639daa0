import assert from "node:assert/strict";
import { test } from "node:test";
import type { RawRecord } from "../src/sink.ts";
import { Sink } from "../src/sink.ts";
import { FakeProducer } from "./fakes.ts";

function records(n: number): RawRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    identity: `111122223333:e${i}`,
    envelope: {
      v: 1,
      event: { eventID: `e${i}`, recipientAccountId: "111122223333" },
      origin: { kind: "file", key: "k", receivedAt: "2026-11-25T00:00:00Z" },
    },
  }));
}

test("records go out in batches keyed by identity; a write resolves once all of its records are acknowledged", async () => {
  const producer = new FakeProducer();
  const sink = new Sink(producer, { topicRaw: "raw", topicDlq: "dlq", batchRecords: 3, lingerMs: 5 });
  await sink.write(records(7));
  assert.deepEqual(
    producer.sent.map((s) => s.messages.length),
    [3, 3, 1],
  );
  assert.equal(producer.sent[0]?.messages[0]?.key, "111122223333:e0");
  assert.deepEqual(JSON.parse(String(producer.sent[0]?.messages[0]?.value)), records(1)[0]?.envelope);
});

test("a record with its event's text carries that text in the envelope, the same members in the same order", async () => {
  const producer = new FakeProducer();
  const sink = new Sink(producer, { topicRaw: "raw", topicDlq: "dlq", batchRecords: 10, lingerMs: 0 });
  const [plain, spaced] = records(2);
  assert.ok(plain && spaced);
  const text = `{ "eventID": "e1",  "recipientAccountId": "111122223333" }`;
  await sink.write([
    { ...plain, eventText: JSON.stringify(plain.envelope.event) },
    { ...spaced, eventText: text },
  ]);
  const [first, second] = producer.sent[0]?.messages ?? [];
  assert.equal(first?.value, JSON.stringify(plain.envelope), "byte for byte what JSON.stringify writes");
  assert.equal(second?.value, `{"v":1,"event":${text},"origin":${JSON.stringify(spaced.envelope.origin)}}`);
  assert.deepEqual(JSON.parse(String(second?.value)), spaced.envelope);
});

test("writes from several callers share a batch", async () => {
  const producer = new FakeProducer();
  const sink = new Sink(producer, { topicRaw: "raw", topicDlq: "dlq", batchRecords: 100, lingerMs: 10 });
  await Promise.all([sink.write(records(2)), sink.write(records(3))]);
  assert.deepEqual(
    producer.sent.map((s) => s.messages.length),
    [5],
  );
});

test("a failed produce rejects the writes that were in it", async () => {
  const producer = new FakeProducer();
  producer.fail = new Error("broker down");
  const sink = new Sink(producer, { topicRaw: "raw", topicDlq: "dlq", batchRecords: 2, lingerMs: 0 });
  await assert.rejects(sink.write(records(3)), /broker down/);
  assert.deepEqual(sink.notReady(), ["kafka: broker down"]);
  producer.fail = undefined;
  await sink.write(records(1));
  assert.deepEqual(sink.notReady(), [], "ready again after a produce succeeds");
});

test("a dead letter carries v, stage, time and reason", async () => {
  const producer = new FakeProducer();
  const sink = new Sink(producer, { topicRaw: "raw", topicDlq: "dlq", batchRecords: 2, lingerMs: 0, now: () => 0 });
  await sink.deadLetter({ reason: "gzip", message: "cut short", bucket: "b", key: "k" }, "s3://b/k");
  assert.deepEqual(producer.values("dlq"), [
    {
      v: 1,
      stage: "ingester",
      at: "1970-01-01T00:00:00.000Z",
      reason: "gzip",
      message: "cut short",
      bucket: "b",
      key: "k",
    },
  ]);
  assert.equal(producer.sent[0]?.messages[0]?.key, "s3://b/k");
});

test("batches are cut by bytes too; a record too large for the broker goes to the DLQ", async () => {
  const producer = new FakeProducer();
  const sink = new Sink(producer, {
    topicRaw: "raw",
    topicDlq: "dlq",
    batchRecords: 100,
    lingerMs: 0,
    batchBytes: 400,
    maxMessageBytes: 2_000,
  });
  const big = records(1)[0];
  assert.ok(big);
  big.envelope.event.padding = "x".repeat(3_000);
  await sink.write([...records(6), big]);
  assert.ok(producer.sent.filter((s) => s.topic === "raw").length >= 2, "cut by bytes");
  assert.equal(producer.values("raw").length, 6);
  const [letter] = producer.values("dlq") as Record<string, unknown>[];
  assert.equal(letter?.reason, "too-large");
});

test("a batch never passes batchBytes with its keys and framing (the topic bounds a whole batch)", async () => {
  const producer = new FakeProducer();
  const batchBytes = 1_000;
  const sink = new Sink(producer, { topicRaw: "raw", topicDlq: "dlq", batchRecords: 100, lingerMs: 0, batchBytes });
  const padded = records(40).map((r, i) => {
    r.envelope.event.padding = "p".repeat(100 + ((i * 37) % 150));
    return r;
  });
  await sink.write(padded);
  const raw = producer.sent.filter((s) => s.topic === "raw");
  assert.equal(
    raw.reduce((n, s) => n + s.messages.length, 0),
    40,
  );
  for (const batch of raw) {
    const bytes = batch.messages.reduce((n, m) => n + String(m.value).length + String(m.key).length + 32, 0);
    assert.ok(bytes <= batchBytes, `a batch of ${bytes} bytes`);
  }
});
