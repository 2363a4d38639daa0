// Reading a slice of a topic by time, without a consumer group's committed offsets: the offsets at
// a timestamp per partition (Kafka's time index), and every record between two offsets per
// partition. For queries such as `trailstream lookup`, which read an hour, not the topic.
import type { KafkaClient } from "./client.ts";
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
export function offsetsAt(kafka: KafkaClient, topic: string, timestampMs?: number): Promise<PartitionOffset[]> {
  return offsetsAtPlatformatic(kafka, topic, timestampMs);
}

/** Per partition, the offset after the last record (the high watermark). */
export function endOffsets(kafka: KafkaClient, topic: string): Promise<PartitionOffset[]> {
  return endOffsetsPlatformatic(kafka, topic);
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
 * have several ranges: once one is read the fetch moves to the next (the records between are not
 * fetched). No consumer group: it fetches from each range's first offset and commits nothing.
 */
export function readRanges(
  kafka: KafkaClient,
  topic: string,
  ranges: readonly PartitionRange[],
  options: ReadRangesOptions,
): Promise<void> {
  return readRangesPlatformatic(kafka, topic, ranges, options);
}
