// The CPU work of a partition batch, apart from Kafka and Redis: decode the raw records (and apply
// the event selectors), then, given Redis's verdicts, enrich and write the events and dead letters.
// Done here on the calling thread, or on a worker thread (batch-thread.ts) so the event loop only
// drives Kafka and Redis while a second core decodes. Both give the same records: see
// docs/decisions/0013-enricher-batch-thread.md.
import { type DedupClaim, type DedupVerdict, type EventSelectors, enrich } from "@trailstream/cloudtrail";
import type { ConsumedBatch, ConsumedMessage, OutgoingRecord } from "@trailstream/kafka";
import {
  applySelectors,
  type BatchPlan,
  type BatchStats,
  claimsOf,
  type DecodedBatch,
  decodeBatch,
  localVerdicts,
  planBatch,
} from "./pipeline.ts";

/** What planning needs beside the batch: where records go and how large an event may be. */
export interface BatchWorkOptions {
  topicEvents: string;
  topicDlq: string;
  maxRecordBytes: number;
  eventSelectors: EventSelectors | undefined;
}

/** A decoded batch, waiting for its verdicts. */
export interface DecodedWork {
  /** One claim per event that goes on to dedup, in the batch's order. */
  claims: DedupClaim[];
  /**
   * The records to write, given one verdict per claim; null: Redis could not be asked and the
   * records pass unchecked (copies within the batch still collapse).
   */
  plan(verdicts: readonly DedupVerdict[] | null, nowMs: number): Promise<BatchPlan>;
  /** Frees what the decode holds when the batch is given up before it is planned. */
  release(): void;
}

export interface BatchWork {
  decode(batch: ConsumedBatch): Promise<DecodedWork>;
  close(): Promise<void>;
}

/** Plans a decoded batch: the one place both the calling thread and the worker thread plan. */
export function planDecoded(
  decoded: DecodedBatch,
  verdicts: readonly DedupVerdict[] | null,
  nowMs: number,
  options: BatchWorkOptions,
): BatchPlan {
  return planBatch(decoded, verdicts ?? localVerdicts(decoded.decoded), {
    topicEvents: options.topicEvents,
    topicDlq: options.topicDlq,
    enrich,
    nowMs,
    unchecked: verdicts === null,
    maxRecordBytes: options.maxRecordBytes,
  });
}

export function decodeSelected(messages: readonly ConsumedMessage[], selectors: EventSelectors | undefined) {
  return applySelectors(decodeBatch(messages), selectors);
}

/** The work on the calling thread. */
export function inlineBatchWork(options: BatchWorkOptions): BatchWork {
  return {
    async decode(batch) {
      const decoded = decodeSelected(batch.messages, options.eventSelectors);
      return {
        claims: claimsOf(decoded.decoded),
        plan: async (verdicts, nowMs) => planDecoded(decoded, verdicts, nowMs, options),
        release: () => {},
      };
    },
    close: async () => {},
  };
}

// ---- the plan on the wire between the threads ----------------------------------------------------

/**
 * A BatchPlan as a worker thread sends it: every value in one UTF-8 buffer (moved, not copied),
 * with where each ends, which topic it goes to and its key. BatchStats' maps clone as they are.
 */
export interface WirePlan {
  values: Uint8Array;
  ends: Int32Array;
  /** 0: the events topic, 1: the DLQ. */
  topics: Uint8Array;
  keys: (string | null)[];
  stats: BatchStats;
}

export function toWire(plan: BatchPlan, options: Pick<BatchWorkOptions, "topicEvents" | "topicDlq">): WirePlan {
  const n = plan.records.length;
  const ends = new Int32Array(n);
  const topics = new Uint8Array(n);
  const keys: (string | null)[] = new Array(n);
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const r = plan.records[i] as OutgoingRecord;
    bytes += typeof r.value === "string" ? Buffer.byteLength(r.value) : r.value.length;
  }
  const values = Buffer.allocUnsafeSlow(bytes);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const r = plan.records[i] as OutgoingRecord;
    at += typeof r.value === "string" ? values.write(r.value, at) : r.value.copy(values, at);
    ends[i] = at;
    // A plan writes to these two topics, with a key and a value only (what fromWire rebuilds).
    if (r.topic !== options.topicEvents && r.topic !== options.topicDlq) throw new Error(`a plan wrote to ${r.topic}`);
    topics[i] = r.topic === options.topicEvents ? 0 : 1;
    keys[i] = r.key;
  }
  return { values, ends, topics, keys, stats: plan.stats };
}

export function fromWire(wire: WirePlan, options: Pick<BatchWorkOptions, "topicEvents" | "topicDlq">): BatchPlan {
  const values = Buffer.from(wire.values.buffer, wire.values.byteOffset, wire.values.length);
  const records: OutgoingRecord[] = new Array(wire.keys.length);
  let from = 0;
  for (let i = 0; i < wire.keys.length; i++) {
    const end = wire.ends[i] as number;
    records[i] = {
      topic: wire.topics[i] === 0 ? options.topicEvents : options.topicDlq,
      key: wire.keys[i] ?? null,
      value: values.subarray(from, end),
    };
    from = end;
  }
  return { records, stats: wire.stats };
}
