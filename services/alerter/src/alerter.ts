// The alerter's wiring: events topic ─► rules ─► Kafka alerts topic, Alertmanager, webhooks, with
// threshold, suppression and idempotence state in Redis and the DLQ for what no sink would take.
import { type ConsumedBatch, createKafka, ensureTopics, openProducer, startBatchConsumer } from "@trailstream/kafka";
import { describeRedisSettings, openRedis } from "@trailstream/redis";
import { CorrelationEngine } from "@trailstream/rules";
import { fatalSignal, type Logger, type RunningService } from "@trailstream/runtime";
import type { Registry } from "prom-client";
import type { AlertDocument } from "./alert.ts";
import { RedisCorrelationStore } from "./correlation-redis.ts";
import { deliverAll, sinkDeadLetter } from "./deliver.ts";
import { decodeVerdict, verdictAlert } from "./integrity.ts";
import { type AlerterMetrics, createMetrics } from "./metrics.ts";
import { type BatchResult, processBatch } from "./pipeline.ts";
import { loadRules, ruleInputs } from "./rules.ts";
import type { AlerterConfig } from "./settings.ts";
import { alertmanagerSink } from "./sinks/alertmanager.ts";
import { kafkaSink } from "./sinks/kafka.ts";
import type { Sink } from "./sinks/sink.ts";
import { slackSink } from "./sinks/slack.ts";
import { webhookSink } from "./sinks/webhook.ts";
import { RedisAlertState } from "./state-redis.ts";

/** Partition batches of one fetch handled at once; each partition's stay in order. */
const PARTITIONS_AT_ONCE = 4;

export interface Alerter extends RunningService {
  metrics: AlerterMetrics;
  /** Resolves when the consumer first joined its group. */
  started: Promise<void>;
  ready(): string[];
  /** Stops consuming (the batch in flight finishes and commits), then closes Kafka and Redis. */
  stop(drainMs?: number): Promise<void>;
}

export interface AlerterDeps {
  log: Logger;
  /** Where the metrics are registered (the service shell's registry); a fresh one when absent. */
  registry?: Registry;
  now?: () => number;
  /** Told about every finished batch (tests, benchmarks). */
  onBatch?: (result: BatchResult) => void;
}

