// The enricher's wiring: raw topic ─► decode ─► Redis dedup (one round trip per chunk) ─► enrich ─►
// events topic and DLQ, in one Kafka transaction per poll with the consumed offsets. A poll is cut
// by size, not by partition (pollChunks): a small one is one message each way to the batch thread
// and one set of claim scripts (per partition, at 5,000 events/s on 6 partitions, each poll cost six
// of each for about 35 records apiece); a large one is several chunks at once, so the thread decodes
// one while Redis answers another's claims.

import { type DedupClaim, type DedupVerdict, dedupBatch } from "@trailstream/cloudtrail";
import {
  type ConsumedBatch,
  type ConsumedMessage,
  createKafka,
  ensureTopics,
  type PipeBatchContext,
  PipeInactiveError,
  type PipeResult,
  startTransactionalPipe,
  type TransactionalPipe,
  topicMaxMessageBytes,
} from "@trailstream/kafka";
import { describeRedisSettings, openRedis } from "@trailstream/redis";
import { fatalSignal, type Logger, type RunningService } from "@trailstream/runtime";
import type { Registry } from "prom-client";
import { BatchThread } from "./batch-thread.ts";
import { type BatchWork, inlineBatchWork } from "./batch-work.ts";
import { RedisDedupStore } from "./dedup-redis.ts";
import { ensureIndexTopic, type Indexer, startIndexer } from "./indexer.ts";
import { createMetrics, type EnricherMetrics } from "./metrics.ts";
import { type BatchPlan, POLL_CHUNK_RECORDS, pollChunks, RECORD_OVERHEAD_BYTES } from "./pipeline.ts";
import { RedisHealth } from "./redis-health.ts";
import type { EnricherConfig } from "./settings.ts";

export interface Enricher extends RunningService {
  metrics: EnricherMetrics;
  /** Resolves when the consumer first joined its group. */
  started: Promise<void>;
  assigned(): readonly number[];
  ready(): string[];
  /** Stops consuming, lets the batch in flight finish or abort, closes Kafka and Redis. */
  stop(drainMs?: number): Promise<void>;
}

