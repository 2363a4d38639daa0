// Sends a batch's alerts to every sink at once. Each delivery is retried with backoff; what a sink
// still refuses after its retries comes back as a failure for the DLQ. Once a sink has used up its
// retries in a batch, its remaining deliveries in that batch are not attempted (they are failures
// too), so a dead sink costs a batch one retry schedule, not one per alert.
import type { AlertDocument } from "./evaluate.ts";
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
  const units = sink.unit === "batch" ? [alerts] : alerts.map((a) => [a]);
  const failures: DeliveryFailure[] = [];
  let down: string | undefined;
  for (const unit of units) {
    if (down !== undefined) {
      for (const alert of unit) failures.push({ sink, alert, message: down, attempts: 0 });
      continue;
    }
    const started = performance.now();
    const options: Parameters<typeof withRetry>[2] = {
      onError: (error, attempt) => hooks.onAttemptError?.(sink, error, attempt),
    };
    if (hooks.sleep) options.sleep = hooks.sleep;
    if (hooks.shouldRetry) options.shouldRetry = hooks.shouldRetry;
    const outcome = await withRetry(() => sink.deliver(unit), policy, options);
    if (outcome.ok) {
      hooks.onDelivered?.(sink, (performance.now() - started) / 1_000, unit.length);
      continue;
    }
    const message = `${sink.kind} ${sink.target}: ${messageOf(outcome.error)} (${outcome.attempts} attempt${outcome.attempts === 1 ? "" : "s"})`;
    for (const alert of unit) failures.push({ sink, alert, message, attempts: outcome.attempts });
    if (!outcome.permanent) down = `${sink.kind} ${sink.target} is down in this batch (not attempted): ${message}`;
  }
  return failures;
}
