// The enricher service's lookup index writer (LOOKUP_INDEX, on by default) against the real Kafka and
// Redis: once the enricher has written the events, the index topic holds blocks that cover each events
// partition from its start to its end with no gap, and count every event written. test/integration/
// lookup.test.ts drives startIndexer on its own; this one, the service as it runs.
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
  kafka = createKafka({ brokers, clientId: "enricher-index-test" });
});

after(async () => {
  for (const e of running) await e.stop().catch(() => {});
});

test("the enricher's lookup index covers every events partition without a gap and counts every event", async () => {
  const name = uniqueName("enr-idx");
  const topics = { raw: `${name}.raw`, events: `${name}.events`, dlq: `${name}.dlq`, index: `${name}.events.index` };
  const groupId = `${name}-group`;
  await ensureTopics(kafka, [
    { topic: topics.raw, partitions: 3 },
    { topic: topics.events, partitions: 3 },
    { topic: topics.dlq, partitions: 1 },
  ]);
  const truth = rawRecords({ total: 3_000, copyShare: 0.3, spread: 600, seed: 7 });
  await produceRaw(kafka, topics.raw, truth.records, { chunk: 1_000 });
  const config = loadSettings({
    KAFKA_BROKERS: brokers.join(","),
    REDIS_URL: redisUrl,
    TOPIC_RAW: topics.raw,
    TOPIC_EVENTS: topics.events,
    TOPIC_DLQ: topics.dlq,
    TOPIC_EVENTS_INDEX: topics.index,
    ENRICHER_GROUP_ID: groupId,
    DEDUP_KEY_PREFIX: `${name}:dedup:`,
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
  const key = blocks[0]?.key;
  assert.ok(key, "the index holds blocks");
  let indexed = 0;
  for (const [partition, end] of ends) {
    const own: IndexBlock[] = blocks
      .filter((b) => b.partition === partition && b.key === key)
      .sort((a, b) => Number(a.from - b.from));
    assert.ok(own.length >= 2, `partition ${partition}: ${own.length} blocks`);
    assert.equal(own[0]?.from, 0n, `partition ${partition} is indexed from its start`);
    for (let i = 1; i < own.length; i++) {
      assert.equal(own[i]?.from, own[i - 1]?.to, `partition ${partition}: block ${i} follows on from the one before`);
    }
    // The last offset of a partition the enricher writes is its last transaction's commit marker,
    // which a read_committed consumer never sees: the index ends just before it.
    const last = own.at(-1)?.to ?? 0n;
    assert.ok(end - last <= 1n, `partition ${partition} is indexed to its end (${last} of ${end})`);
    indexed += own.reduce((n, b) => n + b.records, 0);
  }
  assert.equal(indexed, truth.identities.size, "the blocks count every event once");
});