export interface EnricherDeps {
  log: Logger;
  /** Where the metrics are registered (the service shell's registry); a fresh one when absent. */
  registry?: Registry;
  now?: () => number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The most a stop waits for the lookup indexer's batch in flight. */
const INDEXER_DRAIN_MS = 2_000;

export async function start(config: EnricherConfig, deps: EnricherDeps): Promise<Enricher> {
  const { log } = deps;
  const metrics = createMetrics(deps.registry, config.eventSelectors);
  const { fatal, fail } = fatalSignal();
  const now = deps.now ?? Date.now;
  log.info(
    {
      brokers: config.kafka.brokers,
      redis: describeRedisSettings(config.redis),
      topics: { raw: config.topicRaw, events: config.topicEvents, dlq: config.topicDlq },
      groupId: config.groupId,
      dedupTtlMs: config.dedupTtlMs,
      onRedisDown: config.onRedisDown,
      eventSelectors: config.eventSelectors
        ? { kind: config.eventSelectors.kind, selectors: config.eventSelectors.names }
        : "none (every event flows on)",
    },
    "enricher starting",
  );

  const redisHealth = new RedisHealth({
    ping: () => redis.command(["PING"]),
    retryMaxMs: config.redis.retryMaxMs,
    onChange: (up, why) => {
      if (up) log.info("Redis answers again: consuming");
      else
        log.warn(
          { err: why },
          config.onRedisDown === "pass"
            ? "Redis is down: passing records through unchecked (DEDUP_ON_REDIS_DOWN=pass)"
            : "Redis is down: consuming stops until it answers (retrying with backoff)",
        );
      metrics.redisUp.set(up ? 1 : 0);
    },
  });
  // The client connects and reconnects by itself; batches wait (or pass) meanwhile.
  const redis = openRedis(config.redis, {
    onUp: () => redisHealth.markUp(),
    onDown: (reason) => redisHealth.markDown(reason),
  });
  const closeRedis = () => {
    redisHealth.close();
    return redis.close();
  };
  const store = new RedisDedupStore({
    redis,
    keyPrefix: config.dedupKeyPrefix,
    shardsPerHour: config.dedupShardsPerHour,
    windowMs: config.dedupTtlMs,
    observe: (s) => metrics.redisSeconds.observe(s),
  });

  /** Verdicts from Redis, retried with backoff while it is down; null when passing unchecked. */
  async function verdictsFor(claims: DedupClaim[], context: PipeBatchContext): Promise<DedupVerdict[] | null> {
    let delay = 100;
    for (;;) {
      try {
        const verdicts = await dedupBatch(store, claims);
        redisHealth.markUp();
        return verdicts;
      } catch (error) {
        metrics.redisErrors.inc();
        redisHealth.markDown(error instanceof Error ? error.message : String(error));
        if (config.onRedisDown === "pass") return null;
      }
      // Wait in short steps, heartbeating, so the group keeps this member while Redis is away.
      const until = Date.now() + delay;
      while (Date.now() < until) {
        if (!context.isActive()) throw new PipeInactiveError("stopping while Redis is down");
        await sleep(Math.min(250, until - Date.now()));
        await context.heartbeat();
      }
      delay = Math.min(delay * 2, config.redis.retryMaxMs);
    }
  }

  async function planChunk(messages: readonly ConsumedMessage[], context: PipeBatchContext): Promise<BatchPlan> {
    const decoded = await work.decode(messages);
    try {
      let verdicts: DedupVerdict[] | null = [];
      if (decoded.claims.length > 0) verdicts = await verdictsFor(decoded.claims, context);
      return await decoded.plan(verdicts, now());
    } finally {
      decoded.release();
    }
  }

  async function handlePoll(batches: readonly ConsumedBatch[], context: PipeBatchContext): Promise<PipeResult> {
    const started = performance.now();
    const plans = await Promise.all(pollChunks(batches, POLL_CHUNK_RECORDS).map((c) => planChunk(c, context)));
    return {
      records: plans.flatMap((p) => p.records),
      committed: () => {
        for (const plan of plans) metrics.record(plan.stats);
        metrics.batchSeconds.observe((performance.now() - started) / 1_000);
        const replays = plans.reduce((sum, p) => sum + p.stats.replays, 0);
        if (replays > 0) {
          log.info(
            { partitions: batches.map((b) => b.partition), replays },
            "records written again after a crash (their dedup claim was their own)",
          );
        }
      },
    };
  }

  const kafka = createKafka(config.kafka, log);
  // The enricher may start before the ingester has created the raw topic (a fresh install): create
  // what is missing rather than fail. Where it may not create topics (no ACL), they must exist.
  await ensureTopics(kafka, [
    { topic: config.topicRaw, partitions: config.topicPartitions },
    { topic: config.topicEvents, partitions: config.topicPartitions },
    { topic: config.topicDlq, partitions: Math.min(3, config.topicPartitions) },
  ]).catch((error: unknown) =>
    log.warn({ err: error }, "could not check or create the raw, events and DLQ topics; using them as they are"),
  );
  // Enriched records are larger than raw ones; the events topic's own bound decides what fits.
  const topicMax = await topicMaxMessageBytes(kafka, config.topicEvents);
  const maxRecordBytes = (topicMax ?? 1_048_588) - RECORD_OVERHEAD_BYTES;
  log.info(
    { topic: config.topicEvents, maxMessageBytes: topicMax ?? "unknown (default 1048588)" },
    "events topic size bound",
  );
  const workOptions = {
    topicEvents: config.topicEvents,
    topicDlq: config.topicDlq,
    maxRecordBytes,
    eventSelectors: config.eventSelectors,
  };
  const work: BatchWork =
    config.decodeThreads > 0
      ? new BatchThread(workOptions, (message, error) => log.warn({ err: error }, message))
      : inlineBatchWork(workOptions);
  // The lookup index: a consumer of the events topic in this process (decision 0010).
  let indexer: Indexer | undefined;
  if (config.lookupIndex) {
    try {
      await ensureIndexTopic(kafka, config.topicEvents, config.topicEventsIndex).catch((error: unknown) =>
        log.warn({ err: error }, "could not check or create the lookup index topic; using it as it is"),
      );
      indexer = await startIndexer(kafka, {
        eventsTopic: config.topicEvents,
        indexTopic: config.topicEventsIndex,
        groupId: `${config.groupId}.index`,
        blockRecords: config.lookupIndexBlockRecords,
        blockAgeMs: config.lookupIndexBlockAgeMs,
        log,
        now,
      });
      log.info({ topic: config.topicEventsIndex }, "lookup index writer started");
    } catch (error) {
      // Only a hint for `lookup`, which reads what the index does not cover: the enricher runs on.
      log.warn({ err: error }, "lookup index writer not started: lookups read the events topic in full");
    }
  }
  let pipe: TransactionalPipe;
  try {
    pipe = await startTransactionalPipe(kafka, {
      groupId: config.groupId,
      inputTopic: config.topicRaw,
      transactionalIdPrefix: config.transactionalIdPrefix,
      groupInstanceId: config.groupInstanceId,
      sessionTimeoutMs: config.sessionTimeoutMs,
      transactionTimeoutMs: config.transactionTimeoutMs,
      maxBytesPerPartition: config.maxBytesPerPartition,
      handlePoll,
      onEvent: (event) => {
        switch (event.type) {
          case "assigned":
            metrics.assignedPartitions.set(event.partitions.length);
            log.info({ partitions: event.partitions, topic: config.topicRaw }, "partitions assigned");
            break;
          case "producer-ready":
            log.debug(
              { partition: event.partition, transactionalId: event.transactionalId },
              "transactional producer ready",
            );
            break;
          case "position-reset":
            log.warn(event, "a previous owner committed past this consumer's position: moving forward");
            break;
          case "crashed":
            if (event.restart) log.warn({ err: event.error }, "Kafka consumer failed: restarting it");
            else fail(event.error);
            break;
          case "drain-timeout":
            log.warn(event, "the poll in flight did not finish in time: closing under it (its batches come again)");
            break;
          case "transaction-committed":
            metrics.transactions.inc({ result: "commit" });
            metrics.transactionSeconds.observe(event.seconds);
            break;
          case "transaction-failed":
            metrics.transactions.inc({ result: "abort" });
            log.warn(
              { partitions: event.partitions, err: event.error },
              "transaction aborted: the poll's batches come again",
            );
            break;
        }
      },
    });
  } catch (error) {
    await indexer?.stop();
    await closeRedis();
    await work.close();
    throw error;
  }

  return {
    metrics,
    started: pipe.started,
    assigned: () => pipe.assigned(),
    fatal,
    ready() {
      const reasons: string[] = [];
      if (!pipe.running()) reasons.push("Kafka consumer stopped");
      if (config.onRedisDown === "block" && !(redisHealth.up && redis.ready())) reasons.push("Redis is down");
      return reasons;
    },
    async stop(drainMs = Number.POSITIVE_INFINITY) {
      // One drain budget for both consumers: the shell's grace period holds the whole stop.
      const started = Date.now();
      const deadline = started + drainMs;
      const took: Record<string, number> = {};
      const step = async (name: string, work: () => Promise<unknown> | undefined) => {
        const at = Date.now();
        // A step that outlasts its share says so, so a stop that overruns the grace period names it.
        const slow = setTimeout(() => log.warn({ step: name }, `stopping is slow: still closing the ${name}`), 5_000);
        try {
          await work();
        } finally {
          clearTimeout(slow);
        }
        took[name] = Date.now() - at;
      };
      await step("pipe", () => pipe.close(drainMs));
      // The indexer re-reads whatever it did not commit, so it gets a short drain: in the crash test
      // its consumer, waiting in a JoinGroup for a killed member, used 8–14 s of the budget.
      await step("indexer", () => indexer?.stop(Math.max(500, Math.min(INDEXER_DRAIN_MS, deadline - Date.now()))));
      await step("redis", closeRedis);
      await step("batch thread", () => work.close());
      log.info({ ms: took, totalMs: Date.now() - started }, "stopped consuming and closed Kafka and Redis");
    },
  };
}
