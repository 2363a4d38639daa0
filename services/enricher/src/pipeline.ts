// The enricher's decisions, with no I/O: a batch of consumed raw records and the dedup verdicts
// become the records to write (events and dead letters) and the counts for the metrics.
import {
  type DeadLetter,
  type DedupClaim,
  type DedupVerdict,
  decide,
  eventIdentity,
  isPlainObject,
  type Origin,
  type RawEnvelope,
  validateRecord,
} from "@trailstream/cloudtrail";
import type { ConsumedMessage, OutgoingRecord } from "@trailstream/kafka";

/** A raw record that decoded: its identity, and the owner it claims the identity with. */
export interface Decoded {
  message: ConsumedMessage;
  identity: string;
  /** `<partition>:<offset>`: names this very record, so its replay after a crash is recognized. */
  owner: string;
  envelope: RawEnvelope;
}

/** A raw record that goes to the DLQ, and why. */
export interface Rejected {
  message: ConsumedMessage;
  reason: DlqReason;
  text: string;
  identity: string | null;
  origin?: Partial<Origin>;
}

export type DlqReason =
  | "empty" // a record without a value (a tombstone)
  | "utf8" // bytes that are not UTF-8
  | "json" // not JSON
  | "shape" // JSON, but not {v, event, origin}
  | "version" // an envelope version this enricher does not know
  | "field" // a CloudTrail field of the wrong type
  | "missing-event-id" // no eventID or recipientAccountId: no identity
  | "enrich"; // the enrichment threw

/** Every DLQ reason, for zero series at start. */
export const DLQ_REASONS: readonly DlqReason[] = [
  "empty",
  "utf8",
  "json",
  "shape",
  "version",
  "field",
  "missing-event-id",
  "enrich",
];

export const ORIGIN_KINDS = ["s3", "kinesis-logs", "kinesis-eventbridge", "kinesis-raw", "file"] as const;

