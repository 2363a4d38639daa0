// The enricher against the real Kafka and Redis: 100,000 raw records, about 30 % copies spread over
// time and origins, several partitions. The events topic, read with read_committed, must hold every
// identity exactly once, and the metrics must count the copies the input holds. And its lookup index
// writer (LOOKUP_INDEX, on by default) as the service runs it: test/integration/lookup.test.ts drives
// startIndexer on its own.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { decodeIndexBlock, type IndexBlock } from "../../packages/cloudtrail/src/index.ts";
import { type ConsumedMessage, endOffsets, offsetsAt, readRanges } from "../../packages/kafka/src/index.ts";
import { createLogger } from "../../packages/runtime/src/index.ts";
import { type Enricher, loadSettings, start as startEnricher } from "../../services/enricher/src/index.ts";
import { createKafka, ensureTopics, type Kafka, produceRaw, rawRecords, waitForLag0 } from "../support/enricher.ts";
import { endpoints, requireReachable, uniqueName } from "../support/servers.ts";
import { readTopic } from "../support/topic-reader.ts";

let kafka: Kafka;
let brokers: string[];
let redisUrl: string;
const running: Enricher[] = [];

before(async () => {
  const e = await endpoints();
  brokers = e.kafkaBrokers;
  redisUrl = e.redisUrl;
  await requireReachable("Kafka", brokers[0] ?? "", "KAFKA_BROKERS");
  await requireReachable("Redis", redisUrl, "REDIS_URL");
  kafka = createKafka({ brokers, clientId: "enricher-test" });
});

after(async () => {
  for (const e of running) await e.stop().catch(() => {});
});

function counterValue(metric: {
  get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }>;
}) {
  return metric.get().then((m) => {
    const out = new Map<string, number>();
    for (const v of m.values) out.set(Object.values(v.labels).join(","), v.value);
    return out;
  });
}

/** Fresh raw, events and DLQ topics and a group for one test. */
async function freshPipe(prefix: string, partitions: number) {
  const name = uniqueName(prefix);
  const topics = { raw: `${name}.raw`, events: `${name}.events`, dlq: `${name}.dlq`, index: `${name}.events.index` };
  await ensureTopics(kafka, [
    { topic: topics.raw, partitions },
    { topic: topics.events, partitions },
    { topic: topics.dlq, partitions: 1 },
  ]);
  return { name, topics, groupId: `${name}-group` };
}

/** The enricher's settings for a pipe of freshPipe, with `extra` on top. */
function settingsFor(pipe: Awaited<ReturnType<typeof freshPipe>>, extra: Record<string, string>) {
  return loadSettings({
    KAFKA_BROKERS: brokers.join(","),
    REDIS_URL: redisUrl,
    TOPIC_RAW: pipe.topics.raw,
    TOPIC_EVENTS: pipe.topics.events,
    TOPIC_DLQ: pipe.topics.dlq,
    TOPIC_EVENTS_INDEX: pipe.topics.index,
    ENRICHER_GROUP_ID: pipe.groupId,
    DEDUP_KEY_PREFIX: `${pipe.name}:dedup:`,
    ...extra,
  });
}

test("100,000 raw records with 30 % copies: every identity once on the events topic, copies counted", async () => {
  const pipe = await freshPipe("enr", 4);
  const { topics, groupId } = pipe;
  const truth = rawRecords({ total: 100_000, copyShare: 0.3, spread: 20_000, bad: 40, seed: 42 });
  assert.equal(truth.records.length, 100_000);
  const started = Date.now();
  await produceRaw(kafka, topics.raw, truth.records, { chunk: 2_000 });
  const produced = Date.now();

  const config = settingsFor(pipe, { DEDUP_TTL: "10m", KAFKA_SESSION_TIMEOUT_MS: "10000" });
  const enricher = await startEnricher(config, { log: createLogger("enricher", "warn") });
  running.push(enricher);
  await waitForLag0(kafka, groupId, topics.raw, 180_000);
  const enriched = Date.now();

  const events = (
    await readTopic(kafka, topics.events, (r) => r.quiet({ keys: truth.identities.size, idleMs: 2_000 }))
  ).keyCounts();
  const dlq = await readTopic(kafka, topics.dlq, (r) => r.quiet({ keys: truth.bad, idleMs: 500 }));
  const doubles = [...events].filter(([, r]) => r.count !== 1);
  assert.equal(doubles.length, 0, `identities written more than once: ${doubles.slice(0, 5).map(([k]) => k)}`);
  assert.equal(events.size, truth.identities.size);
  for (const identity of truth.identities) assert.ok(events.has(identity), `${identity} is missing`);
  // The first-seen copy's origin is the one kept, with the enrichment beside the record.
  for (const [identity, r] of events) {
    const value = r.value as { origin: { kind: string }; enrichment: { category: string; identity: string } };
    assert.equal(value.origin.kind, truth.firstKind.get(identity), `${identity} keeps its first-seen origin`);
    assert.equal(value.enrichment.identity, identity);
    assert.equal(value.enrichment.category, "management");
  }
  assert.equal(dlq.length, truth.bad, "every bad record is dead-lettered once");

  // The counts from the output and from the metrics agree with the input's truth.
  assert.equal(truth.records.length - truth.bad - events.size, truth.copies);
  const copies = await counterValue(enricher.metrics.copies);
  for (const [kind, n] of truth.copiesByKind) assert.equal(copies.get(kind), n, `copies from ${kind}`);
  const outs = await counterValue(enricher.metrics.eventsOut);
  assert.equal(outs.get("checked"), truth.identities.size);
  assert.equal(outs.get("unchecked"), 0);
  const dlqByReason = await counterValue(enricher.metrics.dlq);
  assert.equal((dlqByReason.get("json") ?? 0) + (dlqByReason.get("missing-event-id") ?? 0), truth.bad);
  const recordsIn = await counterValue(enricher.metrics.recordsIn);
  assert.equal([...recordsIn.values()][0], truth.records.length);
  const lag = await enricher.metrics.lagSeconds.get();
  const lagCount = lag.values.find((v) => v.metricName?.endsWith("_count"));
  assert.equal(lagCount?.value, truth.identities.size, "event lag observed once per event written");
  const transactions = await counterValue(enricher.metrics.transactions);
  const timed = (await enricher.metrics.transactionSeconds.get()).values.find((v) => v.metricName?.endsWith("_count"));
  assert.ok((transactions.get("commit") ?? 0) > 0, "transactions committed");
  assert.equal(timed?.value, transactions.get("commit"), "each committed transaction timed once");
  assert.deepEqual(enricher.ready(), []);

  await enricher.stop();
  const seconds = (enriched - produced) / 1_000;
  console.log(
    `# produced ${truth.records.length} in ${((produced - started) / 1_000).toFixed(1)} s; enriched in ${seconds.toFixed(1)} s ` +
      `(${Math.round(truth.records.length / seconds)} records/s); ${truth.copies} copies collapsed`,
  );
});

