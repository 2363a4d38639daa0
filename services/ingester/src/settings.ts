// The ingester's settings spec: every environment variable it reads, with type, default, range and
// doc. loadSettings() validates from it (every problem at once); scripts/settings-docs.ts writes
// the table in docs/ingester.md from it.

import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { kafkaSetting } from "@trailstream/kafka";
import { redisSetting } from "@trailstream/redis";
import { type Env, loadSpec, type SettingsOf, setting, shellSpec } from "@trailstream/runtime";

export type StartPosition = "trim_horizon" | "latest" | "at_timestamp";

const httpEndpoint = (name: string, doc: string) =>
  setting.group([{ name, type: "url", default: "", range: "", doc }], (r) => {
    const value = r.optionalString(name) ?? r.optionalString("AWS_ENDPOINT_URL");
    return value;
  });

export const SETTINGS = {
  kafka: kafkaSetting("trailstream-ingester"),
  redis: redisSetting,
  redisPrefix: setting.string(
    "REDIS_KEY_PREFIX",
    "trailstream:ingester:",
    "Start of every Redis key the ingester writes (leases, checkpoints, seen files)",
  ),
  topicRaw: setting.string("TOPIC_RAW", "cloudtrail.raw", "Topic the records are written to (created when missing)"),
  topicDlq: setting.string("TOPIC_DLQ", "cloudtrail.dlq", "Dead-letter topic (created when missing)"),
  topicPartitions: setting.integer(
    "TOPIC_PARTITIONS",
    6,
    { min: 1, max: 10_000 },
    "Partitions of a topic the ingester creates",
  ),
  sqsQueueUrls: setting.group(
    [
      {
        name: "SQS_QUEUE_URLS",
        type: "list",
        default: "",
        range: "http(s) URLs",
        doc: "Queues of S3 notifications to read; at least one of this and KINESIS_STREAMS",
      },
    ],
    (r) => {
      const urls = r.list("SQS_QUEUE_URLS");
      for (const u of urls) r.require(/^https?:\/\//.test(u), `SQS_QUEUE_URLS: "${u}" is not an http(s) URL`);
      return urls;
    },
  ),
  kinesisStreams: setting.list("KINESIS_STREAMS", "Kinesis stream names to read"),
  kinesisStartPosition: setting.oneOf<StartPosition>(
    "KINESIS_START_POSITION",
    ["trim_horizon", "latest", "at_timestamp"],
    "trim_horizon",
    "Where a shard with no checkpoint starts",
  ),
  kinesisStartTimestamp: setting.group(
    [
      {
        name: "KINESIS_START_TIMESTAMP",
        type: "time",
        default: "",
        range: "ISO time or epoch seconds",
        doc: "Start time for `at_timestamp` (required then)",
      },
    ],
    (r): Date | undefined => {
      const raw = r.optionalString("KINESIS_START_TIMESTAMP");
      if (raw === undefined) return undefined;
      const t = /^\d+(\.\d+)?$/.test(raw) ? new Date(Number(raw) * 1000) : new Date(raw);
      r.require(
        !Number.isNaN(t.getTime()),
        `KINESIS_START_TIMESTAMP must be an ISO time or epoch seconds, not "${raw}"`,
      );
      return Number.isNaN(t.getTime()) ? undefined : t;
    },
  ),
  fileSkipWindowMs: setting.duration(
    "FILE_SKIP_WINDOW",
    "24h",
    { bareUnit: "s" },
    "How long a file's ETag and size are remembered so an identical file is skipped; 0 turns it off",
  ),
  maxFilesInFlight: setting.integer(
    "MAX_FILES_IN_FLIGHT",
    8,
    { min: 1, max: 1_000 },
    "Bound on SQS messages (files) in progress at once",
  ),
  decodeThreads: setting.integer(
    "DECODE_THREADS",
    1,
    { min: 0, max: 64 },
    "Worker threads that gunzip, parse and encode S3 log files read whole (the event loop only moves their bytes); 0: on the event loop",
  ),
  ...shellSpec({ metricsPort: 9401, shutdownGraceMs: 30_000 }),
  region: setting.group(
    [
      {
        name: "AWS_REGION",
        type: "string",
        default: "us-east-1",
        range: "",
        doc: "AWS region (else AWS_DEFAULT_REGION)",
      },
    ],
    (r) => r.string("AWS_REGION", r.optionalString("AWS_DEFAULT_REGION") ?? "us-east-1"),
  ),
  awsEndpoint: setting.optional("AWS_ENDPOINT_URL", "Endpoint of every AWS service (emulators); per service below"),
  s3Endpoint: httpEndpoint("AWS_ENDPOINT_URL_S3", "Endpoint of S3 (else AWS_ENDPOINT_URL)"),
  sqsEndpoint: httpEndpoint("AWS_ENDPOINT_URL_SQS", "Endpoint of SQS (else AWS_ENDPOINT_URL)"),
  kinesisEndpoint: httpEndpoint("AWS_ENDPOINT_URL_KINESIS", "Endpoint of Kinesis (else AWS_ENDPOINT_URL)"),
  kinesisHttpVersion: setting.group(
    [
      {
        name: "KINESIS_HTTP_VERSION",
        type: "choice",
        default: "",
        range: "1.1, 2",
        doc: "HTTP version of the Kinesis client: 2 on AWS, 1.1 by default for an http:// endpoint",
      },
    ],
    (r) => {
      const endpoint = r.optionalString("AWS_ENDPOINT_URL_KINESIS") ?? r.optionalString("AWS_ENDPOINT_URL");
      return r.oneOf<"1.1" | "2">(
        "KINESIS_HTTP_VERSION",
        ["1.1", "2"],
        (endpoint ?? "https:").startsWith("http:") ? "1.1" : "2",
      );
    },
  ),
  s3ForcePathStyle: setting.group(
    [
      {
        name: "S3_FORCE_PATH_STYLE",
        type: "boolean",
        default: "",
        range: "",
        doc: "Path-style S3 URLs; true by default when AWS_ENDPOINT_URL is set",
      },
    ],
    (r) => r.boolean("S3_FORCE_PATH_STYLE", r.optionalString("AWS_ENDPOINT_URL") !== undefined),
  ),
  sqsWaitSeconds: setting.integer("SQS_WAIT_SECONDS", 20, { min: 0, max: 20 }, "SQS long-poll wait, seconds"),
  sqsVisibilitySeconds: setting.integer(
    "SQS_VISIBILITY_TIMEOUT_SECONDS",
    120,
    { min: 5, max: 43_200 },
    "Visibility given to a received message, renewed while its files are in progress, seconds",
  ),
  s3MaxAttempts: setting.integer(
    "S3_MAX_ATTEMPTS",
    5,
    { min: 1, max: 100 },
    "Attempts at a missing or forbidden object before it is dead-lettered",
  ),
  sqsMaxReceives: setting.integer(
    "SQS_MAX_RECEIVES",
    20,
    { min: 0, max: 1_000 },
    "Receives of an SQS message that keeps failing for another reason before it is dead-lettered (processing-failed) and deleted; 0: never",
  ),
  s3RetryBaseSeconds: setting.integer(
    "S3_RETRY_BASE_SECONDS",
    10,
    { min: 0, max: 3_600 },
    "First retry delay for a missing or forbidden object, seconds (doubles per attempt)",
  ),
  maxDecompressedBytes: setting.integer(
    "MAX_DECOMPRESSED_BYTES",
    1024 ** 3,
    { min: 1024 },
    "A log file is cut (and dead-lettered) past this many bytes unzipped",
  ),
  maxRecordBytes: setting.integer(
    "MAX_RECORD_BYTES",
    1024 ** 2,
    { min: 1024 },
    "A record larger than this is dead-lettered",
  ),
  kafkaBatchRecords: setting.integer(
    "KAFKA_BATCH_RECORDS",
    500,
    { min: 1, max: 100_000 },
    "Records per produce request",
  ),
  kafkaLingerMs: setting.integer(
    "KAFKA_LINGER_MS",
    5,
    { min: 0, max: 10_000 },
    "How long the raw writer waits to fill a batch, ms",
  ),
  kafkaBatchBytes: setting.integer(
    "KAFKA_BATCH_BYTES",
    512 * 1024,
    { min: 1024 },
    "A raw batch never passes this many bytes (nor the raw topic's max.message.bytes)",
  ),
  kafkaMaxMessageBytes: setting.integer(
    "KAFKA_MAX_MESSAGE_BYTES",
    1_000_000,
    { min: 1024 },
    "Records larger than this go to the DLQ as too-large; the raw topic's max.message.bytes (read at start) lowers it",
  ),
  workerId: setting.group(
    [
      {
        name: "INGESTER_ID",
        type: "string",
        default: "host-pid-random",
        range: "",
        doc: "This replica's name in leases",
      },
    ],
    (r) => r.string("INGESTER_ID", `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`),
  ),
  leaseDurationMs: setting.duration(
    "LEASE_DURATION",
    "30s",
    { min: "1s", bareUnit: "s" },
    "A Kinesis shard lease not renewed for this long may be taken",
  ),
  leaseRenewMs: setting.group(
    [
      {
        name: "LEASE_RENEW_INTERVAL",
        type: "duration",
        default: "a third of LEASE_DURATION",
        range: "< LEASE_DURATION",
        doc: "How often leases are renewed and rebalanced",
      },
    ],
    (r): number | undefined =>
      r.optionalString("LEASE_RENEW_INTERVAL") === undefined
        ? undefined
        : r.duration("LEASE_RENEW_INTERVAL", "10s", { min: "100ms", bareUnit: "s" }),
  ),
  kinesisIdleMs: setting.integer(
    "KINESIS_IDLE_MS",
    1_000,
    { min: 0, max: 60_000 },
    "Sleep after an empty GetRecords on a shard quiet for 10 s, ms (one with records lately is polled every 200 ms)",
  ),
  kinesisMaxRecords: setting.integer(
    "KINESIS_MAX_RECORDS",
    10_000,
    { min: 1, max: 10_000 },
    "Records per GetRecords call",
  ),
  shardSyncMs: setting.duration(
    "KINESIS_SHARD_SYNC_INTERVAL",
    "30s",
    { min: "100ms", bareUnit: "s" },
    "How often ListShards runs to find new shards",
  ),
  kinesisConsumerMode: setting.oneOf<"polling" | "fan-out">(
    "KINESIS_CONSUMER_MODE",
    ["polling", "fan-out"],
    "polling",
    "polling (GetRecords) or fan-out (enhanced fan-out: a registered consumer and SubscribeToShard over HTTP/2)",
  ),
  kinesisConsumerName: setting.string(
    "KINESIS_CONSUMER_NAME",
    "trailstream-ingester",
    "The stream consumer for fan-out, registered when missing and shared by the replicas",
  ),
  kinesisFanOutEndpoint: setting.group(
    [
      {
        name: "KINESIS_FANOUT_ENDPOINT",
        type: "url",
        default: "",
        range: "https://",
        doc: "Where SubscribeToShard goes: the Kinesis endpoint when it is https, else kinesis.<region>.amazonaws.com (kinesis-local: its TLS port)",
      },
    ],
    (r): string | undefined => r.optionalString("KINESIS_FANOUT_ENDPOINT"),
  ),
  kinesisFanOutTlsVerify: setting.boolean(
    "KINESIS_FANOUT_TLS_VERIFY",
    true,
    "Verify the fan-out endpoint's certificate; false only for an emulator's self-signed one",
  ),
  integrityEnabled: setting.boolean(
    "INTEGRITY",
    true,
    "Log file integrity: digests (keys under CloudTrail-Digest/) judged, log files hashed while decoded, verdicts to TOPIC_INTEGRITY",
  ),
  topicIntegrity: setting.string(
    "TOPIC_INTEGRITY",
    "cloudtrail.integrity",
    "Topic of the integrity verdicts, keyed by chain (created when missing)",
  ),
  integrityPublicKeysFile: setting.optional(
    "INTEGRITY_PUBLIC_KEYS_FILE",
    "What aws cloudtrail list-public-keys printed; unset: ListPublicKeys in each digest's delivering Region, cached by fingerprint",
  ),
  cloudtrailEndpoint: httpEndpoint(
    "AWS_ENDPOINT_URL_CLOUDTRAIL",
    "Where ListPublicKeys is called (default AWS_ENDPOINT_URL)",
  ),
  integrityMissingGraceMs: setting.duration(
    "INTEGRITY_MISSING_GRACE",
    "2m",
    {},
    "How long a file a digest lists, or a digest a digest chains to, may come after it before it is reported missing",
  ),
  integrityUnreferencedGraceMs: setting.duration(
    "INTEGRITY_UNREFERENCED_GRACE",
    "1h",
    {},
    "After the hour a log file should have been listed in, how long to wait for a backfill digest before unreferenced-log-file",
  ),
  integrityStoppedAfterMs: setting.duration(
    "INTEGRITY_STOPPED_AFTER",
    "75m",
    {},
    "No digest for a chain this long after its newest (its end and when it was read): digests-stopped",
  ),
  integrityTickMs: setting.duration(
    "INTEGRITY_TICK",
    "15s",
    { min: "100ms" },
    "How often time-based verdicts are looked for and the verdict outbox is sent",
  ),
  kinesisSubscriptionMs: setting.duration(
    "KINESIS_SUBSCRIPTION_RENEW",
    "5m",
    { min: "1s" },
    "A fan-out subscription is renewed after this long (Kinesis ends them after five minutes)",
  ),
};

export function loadSettings(env: Env = process.env, warn?: (message: string) => void) {
  const values = loadSpec(
    SETTINGS,
    env,
    (v, r) => {
      r.require(
        v.kinesisStartPosition !== "at_timestamp" || v.kinesisStartTimestamp !== undefined,
        "KINESIS_START_TIMESTAMP is required when KINESIS_START_POSITION is at_timestamp",
      );
      r.require(
        v.leaseRenewMs === undefined || v.leaseRenewMs < v.leaseDurationMs,
        "LEASE_RENEW_INTERVAL must be shorter than LEASE_DURATION",
      );
      r.require(
        v.sqsQueueUrls.length + v.kinesisStreams.length > 0,
        "nothing to read: set SQS_QUEUE_URLS and/or KINESIS_STREAMS",
      );
      r.require(
        v.kinesisConsumerMode !== "fan-out" || (v.kinesisFanOutEndpoint ?? "https:").startsWith("https:"),
        "KINESIS_FANOUT_ENDPOINT must be an https:// URL (SubscribeToShard needs HTTP/2)",
      );
      r.require(
        v.kinesisConsumerMode !== "fan-out" ||
          v.kinesisFanOutEndpoint !== undefined ||
          !(v.kinesisEndpoint ?? "https:").startsWith("http:"),
        "KINESIS_CONSUMER_MODE=fan-out with a plain-http Kinesis endpoint needs KINESIS_FANOUT_ENDPOINT (the emulator's HTTP/2 TLS port)",
      );
    },
    warn,
  );
  const kinesisUrl = values.kinesisEndpoint;
  return {
    ...values,
    leaseRenewMs: values.leaseRenewMs ?? Math.max(100, Math.floor(values.leaseDurationMs / 3)),
    kinesisFanOutEndpoint:
      values.kinesisFanOutEndpoint ??
      (kinesisUrl?.startsWith("https:") ? kinesisUrl : `https://kinesis.${values.region}.amazonaws.com`),
  };
}

export type IngesterConfig = Omit<SettingsOf<typeof SETTINGS>, "kinesisFanOutEndpoint"> & {
  leaseRenewMs: number;
  kinesisFanOutEndpoint: string;
};
