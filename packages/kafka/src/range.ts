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
 * Retries what the broker refuses for a moment (a topic just created has no leader known to the
 * client yet: NOT_LEADER_FOR_PARTITION, UNKNOWN_TOPIC_OR_PARTITION): a fresh admin client each
 * time, so it reads the metadata again.
 */
async function retried<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const type = (error as { type?: unknown }).type;
      const transient = type === "NOT_LEADER_FOR_PARTITION" || type === "LEADER_NOT_AVAILABLE";
      if (!transient || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/**
 * Per partition, the first offset whose record timestamp is at or after `timestampMs` (the end of
 * the partition when none is); without a timestamp, the partition's first offset.
 */
export function offsetsAt(kafka: KafkaClient, topic: string, timestampMs?: number): Promise<PartitionOffset[]> {
  if (kafka.kind === "platformatic") return offsetsAtPlatformatic(kafka, topic, timestampMs);
  return retried(() => offsetsAtOnce(kafka, topic, timestampMs));
}

async function offsetsAtOnce(kafka: KafkaClient, topic: string, timestampMs?: number): Promise<PartitionOffset[]> {
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
export function endOffsets(kafka: KafkaClient, topic: string): Promise<PartitionOffset[]> {
  if (kafka.kind === "platformatic") return endOffsetsPlatformatic(kafka, topic);
  return retried(() => endOffsetsOnce(kafka, topic));
}

async function endOffsetsOnce(kafka: KafkaClient, topic: string): Promise<PartitionOffset[]> {
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
  /** Asked after each handled batch: true ends the partition's reading there (what is left is not read). */
  enough?: (partition: number) => boolean;
}

/** A partition's ranges in offset order, the one being read first. */
export interface PartitionPlan {
  ranges: PartitionRange[];
  at: number;
}

/** Per partition, its non-empty ranges in offset order, touching or overlapping ones merged. */
export function rangePlans(ranges: readonly PartitionRange[]): Map<number, PartitionPlan> {
  const plans = new Map<number, PartitionPlan>();
  for (const r of [...ranges]
    .filter((x) => x.to > x.from)
    .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0))) {
    const plan = plans.get(r.partition) ?? { ranges: [], at: 0 };
    const last = plan.ranges.at(-1);
    if (last && r.from <= last.to) last.to = r.to > last.to ? r.to : last.to;
    else plan.ranges.push({ ...r });
    plans.set(r.partition, plan);
  }
  return plans;
}

/** Whether an offset lies in one of the plan's ranges not yet read. */
export function inPlan(plan: PartitionPlan, offset: bigint): boolean {
  for (let i = plan.at; i < plan.ranges.length; i++) {
    const r = plan.ranges[i] as PartitionRange;
    if (offset < r.from) return false;
    if (offset < r.to) return true;
  }
  return false;
}

/** The plan was read up to `last` (inclusive): the offset to read next, or undefined when it is done. */
export function advancePlan(plan: PartitionPlan, last: bigint): bigint | undefined {
  while (plan.at < plan.ranges.length && (plan.ranges[plan.at] as PartitionRange).to - 1n <= last) plan.at++;
  const next = plan.ranges[plan.at];
  if (!next) return undefined;
  return next.from > last + 1n ? next.from : last + 1n;
}

/**
 * Reads every record of `topic` in the given offset ranges, once, then returns. A partition may
 * have several ranges: once one is read the consumer seeks to the next (the records between are
 * not fetched). A throwaway group id with no committed offsets positions the consumer; it commits
 * nothing.
 */
export async function readRanges(
  kafka: KafkaClient,
  topic: string,
  ranges: readonly PartitionRange[],
  options: ReadRangesOptions,
): Promise<void> {
  if (kafka.kind === "platformatic") return readRangesPlatformatic(kafka, topic, ranges, options);
  const pending = rangePlans(ranges);
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
  const complete = (partition: number) => {
    pending.delete(partition);
    // Otherwise kafkajs goes on fetching the partition past the range, to its end.
    consumer.pause([{ topic, partitions: [partition] }]);
    if (pending.size === 0) finish();
  };
  /** The partition was read up to `last` (inclusive): on to its next range, or done. */
  const advance = (partition: number, last: bigint) => {
    const plan = pending.get(partition);
    if (!plan) return;
    const next = advancePlan(plan, last);
    if (next === undefined) complete(partition);
    else if (next > last + 1n) consumer.seek({ topic, partition, offset: next.toString() });
  };
  await consumer.connect();
  // A fetch of only transaction markers or aborted records reaches no handler, only this event: it
  // ends a range whose last offsets are such (without it the idle timeout would).
  consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
    const p = event.payload as { topic: string; partition: number; batchSize: number; lastOffset: string };
    if (p.topic !== topic || p.batchSize !== 0) return;
    lastProgress = Date.now();
    advance(p.partition, BigInt(p.lastOffset));
  });
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        const plan = pending.get(batch.partition);
        if (!plan) return;
        lastProgress = Date.now();
        const inside = batch.messages.filter((m) => inPlan(plan, BigInt(m.offset)));
        try {
          if (inside.length > 0) await options.handle(inside.map((m) => toConsumed(topic, batch.partition, m)));
        } catch (error) {
          fail(error);
          return;
        }
        const last = BigInt(batch.lastOffset());
        // A batch before the position sought (fetched before the seek took effect) moves nothing.
        if (last < ((plan.ranges[plan.at] as PartitionRange | undefined)?.from ?? 0n)) return;
        if (options.enough?.(batch.partition)) complete(batch.partition);
        else advance(batch.partition, last);
      },
    });
    for (const [partition, plan] of pending) {
      consumer.seek({ topic, partition, offset: (plan.ranges[0] as PartitionRange).from.toString() });
    }
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