/** Origin kinds as metric labels: the known ones, else `other` (label sets stay bounded). */
export function originLabel(kind: unknown): string {
  return typeof kind === "string" && (ORIGIN_KINDS as readonly string[]).includes(kind) ? kind : "other";
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function ownerOf(message: ConsumedMessage): string {
  return `${message.partition}:${message.offset}`;
}

export function decodeMessage(message: ConsumedMessage): Decoded | Rejected {
  const reject = (reason: DlqReason, text: string, identity: string | null = null, origin?: Partial<Origin>) => ({
    message,
    reason,
    text,
    identity,
    ...(origin ? { origin } : {}),
  });
  if (message.value === null || message.value.length === 0) return reject("empty", "the raw record has no value");
  let text: string;
  try {
    text = utf8.decode(message.value);
  } catch {
    return reject("utf8", "the raw record's value is not UTF-8");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return reject("json", `the raw record's value is not JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(parsed)) return reject("shape", "the raw record's value is not a JSON object");
  const origin = isPlainObject(parsed.origin) ? (parsed.origin as Partial<Origin>) : undefined;
  const maybeIdentity = isPlainObject(parsed.event) ? eventIdentity(parsed.event) : null;
  if (parsed.v !== 1) {
    return reject(
      "version",
      `envelope version ${JSON.stringify(parsed.v) ?? "missing"} is not 1`,
      maybeIdentity,
      origin,
    );
  }
  if (!origin || typeof origin.kind !== "string") {
    return reject("shape", "the envelope has no origin with a kind", maybeIdentity, origin);
  }
  const checked = validateRecord(parsed.event, "$.event");
  if (!checked.ok) {
    const code = checked.error.code;
    const reason: DlqReason = code === "missing-event-id" || code === "field" ? code : "shape";
    return reject(reason, checked.error.message, maybeIdentity, origin);
  }
  const identity = eventIdentity(checked.value);
  if (identity === null) return reject("missing-event-id", "the record has no identity", null, origin);
  return {
    message,
    identity,
    owner: ownerOf(message),
    envelope: { v: 1, event: checked.value, origin: origin as Origin },
  };
}

export interface DecodedBatch {
  decoded: Decoded[];
  rejected: Rejected[];
}

export function decodeBatch(messages: readonly ConsumedMessage[]): DecodedBatch {
  const decoded: Decoded[] = [];
  const rejected: Rejected[] = [];
  for (const m of messages) {
    const d = decodeMessage(m);
    if ("reason" in d) rejected.push(d);
    else decoded.push(d);
  }
  return { decoded, rejected };
}

export function claimsOf(decoded: readonly Decoded[]): DedupClaim[] {
  return decoded.map((d) => ({ identity: d.identity, owner: d.owner }));
}

/** Verdicts from the batch alone, for when Redis cannot be asked: later copies in the batch drop. */
export function localVerdicts(decoded: readonly Decoded[]): DedupVerdict[] {
  const seen = new Map<string, string>();
  return decoded.map((d) => {
    const verdict = decide(seen.get(d.identity) ?? null, d.owner);
    if (verdict === "first") seen.set(d.identity, d.owner);
    return verdict;
  });
}

export interface PlanOptions<E> {
  topicEvents: string;
  topicDlq: string;
  enrich: (record: RawEnvelope["event"]) => E;
  /** Now, in ms since the epoch: for the event lag and the dead letters' time. */
  nowMs: number;
  /** The verdicts come from the batch alone (Redis was down and DEDUP_ON_REDIS_DOWN=pass). */
  unchecked: boolean;
}

export interface BatchStats {
  in: number;
  /** Events written (first copies and replays). */
  unique: number;
  /** Of those, records written again because their claim was their own (a crash before commit). */
  replays: number;
  unchecked: number;
  copiesByOrigin: Map<string, number>;
  dlqByReason: Map<string, number>;
  /** `now - eventTime` of each event written, in seconds. */
  lagSeconds: number[];
}

export interface BatchPlan {
  records: OutgoingRecord[];
  stats: BatchStats;
}

/** The enriched value written to the events topic: the raw envelope, and the enrichment beside it. */
export interface EnrichedValue<E> extends RawEnvelope {
  enrichment: E;
  /** Present only when the record went out without a dedup check. */
  dedup?: "unchecked";
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export function deadLetter(r: Rejected, nowMs: number, topic: string): OutgoingRecord {
  const value = r.message.value ?? Buffer.alloc(0);
  let payload: string;
  let payloadEncoding: "utf8" | "base64";
  try {
    payload = utf8.decode(value);
    payloadEncoding = "utf8";
  } catch {
    payload = value.toString("base64");
    payloadEncoding = "base64";
  }
  const letter: DeadLetter = {
    v: 1,
    stage: "enricher",
    reason: r.reason,
    message: `${r.text} (${r.message.topic} partition ${r.message.partition} offset ${r.message.offset})`,
    at: new Date(nowMs).toISOString(),
    ...(r.origin ? { origin: r.origin } : {}),
    payload,
    payloadEncoding,
  };
  return {
    topic,
    key: r.identity ?? `${r.message.topic}:${r.message.partition}:${r.message.offset}`,
    value: JSON.stringify(letter),
  };
}

/**
 * Turns a decoded batch and one verdict per decoded record into the records to write.
 * `first` and `replay` go out (the first-seen copy keeps its origin), `copy` is dropped and counted.
 */
export function planBatch<E>(batch: DecodedBatch, verdicts: readonly DedupVerdict[], o: PlanOptions<E>): BatchPlan {
  if (verdicts.length !== batch.decoded.length) {
    throw new Error(`${verdicts.length} verdicts for ${batch.decoded.length} decoded records`);
  }
  const stats: BatchStats = {
    in: batch.decoded.length + batch.rejected.length,
    unique: 0,
    replays: 0,
    unchecked: 0,
    copiesByOrigin: new Map(),
    dlqByReason: new Map(),
    lagSeconds: [],
  };
  const records: OutgoingRecord[] = [];
  const rejected = [...batch.rejected];
  batch.decoded.forEach((d, i) => {
    const verdict = verdicts[i];
    if (verdict === "copy") {
      bump(stats.copiesByOrigin, originLabel(d.envelope.origin.kind));
      return;
    }
    let enrichment: E;
    try {
      enrichment = o.enrich(d.envelope.event);
    } catch (error) {
      rejected.push({
        message: d.message,
        reason: "enrich",
        text: `enrichment failed: ${(error as Error).message}`,
        identity: d.identity,
        origin: d.envelope.origin,
      });
      return;
    }
    const value: EnrichedValue<E> = {
      ...d.envelope,
      enrichment,
      ...(o.unchecked ? { dedup: "unchecked" as const } : {}),
    };
    records.push({ topic: o.topicEvents, key: d.identity, value: JSON.stringify(value) });
    stats.unique++;
    if (verdict === "replay") stats.replays++;
    if (o.unchecked) stats.unchecked++;
    const eventMs = Date.parse(d.envelope.event.eventTime ?? "");
    if (Number.isFinite(eventMs)) stats.lagSeconds.push(Math.max(0, (o.nowMs - eventMs) / 1_000));
  });
  for (const r of rejected) {
    records.push(deadLetter(r, o.nowMs, o.topicDlq));
    bump(stats.dlqByReason, r.reason);
  }
  return { records, stats };
}
