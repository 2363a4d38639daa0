// The ingester's settings, read from the environment once at start. Every problem is reported in
// one go, one line each (packages/runtime's ConfigReader), and the service exits.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { type KafkaSettings, readKafkaSettings } from "@trailstream/kafka";
import { ConfigReader } from "@trailstream/runtime";

export type StartPosition = "trim_horizon" | "latest" | "at_timestamp";

export interface IngesterConfig {
  /** Brokers, client id, TLS and SASL (holds a password: never log it whole). */
  kafka: KafkaSettings;
  redisUrl: string;
  /** Every Redis key of the ingester starts with this (leases, checkpoints, seen files). */
  redisPrefix: string;
  topicRaw: string;
  topicDlq: string;
  /** Partitions given to the raw and DLQ topics when the ingester creates them. */
  topicPartitions: number;
  sqsQueueUrls: string[];
  kinesisStreams: string[];
  kinesisStartPosition: StartPosition;
  kinesisStartTimestamp: Date | undefined;
  /** How long a file's ETag and size are remembered, ms; 0 turns the identical-file skip off. */
  fileSkipWindowMs: number;
  maxFilesInFlight: number;
  metricsPort: number;
  logLevel: string;
  shutdownGraceMs: number;
  region: string;
  s3Endpoint: string | undefined;
  sqsEndpoint: string | undefined;
  kinesisEndpoint: string | undefined;
  /** HTTP version the Kinesis client speaks: AWS uses 2; plain-http emulators such as moto need 1.1. */
  kinesisHttpVersion: "1.1" | "2";
  s3ForcePathStyle: boolean;
  /** SQS long-poll wait, seconds (0..20). */
  sqsWaitSeconds: number;
  /** Visibility timeout given to a received message and renewed while its files are in progress, seconds. */
  sqsVisibilitySeconds: number;
  /** Attempts at a missing or forbidden object before it is dead-lettered. */
  s3MaxAttempts: number;
  /** First retry delay for a missing or forbidden object, seconds (doubles per attempt). */
  s3RetryBaseSeconds: number;
  maxDecompressedBytes: number;
  maxRecordBytes: number;
  /** Records per Kafka produce request. */
  kafkaBatchRecords: number;
  /** How long the raw writer waits to fill a batch, ms. */
  kafkaLingerMs: number;
  /** A raw batch is cut past this many bytes. */
  kafkaBatchBytes: number;
  /** Records larger than this go to the DLQ as too-large (keep it under the broker's message.max.bytes). */
  kafkaMaxMessageBytes: number;
  /** This replica's name in leases. */
  workerId: string;
  leaseDurationMs: number;
  /** How often leases are renewed and rebalanced, ms. */
  leaseRenewMs: number;
  /** Sleep between GetRecords calls that return nothing, ms. */
  kinesisIdleMs: number;
  kinesisMaxRecords: number;
  /** How often ListShards runs to find new shards, ms. */
  shardSyncMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const DURATION = /^(\d+)(ms|s|m|h|d)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `250ms`, `30s`, `15m`, `2h`, `1d`, or a bare number of seconds. */
export function parseDuration(raw: string): number | undefined {
  const m = DURATION.exec(raw.trim());
  if (!m) return undefined;
  return Number(m[1]) * (UNIT_MS[m[2] ?? "s"] ?? 1_000);
}

export function loadSettings(env: Env = process.env): IngesterConfig {
  const r = new ConfigReader(env);
  const duration = (name: string, fallbackMs: number): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallbackMs;
    const ms = parseDuration(raw);
    r.require(ms !== undefined, `${name} must be a duration like 250ms, 30s, 15m or 2h, not "${raw}"`);
    return ms ?? fallbackMs;
  };

  const kafka = readKafkaSettings(r, "trailstream-ingester");
  const redisUrl = r.redisUrl();

