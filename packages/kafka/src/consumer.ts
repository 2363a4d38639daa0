import { type KafkaClient, kafkajsOf } from "./client.ts";
import { toConsumed } from "./consumed.ts";
import { type ConsumedBatch, nextOffset } from "./message.ts";
import { asRetriable } from "./retriable.ts";

export interface BatchConsumerOptions {
  groupId: string;
  topics: readonly string[];
  fromBeginning?: boolean;
  /** Read only committed transactional records (default true). */
  readCommitted?: boolean;
  /** Called once per fetched partition batch; offsets are committed only after it resolves. */
  handle: (batch: ConsumedBatch) => Promise<void>;
  /** The consumer failed; with `restart: false` it stopped for good (running() turns false). */
  onCrash?: (error: unknown, restart: boolean) => void;
}

export interface BatchConsumer {
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
  const consumer = kafkajsOf(kafka).consumer({
    groupId: options.groupId,
    readUncommitted: options.readCommitted === false,
    allowAutoTopicCreation: false,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
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
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      const messages = batch.messages.map((m) => toConsumed(batch.topic, batch.partition, m));
      try {
        await options.handle({ topic: batch.topic, partition: batch.partition, messages });
      } catch (error) {
        throw asRetriable(error);
      }
      const last = batch.messages.at(-1);
      if (!last) return;
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: nextOffset(last.offset) },
      ]);
      // Without this the next fetch starts again from the offset the consumer joined at: kafkajs
      // fetches from its resolved offsets, which a manual commit does not move.
      resolveOffset(last.offset);
      await heartbeat();
    },
  });
  return {
    started,
    running: () => isRunning,
    async close() {
      isRunning = false;
      await consumer.disconnect();
    },
  };
}
