// The ingester's Prometheus metrics (`trailstream_ingester_*`). Label sets are bounded: kinds,
// outcomes and reason codes, never accounts, keys or event names.
import { DLQ_REASONS, VERDICT_KINDS } from "@trailstream/cloudtrail";
import { LAG_BUCKETS_SECONDS, LATENCY_BUCKETS_SECONDS, METRIC_PREFIX } from "@trailstream/runtime";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

const P = `${METRIC_PREFIX}ingester_`;

export interface IngesterMetrics {
  registry: Registry;
  /** SQS notifications by kind (s3, sns-s3, cloudtrail-sns, eventbridge-s3, s3-test, invalid). */
  notifications: Counter<"kind">;
  /** Files by kind and outcome (read, skipped-identical, digest, insight, not-cloudtrail, corrupt, missing, retried). */
  files: Counter<"kind" | "outcome">;
  /** Bytes read from S3 objects and local files (as stored, gzipped). */
  bytes: Counter<"source">;
  /** Records written to the raw topic, by source (s3, kinesis-logs, kinesis-eventbridge, kinesis-raw, file). */
  records: Counter<"source" | "location">;
  skippedIdenticalFiles: Counter;
  /** Records written to the DLQ, by reason code. */
  dlq: Counter<"reason">;
  produceSeconds: Histogram<"topic">;
  leasesHeld: Gauge<"stream">;
  kinesisRecords: Counter<"stream" | "kind">;
  kinesisErrors: Counter<"kind">;
  eventLagSeconds: Histogram<"source">;
  /** Integrity verdicts sent, by kind and chain (trail and delivering Region). */
  integrityVerdicts: Counter<"kind" | "trail" | "region">;
  /** From a log file's delivery (its name's time) to its verdict. */
  integrityVerdictSeconds: Histogram<"kind">;
  /** Log files past their digest's window (an hour plus the backfill grace) in sites that have digests, unlisted. */
  integrityUnverifiedFiles: Gauge;
}

export function createMetrics(registry: Registry): IngesterMetrics {
  const metrics = defineMetrics(registry);
  // Zero series for the known labels, so dashboards and alerts see 0 rather than nothing.
  for (const kind of ["throttled", "expired-iterator", "get-records", "iterator", "subscribe", "fan-out-unavailable"])
    metrics.kinesisErrors.inc({ kind }, 0);
  for (const reason of DLQ_REASONS.ingester) metrics.dlq.inc({ reason }, 0);
  for (const kind of VERDICT_KINDS) {
    metrics.integrityVerdicts.inc({ kind, trail: "", region: "" }, 0);
    metrics.integrityVerdictSeconds.zero({ kind });
  }
  return metrics;
}

function defineMetrics(registry: Registry): IngesterMetrics {
  const registers = [registry];
  return {
    registry,
    notifications: new Counter({
      name: `${P}notifications_total`,
      help: "SQS notifications received, by kind",
      labelNames: ["kind"],
      registers,
    }),
    files: new Counter({
      name: `${P}files_total`,
      help: "Files seen, by source and outcome",
      labelNames: ["kind", "outcome"],
      registers,
    }),
    bytes: new Counter({
      name: `${P}bytes_total`,
      help: "Bytes of log files read (as stored)",
      labelNames: ["source"],
      registers,
    }),
    records: new Counter({
      name: `${P}records_total`,
      help: "Records acknowledged by Kafka on the raw topic, by origin kind and, for S3, trail location (bucket/prefix)",
      labelNames: ["source", "location"],
      registers,
    }),
    skippedIdenticalFiles: new Counter({
      name: `${P}skipped_identical_files_total`,
      help: "Files skipped unread because a file with the same ETag and size was ingested within FILE_SKIP_WINDOW",
      registers,
    }),
    dlq: new Counter({
      name: `${P}dlq_records_total`,
      help: "Records written to the dead-letter topic, by reason",
      labelNames: ["reason"],
      registers,
    }),
    produceSeconds: new Histogram({
      name: `${P}kafka_produce_seconds`,
      help: "Time from handing a batch to Kafka to its acknowledgement",
      labelNames: ["topic"],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    leasesHeld: new Gauge({
      name: `${P}leases_held`,
      help: "Kinesis shard leases this replica holds",
      labelNames: ["stream"],
      registers,
    }),
    kinesisRecords: new Counter({
      name: `${P}kinesis_records_total`,
      help: "Kinesis records read, by payload kind",
      labelNames: ["stream", "kind"],
      registers,
    }),
    kinesisErrors: new Counter({
      name: `${P}kinesis_errors_total`,
      help: "Kinesis calls that failed and were retried, by error kind",
      labelNames: ["kind"],
      registers,
    }),
    eventLagSeconds: new Histogram({
      name: `${P}event_lag_seconds`,
      help: "now - eventTime when a record is ingested",
      labelNames: ["source"],
      buckets: LAG_BUCKETS_SECONDS,
      registers,
    }),
    integrityVerdicts: new Counter({
      name: `${P}integrity_verdicts_total`,
      help: "Log file integrity verdicts sent to the integrity topic, by kind, trail and delivering Region",
      labelNames: ["kind", "trail", "region"],
      registers,
    }),
    integrityVerdictSeconds: new Histogram({
      name: `${P}integrity_verdict_seconds`,
      help: "From a log file's delivery to its integrity verdict",
      labelNames: ["kind"],
      buckets: [60, 120, 300, 600, 1800, 3600, 5400, 7200, 10800, 21600],
      registers,
    }),
    integrityUnverifiedFiles: new Gauge({
      name: `${P}integrity_unverified_files`,
      help: "Log files past the window in which a digest should have listed them (an hour after delivery plus the backfill grace), in trail locations that have digests, that no digest has listed yet",
      registers,
    }),
  };
}

/** Seconds between a record's eventTime and now, or undefined when eventTime is unusable. */
export function lagSeconds(eventTime: unknown, nowMs: number): number | undefined {
  if (typeof eventTime !== "string") return undefined;
  const t = Date.parse(eventTime);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, (nowMs - t) / 1000);
}
