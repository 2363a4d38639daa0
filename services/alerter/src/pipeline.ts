// One partition batch of the events topic, start to finish: decode, match, claim each match in
// Redis (a re-delivered or copied event raises nothing twice), decide thresholds and suppression,
// build the alerts, deliver them to every sink, dead-letter what no sink would take, mark the
// matches done. When this resolves the batch's alerts are durable and its offsets may be committed;
// when it throws nothing is committed and the batch comes again.
import { alertIdentity, type DeadLetter, rejectedRecordLetter } from "@trailstream/cloudtrail";
import type { ConsumedMessage } from "@trailstream/kafka";
import { type AlertDecision, type CorrelationEngine, decideAlert, type Rule, type RuleSet } from "@trailstream/rules";
import {
  type AlertDocument,
  buildAlert,
  buildFloodSummary,
  type DecodedEvent,
  decodeEvent,
  eventTimeMs,
  FLOOD_WINDOW_MS,
} from "./alert.ts";
import { correlate, correlationAlert, type Fed } from "./correlate.ts";
import { type DeliveryHooks, deliverAll, sinkDeadLetter } from "./deliver.ts";
import type { AlerterMetrics } from "./metrics.ts";
import type { RetryPolicy } from "./retry.ts";
import type { Sink } from "./sinks/sink.ts";
import type { AlertState } from "./state-memory.ts";
import type { MatchClaim } from "./state-redis.ts";

export interface DeadLetterOut {
  key: string | null;
  letter: DeadLetter<"alerter">;
}

export interface PipelineDeps {
  rules: RuleSet;
  /** Sigma correlation rules over `rules`, their state in the same Redis (or memory in tests). */
  correlations?: CorrelationEngine;
  state: AlertState;
  sinks: readonly Sink[];
  policy: RetryPolicy;
  /** Writes dead letters durably (the DLQ topic); throws when it cannot. */
  deadLetter(letters: readonly DeadLetterOut[]): Promise<void>;
  metrics?: AlerterMetrics;
  now?: () => number;
  hooks?: DeliveryHooks;
  /** ALERT_FLOOD_PER_MINUTE: alerts per rule per minute before they fold into a summary; 0 or absent: no limit. */
  floodPerMinute?: number;
  /** Each Redis step's bound (REDIS_STEP_TIMEOUT_MS when absent). */
  redisTimeoutMs?: number;
}

export interface BatchResult {
  events: number;
  matches: number;
  duplicates: number;
  alerts: AlertDocument[];
  deadLetters: DeadLetterOut[];
}

interface Match {
  event: DecodedEvent;
  rule: Rule;
  claim: MatchClaim;
}

/**
 * One Redis step, timed and bounded: a stalled but connected Redis must not hold the batch past the
 * consumer's session timeout (30 s), or the group rebalances and the next replica stalls the same way.
 * A step that times out fails the batch, which is not committed and comes again.
 */
