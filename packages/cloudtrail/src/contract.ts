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
