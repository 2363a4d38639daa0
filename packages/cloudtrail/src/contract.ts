// The wire contract between the services (see DESIGN.md, "Kafka records"): the value of a record on
// cloudtrail.raw and cloudtrail.events, and of a dead letter on cloudtrail.dlq. The lists are
// runtime constants and the types derive from them, so the metrics' zero series, the Prometheus
// rules and the dashboards can be checked against the very list the code writes.
import { DECODE_ERROR_CODES } from "./errors.ts";
import type { CloudTrailRecord } from "./record.ts";

/** Where a copy of an event can come from. */
export const ORIGIN_KINDS = ["s3", "kinesis-logs", "kinesis-eventbridge", "kinesis-raw", "file"] as const;
export type OriginKind = (typeof ORIGIN_KINDS)[number];

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

/**
 * An origin as a reader finds it on a topic: a newer writer may name a kind this reader does not
 * know (it is carried on untouched, and counted as `other`), and older records may lack receivedAt.
 */
export type ReceivedOrigin = Omit<Origin, "kind" | "receivedAt"> & { kind: string; receivedAt?: string };

/** The value on cloudtrail.raw: the CloudTrail record exactly as received, and where it came from. */
export interface RawEnvelope<O extends ReceivedOrigin = Origin> {
  v: 1;
  event: CloudTrailRecord;
  origin: O;
}

/** The value on cloudtrail.events: the raw envelope of the first-seen copy, and its enrichment. */
export interface EnrichedEnvelope<E = unknown, O extends ReceivedOrigin = Origin> extends RawEnvelope<O> {
  /** Computed from the record alone. */
  enrichment: E;
  /** Present only when the record went out without a dedup check (Redis down, DEDUP_ON_REDIS_DOWN=pass). */
  dedup?: "unchecked";
}

/** The metric label of an origin kind: the known ones, else `other`, so label sets stay bounded. */
export function originLabel(kind: unknown): OriginKind | "other" {
  return typeof kind === "string" && (ORIGIN_KINDS as readonly string[]).includes(kind)
    ? (kind as OriginKind)
    : "other";
}

/** Where in the pipeline something failed. */
export const STAGES = ["ingester", "enricher", "alerter"] as const;
export type Stage = (typeof STAGES)[number];

/** Why a value read from cloudtrail.raw or cloudtrail.events is not an envelope (see envelope.ts). */
export const ENVELOPE_REJECT_REASONS = [
  "empty", // a record without a value (a tombstone)
  "utf8", // bytes that are not UTF-8
  "json", // not JSON
  "shape", // JSON, but not {v, event, origin}
  "version", // an envelope version this reader does not know
  "field", // a CloudTrail field of the wrong type
  "missing-event-id", // no eventID or recipientAccountId: no identity
  "too-deep", // nested deeper than MAX_RECORD_DEPTH: it would fail every JSON.stringify after
] as const;
export type EnvelopeRejectReason = (typeof ENVELOPE_REJECT_REASONS)[number];

/** The alerter's sinks; an alert a sink would not take is dead-lettered as `sink-<kind>`. */
export const SINK_KINDS = ["kafka", "alertmanager", "webhook", "slack"] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

function prefixed<P extends string, const T extends readonly string[]>(
  prefix: P,
  list: T,
): { readonly [K in keyof T]: `${P}${T[K] & string}` } {
  return list.map((item) => `${prefix}${item}`) as unknown as { readonly [K in keyof T]: `${P}${T[K] & string}` };
}

/**
 * Every dead-letter reason, per stage: the `reason` of a record on cloudtrail.dlq and the `reason`
 * label of `trailstream_<stage>_dlq_records_total`. Each service starts that counter at zero for
 * every reason here, and a unit test holds the Prometheus rules and the dashboards to this list.
 */
export const DLQ_REASONS = {
  ingester: [
    // A log file or Kinesis payload that would not decode, or a record in it.
    ...DECODE_ERROR_CODES,
    // An SQS message that is none of the notifications trailstream reads.
    ...prefixed("notification-", DECODE_ERROR_CODES),
    "missing-object", // still not there after the retries
    "access-denied", // still refused after the retries
    "processing-failed", // an SQS message that failed SQS_MAX_RECEIVES receives for another reason
    // A digest file that would not parse (its verdict goes to the integrity topic too).
    ...prefixed("digest-", DECODE_ERROR_CODES),
  ],
  // enrich: the enrichment threw; too-large: the enriched record is over the events topic's
  // max.message.bytes, measured before the transaction so the partition moves on.
  enricher: [...ENVELOPE_REJECT_REASONS, "enrich", "too-large"],
  alerter: [...ENVELOPE_REJECT_REASONS, ...prefixed("sink-", SINK_KINDS)],
} as const;
export type DlqReason<S extends Stage = Stage> = (typeof DLQ_REASONS)[S][number];

/**
 * A record on `cloudtrail.dlq`: what could not be processed, why, and enough to replay it: the
 * original bytes (`payload`, base64 when `payloadEncoding` says so), or the bucket and key of a file.
 * Key of the Kafka record: the event identity when one is known, else the bucket/key or the source id.
 */
export interface DeadLetter<S extends Stage = Stage> {
  v: 1;
  stage: S;
  /** A short, bounded reason code for metrics and alerting: one of DLQ_REASONS[stage]. */
  reason: DlqReason<S>;
  /** The sentence that says what was wrong and where. Never holds secrets. */
  message: string;
  /** ISO time of the failure. */
  at: string;
  origin?: Partial<ReceivedOrigin>;
  bucket?: string;
  key?: string;
  payload?: string;
  payloadEncoding?: "utf8" | "base64";
  /** How many times this was tried before it was dead-lettered. */
  attempts?: number;
}
