import { type KafkaClient, kafkajsOf } from "./client.ts";
import { toConsumed } from "./consumed.ts";
import { type ConsumedBatch, nextOffset } from "./message.ts";
import { startPlatformaticBatchConsumer } from "./platformatic/consumer.ts";
import { asRetriable } from "./retriable.ts";

/** The longest a fetch waits on a quiet topic: what close() may wait for, so what an idle stop costs. */
export const FETCH_MAX_WAIT_MS = 250;

export interface BatchConsumerOptions {
  groupId: string;
  topics: readonly string[];
  fromBeginning?: boolean;
  /** Read only committed transactional records (default true). */
  readCommitted?: boolean;
  /**
   * Partition batches of one fetch handled at once (default 1). Each partition's batches stay in
   * order; more than one overlaps one batch's waits (Redis, sinks, the commit) with another's work.
   */
  concurrentPartitions?: number;
  /**
   * Fetch a partition's next batch while its current one is handled (default false): the handler
   * and its commit run in the background, one batch after another per partition, and the fetch
   * returns to the broker at once instead of after them. A failed batch is fetched again from its
   * first offset and the consumer restarts from its committed offsets, as without prefetching.
   */
  prefetch?: boolean;
  /**
   * Called once per fetched partition batch; offsets are committed only after it resolves: the
   * batch's end, or the offset it resolves to (`{ commitOffset }`, null: commit nothing), for a
   * handler that keeps part of what it consumed in memory until later.
   */
  handle: (batch: ConsumedBatch) => Promise<void | BatchHandled>;
  /** The consumer (re)joined its group: fetching restarts from the committed offsets. */
  onJoin?: () => void;
  /** The consumer failed; with `restart: false` it stopped for good (running() turns false). */
  onCrash?: (error: unknown, restart: boolean) => void;
  /**
   * The group's session timeout (default 30 s). A member that stops heartbeating (killed, or
   * restarted as a new member after a broker outage) holds its partitions this long. The handler
   * must finish well inside it: the consumer heartbeats between batches.
   */
  sessionTimeoutMs?: number;
}

export interface BatchHandled {
  /** The offset to commit for the batch's partition (the next one to read after a restart); null: none. */
  commitOffset: string | null;
}

export interface BatchConsumer {
  /** Commits an offset of a partition outside a batch (it must be this consumer's). */
  commit(topic: string, partition: number, offset: string): Promise<void>;
  /** Resolves when the consumer has joined its group and started fetching. */
  started: Promise<void>;
  /** True while the consumer runs (false after a crash it could not recover from, or close). */
  running(): boolean;
  close(): Promise<void>;
}

/**
 * At-least-once batch consumption: a batch's offsets are committed only after `handle` resolved,
 * so a crash re-delivers whatever was not yet durable downstream. A throwing handler stops the
 * batch uncommitted; kafkajs then restarts the consumer and the batch comes again.
 */
