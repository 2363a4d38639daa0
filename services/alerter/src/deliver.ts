// Sends a batch's alerts to every sink at once. Each delivery is retried with backoff; what a sink
// still refuses after its retries comes back as a failure for the DLQ. Once a sink has used up its
// retries in a batch, its remaining deliveries in that batch are not attempted (they are failures
// too), so a dead sink costs a batch one retry schedule, not one per alert; and a slow one cannot
// hold a batch past its deadline.
import type { DeadLetter, ReceivedOrigin, SinkKind } from "@trailstream/cloudtrail";
import type { AlertDocument } from "./alert.ts";
import { type RetryPolicy, withRetry } from "./retry.ts";
import type { Sink } from "./sinks/sink.ts";

export interface DeliveryFailure {
  sink: Sink;
  alert: AlertDocument;
  message: string;
  attempts: number;
}

export interface DeliveryHooks {
  sleep?: (ms: number) => Promise<void>;
  /** Every failed attempt (for metrics and logs). */
  onAttemptError?: (sink: Sink, error: unknown, attempt: number) => void;
  /** Seconds one successful delivery took. */
  onDelivered?: (sink: Sink, seconds: number, alerts: number) => void;
  /** false stops retrying (shutting down): what is left becomes a failure now. */
  shouldRetry?: () => boolean;
  /** Deliveries in flight at once per sink, for sinks that take one alert per call (default 1). */
  concurrency?: number;
  /**
   * After this long a sink's remaining deliveries in the batch are failures without an attempt:
   * the batch handler cannot heartbeat, so it must finish well inside the consumer's session timeout.
   */
  deadlineMs?: number;
  clock?: () => number;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class CriticalSinkError extends Error {
  override readonly name = "CriticalSinkError";
}

/** Resolves with the deliveries that failed for good; rejects when a critical sink fails. */
export async function deliverAll(
  alerts: readonly AlertDocument[],
  sinks: readonly Sink[],
  policy: RetryPolicy,
  hooks: DeliveryHooks = {},
): Promise<DeliveryFailure[]> {
  if (alerts.length === 0) return [];
  const perSink = await Promise.all(sinks.map((sink) => deliverTo(sink, alerts, policy, hooks)));
  return perSink.flat();
}

async function deliverTo(
  sink: Sink,
  alerts: readonly AlertDocument[],
  policy: RetryPolicy,
  hooks: DeliveryHooks,
): Promise<DeliveryFailure[]> {
  if (sink.critical) {
    const started = performance.now();
    try {
      await sink.deliver(alerts);
    } catch (error) {
      hooks.onAttemptError?.(sink, error, 1);
      throw new CriticalSinkError(`${sink.kind} (${sink.target}): ${messageOf(error)}`, { cause: error });
    }
    hooks.onDelivered?.(sink, (performance.now() - started) / 1_000, alerts.length);
    return [];
  }
  const clock = hooks.clock ?? Date.now;
  const deadline = clock() + (hooks.deadlineMs ?? Number.POSITIVE_INFINITY);
  const units = sink.unit === "batch" ? [alerts] : alerts.map((a) => [a]);
  const failures: DeliveryFailure[] = [];
  let down: string | undefined;
  let next = 0;
  const options: Parameters<typeof withRetry>[2] = {
    onError: (error, attempt) => hooks.onAttemptError?.(sink, error, attempt),
    shouldRetry: () => (hooks.shouldRetry?.() ?? true) && clock() < deadline,
  };
  if (hooks.sleep) options.sleep = hooks.sleep;
  const worker = async () => {
    for (let unit = units[next++]; unit !== undefined; unit = units[next++]) {
      const skip =
        down ??
        (clock() >= deadline
          ? `${sink.kind} ${sink.target}: not attempted, the batch's delivery deadline (${hooks.deadlineMs} ms) passed`
          : undefined);
      if (skip !== undefined) {
        for (const alert of unit) failures.push({ sink, alert, message: skip, attempts: 0 });
        continue;
      }
      const started = performance.now();
      const batch = unit;
      const outcome = await withRetry(() => sink.deliver(batch), policy, options);
      if (outcome.ok) {
        hooks.onDelivered?.(sink, (performance.now() - started) / 1_000, unit.length);
        continue;
      }
      const message = `${sink.kind} ${sink.target}: ${messageOf(outcome.error)} (${outcome.attempts} attempt${outcome.attempts === 1 ? "" : "s"})`;
      for (const alert of unit) failures.push({ sink, alert, message, attempts: outcome.attempts });
      if (!outcome.permanent) down ??= `${sink.kind} ${sink.target} is down in this batch (not attempted): ${message}`;
    }
  };
  const workers = Math.max(1, Math.min(hooks.concurrency ?? 1, units.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return failures;
}

/** A dead letter for an alert a sink would not take, with the alert as its replayable payload. */
export function sinkDeadLetter(
  doc: AlertDocument,
  sink: SinkKind,
  message: string,
  attempts: number,
  nowMs: number,
  origin: Partial<ReceivedOrigin> = {},
): DeadLetter<"alerter"> {
  return {
    v: 1,
    stage: "alerter",
    reason: `sink-${sink}`,
    message,
    at: new Date(nowMs).toISOString(),
    origin,
    payload: JSON.stringify(doc),
    payloadEncoding: "utf8",
    attempts,
  };
}