  const sqsQueueUrls = r.list("SQS_QUEUE_URLS");
  for (const u of sqsQueueUrls) r.require(/^https?:\/\//.test(u), `SQS_QUEUE_URLS: "${u}" is not an http(s) URL`);
  const kinesisStreams = r.list("KINESIS_STREAMS");
  const kinesisStartPosition = r.oneOf<StartPosition>(
    "KINESIS_START_POSITION",
    ["trim_horizon", "latest", "at_timestamp"],
    "trim_horizon",
  );
  const rawTimestamp = r.optionalString("KINESIS_START_TIMESTAMP");
  let kinesisStartTimestamp: Date | undefined;
  if (rawTimestamp !== undefined) {
    const t = /^\d+(\.\d+)?$/.test(rawTimestamp) ? new Date(Number(rawTimestamp) * 1000) : new Date(rawTimestamp);
    r.require(
      !Number.isNaN(t.getTime()),
      `KINESIS_START_TIMESTAMP must be an ISO time or epoch seconds, not "${rawTimestamp}"`,
    );
    if (!Number.isNaN(t.getTime())) kinesisStartTimestamp = t;
  }
  r.require(
    kinesisStartPosition !== "at_timestamp" || rawTimestamp !== undefined,
    "KINESIS_START_TIMESTAMP is required when KINESIS_START_POSITION is at_timestamp",
  );

  const awsEndpoint = r.optionalString("AWS_ENDPOINT_URL");
  const leaseDurationMs = duration("LEASE_DURATION", 30_000);
  const leaseRenewMs = duration("LEASE_RENEW_INTERVAL", Math.max(100, Math.floor(leaseDurationMs / 3)));
  r.require(leaseRenewMs < leaseDurationMs, "LEASE_RENEW_INTERVAL must be shorter than LEASE_DURATION");
  const sqsVisibilitySeconds = r.integer("SQS_VISIBILITY_TIMEOUT_SECONDS", 120, { min: 5, max: 43_200 });

  const config: IngesterConfig = {
    kafka,
    redisUrl,
    redisPrefix: r.string("REDIS_KEY_PREFIX", "trailstream:ingester:"),
    topicRaw: r.string("TOPIC_RAW", "cloudtrail.raw"),
    topicDlq: r.string("TOPIC_DLQ", "cloudtrail.dlq"),
    topicPartitions: r.integer("TOPIC_PARTITIONS", 6, { min: 1, max: 10_000 }),
    sqsQueueUrls,
    kinesisStreams,
    kinesisStartPosition,
    kinesisStartTimestamp,
    fileSkipWindowMs: duration("FILE_SKIP_WINDOW", 24 * 3_600_000),
    maxFilesInFlight: r.integer("MAX_FILES_IN_FLIGHT", 8, { min: 1, max: 1_000 }),
    metricsPort: r.integer("METRICS_PORT", 9401, { min: 0, max: 65_535 }),
    logLevel: r.oneOf("LOG_LEVEL", ["trace", "debug", "info", "warn", "error", "fatal", "silent"], "info"),
    shutdownGraceMs: r.integer("SHUTDOWN_GRACE_MS", 30_000, { min: 100, max: 3_600_000 }),
    region: r.string("AWS_REGION", env.AWS_DEFAULT_REGION ?? "us-east-1"),
    s3Endpoint: r.optionalString("AWS_ENDPOINT_URL_S3") ?? awsEndpoint,
    sqsEndpoint: r.optionalString("AWS_ENDPOINT_URL_SQS") ?? awsEndpoint,
    kinesisEndpoint: r.optionalString("AWS_ENDPOINT_URL_KINESIS") ?? awsEndpoint,
    kinesisHttpVersion: r.oneOf<"1.1" | "2">(
      "KINESIS_HTTP_VERSION",
      ["1.1", "2"],
      (r.optionalString("AWS_ENDPOINT_URL_KINESIS") ?? awsEndpoint ?? "https:").startsWith("http:") ? "1.1" : "2",
    ),
    s3ForcePathStyle: r.boolean("S3_FORCE_PATH_STYLE", awsEndpoint !== undefined),
    sqsWaitSeconds: r.integer("SQS_WAIT_SECONDS", 20, { min: 0, max: 20 }),
    sqsVisibilitySeconds,
    s3MaxAttempts: r.integer("S3_MAX_ATTEMPTS", 5, { min: 1, max: 100 }),
    s3RetryBaseSeconds: r.integer("S3_RETRY_BASE_SECONDS", 10, { min: 0, max: 3_600 }),
    maxDecompressedBytes: r.integer("MAX_DECOMPRESSED_BYTES", 1024 ** 3, { min: 1024 }),
    maxRecordBytes: r.integer("MAX_RECORD_BYTES", 1024 ** 2, { min: 1024 }),
    kafkaBatchRecords: r.integer("KAFKA_BATCH_RECORDS", 500, { min: 1, max: 100_000 }),
    kafkaLingerMs: r.integer("KAFKA_LINGER_MS", 5, { min: 0, max: 10_000 }),
    kafkaBatchBytes: r.integer("KAFKA_BATCH_BYTES", 512 * 1024, { min: 1024 }),
    kafkaMaxMessageBytes: r.integer("KAFKA_MAX_MESSAGE_BYTES", 1_000_000, { min: 1024 }),
    workerId: r.string("INGESTER_ID", `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`),
    leaseDurationMs,
    leaseRenewMs,
    kinesisIdleMs: r.integer("KINESIS_IDLE_MS", 1_000, { min: 0, max: 60_000 }),
    kinesisMaxRecords: r.integer("KINESIS_MAX_RECORDS", 10_000, { min: 1, max: 10_000 }),
    shardSyncMs: duration("KINESIS_SHARD_SYNC_INTERVAL", 30_000),
  };
  r.require(
    config.sqsQueueUrls.length + config.kinesisStreams.length > 0,
    "nothing to read: set SQS_QUEUE_URLS and/or KINESIS_STREAMS",
  );
  r.done();
  return config;
}
