import { collectDefaultMetrics, Registry } from "prom-client";

export const METRIC_PREFIX = "trailstream_";

/**
 * Buckets for event lag (`now - eventTime`) in seconds, dense around the five-minute budget and out
 * to fifteen minutes, so p50/p95/p99 against the budget can be read off a dashboard.
 */
export const LAG_BUCKETS_SECONDS = [1, 5, 15, 30, 60, 90, 120, 180, 240, 270, 300, 330, 360, 420, 480, 600, 750, 900];

/** Buckets for operations measured in seconds that should take milliseconds (a produce, a Redis round trip). */
export const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One registry per service, with Node's process metrics and a `service` label on everything. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}
