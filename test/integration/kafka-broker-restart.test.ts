// After a Kafka broker restart every kind of client trailstream uses (the ingester's idempotent
// producer, the enricher's transactional pipe, the alerter's prefetching batch consumer) resumes
// soon after the broker is ready again: the producer within seconds, a consumer within its
// session timeout. On a broker of the test's own (test/support/private-servers.ts), which it
// stops and starts; the shared stack is only where the Kafka jars come from. Slow (two broker
// starts, about a minute or two).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadSettings as loadEnricherSettings } from "@trailstream/enricher";
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
 * An outage longer than kafkajs's retries (about 27 s: 30 attempts at most 1 s apart) crashes
 * every consumer; kafkajs restarts it as a new group member, and the coordinator, which reloaded
 * the old member with the group, waits out that member's session timeout before the group forms
 * again. So a consumer resumes about one session timeout after the broker is ready: the
 * enricher's default (KAFKA_SESSION_TIMEOUT_MS) is what bounds its outage.
 */
const PIPE_SESSION_MS = loadEnricherSettings({
  KAFKA_BROKERS: "127.0.0.1:9092",
  REDIS_URL: "redis://127.0.0.1:6379",
}).sessionTimeoutMs;
/** The reader's (the alerter's consumer's default is 30 s): not what the test judges. */
const READER_SESSION_MS = 10_000;
/** Time to rejoin and handle a batch once the group forms, on a loaded machine. */
const SLACK_MS = 10_000;
/** The pipe back within this of the broker being ready (with a 30 s session timeout it took 30 s). */
const PIPE_GOAL_MS = 20_000;
/** Long enough for the consumers to run out of retries (they crash) before the broker starts again. */
const DOWN_MS = 30_000;

test("a broker restart: the producer resumes within seconds of the broker being ready, the pipe and the consumer within their session timeout", {
  timeout: 8 * 60_000,
}, async (t) => {
  // What happened when, printed whether the test passes or not.
  const t0 = Date.now();
  const timeline: string[] = [];
  const note = (what: string) => timeline.push(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  const dir = await mkdtemp(join(tmpdir(), "broker-restart-"));
  const broker = await PrivateKafka.create(join(dir, "kafka"));
  // One hook, clients first: node:test runs after hooks in the order they were added, and a client
  // closed after its broker is gone retries for many minutes (the test process did not exit).
  let closeClients = async (): Promise<unknown> => undefined;
  t.after(async () => {
    for (const line of timeline) t.diagnostic(line);
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
    sessionTimeoutMs: PIPE_SESSION_MS,
    onEvent: (event) => {
      if (event.type === "crashed") note(`pipe crashed (restart: ${event.restart}): ${String(event.error)}`);
      if (event.type === "assigned") note(`pipe assigned ${event.partitions.join(", ")}`);
    },
    handle: async (batch) => {
      for (const m of batch.messages) {
        const key = m.key?.toString("utf8") ?? "";
        if (!piped.has(key)) {
          piped.set(key, Date.now());
          note(`pipe handled "${key}"`);
        }
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
    sessionTimeoutMs: READER_SESSION_MS,
    onCrash: (error, restart) => note(`reader crashed (restart: ${restart}): ${String(error)}`),
    handle: async (batch) => {
      for (const m of batch.messages) {
        const key = m.key?.toString("utf8") ?? "";
        if (!seen.has(key)) {
          seen.set(key, Date.now());
          note(`reader read "${key}"`);
        }
      }
    },
  });
  closeClients = () => Promise.allSettled([consumer.close(), pipe.close(), producer.close()]);
  await Promise.all([pipe.started, consumer.started]);
  await producer.send("in", [{ key: "before", value: "1" }]);
  await eventually(async () => assert.ok(seen.has("before"), "the record before the restart came through"), 60_000);

  note("broker stopping");
  await broker.stop("SIGTERM");
  note("broker stopped");
  // Sent while the broker is away and kept trying, as the ingester does (a failed send comes again).
  let sentAt: number | undefined;
  const sending = (async () => {
    for (;;) {
      try {
        await producer.send("in", [{ key: "after", value: "2" }]);
        sentAt = Date.now();
        note("sent");
        return;
      } catch {
        await sleep(100);
      }
    }
  })();
  await sleep(DOWN_MS);
  note("broker starting");
  await broker.start();
  const readyAt = Date.now();
  note("broker ready");

  await eventually(async () => assert.ok(seen.has("after"), "the record sent during the outage came through"), 120_000);
  await sending;
  const through = (seen.get("after") ?? 0) - readyAt;
  const inPipe = (piped.get("after") ?? 0) - readyAt;
  const produced = (sentAt ?? 0) - readyAt;
  t.diagnostic(
    `from the broker ready: produced after ${produced} ms, handled by the pipe after ${inPipe} ms, read after ${through} ms ` +
      `(pipe session timeout ${PIPE_SESSION_MS} ms)`,
  );
  assert.ok(pipe.running() && consumer.running(), "both consumers still run");
  assert.ok(
    produced < PRODUCE_GOAL_MS,
    `the producer sent ${produced} ms after the broker was ready (goal < ${PRODUCE_GOAL_MS} ms): kafkajs's backoff cap`,
  );
  assert.ok(
    inPipe < Math.min(PIPE_GOAL_MS, PIPE_SESSION_MS + SLACK_MS),
    `the pipe handled the record ${inPipe} ms after the broker was ready (goal < ${PIPE_GOAL_MS} ms; its session timeout is ${PIPE_SESSION_MS} ms)`,
  );
  assert.ok(
    through < Math.max(PIPE_SESSION_MS, READER_SESSION_MS) + 2 * SLACK_MS,
    `the record came through ${through} ms after the broker was ready`,
  );
});