export async function start(config: AlerterConfig, deps: AlerterDeps): Promise<Alerter> {
  const { log } = deps;
  const metrics = createMetrics(deps.registry);
  const { fatal, fail } = fatalSignal();
  const ruleErrorLogged = new Map<string, number>();
  const loaded = await loadRules(ruleInputs(config), (rule, error) => {
    metrics.ruleErrors.inc({ rule: rule.id });
    // One line per rule per minute: a rule that fails on every event must not flood the log.
    const now = Date.now();
    if ((ruleErrorLogged.get(rule.id) ?? 0) > now - 60_000) return;
    ruleErrorLogged.set(rule.id, now);
    log.warn(
      { rule: rule.id, error: error instanceof Error ? error.message : String(error) },
      "a rule failed on an event; counted as no match (logged once a minute per rule)",
    );
  });
  const off = loaded.status.filter((s) => !s.enabled);
  if (off.length > 0) log.info({ rules: off.map((s) => `${s.id} (${s.why})`) }, "rules that are off");
  for (const [source, n] of Object.entries(loaded.bySource)) metrics.rulesLoaded.set({ source }, n);
  for (const f of loaded.failures) log.warn({ file: f.file, reason: f.reason }, "a Sigma rule was skipped");
  if (loaded.duplicateIds.length > 0) log.warn({ ids: loaded.duplicateIds }, "rules with a repeated id were skipped");

  const sinkOptions = { timeoutMs: config.sinkTimeoutMs, resolveMs: config.alertmanagerResolveMs };
  const httpSinks: Sink[] = [
    ...(config.alertmanagerUrl ? [alertmanagerSink(config.alertmanagerUrl, sinkOptions)] : []),
    ...config.webhookUrls.map((url) => webhookSink(url, config.sinkTimeoutMs)),
    ...config.slackWebhookUrls.map((url) => slackSink(url, config.sinkTimeoutMs)),
  ];
  log.info(
    {
      brokers: config.kafka.brokers,
      redis: describeRedisSettings(config.redis),
      topics: { events: config.topicEvents, alerts: config.topicAlerts, dlq: config.topicDlq },
      groupId: config.groupId,
      rules: loaded.ruleSet.size,
      bySource: loaded.bySource,
      sinks: ["kafka", ...httpSinks.map((s) => `${s.kind} ${s.target}`)],
    },
    "alerter starting",
  );

  const redis = openRedis(config.redis, {
    onUp: () => {
      log.info("Redis connected");
      metrics.redisUp.set(1);
    },
    onDown: (reason) => {
      log.warn({ error: reason }, "Redis connection lost: batches fail and come again until it is back");
      metrics.redisUp.set(0);
    },
  });
  const closeRedis = () => redis.close();
  await redis.connected();
  const state = new RedisAlertState({
    client: redis,
    keyPrefix: config.redisKeyPrefix,
    claimTtlMs: config.alertDedupTtlMs,
  });
  const correlations =
    loaded.correlations.length === 0
      ? undefined
      : new CorrelationEngine(loaded.correlations, loaded.ruleSet.rules, {
          store: new RedisCorrelationStore({
            client: redis,
            keyPrefix: config.redisKeyPrefix,
          }),
          latenessMs: config.correlationLatenessMs,
        });
  for (const f of correlations?.failures ?? []) {
    // A correlation in a file the operator named must run, as must its other rules.
    if (f.file !== undefined && config.ruleFiles.includes(f.file)) {
      await closeRedis();
      throw new Error(`${f.file}: correlation ${f.id} ${f.reason}`);
    }
    log.warn({ rule: f.id, file: f.file, reason: f.reason }, "a correlation rule was skipped");
  }
  metrics.rulesLoaded.set({ source: "correlation" }, correlations?.rules.length ?? 0);
  if (correlations) log.info({ correlations: correlations.rules.map((c) => c.id) }, "correlation rules loaded");

  const kafka = createKafka(config.kafka, log);
  let stopping = false;
  let lastBatchError: string | undefined;
  let producer: Awaited<ReturnType<typeof openProducer>> | undefined;
  try {
    // Where the alerter may not create topics (no CreateTopics ACL) they must exist already.
    await ensureTopics(kafka, [
      // The events topic too: the alerter may start before the enricher has created it.
      { topic: config.topicEvents, partitions: config.topicPartitions },
      { topic: config.topicAlerts, partitions: 3 },
      { topic: config.topicDlq, partitions: 3 },
      { topic: config.topicIntegrity, partitions: 3 },
    ]).catch((error: unknown) =>
      log.warn({ err: error }, "could not check or create the events, alerts and DLQ topics; using them as they are"),
    );
    producer = await openProducer(kafka);
  } catch (error) {
    await closeRedis();
    throw error;
  }
  const out = producer;
  const sinks: Sink[] = [kafkaSink(out, config.topicAlerts), ...httpSinks];
  const policy = {
    retries: config.sinkRetries,
    baseMs: config.sinkRetryBaseMs,
    maxMs: config.sinkRetryMaxMs,
    jitter: 0.2,
  };

  const integrityRule = { enabled: config.integrityAlerts, offTrails: new Set(config.integrityAlertsOffTrails) };
  async function handleIntegrity(batch: ConsumedBatch): Promise<void> {
    const now = deps.now?.() ?? Date.now();
    const alerts: AlertDocument[] = [];
    const letters: { key: string; value: string; headers: Record<string, string> }[] = [];
    for (const m of batch.messages) {
      const position = `${batch.topic}/${batch.partition}:${m.offset}`;
      const decoded = decodeVerdict(m.value, position);
      if (!decoded.ok) {
        metrics.dlq.inc({ reason: "shape" });
        letters.push({
          key: position,
          value: JSON.stringify({
            v: 1,
            stage: "alerter",
            reason: "shape",
            message: decoded.message,
            at: new Date(now).toISOString(),
            payload: m.value?.toString("base64") ?? "",
            payloadEncoding: "base64",
          }),
          headers: { reason: "shape" },
        });
        continue;
      }
      const alert = verdictAlert(decoded.verdict, integrityRule, now);
      if (alert) alerts.push(alert);
    }
    const failures = await deliverAll(alerts, sinks, policy, {
      shouldRetry: () => !stopping,
      concurrency: config.sinkConcurrency,
      deadlineMs: config.sinkBatchDeadlineMs,
    });
    for (const f of failures) {
      metrics.dlq.inc({ reason: `sink-${f.sink.kind}` });
      const letter = sinkDeadLetter(f.alert, f.sink.kind, f.message, f.attempts, now);
      letters.push({ key: f.alert.alertId, value: JSON.stringify(letter), headers: { reason: letter.reason } });
    }
    await out.send(config.topicDlq, letters);
    for (const a of alerts) {
      metrics.alerts.inc({ rule: a.ruleId, severity: a.severity });
      log.info({ rule: a.ruleId, kind: a.summary.eventName, identity: a.identity }, "integrity alert");
    }
  }

  async function handle(batch: ConsumedBatch): Promise<void> {
    if (batch.topic === config.topicIntegrity) return handleIntegrity(batch);
    const started = performance.now();
    try {
      const result = await processBatch(batch.partition, batch.messages, {
        rules: loaded.ruleSet,
        ...(correlations ? { correlations } : {}),
        floodPerMinute: config.alertFloodPerMinute,
        state,
        sinks,
        policy,
        metrics,
        ...(deps.now ? { now: deps.now } : {}),
        deadLetter: (letters) =>
          out.send(
            config.topicDlq,
            letters.map((d) => ({ key: d.key, value: JSON.stringify(d.letter), headers: { reason: d.letter.reason } })),
          ),
        hooks: {
          shouldRetry: () => !stopping,
          concurrency: config.sinkConcurrency,
          deadlineMs: config.sinkBatchDeadlineMs,
          onAttemptError: (sink, error, attempt) =>
            log.warn({ sink: sink.kind, target: sink.target, attempt, err: error }, "sink delivery failed"),
        },
      });
      for (const d of result.deadLetters) {
        log.warn({ reason: d.letter.reason, key: d.key, message: d.letter.message }, "dead-lettered");
      }
      for (const a of result.alerts) {
        log.info({ rule: a.ruleId, severity: a.severity, identity: a.identity, lagSeconds: a.lagSeconds }, "alert");
      }
      metrics.batchSeconds.observe((performance.now() - started) / 1_000);
      lastBatchError = undefined;
      deps.onBatch?.(result);
    } catch (error) {
      lastBatchError = error instanceof Error ? error.message : String(error);
      log.error({ partition: batch.partition, err: error }, "batch failed: not committed, it comes again");
      throw error;
    }
  }

  let consumer: Awaited<ReturnType<typeof startBatchConsumer>>;
  try {
    consumer = await startBatchConsumer(kafka, {
      groupId: config.groupId,
      groupInstanceId: config.groupInstanceId,
      topics: [config.topicEvents, config.topicIntegrity],
      // A partition batch mostly waits (Redis, sinks, its commit): the others work meanwhile.
      concurrentPartitions: PARTITIONS_AT_ONCE,
      // The next fetch overlaps the current batch, not follows it.
      prefetch: true,
      handle,
      onCrash: (error, restart) => {
        if (restart) log.warn({ err: error }, "Kafka consumer failed: restarting it");
        else fail(error);
      },
    });
  } catch (error) {
    await out.close().catch(() => {});
    await closeRedis();
    throw error;
  }

  consumer.started.then(
    () => log.info({ groupId: config.groupId, topic: config.topicEvents }, "consumer joined its group"),
    () => {},
  );

  return {
    metrics,
    started: consumer.started,
    fatal,
    ready() {
      const reasons: string[] = [];
      if (!consumer.running()) reasons.push("Kafka consumer stopped");
      if (!redis.ready()) reasons.push("Redis is down");
      if (lastBatchError !== undefined) reasons.push(`last batch failed: ${lastBatchError}`);
      if (stopping) reasons.push("stopping");
      return reasons;
    },
    async stop(drainMs) {
      stopping = true;
      await consumer.close(drainMs);
      await out.close();
      await closeRedis();
    },
  };
}
