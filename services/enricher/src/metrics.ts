// The enricher's metrics: base units, `trailstream_enricher_` prefix, bounded labels.

import type { EventSelectors } from "@trailstream/cloudtrail";
import { DLQ_REASONS, ORIGIN_KINDS } from "@trailstream/cloudtrail";
import { createRegistry, LAG_BUCKETS_SECONDS, LATENCY_BUCKETS_SECONDS } from "@trailstream/runtime";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { BatchStats } from "./pipeline.ts";

const P = "trailstream_enricher_";

export interface EnricherMetrics {
  registry: Registry;
  recordsIn: Counter<string>;
  eventsOut: Counter<"dedup">;
  replays: Counter<string>;
  copies: Counter<"origin_kind">;
  dlq: Counter<"reason">;
  batchSeconds: Histogram<string>;
  transactionSeconds: Histogram<string>;
  redisSeconds: Histogram<string>;
  redisErrors: Counter<string>;
  redisUp: Gauge<string>;
  lagSeconds: Histogram<string>;
  transactions: Counter<"result">;
  assignedPartitions: Gauge<string>;
  selectedOut: Counter<string>;
  selectorRejections: Counter<"selector" | "field">;
  /** Counts a committed batch. */
  record(stats: BatchStats): void;
}

export function createMetrics(
  registry: Registry = createRegistry("enricher"),
  selectors?: EventSelectors,
): EnricherMetrics {
  const registers = [registry];
  const m: EnricherMetrics = {
    registry,
    recordsIn: new Counter({ name: `${P}records_in_total`, help: "Raw records consumed and committed.", registers }),
    eventsOut: new Counter({
      name: `${P}events_out_total`,
      help: "Unique events written to the events topic; dedup=unchecked when Redis was down and DEDUP_ON_REDIS_DOWN=pass.",
      labelNames: ["dedup"],
      registers,
    }),
    replays: new Counter({
      name: `${P}replays_total`,
      help: "Events written again because their dedup claim was their own (the batch came again after a crash).",
      registers,
    }),
    copies: new Counter({
      name: `${P}copies_collapsed_total`,
      help: "Copies of already-seen events dropped, by the dropped copy's origin kind.",
      labelNames: ["origin_kind"],
      registers,
    }),
    dlq: new Counter({
      name: `${P}dlq_records_total`,
      help: "Raw records sent to the DLQ topic, by reason.",
      labelNames: ["reason"],
      registers,
    }),
    batchSeconds: new Histogram({
      name: `${P}batch_duration_seconds`,
      help: "Time from receiving a poll's batches (every partition it fetched) to its transaction's commit.",
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    transactionSeconds: new Histogram({
      name: `${P}transaction_duration_seconds`,
      help: "A poll's Kafka transaction, from its begin to the commit's answer (produce, offsets, EndTxn).",
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    redisSeconds: new Histogram({
      name: `${P}redis_roundtrip_seconds`,
      help: "Time of one pipelined Redis round trip of dedup claims (one per batch).",
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    redisErrors: new Counter({
      name: `${P}redis_errors_total`,
      help: "Failed Redis round trips (each is retried, or passed with DEDUP_ON_REDIS_DOWN=pass).",
      registers,
    }),
    redisUp: new Gauge({ name: `${P}redis_up`, help: "1 when the last Redis round trip worked.", registers }),
    lagSeconds: new Histogram({
      name: `${P}event_lag_seconds`,
      help: "now - eventTime of each event when the enricher writes it.",
      buckets: LAG_BUCKETS_SECONDS,
      registers,
    }),
    transactions: new Counter({
      name: `${P}transactions_total`,
      help: "Kafka transactions, by result (commit, or abort: the batch comes again).",
      labelNames: ["result"],
      registers,
    }),
    assignedPartitions: new Gauge({
      name: `${P}assigned_partitions`,
      help: "Raw topic partitions this instance holds.",
      registers,
    }),
    selectedOut: new Counter({
      name: `${P}selected_out_total`,
      help: "Events dropped because no EVENT_SELECTORS selector keeps them (before any dedup claim).",
      registers,
    }),
    selectorRejections: new Counter({
      name: `${P}selector_rejections_total`,
      help: "Per event selector, the field (condition) that turned each dropped event away; every selector rejects every dropped event, so sum by (selector) equals selected_out_total.",
      labelNames: ["selector", "field"],
      registers,
    }),
    record(stats) {
      m.recordsIn.inc(stats.in);
      if (stats.selection && selectors) {
        if (stats.selection.dropped > 0) m.selectedOut.inc(stats.selection.dropped);
        stats.selection.rejections.forEach((row, s) => {
          row.forEach((n, c) => {
            if (n > 0)
              m.selectorRejections.inc(
                { selector: selectors.names[s] ?? `#${s + 1}`, field: selectors.conditions[s]?.[c] ?? "?" },
                n,
              );
          });
        });
      }
      if (stats.unique - stats.unchecked > 0) m.eventsOut.inc({ dedup: "checked" }, stats.unique - stats.unchecked);
      if (stats.unchecked > 0) m.eventsOut.inc({ dedup: "unchecked" }, stats.unchecked);
      if (stats.replays > 0) m.replays.inc(stats.replays);
      for (const [kind, n] of stats.copiesByOrigin) m.copies.inc({ origin_kind: kind }, n);
      for (const [reason, n] of stats.dlqByReason) m.dlq.inc({ reason }, n);
      for (const s of stats.lagSeconds) m.lagSeconds.observe(s);
    },
  };
  // Zero series for the known labels, so dashboards show 0 rather than nothing.
  for (const kind of [...ORIGIN_KINDS, "other"]) m.copies.inc({ origin_kind: kind }, 0);
  for (const dedup of ["checked", "unchecked"]) m.eventsOut.inc({ dedup }, 0);
  for (const result of ["commit", "abort"]) m.transactions.inc({ result }, 0);
  for (const reason of DLQ_REASONS.enricher) m.dlq.inc({ reason }, 0);
  m.redisUp.set(0);
  m.selectedOut.inc(0);
  selectors?.names.forEach((selector, s) => {
    for (const field of selectors.conditions[s] ?? []) m.selectorRejections.inc({ selector, field }, 0);
  });
  return m;
}
