// The value of a record on cloudtrail.raw and cloudtrail.events (see DESIGN.md, "Kafka records").
// The CloudTrail record travels exactly as received; what trailstream knows about it sits beside.
import type { CloudTrailRecord } from "./record.ts";

export type OriginKind = "s3" | "kinesis-logs" | "kinesis-eventbridge" | "kinesis-raw" | "file";

/** Where one copy of an event came from. */
export interface Origin {
  kind: OriginKind;
  bucket?: string;
  key?: string;
  account?: string;
  region?: string;
  stream?: string;
  shardId?: string;
  sequenceNumber?: string;
  logGroup?: string;
  /** ISO time trailstream received this copy. */
  receivedAt: string;
}

export interface RawEnvelope {
  v: 1;
  event: CloudTrailRecord;
  origin: Origin;
}

export interface EnrichedEnvelope<E = unknown> extends RawEnvelope {
  /** The first-seen copy's origin is `origin`; enrichment is computed from the record alone. */
  enrichment: E;
}

/** Where in the pipeline something failed. */
export type Stage = "ingester" | "enricher" | "alerter";

/**
 * A record on `cloudtrail.dlq`: what could not be processed, why, and enough to replay it: the
 * original bytes (`payload`, base64 when `payloadEncoding` says so), or the bucket and key of a file.
 * Key of the Kafka record: the event identity when one is known, else the bucket/key or the source id.
 */
export interface DeadLetter {
  v: 1;
  stage: Stage;
  /** A short, bounded reason code for metrics and alerting (`gzip`, `json`, `missing-object`, ...). */
  reason: string;
  /** The sentence that says what was wrong and where. Never holds secrets. */
  message: string;
  /** ISO time of the failure. */
  at: string;
  origin?: Partial<Origin>;
  bucket?: string;
  key?: string;
  payload?: string;
  payloadEncoding?: "utf8" | "base64";
  /** How many times this was tried before it was dead-lettered. */
  attempts?: number;
}
