// The enricher's batch thread (batch-thread.ts): decodes the batches it is sent and keeps them until
// their verdicts come, then plans them and hands the records back in one moved buffer.

import { parentPort, workerData } from "node:worker_threads";
import { compileEventSelectors, type DedupVerdict, type EventSelectorsDocument } from "@trailstream/cloudtrail";
import type { ConsumedMessage } from "@trailstream/kafka";
import { type BatchWorkOptions, decodeSelected, planDecoded, toWire } from "./batch-work.ts";
import type { DecodedBatch } from "./pipeline.ts";

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
      topic: string;
      partition: number;
      offsets: string[];
      /** The values one after another; a value ends at `ends[i]`, -1 for a record without one. */
      values: Uint8Array;
      ends: Int32Array;
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
      const values = Buffer.from(request.values.buffer, request.values.byteOffset, request.values.length);
      const messages: ConsumedMessage[] = new Array(request.offsets.length);
      let from = 0;
      for (let i = 0; i < request.offsets.length; i++) {
        const end = request.ends[i] as number;
        messages[i] = {
          topic: request.topic,
          partition: request.partition,
          offset: request.offsets[i] as string,
          key: null,
          value: end < 0 ? null : values.subarray(from, end),
          headers: {},
          timestampMs: 0,
        };
        if (end >= 0) from = end;
      }
      const decoded = decodeSelected(messages, options.eventSelectors);
      const n = decoded.decoded.length;
      const identities: string[] = new Array(n);
      const offsets: string[] = new Array(n);
      const eventTimes = new Float64Array(n);
      decoded.decoded.forEach((d, i) => {
        identities[i] = d.identity;
        offsets[i] = d.message.offset;
        eventTimes[i] = Date.parse(d.envelope.event.eventTime ?? "");
      });
      waiting.set(request.id, decoded);
      port.postMessage({ id: request.id, identities, offsets, eventTimes }, [eventTimes.buffer]);
      return;
    }
    const decoded = waiting.get(request.id);
    waiting.delete(request.id);
    if (!decoded) throw new Error(`no decoded batch ${request.id} to plan`);
    const wire = toWire(planDecoded(decoded, request.verdicts, request.nowMs, options), options);
    port.postMessage({ id: request.id, plan: wire }, [
      wire.values.buffer as ArrayBuffer,
      wire.ends.buffer as ArrayBuffer,
      wire.topics.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
