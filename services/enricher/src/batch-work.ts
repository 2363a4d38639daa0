// The CPU work of a chunk of a poll's records (of any of its partitions), apart from Kafka and Redis:
// decode the raw records (and apply the event selectors), then, given Redis's verdicts, enrich and
// write the events and dead letters.
// Done here on the calling thread, or on a worker thread (batch-thread.ts) so the event loop only
// drives Kafka and Redis while a second core decodes. Both give the same records: see
// docs/decisions/0013-enricher-batch-thread.md.
import { type DedupClaim, type DedupVerdict, type EventSelectors, enrich } from "@trailstream/cloudtrail";
import type { ConsumedMessage, OutgoingRecord } from "@trailstream/kafka";
import { type PackedValues, packValues, unpackValues } from "./packed-values.ts";
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
  /** One chunk of a poll's records (pollChunks), of any of its partitions, in the fetch's order. */
  decode(messages: readonly ConsumedMessage[]): Promise<DecodedWork>;
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
    async decode(messages) {
      const decoded = decodeSelected(messages, options.eventSelectors);
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
 * A BatchPlan as a worker thread sends it: every value in one buffer (packed-values.ts), which
 * topic each goes to and its key. BatchStats' maps clone as they are.
 */
export interface WirePlan {
  values: PackedValues;
  /** 0: the events topic, 1: the DLQ. */
  topics: Uint8Array;
  keys: (string | null)[];
  stats: BatchStats;
}

export function toWire(plan: BatchPlan, options: Pick<BatchWorkOptions, "topicEvents" | "topicDlq">): WirePlan {
  const topics = new Uint8Array(plan.records.length);
  plan.records.forEach((r, i) => {
    // A plan writes to these two topics, with a key and a value only (what fromWire rebuilds).
    if (r.topic !== options.topicEvents && r.topic !== options.topicDlq) throw new Error(`a plan wrote to ${r.topic}`);
    topics[i] = r.topic === options.topicEvents ? 0 : 1;
  });
  return {
    values: packValues(plan.records.map((r) => r.value)),
    topics,
    keys: plan.records.map((r) => r.key),
    stats: plan.stats,
  };
}

export function fromWire(wire: WirePlan, options: Pick<BatchWorkOptions, "topicEvents" | "topicDlq">): BatchPlan {
  const values = unpackValues(wire.values);
  const records: OutgoingRecord[] = wire.keys.map((key, i) => ({
    topic: wire.topics[i] === 0 ? options.topicEvents : options.topicDlq,
    key,
    // A plan's records all have values (packValues keeps each one's bytes).
    value: values[i] ?? Buffer.alloc(0),
  }));
  return { records, stats: wire.stats };
}
