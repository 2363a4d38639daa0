// The enricher's batch thread (batch-thread.ts): decodes the batches it is sent and keeps them until
// their verdicts come, then plans them and hands the records back in one moved buffer.

import { parentPort, workerData } from "node:worker_threads";
import { compileEventSelectors, type DedupVerdict, type EventSelectorsDocument } from "@trailstream/cloudtrail";
import type { ConsumedMessage } from "@trailstream/kafka";
import { type BatchWorkOptions, decodeSelected, planDecoded, toWire } from "./batch-work.ts";
import { type PackedValues, transferOf, unpackValues } from "./packed-values.ts";
import { claimsOf, type DecodedBatch } from "./pipeline.ts";

export interface BatchThreadData {
  topicEvents: string;
  topicDlq: string;
  maxRecordBytes: number;
  selectors: EventSelectorsDocument | null;
}

export type BatchRequest =
  | {
      op: "decode";
      id: number;
      /** The input topic: a poll reads one. */
      topic: string;
      /** Each record's partition, then its offset. */
      partitions: Int32Array;
      offsets: string[];
      values: PackedValues;
    }
  | { op: "plan"; id: number; verdicts: DedupVerdict[] | null; nowMs: number }
  | { op: "release"; id: number };

const port = parentPort;
if (!port) throw new Error("batch-worker.ts runs as a worker thread");
const data = workerData as BatchThreadData;
const options: BatchWorkOptions = {
  topicEvents: data.topicEvents,
  topicDlq: data.topicDlq,
  maxRecordBytes: data.maxRecordBytes,
  eventSelectors: data.selectors ? compileEventSelectors(data.selectors) : undefined,
};
/** Decoded batches waiting for their verdicts, by request id. */
const waiting = new Map<number, DecodedBatch>();

port.on("message", (request: BatchRequest) => {
  try {
    if (request.op === "release") {
      waiting.delete(request.id);
      return;
    }
    if (request.op === "decode") {
      const values = unpackValues(request.values);
      const messages: ConsumedMessage[] = request.offsets.map((offset, i) => ({
        topic: request.topic,
        partition: request.partitions[i] as number,
        offset,
        // Decoding reads the value and where it was; key, headers and time stay on the event loop.
        key: null,
        value: values[i] ?? null,
        headers: {},
        timestampMs: 0,
      }));
      const decoded = decodeSelected(messages, options.eventSelectors);
      // The claims as the event loop would make them (claimsOf), sent as three arrays: a list of
      // small objects clones one by one.
      const claims = claimsOf(decoded.decoded);
      const identities = claims.map((c) => c.identity);
      const owners = claims.map((c) => c.owner);
      const eventTimes = Float64Array.from(claims, (c) => c.eventTimeMs ?? Number.NaN);
      waiting.set(request.id, decoded);
      port.postMessage({ id: request.id, identities, owners, eventTimes }, [eventTimes.buffer]);
      return;
    }
    const decoded = waiting.get(request.id);
    waiting.delete(request.id);
    if (!decoded) throw new Error(`no decoded batch ${request.id} to plan`);
    const wire = toWire(planDecoded(decoded, request.verdicts, request.nowMs, options), options);
    port.postMessage({ id: request.id, plan: wire }, [...transferOf(wire.values), wire.topics.buffer as ArrayBuffer]);
  } catch (error) {
    port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
