// After a Kafka broker restart every kind of client trailstream uses (the ingester's idempotent
// producer, the enricher's transactional pipe, the alerter's prefetching batch consumer) resumes
// within a few seconds of the broker being ready again, however long it was away. On a broker of
// the test's own (test/support/private-servers.ts), which it stops and starts; the shared stack is
// only where the Kafka jars come from. Slow (two broker starts, about a minute or two).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  createKafka,
  ensureTopics,
  type KafkaLog,
  openProducer,
  startBatchConsumer,
  startTransactionalPipe,
} from "@trailstream/kafka";
import { PrivateKafka } from "../support/private-servers.ts";
import { eventually } from "../support/wait.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Every refused connection is an error line; the test judges by timings, not by the client's log.
const quiet: KafkaLog = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

/** A producer that was retrying during the outage sends within this of the broker being ready. */
const PRODUCE_GOAL_MS = 3_000;
/**
 * The bound for one record through the pipe and the consumer today: a consumer that kafkajs
 * restarted during the outage rejoins its group as a new member, and the coordinator, which
 * reloaded the old member with the group, waits out that member's session timeout (30 s) before
 * the group is formed again (docs/benchmarks.md, fault campaign).
 */
const SESSION_TIMEOUT_MS = 30_000;
/** Long enough for kafkajs's backoff to grow to its cap before the broker starts again. */
const DOWN_MS = 20_000;

test("a broker restart: the producer resumes within seconds of the broker being ready, the pipe and the consumer within the session timeout", {
  timeout: 8 * 60_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "broker-restart-"));
  const broker = await PrivateKafka.create(join(dir, "kafka"));
  // One hook, clients first: node:test runs after hooks in the order they were added, and a client
  // closed after its broker is gone retries for many minutes (the test process did not exit).
  let closeClients = async (): Promise<unknown> => undefined;
  t.after(async () => {
    await closeClients();
    await broker.stop("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });
  await broker.start();

  const kafka = createKafka({ brokers: [broker.brokers], clientId: "broker-restart-test" }, quiet);
  await ensureTopics(kafka, [
    { topic: "in", partitions: 2 },
    { topic: "out", partitions: 2 },
  ]);
  const producer = await openProducer(kafka);
  const piped = new Map<string, number>();
  const pipe = await startTransactionalPipe(kafka, {
    groupId: "pipe",
    inputTopic: "in",
    transactionalIdPrefix: "restart-test",
    handle: async (batch) => {
      for (const m of batch.messages) {
        const key = m.key?.toString("utf8") ?? "";
        if (!piped.has(key)) piped.set(key, Date.now());
      }
      return {
        records: batch.messages.map((m) => ({
          topic: "out",
          key: m.key?.toString("utf8") ?? null,
          value: m.value ?? "",
        })),
      };
    },
  });
  const seen = new Map<string, number>();
  const consumer = await startBatchConsumer(kafka, {
    groupId: "reader",
    topics: ["out"],
    prefetch: true,
    handle: async (batch) => {
      for (const m of batch.messages) {
        const key = m.key?.toString("utf8") ?? "";
        if (!seen.has(key)) seen.set(key, Date.now());
      }
    },
  });
  closeClients = () => Promise.allSettled([consumer.close(), pipe.close(), producer.close()]);
  await Promise.all([pipe.started, consumer.started]);
  await producer.send("in", [{ key: "before", value: "1" }]);
  await eventually(async () => assert.ok(seen.has("before"), "the record before the restart came through"), 60_000);

  await broker.stop("SIGTERM");
  // Sent while the broker is away and kept trying, as the ingester does (a failed send comes again).
  let sentAt: number | undefined;
  const sending = (async () => {
    for (;;) {
      try {
        await producer.send("in", [{ key: "after", value: "2" }]);
        sentAt = Date.now();
        return;
      } catch {
        await sleep(100);
      }
    }
  })();
  await sleep(DOWN_MS);
  await broker.start();
  const readyAt = Date.now();

  await eventually(async () => assert.ok(seen.has("after")), 120_000);
  await sending;
  const through = (seen.get("after") ?? 0) - readyAt;
  const inPipe = (piped.get("after") ?? 0) - readyAt;
  const produced = (sentAt ?? 0) - readyAt;
  t.diagnostic(
    `from the broker ready: produced after ${produced} ms, handled by the pipe after ${inPipe} ms, read after ${through} ms`,
  );
  assert.ok(pipe.running() && consumer.running(), "both consumers still run");
  assert.ok(
    produced < PRODUCE_GOAL_MS,
    `the producer sent ${produced} ms after the broker was ready (goal < ${PRODUCE_GOAL_MS} ms): kafkajs's backoff cap`,
  );
  assert.ok(
    through < SESSION_TIMEOUT_MS + 15_000,
    `the record came through ${through} ms after the broker was ready (bound: the 30 s session timeout and a rejoin)`,
  );
});
