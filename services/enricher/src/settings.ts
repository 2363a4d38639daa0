// The enricher's settings spec: every environment variable it reads, with type, default, range and
// doc. loadSettings() validates from it (every problem at once); scripts/settings-docs.ts writes
// the table in docs/enricher.md from it.

import { readFileSync } from "node:fs";
import { type EventSelectors, EventSelectorsError, eventSelectorsFromSetting } from "@trailstream/cloudtrail";
import { groupInstanceIdSetting, kafkaSetting } from "@trailstream/kafka";
import { redisSetting } from "@trailstream/redis";
import { type Env, loadSpec, type SettingsOf, setting, shellSpec } from "@trailstream/runtime";

export type RedisDownMode = "block" | "pass";

export const SETTINGS = {
  kafka: kafkaSetting("trailstream-enricher"),
  redis: redisSetting,
  topicRaw: setting.string("TOPIC_RAW", "cloudtrail.raw", "Topic read (created when missing)"),
  topicEvents: setting.string("TOPIC_EVENTS", "cloudtrail.events", "Topic the unique, enriched events go to"),
  topicDlq: setting.string("TOPIC_DLQ", "cloudtrail.dlq", "Dead-letter topic"),
  topicPartitions: setting.integer(
    "TOPIC_PARTITIONS",
    6,
    { min: 1, max: 10_000 },
    "Partitions of a topic the enricher creates because it is missing",
  ),
  groupId: setting.string("ENRICHER_GROUP_ID", "trailstream-enricher", "Kafka consumer group"),
  groupInstanceId: groupInstanceIdSetting,
  transactionalIdPrefix: setting.group(
    [
      {
        name: "ENRICHER_TRANSACTIONAL_ID_PREFIX",
        type: "string",
        default: "ENRICHER_GROUP_ID",
        range: "",
        doc: "Transactional ids are `<prefix>.<raw topic>.<partition>`",
      },
    ],
    (r) => r.string("ENRICHER_TRANSACTIONAL_ID_PREFIX", r.string("ENRICHER_GROUP_ID", "trailstream-enricher")),
  ),
  lookupIndex: setting.boolean(
    "LOOKUP_INDEX",
    true,
    "Write the lookup index (a Bloom filter per block of the events topic) that `trailstream lookup` reads",
  ),
  topicEventsIndex: setting.group(
    [
      {
        name: "TOPIC_EVENTS_INDEX",
        type: "string",
        default: "<TOPIC_EVENTS>.index",
        range: "",
        doc: "Topic of the lookup index (created when missing, 8 partitions per events partition)",
      },
    ],
    (r) => r.string("TOPIC_EVENTS_INDEX", `${r.string("TOPIC_EVENTS", "cloudtrail.events")}.index`),
  ),
  lookupIndexBlockRecords: setting.integer(
    "LOOKUP_INDEX_BLOCK_RECORDS",
    2_000,
    { min: 1, max: 1_000_000 },
    "A lookup index block closes at this many records of an events partition",
  ),
  lookupIndexBlockAgeMs: setting.duration(
    "LOOKUP_INDEX_BLOCK_AGE",
    "1m",
    { min: "100ms" },
    "...or once it spans this much time (the newest records are unindexed until then)",
  ),
  decodeThreads: setting.integer(
    "DECODE_THREADS",
    1,
    { min: 0, max: 1 },
    "A worker thread that decodes, enriches and writes out each batch (the event loop drives Kafka and Redis); 0: on the event loop",
  ),
  dedupTtlMs: setting.duration("DEDUP_TTL", "24h", { min: "1s" }, "How long an event identity is remembered"),
  dedupKeyPrefix: setting.string("DEDUP_KEY_PREFIX", "dedup:", "Start of every dedup key in Redis"),
  dedupShardsPerHour: setting.integer(
    "DEDUP_SHARDS_PER_HOUR",
    1_024,
    { min: 1, max: 1_048_576 },
    "Claim hashes per event hour: an hour's unique events / this should stay under ~100",
  ),
  eventSelectors: setting.group(
    [
      {
        name: "EVENT_SELECTORS",
        type: "json",
        default: "",
        range: "inline JSON or a file path",
        doc: "put-event-selectors JSON: events it drops are not written",
      },
    ],
    (r): EventSelectors | undefined => {
      const value = r.optionalString("EVENT_SELECTORS");
      if (value === undefined) return undefined;
      try {
        return eventSelectorsFromSetting(value, (path) => readFileSync(path, "utf8"));
      } catch (error) {
        if (!(error instanceof EventSelectorsError)) throw error;
        r.require(false, `EVENT_SELECTORS: ${error.message}`);
        return undefined;
      }
    },
  ),
  onRedisDown: setting.oneOf<RedisDownMode>(
    "DEDUP_ON_REDIS_DOWN",
    ["block", "pass"],
    "block",
    "Redis unreachable: stop consuming (block) or pass records through unchecked (pass)",
  ),
  // 10 s, not kafkajs's 30 s: a killed instance, or one kafkajs restarted as a new member after a
  // broker outage longer than its retries, holds its partitions this long
  // (test/integration/kafka-broker-restart.test.ts). The enricher heartbeats between batches and
  // while it waits for Redis, and a batch takes well under a second.
  sessionTimeoutMs: setting.integer(
    "KAFKA_SESSION_TIMEOUT_MS",
    10_000,
    { min: 6_000, max: 300_000 },
    "Consumer group session timeout: how long a killed or restarted instance holds its partitions, ms",
  ),
  transactionTimeoutMs: setting.integer(
    "KAFKA_TRANSACTION_TIMEOUT_MS",
    60_000,
    { min: 1_000, max: 900_000 },
    "A transaction open longer than this is aborted by the broker, ms",
  ),
  maxBytesPerPartition: setting.integer(
    "KAFKA_MAX_BYTES_PER_PARTITION",
    1_048_576,
    { min: 1_024, max: 104_857_600 },
    "Bytes fetched per partition and request",
  ),
  ...shellSpec({ metricsPort: 9402, shutdownGraceMs: 25_000 }),
};

export type EnricherConfig = SettingsOf<typeof SETTINGS>;

export function loadSettings(env: Env = process.env, warn?: (message: string) => void): EnricherConfig {
  return loadSpec(
    SETTINGS,
    env,
    (v, r) =>
      r.require(
        new Set([v.topicRaw, v.topicEvents, v.topicDlq, v.topicEventsIndex]).size === 4,
        "TOPIC_RAW, TOPIC_EVENTS, TOPIC_DLQ and TOPIC_EVENTS_INDEX must be four different topics",
      ),
    warn,
  );
}
