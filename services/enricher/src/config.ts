// The enricher's settings, from the environment, checked all at once (docs/enricher.md lists them).
import { readFileSync } from "node:fs";
import { type EventSelectors, EventSelectorsError, eventSelectorsFromSetting } from "@trailstream/cloudtrail";
import { type KafkaSettings, readKafkaSettings } from "@trailstream/kafka";
import { ConfigReader } from "@trailstream/runtime";

export { parseDuration } from "@trailstream/runtime";

export type RedisDownMode = "block" | "pass";

export interface EnricherConfig {
  kafka: KafkaSettings;
  /** Holds a password when the URL has one: log it only through safeUrl(). */
  redisUrl: string;
  topicRaw: string;
  topicEvents: string;
  topicDlq: string;
  /** Partitions of a topic this service creates because it is missing (TOPIC_PARTITIONS). */
  topicPartitions: number;
  groupId: string;
  /** Transactional ids are `<prefix>.<raw topic>.<partition>`. */
  transactionalIdPrefix: string;
  dedupTtlMs: number;
  dedupKeyPrefix: string;
  /** Claim hashes per hour (claims.ts): an hour's unique events / this should stay under ~100. */
  dedupShardsPerHour: number;
  /** EVENT_SELECTORS: events no selector keeps are dropped before Redis; undefined keeps all. */
  eventSelectors: EventSelectors | undefined;
  onRedisDown: RedisDownMode;
  /** One Redis round trip may take this long before it counts as failed. */
  redisTimeoutMs: number;
  /** Backoff between Redis attempts while it is down: doubles from 100 ms up to this. */
  redisRetryMaxMs: number;
  sessionTimeoutMs: number;
  transactionTimeoutMs: number;
  partitionsConcurrently: number;
  maxBytesPerPartition: number;
  metricsPort: number;
  logLevel: string;
  shutdownGraceMs: number;
}

export function loadSettings(env: Readonly<Record<string, string | undefined>> = process.env): EnricherConfig {
  const r = new ConfigReader(env);
  const kafka = readKafkaSettings(r, "trailstream-enricher");
  const redisUrl = r.redisUrl();
  const groupId = r.string("ENRICHER_GROUP_ID", "trailstream-enricher");
  const config: EnricherConfig = {
    kafka,
    redisUrl,
    topicRaw: r.string("TOPIC_RAW", "cloudtrail.raw"),
    topicEvents: r.string("TOPIC_EVENTS", "cloudtrail.events"),
    topicDlq: r.string("TOPIC_DLQ", "cloudtrail.dlq"),
    topicPartitions: r.integer("TOPIC_PARTITIONS", 6, { min: 1, max: 10_000 }),
    groupId,
    transactionalIdPrefix: r.string("ENRICHER_TRANSACTIONAL_ID_PREFIX", groupId),
    dedupTtlMs: r.duration("DEDUP_TTL", "24h", 1_000),
    dedupKeyPrefix: r.string("DEDUP_KEY_PREFIX", "dedup:"),
    dedupShardsPerHour: r.integer("DEDUP_SHARDS_PER_HOUR", 1_024, { min: 1, max: 1_048_576 }),
    eventSelectors: readSelectors(r),
    onRedisDown: r.oneOf("DEDUP_ON_REDIS_DOWN", ["block", "pass"] as const, "block"),
    redisTimeoutMs: r.integer("REDIS_TIMEOUT_MS", 2_000, { min: 10, max: 60_000 }),
    redisRetryMaxMs: r.integer("REDIS_RETRY_MAX_MS", 5_000, { min: 100, max: 300_000 }),
    sessionTimeoutMs: r.integer("KAFKA_SESSION_TIMEOUT_MS", 30_000, { min: 6_000, max: 300_000 }),
    transactionTimeoutMs: r.integer("KAFKA_TRANSACTION_TIMEOUT_MS", 60_000, { min: 1_000, max: 900_000 }),
    partitionsConcurrently: r.integer("ENRICHER_PARTITIONS_CONCURRENTLY", 4, { min: 1, max: 64 }),
    maxBytesPerPartition: r.integer("KAFKA_MAX_BYTES_PER_PARTITION", 1_048_576, { min: 1_024, max: 104_857_600 }),
    metricsPort: r.integer("METRICS_PORT", 9402, { min: 0, max: 65_535 }),
    logLevel: r.oneOf("LOG_LEVEL", ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const, "info"),
    shutdownGraceMs: r.integer("SHUTDOWN_GRACE_MS", 25_000, { min: 0, max: 600_000 }),
  };
  r.require(
    new Set([config.topicRaw, config.topicEvents, config.topicDlq]).size === 3,
    "TOPIC_RAW, TOPIC_EVENTS and TOPIC_DLQ must be three different topics",
  );
  r.done();
  return config;
}

/** EVENT_SELECTORS: put-event-selectors JSON, inline or the path of a file. */
function readSelectors(r: ConfigReader): EventSelectors | undefined {
  const setting = r.optionalString("EVENT_SELECTORS");
  if (setting === undefined) return undefined;
  try {
    return eventSelectorsFromSetting(setting, (path) => readFileSync(path, "utf8"));
  } catch (error) {
    if (!(error instanceof EventSelectorsError)) throw error;
    r.require(false, `EVENT_SELECTORS: ${error.message}`);
    return undefined;
  }
}
