// Consume-transform-produce with Kafka transactions: what a batch produced and the input offsets it
// consumed are committed together, so a `read_committed` reader downstream sees each input's output
// exactly once, whatever moment the process died at. See docs/decisions/0003-enricher-transactions.md.
import type kafkajs from "kafkajs";
import { chunkBySize, MAX_REQUEST_BYTES } from "./chunk.ts";
import { type KafkaClient, kafkajsOf } from "./client.ts";
import { toConsumed } from "./consumed.ts";
import { FETCH_MAX_WAIT_MS } from "./consumer.ts";
import { type ConsumedBatch, type ConsumedMessage, nextOffset, type OutgoingMessage } from "./message.ts";
import { startPlatformaticTransactionalPipe } from "./platformatic/transactional.ts";
import { asRetriable } from "./retriable.ts";

export interface OutgoingRecord extends OutgoingMessage {
  topic: string;
}

/** What a batch turns into: records to produce in the batch's transaction. */
export interface PipeResult {
  records: readonly OutgoingRecord[];
  /** Runs once the transaction committed; count metrics here, since an aborted batch comes again. */
  committed?: () => void;
}

export interface PipeBatchContext {
  /** Keeps the group membership alive during a long wait; throws when the group rebalances. */
  heartbeat(): Promise<void>;
  /** False once the pipe is closing or the partition was handed away: give the batch up (throw). */
  isActive(): boolean;
}

export type PipeEvent =
  | { type: "assigned"; partitions: number[] }
  | { type: "producer-ready"; partition: number; transactionalId: string }
  | { type: "position-reset"; partition: number; from: string; to: string }
  | { type: "transaction-failed"; partition: number; error: unknown }
  /** The consumer failed; with `restart: false` it stopped for good (running() turns false). */
  | { type: "crashed"; error: unknown; restart: boolean };

export interface TransactionalPipeOptions {
  groupId: string;
  inputTopic: string;
  /**
   * Transactional ids are `<prefix>.<inputTopic>.<partition>`: stable per consumed partition, so the
   * next owner of a partition (a restarted process, or another instance after a rebalance) fences
   * the previous one and aborts its open transaction at once.
   */
  transactionalIdPrefix: string;
  handle: (batch: ConsumedBatch, context: PipeBatchContext) => Promise<PipeResult>;
  /** Where a group with no committed offset starts (default: the beginning). */
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  transactionTimeoutMs?: number;
  /** Partitions handled at once; each has its own transactional producer (default 1). */
  partitionsConsumedConcurrently?: number;
  maxBytesPerPartition?: number;
  /** Output is produced in calls of at most this many bytes (default 512 KiB), below the broker's limit. */
  maxProduceBytes?: number;
  onEvent?: (event: PipeEvent) => void;
}

export interface TransactionalPipe {
  /** Resolves when the consumer first joined its group. */
  started: Promise<void>;
  /** The input partitions this instance holds now. */
  assigned(): readonly number[];
  /** True while the consumer runs (false after a crash it could not recover from, or close). */
  running(): boolean;
  close(): Promise<void>;
}

interface PartitionProducer {
  producer: kafkajs.Producer;
  /** The consumer's position was checked against the group's committed offset after fencing. */
  verified: boolean;
}

/** The records as produce calls of at most `maxBytes` each, grouped by topic within a call. */
function produceCalls(records: readonly OutgoingRecord[], maxBytes: number): kafkajs.TopicMessages[][] {
  return chunkBySize(records, maxBytes).map((chunk) => {
    const byTopic = new Map<string, kafkajs.Message[]>();
    for (const r of chunk) {
      const list = byTopic.get(r.topic) ?? [];
      list.push({ key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}) });
      byTopic.set(r.topic, list);
    }
    return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
  });
}

export class PipeInactiveError extends Error {
  override readonly name = "PipeInactiveError";
}

/**
 * Runs `handle` on every batch of `inputTopic` this instance is assigned, and commits its output
 * and the batch's offsets in one transaction per batch. The consumer never commits by itself.
 *
 * Fencing: each partition has its own transactional producer (`<prefix>.<topic>.<partition>`).
 * Opening it bumps the epoch of that id, which fences any older holder (a zombie that lost the
 * partition, or a process that was killed) and aborts its open transaction. Only after that is the
 * group's committed offset stable, so the consumer's position is then set to it: forward if a
 * zombie committed after this consumer read the offsets.
 */
