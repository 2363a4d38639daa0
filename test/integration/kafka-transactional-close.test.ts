// The transactional pipe's close is bounded: a poll that never finishes (a handler stuck on a
// server that does not answer) is given up after drainMs, the producer and the group membership are
// closed under it, and the batch it held comes again to the next owner of the partition, whose
// output a read_committed reader sees once. The service shell's SIGTERM relies on this: its grace
// period would otherwise end the process with exit code 1.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createKafka, ensureTopics, openProducer, type PipeEvent, startTransactionalPipe } from "@trailstream/kafka";
import { endpoints, requireReachable, uniqueName } from "../support/servers.ts";
import { readTopic } from "../support/topic-reader.ts";
import { eventually } from "../support/wait.ts";

let kafka: ReturnType<typeof createKafka>;

before(async () => {
  const { kafkaBrokers } = await endpoints();
  await requireReachable("Kafka", kafkaBrokers[0] ?? "", "KAFKA_BROKERS");
  kafka = createKafka({ brokers: kafkaBrokers, clientId: "pipe-close-test" });
});

const pipes: Array<{ close(drainMs?: number): Promise<void> }> = [];
after(async () => {
  for (const p of pipes) await p.close(1_000).catch(() => {});
});

test("close(drainMs) gives up a poll that never finishes; the next owner gets its batch, once", async () => {
  const name = uniqueName("pipe-close");
  const topics = { in: `${name}.in`, out: `${name}.out` };
  await ensureTopics(kafka, [
    { topic: topics.in, partitions: 1 },
    { topic: topics.out, partitions: 1 },
  ]);
  const producer = await openProducer(kafka);
  try {
    await producer.send(
      topics.in,
      Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    );
  } finally {
    await producer.close();
  }
  const options = {
    groupId: `${name}-group`,
    inputTopic: topics.in,
    transactionalIdPrefix: name,
    sessionTimeoutMs: 6_000,
  };

  const stuckEvents: PipeEvent[] = [];
  let stuckHandling = false;
  const stuck = await startTransactionalPipe(kafka, {
    ...options,
    onEvent: (event) => stuckEvents.push(event),
    handle: async () => {
      stuckHandling = true;
      // Ignores isActive(): as a handler waiting on a server that never answers.
      return new Promise(() => {});
    },
  });
  pipes.push(stuck);
  await eventually(async () => assert.ok(stuckHandling, "the stuck pipe took the batch"), 30_000, 100);

  const closing = Date.now();
  await stuck.close(1_000);
  const tookMs = Date.now() - closing;
  assert.ok(tookMs < 15_000, `close returned ${tookMs} ms after it was asked, not never`);
  assert.ok(
    stuckEvents.some((e) => e.type === "drain-timeout" && e.ms === 1_000),
    `a drain-timeout event: ${JSON.stringify(stuckEvents.map((e) => e.type))}`,
  );
  assert.equal(stuck.running(), false);

  const next = await startTransactionalPipe(kafka, {
    ...options,
    handle: async (batch) => ({
      records: batch.messages.map((m) => ({ topic: topics.out, key: m.key?.toString() ?? null, value: m.value ?? "" })),
    }),
  });
  pipes.push(next);
  try {
    const out = await readTopic(kafka, topics.out, (r) => r.quiet({ keys: 20, idleMs: 1_000, timeoutMs: 60_000 }));
    const counts = out.keyCounts();
    assert.equal(counts.size, 20, "every input record came out");
    for (const [key, c] of counts) assert.equal(c.count, 1, `${key} once`);
  } finally {
    await next.close();
  }
});