test("the enricher's lookup index covers every events partition without a gap and counts every event", async () => {
  const pipe = await freshPipe("enr-idx", 3);
  const { topics, groupId } = pipe;
  const truth = rawRecords({ total: 3_000, copyShare: 0.3, spread: 600, seed: 7 });
  await produceRaw(kafka, topics.raw, truth.records, { chunk: 1_000 });
  const config = settingsFor(pipe, {
    LOOKUP_INDEX: "true",
    LOOKUP_INDEX_BLOCK_RECORDS: "200",
    LOOKUP_INDEX_BLOCK_AGE: "500ms",
  });
  const enricher = await startEnricher(config, { log: createLogger("enricher", "warn") });
  running.push(enricher);
  await waitForLag0(kafka, groupId, topics.raw, 120_000);
  const events = await readTopic(kafka, topics.events, (r) => r.quiet({ keys: truth.identities.size, idleMs: 1_000 }));
  assert.equal(events.keyCounts().size, truth.identities.size);

  // Blocks close at 200 records or half a second: read the index until its blocks count every event.
  const readBlocks = async (): Promise<IndexBlock[]> => {
    const records: ConsumedMessage[] = [];
    const low = await offsetsAt(kafka, topics.index);
    const high = new Map((await endOffsets(kafka, topics.index)).map((p) => [p.partition, p.offset]));
    await readRanges(
      kafka,
      topics.index,
      low.map((p) => ({ partition: p.partition, from: p.offset, to: high.get(p.partition) ?? p.offset })),
      { handle: (m) => void records.push(...m) },
    );
    const blocks = records.map((r) => decodeIndexBlock(r.value)).filter((b): b is IndexBlock => b !== null);
    assert.equal(blocks.length, records.length, "every index record decodes");
    return blocks;
  };
  const counted = (blocks: IndexBlock[], key: string) =>
    blocks.filter((b) => b.key === key).reduce((n, b) => n + b.records, 0);
  const until = Date.now() + 60_000;
  let blocks: IndexBlock[] = await readBlocks();
  while (blocks.length === 0 || counted(blocks, blocks[0]?.key ?? "") < truth.identities.size) {
    assert.ok(Date.now() < until, `the enricher indexed the events within a minute (${blocks.length} blocks)`);
    await new Promise((r) => setTimeout(r, 500));
    blocks = await readBlocks();
  }
  const ends = new Map((await endOffsets(kafka, topics.events)).map((p) => [p.partition, p.offset]));
  /** Records a read_committed reader gets from the events partition in [from, to). */
  const committedRecordsIn = async (partition: number, from: bigint, to: bigint) => {
    let count = 0;
    if (to <= from) return count;
    await readRanges(kafka, topics.events, [{ partition, from, to }], {
      handle: (m) => {
        count += m.length;
      },
      idleMs: 500,
    });
    return count;
  };
  const key = blocks[0]?.key;
  assert.ok(key, "the index holds blocks");
  let indexed = 0;
  for (const [partition, end] of ends) {
    const own: IndexBlock[] = blocks
      .filter((b) => b.partition === partition && b.key === key)
      .sort((a, b) => Number(a.from - b.from));
    assert.ok(own.length >= 2, `partition ${partition}: ${own.length} blocks`);
    // The index starts at the partition's first committed record: what precedes it, if anything,
    // is records of transactions that aborted (a transaction can fail and come again) and markers.
    const first = own[0]?.from ?? 0n;
    assert.equal(
      await committedRecordsIn(partition, 0n, first),
      0,
      `partition ${partition} is indexed from its first record (${first})`,
    );
    for (let i = 1; i < own.length; i++) {
      assert.equal(own[i]?.from, own[i - 1]?.to, `partition ${partition}: block ${i} follows on from the one before`);
    }
    // A partition ends in commit markers, which a read_committed consumer never sees: the last
    // transaction's, and those of transactions that took the partition in but wrote elsewhere (the
    // pipe adds the last transaction's partitions as the next one opens). The index ends at or
    // before them, with no committed record after it.
    const last = own.at(-1)?.to ?? 0n;
    assert.equal(
      await committedRecordsIn(partition, last, end),
      0,
      `partition ${partition} is indexed to its last record (${last} of ${end})`,
    );
    indexed += own.reduce((n, b) => n + b.records, 0);
  }
  assert.equal(indexed, truth.identities.size, "the blocks count every event once");
});
