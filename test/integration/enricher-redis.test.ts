// The enricher when Redis goes away: by default it stops consuming, reports not ready, retries, and
// loses nothing once Redis is back (a Redis that lost its keys can only let copies through). With
// DEDUP_ON_REDIS_DOWN=pass it lets records through, flagged `dedup: "unchecked"`.
// Each test runs its own redis-server (the shared one on 6379 is never restarted).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createLogger } from "../../packages/runtime/src/index.ts";
import { type Enricher, loadSettings, start as startEnricher } from "../../services/enricher/src/index.ts";
import {
  consumerGroupLag,
  createKafka,
  ensureTopics,
  freePort,
  type Kafka,
  PrivateRedis,
  produceRaw,
  rawRecords,
  waitForLag0,
} from "../support/enricher.ts";
import { endpoints, requireReachable, uniqueName } from "../support/servers.ts";
import { readTopic } from "../support/topic-reader.ts";

let kafka: Kafka;
let brokers: string[];
const cleanup: Array<() => Promise<void>> = [];

before(async () => {
  const e = await endpoints();
  brokers = e.kafkaBrokers;
  await requireReachable("Kafka", brokers[0] ?? "", "KAFKA_BROKERS");
  kafka = createKafka({ brokers, clientId: "enricher-redis-test" });
});

after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {});
});

async function setUp(redisUrl: string, extra: Record<string, string> = {}) {
  const name = uniqueName("enr-redis");
  const topics = { raw: `${name}.raw`, events: `${name}.events`, dlq: `${name}.dlq` };
  const groupId = `${name}-group`;
  await ensureTopics(kafka, [
    { topic: topics.raw, partitions: 3 },
    { topic: topics.events, partitions: 3 },
    { topic: topics.dlq, partitions: 1 },
  ]);
  const config = loadSettings({
    KAFKA_BROKERS: brokers.join(","),
    REDIS_URL: redisUrl,
    TOPIC_RAW: topics.raw,
    TOPIC_EVENTS: topics.events,
    TOPIC_DLQ: topics.dlq,
    ENRICHER_GROUP_ID: groupId,
    DEDUP_KEY_PREFIX: `${name}:`,
    REDIS_TIMEOUT_MS: "500",
    REDIS_RETRY_MAX_MS: "1000",
    KAFKA_SESSION_TIMEOUT_MS: "10000",
    ...extra,
  });
  const enricher = await startEnricher(config, { log: createLogger("enricher", "error") });
  cleanup.push(() => enricher.stop());
  return { topics, groupId, enricher };
}

async function metric(enricher: Enricher, name: "redisUp" | "redisErrors"): Promise<number> {
  return (await enricher.metrics[name].get()).values[0]?.value ?? Number.NaN;
}

test("Redis killed and restarted mid-run: consuming stops, /readyz says why, nothing is lost", async () => {
  const redis = new PrivateRedis(await freePort());
  await redis.start();
  cleanup.push(() => redis.kill());
  const { topics, groupId, enricher } = await setUp(redis.url);
  const truth = rawRecords({ total: 10_000, copyShare: 0.3, spread: 3_000, seed: 11 });
  const half = truth.records.length / 2;

  await produceRaw(kafka, topics.raw, truth.records.slice(0, half));
  await waitForLag0(kafka, groupId, topics.raw, 60_000);
  assert.deepEqual(enricher.ready(), []);

  await redis.kill();
  await produceRaw(kafka, topics.raw, truth.records.slice(half));
  await new Promise((r) => setTimeout(r, 4_000));
  assert.ok(enricher.ready().includes("Redis is down"), `not ready: ${enricher.ready()}`);
  assert.equal(await metric(enricher, "redisUp"), 0);
  assert.ok((await metric(enricher, "redisErrors")) > 0);
  const waiting = await consumerGroupLag(kafka, groupId, topics.raw);
  assert.equal(waiting, BigInt(half), "nothing is committed while Redis is down");

  await redis.start();
  await waitForLag0(kafka, groupId, topics.raw, 60_000);
  assert.deepEqual(enricher.ready(), []);
  assert.equal(await metric(enricher, "redisUp"), 1);

  const events = (
    await readTopic(kafka, topics.events, (r) => r.quiet({ keys: truth.identities.size, idleMs: 1_500 }))
  ).keyCounts();
  const missing = [...truth.identities].filter((id) => !events.has(id));
  assert.deepEqual(missing, [], "no event is lost");
  // The restarted Redis forgot the first half's claims: copies arriving after it may pass, nothing else.
  const doubles = [...events.values()].filter((e) => e.count > 1).length;
  const copiesAfter = new Set<string>();
  const seenBefore = new Set(truth.records.slice(0, half).map((r) => r.key));
  for (const r of truth.records.slice(half)) if (seenBefore.has(r.key)) copiesAfter.add(r.key);
  assert.ok(doubles <= copiesAfter.size, `${doubles} doubles, at most ${copiesAfter.size} possible`);
  for (const e of events.values()) assert.equal(e.value.dedup, undefined, "block mode never passes unchecked");
  console.log(`# ${doubles} copies let through by the restarted, empty Redis (of ${copiesAfter.size} possible)`);
});

test("DEDUP_ON_REDIS_DOWN=pass: with no Redis, records go through flagged unchecked, in-batch copies still collapse", async () => {
  const nothing = `redis://127.0.0.1:${await freePort()}`;
  const { topics, groupId, enricher } = await setUp(nothing, { DEDUP_ON_REDIS_DOWN: "pass" });
  const truth = rawRecords({ total: 3_000, copyShare: 0.3, spread: 500, seed: 12 });
  await produceRaw(kafka, topics.raw, truth.records);
  await waitForLag0(kafka, groupId, topics.raw, 60_000);
  const events = (
    await readTopic(kafka, topics.events, (r) => r.quiet({ keys: truth.identities.size, idleMs: 1_500 }))
  ).keyCounts();
  assert.deepEqual(
    [...truth.identities].filter((id) => !events.has(id)),
    [],
  );
  for (const e of events.values()) assert.equal(e.value.dedup, "unchecked");
  const unchecked = (await enricher.metrics.eventsOut.get()).values.find((v) => v.labels.dedup === "unchecked");
  assert.equal(
    unchecked?.value,
    [...events.values()].reduce((n, e) => n + e.count, 0),
  );
  assert.deepEqual(enricher.ready(), [], "pass mode keeps up, so it stays ready");
  assert.equal(await metric(enricher, "redisUp"), 0);
});