export async function startBatchConsumer(kafka: KafkaClient, options: BatchConsumerOptions): Promise<BatchConsumer> {
  if (kafka.kind === "platformatic") return startPlatformaticBatchConsumer(kafka, options);
  const consumer = kafkajsOf(kafka).consumer({
    groupId: options.groupId,
    readUncommitted: options.readCommitted === false,
    allowAutoTopicCreation: false,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.min(3_000, Math.max(500, Math.floor((options.sessionTimeoutMs ?? 30_000) / 10))),
    // A fetch returns as soon as one record is there (minBytes 1), so this adds no latency; it bounds
    // how long close() waits for the fetch in flight on a quiet topic (kafkajs's default is 5 s), so
    // an idle service stops within a second of SIGTERM.
    maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
  });
  let isRunning = true;
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) isRunning = false;
    options.onCrash?.(event.payload.error, event.payload.restart);
  });
  await consumer.connect();
  for (const topic of options.topics) {
    await consumer.subscribe({ topic, fromBeginning: options.fromBeginning ?? true });
  }
  const started = new Promise<void>((resolve) => {
    consumer.on(consumer.events.GROUP_JOIN, () => resolve());
  });
  if (options.onJoin) consumer.on(consumer.events.GROUP_JOIN, () => options.onJoin?.());
  /** What to commit after a handled batch: its end, or the offset the handler asked for. */
  const commitAfter = async (topic: string, partition: number, lastOffset: string, handled: void | BatchHandled) => {
    const offset = handled ? handled.commitOffset : nextOffset(lastOffset);
    if (offset !== null) await consumer.commitOffsets([{ topic, partition, offset }]);
  };
  const background = options.prefetch ? new PrefetchedBatches() : undefined;
  let closing = false;
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: Math.max(1, options.concurrentPartitions ?? 1),
    eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
      if (closing || !isRunning() || isStale() || batch.messages.length === 0) return;
      const messages = batch.messages.map((m) => toConsumed(batch.topic, batch.partition, m));
      const first = batch.messages[0];
      const last = batch.messages.at(-1);
      if (background && first && last) {
        // A batch handled in the background failed: restart from the committed offsets.
        background.throwFailure();
        const previous = background.add(
          `${batch.topic}\0${batch.partition}`,
          async () => {
            const handled = await options.handle({ topic: batch.topic, partition: batch.partition, messages });
            await commitAfter(batch.topic, batch.partition, last.offset, handled);
          },
          // Fetched again from there, so the failure is seen even when nothing new arrives.
          () => consumer.seek({ topic: batch.topic, partition: batch.partition, offset: first.offset }),
        );
        resolveOffset(last.offset);
        // At most one batch handled and one waiting per partition: memory stays bounded.
        await previous;
        background.throwFailure();
        await heartbeat();
        return;
      }
      let handled: void | BatchHandled;
      try {
        handled = await options.handle({ topic: batch.topic, partition: batch.partition, messages });
      } catch (error) {
        throw asRetriable(error);
      }
      if (!last) return;
      await commitAfter(batch.topic, batch.partition, last.offset, handled);
      // Without this the next fetch starts again from the offset the consumer joined at: kafkajs
      // fetches from its resolved offsets, which a manual commit does not move.
      resolveOffset(last.offset);
      await heartbeat();
    },
  });
  return {
    started,
    commit: (topic, partition, offset) => consumer.commitOffsets([{ topic, partition, offset }]),
    running: () => isRunning,
    async close() {
      isRunning = false;
      // The batches handled in the background finish and commit before the group is left.
      closing = true;
      await background?.settled();
      await consumer.disconnect();
    },
  };
}

/** Thrown into the batches queued behind one that failed: they are not handled, and come again. */
const BEHIND_A_FAILURE = Symbol("behind a failed batch");

/** Per partition, the batches handled in the background, in order; the first failure is kept to be thrown. */
class PrefetchedBatches {
  readonly #tails = new Map<string, Promise<void>>();
  #failure: { error: unknown } | undefined;

  /** Queues `work` behind the partition's earlier batches; resolves when those earlier ones are done. */
  add(partition: string, work: () => Promise<void>, onFailure: () => void): Promise<void> {
    const previous = this.#tails.get(partition);
    const job = (async () => {
      if (previous) await previous.catch(() => Promise.reject(BEHIND_A_FAILURE));
      await work();
    })();
    this.#tails.set(partition, job);
    job.then(
      () => {
        if (this.#tails.get(partition) === job) this.#tails.delete(partition);
      },
      (error: unknown) => {
        if (error === BEHIND_A_FAILURE) return;
        // Batches queued behind this one are dropped (not committed); whatever comes next starts afresh.
        this.#tails.delete(partition);
        this.#failure ??= { error };
        try {
          onFailure();
        } catch {}
      },
    );
    return previous ? previous.catch(() => {}) : Promise.resolve();
  }

  throwFailure(): void {
    const failure = this.#failure;
    if (!failure) return;
    this.#failure = undefined;
    throw asRetriable(failure.error);
  }

  async settled(): Promise<void> {
    while (this.#tails.size > 0) await Promise.allSettled([...this.#tails.values()]);
  }
}
