// The transactional pipe opens a poll's transaction while the poll's batches are handled: once
// records flow, AddPartitionsToTxn (the partitions the last transaction wrote to) and
// AddOffsetsToTxn go to the broker while the handler still works, so only the produce, the
// offsets and the commit follow it. A poll given up after its transaction opened (the handler
// threw) aborts that transaction, and its batches come again: the output stays exactly once.
import assert from "node:assert/strict";
import dc from "node:diagnostics_channel";
import { after, before, test } from "node:test";
import { createKafka, ensureTopics, openProducer, type PipeEvent, startTransactionalPipe } from "@trailstream/kafka";
import { endpoints, requireReachable, uniqueName } from "../support/servers.ts";
import { readTopic } from "../support/topic-reader.ts";
import { eventually } from "../support/wait.ts";

/** Kafka API keys of the transaction's two additions. */
const ADD_PARTITIONS_TO_TXN = 24;
const ADD_OFFSETS_TO_TXN = 25;

let kafka: ReturnType<typeof createKafka>;
/** When each AddPartitionsToTxn and AddOffsetsToTxn request was written to a connection. */
const sent: { apiKey: number; at: number }[] = [];
const api = dc.tracingChannel("plt:kafka:connections:api");
const onRequest = {
  start(message: unknown) {
    const apiKey = (message as { apiKey?: number }).apiKey;
    if (apiKey === ADD_PARTITIONS_TO_TXN || apiKey === ADD_OFFSETS_TO_TXN) sent.push({ apiKey, at: performance.now() });
  },
  end() {},
  asyncStart() {},
  asyncEnd() {},
  error() {},
};

before(async () => {
  const { kafkaBrokers } = await endpoints();
  await requireReachable("Kafka", kafkaBrokers[0] ?? "", "KAFKA_BROKERS");
  kafka = createKafka({ brokers: kafkaBrokers, clientId: "pipe-open-test" });
  api.subscribe(onRequest);
});

const pipes: Array<{ close(drainMs?: number): Promise<void> }> = [];
after(async () => {
  api.unsubscribe(onRequest);
  for (const p of pipes) await p.close(1_000).catch(() => {});
});

test("a poll's transaction takes in its partitions and offsets while the poll is handled; a poll given up aborts it", async () => {
  const name = uniqueName("pipe-open");
  const topics = { in: `${name}.in`, out: `${name}.out` };
  await ensureTopics(kafka, [
    { topic: topics.in, partitions: 2 },
    { topic: topics.out, partitions: 2 },
  ]);
  const producer = await openProducer(kafka);
  const events: PipeEvent[] = [];
  /** The time span of each handler call, and the values it saw. */
  const handled: { from: number; to: number; values: string[] }[] = [];
  let failOnce = true;
  const pipe = await startTransactionalPipe(kafka, {
    groupId: `${name}-group`,
    inputTopic: topics.in,
    transactionalIdPrefix: name,
    onEvent: (event) => events.push(event),
    handlePoll: async (batches) => {
      const from = performance.now();
      const values = batches.flatMap((b) => b.messages.map((m) => m.value?.toString() ?? ""));
      // Long enough that a transaction opened with the poll has its additions answered meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 400));
      handled.push({ from, to: performance.now(), values });
      if (failOnce && values.includes("burst-3-0")) {
        failOnce = false;
        throw new Error("the handler fails once, after the poll's transaction opened");
      }
      return {
        records: batches.flatMap((b) =>
          b.messages.map((m) => ({ topic: topics.out, key: m.key?.toString() ?? null, value: m.value ?? "" })),
        ),
      };
    },
  });
  pipes.push(pipe);
  try {
    await pipe.started;
    const expected: string[] = [];
    // Bursts one at a time, each committed before the next: every burst is a poll of its own.
    for (let burst = 1; burst <= 4; burst++) {
      const values = Array.from({ length: 10 }, (_, i) => `burst-${burst}-${i}`);
      expected.push(...values);
      await producer.send(
        topics.in,
        values.map((value, i) => ({ key: `k${i}`, value })),
      );
      await eventually(async () => {
        const committed = events.filter((e) => e.type === "transaction-committed").length;
        assert.ok(committed >= burst, `burst ${burst} committed (${committed} transactions so far)`);
      }, 30_000);
    }
    // Every poll after the first knows which partitions the last transaction wrote to.
    const later = handled.filter((h) => !h.values.includes("burst-1-0"));
    assert.ok(later.length >= 3, `${later.length} polls after the first`);
    for (const h of later) {
      const during = sent.filter((s) => s.at >= h.from && s.at <= h.to).map((s) => s.apiKey);
      assert.ok(
        during.includes(ADD_PARTITIONS_TO_TXN),
        `AddPartitionsToTxn sent while ${h.values[0]}'s poll was handled`,
      );
      assert.ok(during.includes(ADD_OFFSETS_TO_TXN), `AddOffsetsToTxn sent while ${h.values[0]}'s poll was handled`);
    }
    assert.equal(failOnce, false, "the handler failed once");
    assert.equal(handled.filter((h) => h.values.includes("burst-3-0")).length, 2, "the failed poll came again");
    const out = await readTopic(kafka, topics.out);
    const values = out.records.map((r) => r.text).sort();
    assert.deepEqual(values, [...expected].sort(), "every input once on the output, read_committed");
  } finally {
    await producer.close();
  }
});
