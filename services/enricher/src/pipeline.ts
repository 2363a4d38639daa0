// The enricher's decisions, with no I/O: a batch of consumed raw records and the dedup verdicts
// become the records to write (events and dead letters) and the counts for the metrics.
import {
  type DedupClaim,
  type DedupVerdict,
  type DlqReason,
  decide,
  decodeEnvelope,
  type EnrichedEnvelope,
  type EventSelectors,
  enrichedEnvelopeText,
  originLabel,
  type RawEnvelope,
  type ReceivedOrigin,
  rejectedRecordLetter,
} from "@trailstream/cloudtrail";
import type { ConsumedBatch, ConsumedMessage, OutgoingRecord } from "@trailstream/kafka";

/** A raw record that decoded: its identity, and the owner it claims the identity with. */
export interface Decoded {
  message: ConsumedMessage;
  identity: string;
  /** `<partition>:<offset>`: names this very record, so its replay after a crash is recognized. */
  owner: string;
  envelope: RawEnvelope<ReceivedOrigin>;
  /** The value's JSON text when the enriched value can be written from it (decodeEnvelope's rawText). */
  rawText?: string;
}

/** A raw record that goes to the DLQ, and why. */
export interface Rejected {
  message: ConsumedMessage;
  reason: DlqReason<"enricher">;
  text: string;
  identity: string | null;
  origin?: Partial<ReceivedOrigin>;
}

export function ownerOf(message: ConsumedMessage): string {
  return `${message.partition}:${message.offset}`;
}

export function decodeMessage(message: ConsumedMessage): Decoded | Rejected {
  const outcome = decodeEnvelope(message.value);
  if (!outcome.ok) {
    return {
      message,
      reason: outcome.reason,
      text: outcome.message,
      identity: outcome.identity,
      ...(outcome.origin ? { origin: outcome.origin } : {}),
    };
  }
  const { event, origin } = outcome.envelope;
  const decoded: Decoded = {
    message,
    identity: outcome.identity,
    owner: ownerOf(message),
    envelope: { v: 1, event, origin },
  };
  if (outcome.rawText !== undefined) decoded.rawText = outcome.rawText;
  return decoded;
}

export interface DecodedBatch {
  decoded: Decoded[];
  rejected: Rejected[];
  /** What EVENT_SELECTORS dropped from the batch, when selectors are set. */
  selection?: Selection;
}

/** Records no selector kept, and per selector and condition how many that condition turned away. */
export interface Selection {
  dropped: number;
  /** `rejections[selector][condition]`, indexed as EventSelectors' names and conditions. */
  rejections: number[][];
}

/**
 * Drops the records no event selector keeps, before any dedup claim is made for them (a dropped
 * event costs Redis nothing). Every copy of an event carries the same record, so copies share a fate.
 */
export function applySelectors(batch: DecodedBatch, selectors: EventSelectors | undefined): DecodedBatch {
  if (!selectors) return batch;
  const rejections = selectors.conditions.map((c) => c.map(() => 0));
  const count = (selector: number, condition: number) => {
    const row = rejections[selector];
    if (row) row[condition] = (row[condition] ?? 0) + 1;
  };
  const kept = batch.decoded.filter((d) => selectors.match(d.envelope.event, count) !== -1);
  return { ...batch, decoded: kept, selection: { dropped: batch.decoded.length - kept.length, rejections } };
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

/**
 * The most records the enricher decodes, claims and plans as one. A poll of more is cut into
 * chunks handled at once (the batch thread decodes one while Redis answers another's claims): on the
 * enricher bench (polls of about 3,700 records) one unit per poll ran at 0.85x the partition batches
 * of before, which overlapped in that way.
 */
export const POLL_CHUNK_RECORDS = 1_000;

/** A poll's records, every partition's in the fetch's order, in chunks of near equal size of at most `maxRecords`. */
export function pollChunks(batches: readonly ConsumedBatch[], maxRecords: number): ConsumedMessage[][] {
  const messages = batches.flatMap((b) => b.messages);
  if (messages.length === 0) return [];
  const count = Math.ceil(messages.length / Math.max(1, maxRecords));
  if (count === 1) return [messages];
  const size = Math.ceil(messages.length / count);
  const chunks: ConsumedMessage[][] = [];
  for (let i = 0; i < messages.length; i += size) chunks.push(messages.slice(i, i + size));
  return chunks;
}

export function claimsOf(decoded: readonly Decoded[]): DedupClaim[] {
  return decoded.map((d) => ({
    identity: d.identity,
    owner: d.owner,
    eventTimeMs: Date.parse(d.envelope.event.eventTime ?? ""),
  }));
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
  /**
   * The largest record (key + value bytes) the events topic takes: its max.message.bytes less the
   * batch framing. A larger enriched record is dead-lettered as `too-large` here, before the
   * transaction, because the broker would refuse the whole batch again and again.
   */
  maxRecordBytes?: number;
}

/** What one record batch adds around a record (batch header, record header, headers): kept free. */
export const RECORD_OVERHEAD_BYTES = 512;

export interface BatchStats {
  in: number;
  /** What EVENT_SELECTORS dropped (counted in `in`), when selectors are set. */
  selection: Selection | null;
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

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export function deadLetter(r: Rejected, nowMs: number, topic: string): OutgoingRecord {
  const letter = rejectedRecordLetter({
    stage: "enricher",
    reason: r.reason,
    message: `${r.text} (${r.message.topic} partition ${r.message.partition} offset ${r.message.offset})`,
    value: r.message.value,
    nowMs,
    origin: r.origin,
  });
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
    in: batch.decoded.length + batch.rejected.length + (batch.selection?.dropped ?? 0),
    selection: batch.selection ?? null,
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
    let json: string;
    try {
      if (d.rawText !== undefined) json = enrichedEnvelopeText(d.rawText, enrichment, o.unchecked);
      else {
        const value: EnrichedEnvelope<E, ReceivedOrigin> = {
          ...d.envelope,
          enrichment,
          ...(o.unchecked ? { dedup: "unchecked" as const } : {}),
        };
        json = JSON.stringify(value);
      }
    } catch (error) {
      rejected.push({
        message: d.message,
        reason: "too-deep",
        text: `the enriched record cannot be written as JSON: ${(error as Error).message}`,
        identity: d.identity,
        origin: d.envelope.origin,
      });
      return;
    }
    const bytes = Buffer.byteLength(json) + Buffer.byteLength(d.identity);
    if (o.maxRecordBytes !== undefined && bytes > o.maxRecordBytes) {
      rejected.push({
        message: d.message,
        reason: "too-large",
        text: `the enriched record is ${bytes} bytes, over the ${o.maxRecordBytes} the events topic accepts (max.message.bytes)`,
        identity: d.identity,
        origin: d.envelope.origin,
      });
      return;
    }
    records.push({ topic: o.topicEvents, key: d.identity, value: json });
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
