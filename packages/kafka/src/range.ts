// Reading a slice of a topic by time, without a consumer group's committed offsets: the offsets at
// a timestamp per partition (Kafka's time index), and every record between two offsets per
// partition. For queries such as `trailstream lookup`, which read an hour, not the topic.
import { randomUUID } from "node:crypto";
import { type KafkaClient, kafkajsOf } from "./client.ts";
import { toConsumed } from "./consumed.ts";
import type { ConsumedMessage } from "./message.ts";
import { endOffsetsPlatformatic, offsetsAtPlatformatic } from "./platformatic/admin.ts";
import { readRangesPlatformatic } from "./platformatic/range.ts";

export interface PartitionOffset {
  partition: number;
  offset: bigint;
}

/**
 * Per partition, the first offset whose record timestamp is at or after `timestampMs` (the end of
 * the partition when none is); without a timestamp, the partition's first offset.
 */
export async function offsetsAt(kafka: KafkaClient, topic: string, timestampMs?: number): Promise<PartitionOffset[]> {
  if (kafka.kind === "platformatic") return offsetsAtPlatformatic(kafka, topic, timestampMs);
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    if (timestampMs === undefined) return ends.map((p) => ({ partition: p.partition, offset: BigInt(p.low) }));
    const high = new Map(ends.map((p) => [p.partition, BigInt(p.high)]));
    const at = await admin.fetchTopicOffsetsByTimestamp(topic, timestampMs);
    return at.map((p) => ({
      partition: p.partition,
      offset: p.offset === "-1" ? (high.get(p.partition) ?? 0n) : BigInt(p.offset),
    }));
  } finally {
    await admin.disconnect();
  }
}

/** Per partition, the offset after the last record (the high watermark). */
export async function endOffsets(kafka: KafkaClient, topic: string): Promise<PartitionOffset[]> {
  if (kafka.kind === "platformatic") return endOffsetsPlatformatic(kafka, topic);
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: BigInt(p.high) }));
  } finally {
    await admin.disconnect();
  }
}

export interface PartitionRange {
  partition: number;
  /** First offset read. */
  from: bigint;
  /** Offset after the last one read. */
  to: bigint;
}

export interface ReadRangesOptions {
  /** Read only committed transactional records (default true). */
  readCommitted?: boolean;
  /** Called with each fetched batch of records inside the ranges, in offset order per partition. */
  handle: (messages: ConsumedMessage[]) => void | Promise<void>;
  /** Bytes fetched per partition and request (default 4 MiB). */
  maxBytesPerPartition?: number;
  /** After this long without a record, the ranges count as read (the end may be a transaction marker). */
  idleMs?: number;
}

/**
 * Reads every record of `topic` in the given offset ranges, once, then returns. A throwaway group
 * id with no committed offsets positions the consumer; it commits nothing.
 */
export async function readRanges(
  kafka: KafkaClient,
  topic: string,
  ranges: readonly PartitionRange[],
  options: ReadRangesOptions,
): Promise<void> {
  if (kafka.kind === "platformatic") return readRangesPlatformatic(kafka, topic, ranges, options);
  const pending = new Map(ranges.filter((r) => r.to > r.from).map((r) => [r.partition, r]));
  if (pending.size === 0) return;
  const consumer = kafkajsOf(kafka).consumer({
    groupId: `trailstream-range-${randomUUID()}`,
    readUncommitted: options.readCommitted === false,
    allowAutoTopicCreation: false,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 4 * 1024 * 1024,
    maxBytes: 16 * 1024 * 1024,
  });
  let lastProgress = Date.now();
  let finish: () => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        const range = pending.get(batch.partition);
        if (!range) return;
        lastProgress = Date.now();
        const inside = batch.messages.filter((m) => {
          const o = BigInt(m.offset);
          return o >= range.from && o < range.to;
        });
        try {
          if (inside.length > 0) await options.handle(inside.map((m) => toConsumed(topic, batch.partition, m)));
        } catch (error) {
          fail(error);
          return;
        }
        if (BigInt(batch.lastOffset()) >= range.to - 1n) {
          pending.delete(batch.partition);
          // Otherwise kafkajs goes on fetching the partition past the range, to its end.
          consumer.pause([{ topic, partitions: [batch.partition] }]);
          if (pending.size === 0) finish();
        }
      },
    });
    for (const r of pending.values()) consumer.seek({ topic, partition: r.partition, offset: r.from.toString() });
    const idleMs = options.idleMs ?? 3_000;
    const timer = setInterval(() => {
      if (Date.now() - lastProgress > idleMs) finish();
    }, 200);
    try {
      await done;
    } finally {
      clearInterval(timer);
    }
  } finally {
    await consumer.disconnect();
  }
}