const timed = async <T>(
  metrics: AlerterMetrics | undefined,
  step: () => Promise<T>,
  timeoutMs = REDIS_STEP_TIMEOUT_MS,
): Promise<T> => {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      step(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`a Redis step took more than ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    metrics?.redisSeconds.observe((performance.now() - started) / 1_000);
    return value;
  } catch (error) {
    metrics?.redisErrors.inc();
    throw error;
  } finally {
    clearTimeout(timer);
  }
};

/** One event in this many has its rule evaluation timed into `evaluation_seconds`. */
export const EVALUATION_SAMPLE = 16;
let evaluations = 0;

/** Each Redis step of a batch (claims, decisions, marks) may take this long. */
export const REDIS_STEP_TIMEOUT_MS = 5_000;

export async function processBatch(
  partition: number,
  messages: readonly ConsumedMessage[],
  deps: PipelineDeps,
): Promise<BatchResult> {
  const { metrics } = deps;
  const step = <T>(work: () => Promise<T>): Promise<T> => timed(metrics, work, deps.redisTimeoutMs);
  const now = deps.now ?? Date.now;
  const deadLetters: DeadLetterOut[] = [];
  const matches: Match[] = [];
  const fed: Fed[] = [];
  for (const message of messages) {
    const position = `${partition}:${message.offset}`;
    const decoded = decodeEvent(message.value, position);
    if (!decoded.ok) {
      deadLetters.push({
        key: message.key?.toString("utf8") ?? null,
        letter: rejectedRecordLetter({
          stage: "alerter",
          reason: decoded.reason,
          message: decoded.message,
          value: message.value,
          nowMs: now(),
          origin: decoded.origin,
        }),
      });
      continue;
    }
    // The evaluation time of one event in EVALUATION_SAMPLE: a histogram observation per event
    // cost as much as the rules themselves; a sample gives the same quantiles.
    const sampled = metrics !== undefined && ++evaluations % EVALUATION_SAMPLE === 0;
    const started = sampled ? performance.now() : 0;
    const hits = deps.rules.match(decoded.event.record);
    if (sampled) metrics.evaluationSeconds.observe((performance.now() - started) / 1_000);
    if (deps.correlations && hits.some((r) => deps.correlations?.feedsOn(r.id)))
      fed.push({ event: decoded.event, hits });
    for (const rule of hits) {
      metrics?.ruleMatches.inc({ rule: rule.id, severity: rule.severity });
      if (rule.silent) continue; // it only feeds a correlation
      matches.push({
        event: decoded.event,
        rule,
        // A correction claims under the event it corrects, so one change alerts once.
        claim: {
          ruleId: rule.id,
          identity: alertIdentity(decoded.event.record) ?? decoded.event.identity,
          owner: position,
        },
      });
    }
  }
  metrics?.eventsIn.inc(messages.length);

  // One round trip claims every match; only new ones and this same record again go on.
  const verdicts = matches.length === 0 ? [] : await step(() => deps.state.claimMatches(matches.map((m) => m.claim)));
  const live = matches.filter((_, i) => verdicts[i] === "new" || verdicts[i] === "again");
  const duplicates = matches.length - live.length;
  if (duplicates > 0) metrics?.decisions.inc({ result: "duplicate" }, duplicates);

  // Thresholds and suppression, in Redis; windows follow eventTime so a re-delivery counts alike.
  const decisions = await step(() =>
    Promise.all(
      live.map(async ({ rule, event }): Promise<AlertDecision> => {
        if (!rule.threshold && !rule.suppress) return { fire: true, reason: "fire", count: 1, group: "" };
        const at = eventTimeMs(event.record) ?? now();
        return decideAlert(rule, event.record, deps.state.forEvent(event.identity), at);
      }),
    ),
  );
  // The flood limit: per rule, alerts counted per minute of event time (each event once, so a
  // re-delivery counts alike); past the limit they fold into one summary alert per rule and batch.
  // A fixed minute, not a sliding window: partitions and trails deliver out of eventTime order, and
  // a window that counts only earlier events lets a late event slip under the limit.
  const limit = deps.floodPerMinute ?? 0;
  const flooded = await step(() =>
    Promise.all(
      decisions.map(async (decision, i): Promise<number> => {
        const m = live[i];
        if (!m || !decision.fire || limit <= 0) return 0;
        const at = eventTimeMs(m.event.record) ?? now();
        const key = `flood:${m.rule.id}:${Math.floor(at / FLOOD_WINDOW_MS)}`;
        const n = await deps.state.floodPosition(key, m.event.identity, limit, FLOOD_WINDOW_MS + 60_000);
        return n > limit ? n : 0;
      }),
    ),
  );
  const alerts: AlertDocument[] = [];
  const alertOrigins = new Map<AlertDocument, DecodedEvent>();
  const summaries = new Map<string, { match: Match; count: number }>();
  decisions.forEach((decision, i) => {
    const m = live[i];
    if (!m) return;
    const flood = flooded[i] ?? 0;
    metrics?.decisions.inc({ result: decision.fire && flood > 0 ? "flood" : decision.reason });
    if (!decision.fire) return;
    if (flood > 0) {
      const seen = summaries.get(m.rule.id);
      if (!seen || flood >= seen.count) summaries.set(m.rule.id, { match: m, count: flood });
      return;
    }
    const doc = buildAlert(m.rule, m.event, decision, now());
    alerts.push(doc);
    alertOrigins.set(doc, m.event);
  });
  for (const { match, count } of summaries.values()) {
    const doc = buildFloodSummary(match.rule, match.event, count, now());
    alerts.push(doc);
    alertOrigins.set(doc, match.event);
  }

  // Correlations, in Redis too, judged on eventTime; their alerts claimed like the matches above.
  const engine = deps.correlations;
  const correlated = engine && fed.length > 0 ? await step(() => correlate(engine, fed, deps.state)) : [];
  for (const c of correlated) {
    const doc = correlationAlert(c, now());
    alerts.push(doc);
    alertOrigins.set(doc, c.event);
  }

  const failures = await deliverAll(alerts, deps.sinks, deps.policy, {
    ...deps.hooks,
    onAttemptError: (sink, error, attempt) => {
      metrics?.sinkErrors.inc({ sink: sink.kind });
      deps.hooks?.onAttemptError?.(sink, error, attempt);
    },
    onDelivered: (sink, seconds, count) => {
      metrics?.sinkSeconds.observe({ sink: sink.kind }, seconds);
      metrics?.sinkDelivered.inc({ sink: sink.kind }, count);
      deps.hooks?.onDelivered?.(sink, seconds, count);
    },
  });
  for (const f of failures) {
    deadLetters.push({
      key: f.alert.identity,
      letter: sinkDeadLetter(f.alert, f.sink.kind, f.message, f.attempts, now(), alertOrigins.get(f.alert)?.origin),
    });
  }
  if (deadLetters.length > 0) {
    await deps.deadLetter(deadLetters);
    for (const d of deadLetters) metrics?.dlq.inc({ reason: d.letter.reason });
  }
  const done = [...live.map((m) => m.claim), ...correlated.map((c) => c.claim)];
  if (done.length > 0) await step(() => deps.state.markDone(done));

  const doneAt = now();
  for (const a of alerts) {
    metrics?.alerts.inc({ rule: a.ruleId, severity: a.severity });
    const t = a.eventTime === null ? Number.NaN : Date.parse(a.eventTime);
    if (Number.isFinite(t)) metrics?.lagSeconds.observe(Math.max(0, (doneAt - t) / 1_000));
  }
  return { events: messages.length, matches: matches.length, duplicates, alerts, deadLetters };
}
