// The alerter's metrics: base units, `trailstream_alerter_` prefix, bounded labels (rule ids come
// from the loaded catalog, sinks and reasons from fixed sets; no account or eventName labels).
import { DLQ_REASONS, SINK_KINDS } from "@trailstream/cloudtrail";
import { createRegistry, LAG_BUCKETS_SECONDS, LATENCY_BUCKETS_SECONDS } from "@trailstream/runtime";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

const P = "trailstream_alerter_";

/** Rule evaluation per event takes microseconds: finer buckets than LATENCY_BUCKETS_SECONDS. */
export const EVALUATION_BUCKETS_SECONDS = [
  0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.005, 0.025,
];

export const DECISIONS = ["fire", "below-threshold", "suppressed", "duplicate", "flood"] as const;

export interface AlerterMetrics {
  registry: Registry;
  eventsIn: Counter<string>;
  ruleMatches: Counter<"rule" | "severity">;
  ruleErrors: Counter<"rule">;
  alerts: Counter<"rule" | "severity">;
  decisions: Counter<"result">;
  evaluationSeconds: Histogram<string>;
  batchSeconds: Histogram<string>;
  redisSeconds: Histogram<string>;
  redisErrors: Counter<string>;
  redisUp: Gauge<string>;
  sinkErrors: Counter<"sink">;
  sinkDelivered: Counter<"sink">;
  sinkSeconds: Histogram<"sink">;
  dlq: Counter<"reason">;
  lagSeconds: Histogram<string>;
  rulesLoaded: Gauge<"source">;
}

export function createMetrics(registry: Registry = createRegistry("alerter")): AlerterMetrics {
  const registers = [registry];
  const m: AlerterMetrics = {
    registry,
    eventsIn: new Counter({ name: `${P}events_in_total`, help: "Events read from the events topic.", registers }),
    ruleMatches: new Counter({
      name: `${P}rule_matches_total`,
      help: "Rule matches, by rule and severity (before thresholds and suppression).",
      labelNames: ["rule", "severity"],
      registers,
    }),
    ruleErrors: new Counter({
      name: `${P}rule_errors_total`,
      help: "Rule evaluations that threw on an event (counted as no match; the other rules still ran), by rule.",
      labelNames: ["rule"],
      registers,
    }),
    alerts: new Counter({
      name: `${P}alerts_total`,
      help: "Alerts raised, by rule and severity.",
      labelNames: ["rule", "severity"],
      registers,
    }),
    decisions: new Counter({
      name: `${P}decisions_total`,
      help: "What became of rule matches: fire, below-threshold, suppressed, or duplicate (a re-delivered or copied event).",
      labelNames: ["result"],
      registers,
    }),
    evaluationSeconds: new Histogram({
      name: `${P}evaluation_seconds`,
      help: "Time to evaluate all rules against one event (one event in 16 is timed).",
      buckets: EVALUATION_BUCKETS_SECONDS,
      registers,
    }),
    batchSeconds: new Histogram({
      name: `${P}batch_duration_seconds`,
      help: "Time from receiving a partition batch until its alerts are durable (its offsets are committed next).",
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    redisSeconds: new Histogram({
      name: `${P}redis_roundtrip_seconds`,
      help: "Time of one Redis step of a batch (claims, decisions, marks).",
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    redisErrors: new Counter({
      name: `${P}redis_errors_total`,
      help: "Failed Redis steps (the batch is then not committed and comes again).",
      registers,
    }),
    redisUp: new Gauge({ name: `${P}redis_up`, help: "1 when the Redis client is connected.", registers }),
    sinkErrors: new Counter({
      name: `${P}sink_errors_total`,
      help: "Failed delivery attempts, by sink (each is retried with backoff, then dead-lettered).",
      labelNames: ["sink"],
      registers,
    }),
    sinkDelivered: new Counter({
      name: `${P}sink_alerts_delivered_total`,
      help: "Alerts a sink accepted, by sink.",
      labelNames: ["sink"],
      registers,
    }),
    sinkSeconds: new Histogram({
      name: `${P}sink_delivery_seconds`,
      help: "Time of one successful delivery, retries included, by sink.",
      labelNames: ["sink"],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    dlq: new Counter({
      name: `${P}dlq_records_total`,
      help: "Records sent to the DLQ topic, by reason (sink-<sink> for undeliverable alerts, or a decode reason).",
      labelNames: ["reason"],
      registers,
    }),
    lagSeconds: new Histogram({
      name: `${P}event_lag_seconds`,
      help: "now - eventTime of each event when its alert is raised: the five-minute budget, end to end.",
      buckets: LAG_BUCKETS_SECONDS,
      registers,
    }),
    rulesLoaded: new Gauge({
      name: `${P}rules_loaded`,
      help: "Rules loaded at start, by source.",
      labelNames: ["source"],
      registers,
    }),
  };
  // Zero series for the known labels, so dashboards show 0 rather than nothing.
  for (const sink of SINK_KINDS) {
    m.sinkErrors.inc({ sink }, 0);
    m.sinkDelivered.inc({ sink }, 0);
  }
  for (const result of DECISIONS) m.decisions.inc({ result }, 0);
  for (const reason of DLQ_REASONS.alerter) m.dlq.inc({ reason }, 0);
  m.redisUp.set(0);
  return m;
}