export async function startTransactionalPipe(
  client: KafkaClient,
  options: TransactionalPipeOptions,
): Promise<TransactionalPipe> {
  if (client.kind === "platformatic") return startPlatformaticTransactionalPipe(client, options);
  const kafka = kafkajsOf(client);
  const { groupId, inputTopic } = options;
  const emit = options.onEvent ?? (() => {});
  const consumer = kafka.consumer({
    groupId,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval:
      options.heartbeatIntervalMs ?? Math.max(500, Math.floor((options.sessionTimeoutMs ?? 30_000) / 10)),
    ...(options.maxBytesPerPartition ? { maxBytesPerPartition: options.maxBytesPerPartition } : {}),
    // A fetch returns as soon as one record is there, so this adds no latency; it bounds how long
    // close() waits for the fetch in flight on a quiet topic (kafkajs's default, 5 s, made an idle
    // SIGTERM take seconds).
    maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
  });
  const admin = kafka.admin();
  const producers = new Map<number, PartitionProducer>();
  let assignment: number[] = [];
  let closing = false;
  let isRunning = false;

  const dropProducer = (partition: number) => {
    const entry = producers.get(partition);
    if (!entry) return;
    producers.delete(partition);
    entry.producer.disconnect().catch(() => {});
  };

  const producerFor = async (partition: number): Promise<PartitionProducer> => {
    const existing = producers.get(partition);
    if (existing) return existing;
    const transactionalId = `${options.transactionalIdPrefix}.${inputTopic}.${partition}`;
    const producer = kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      transactionTimeout: options.transactionTimeoutMs ?? 60_000,
    });
    try {
      await producer.connect();
      // The fencing step. kafkajs sends InitProducerId for the transactional id on the first
      // transaction(), not on connect(): an empty transaction, aborted (nothing is sent for it),
      // bumps the epoch now, so an older holder's open transaction is aborted and its later
      // commits fail, before the position check below reads the committed offset.
      const fence = await producer.transaction();
      await fence.abort();
    } catch (error) {
      await producer.disconnect().catch(() => {});
      throw error;
    }
    const entry = { producer, verified: false };
    producers.set(partition, entry);
    emit({ type: "producer-ready", partition, transactionalId });
    return entry;
  };

  /** The group's committed offset for a partition, or null when none is committed. */
  const committedOffset = async (partition: number): Promise<bigint | null> => {
    const [topic] = await admin.fetchOffsets({ groupId, topics: [inputTopic] });
    const found = topic?.partitions.find((p) => p.partition === partition);
    if (!found || found.offset === "-1" || found.offset === "") return null;
    return BigInt(found.offset);
  };

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    const partitions = [...(event.payload.memberAssignment[inputTopic] ?? [])].sort((a, b) => a - b);
    assignment = partitions;
    for (const partition of [...producers.keys()]) {
      if (!partitions.includes(partition)) dropProducer(partition);
    }
    // A new generation: whatever this instance kept may have been owned by someone else meanwhile.
    for (const entry of producers.values()) entry.verified = false;
    emit({ type: "assigned", partitions });
  });
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) isRunning = false;
    emit({ type: "crashed", error: event.payload.error, restart: event.payload.restart });
  });

  await admin.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: inputTopic, fromBeginning: options.fromBeginning ?? true });
  const started = new Promise<void>((resolve) => {
    consumer.on(consumer.events.GROUP_JOIN, () => resolve());
  });
  isRunning = true;
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
    eachBatch: async (payload) => {
      try {
        await eachBatch(payload);
      } catch (error) {
        throw asRetriable(error);
      }
    },
  });
  async function eachBatch({
    batch,
    heartbeat,
    isRunning: consumerRunning,
    isStale,
    resolveOffset,
  }: kafkajs.EachBatchPayload) {
    const { partition } = batch;
    const first = batch.messages[0];
    const last = batch.messages.at(-1);
    const active = () => !closing && consumerRunning() && !isStale() && assignment.includes(partition);
    if (!first || !last || !active()) return;

    const entry = await producerFor(partition);
    if (!entry.verified) {
      // Holding the fence, resume exactly at the committed offset: a previous holder may have
      // committed after this consumer read its offsets (ahead), and nothing past the committed
      // offset was committed by anyone (behind).
      const committed = await committedOffset(partition);
      entry.verified = true;
      if (committed !== null && committed !== BigInt(first.offset)) {
        emit({ type: "position-reset", partition, from: first.offset, to: committed.toString() });
        consumer.seek({ topic: inputTopic, partition, offset: committed.toString() });
        return;
      }
    }

    const messages = batch.messages.map((m) => toConsumed(batch.topic, partition, m));
    const result = await options.handle(
      { topic: batch.topic, partition, messages },
      { heartbeat: () => heartbeat(), isActive: active },
    );
    if (!active()) throw new PipeInactiveError(`partition ${partition} of ${inputTopic} was handed away`);

    const transaction = await entry.producer.transaction();
    try {
      for (const topicMessages of produceCalls(result.records, options.maxProduceBytes ?? MAX_REQUEST_BYTES)) {
        await transaction.sendBatch({ topicMessages, acks: -1 });
      }
      await transaction.sendOffsets({
        consumerGroupId: groupId,
        topics: [{ topic: inputTopic, partitions: [{ partition, offset: nextOffset(last.offset) }] }],
      });
      await transaction.commit();
    } catch (error) {
      emit({ type: "transaction-failed", partition, error });
      await transaction.abort().catch(() => {});
      // Whether it committed is unknown: a fresh producer fences this one and settles the
      // transaction, and the position check then starts from whatever was committed.
      dropProducer(partition);
      throw error;
    }
    resolveOffset(last.offset);
    result.committed?.();
    await heartbeat();
  }
  return {
    started,
    assigned: () => assignment,
    running: () => isRunning && !closing,
    async close() {
      if (closing) return;
      closing = true;
      try {
        await consumer.disconnect();
      } finally {
        await Promise.allSettled([...producers.values()].map((p) => p.producer.disconnect()));
        producers.clear();
        await admin.disconnect().catch(() => {});
        isRunning = false;
      }
    },
  };
}
