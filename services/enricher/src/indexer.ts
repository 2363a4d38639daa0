// The lookup index writer: a consumer of the events topic (read_committed, its own group) in the
// enricher process that cuts each partition into blocks of consecutive offsets (up to
// `blockRecords` records, or `blockAgeMs` of wall-clock time since the block's first record) and writes, per block and lookup attribute key, an index record (see
// packages/cloudtrail/src/lookup/index-block.ts) to the index topic. The consumed offset is
// committed only up to the end of the last block written, so a crash re-reads the open block and
// loses nothing; a block written twice only overlaps itself. `trailstream lookup` uses the index as
// a hint and reads whatever it does not cover. See docs/decisions/0010-lookup-index.md.
import { encodeIndexBlock, IndexBlockBuilder, indexPartitionOf } from "@trailstream/cloudtrail";
import {
  type BatchConsumer,
  type ConsumedBatch,
  endOffsets,
  ensureTopics,
  type KafkaClient,
  openProducer,
  type Producer,
  startBatchConsumer,
  topicRetentionMs,
} from "@trailstream/kafka";
import type { Logger } from "@trailstream/runtime";

/** What an index fetch waits for: this many bytes... */
const INDEX_FETCH_MIN_BYTES = 1024 * 1024;
/** ...or this long at the most. */
const INDEX_FETCH_MAX_WAIT_MS = 1_000;

export interface IndexerOptions {
  eventsTopic: string;
  indexTopic: string;
  groupId: string;
  /** A block closes at this many records... */
  blockRecords: number;
  /** ...or once it was opened this long ago (then the newest records are indexed this late at most)... */
  blockAgeMs: number;
  /**
   * ...or once a record's Kafka timestamp is this much after the block's oldest (default: no such
   * bound). Producers stamp records (CreateTime), not always in order, so this is for topics whose
   * timestamps are known to grow.
   */
  blockSpanMs?: number;
  /** Where a group with no committed offset starts (default: the beginning of the events topic). */
  fromBeginning?: boolean;
  log?: Logger;
  now?: () => number;
}

export interface Indexer {
  started: Promise<void>;
  running(): boolean;
  /** Blocks written since the start (each is one record per lookup attribute key). */
  blocksWritten(): number;
  stop(drainMs?: number): Promise<void>;
}

interface Open {
  builder: IndexBlockBuilder;
  /** The consumer generation the block was read in: after a rebalance its offsets may not follow on. */
  generation: number;
  openedAt: number;
}

/**
 * Creates the index topic when missing: 8 partitions (one per lookup attribute key) per partition
 * of the events topic, and the events topic's retention, so the index lives as long as what it indexes.
 */
export async function ensureIndexTopic(kafka: KafkaClient, eventsTopic: string, indexTopic: string): Promise<void> {
  const eventsPartitions = (await endOffsets(kafka, eventsTopic)).length;
  const retentionMs = await topicRetentionMs(kafka, eventsTopic);
  await ensureTopics(kafka, [
    {
      topic: indexTopic,
      partitions: 8 * Math.max(1, eventsPartitions),
      ...(retentionMs === undefined ? {} : { config: { "retention.ms": retentionMs } }),
    },
  ]);
}

export async function startIndexer(kafka: KafkaClient, options: IndexerOptions): Promise<Indexer> {
  const now = options.now ?? Date.now;
  const spanMs = options.blockSpanMs ?? Number.POSITIVE_INFINITY;
  const eventsPartitions = (await endOffsets(kafka, options.eventsTopic)).length;
  const indexPartitions = (await endOffsets(kafka, options.indexTopic)).length;
  const producer: Producer = await openProducer(kafka);
  const open = new Map<number, Open>();
  /** Where the next block of a partition starts, when it follows on from a block written in this generation. */
  const next = new Map<number, { generation: number; offset: bigint }>();
  /** Per partition, the work in order (batches and the idle flush must not interleave). */
  const queues = new Map<number, Promise<unknown>>();
  let generation = 0;
  let written = 0;
  let consumer: BatchConsumer | undefined;

  const serial = <T>(partition: number, work: () => Promise<T>): Promise<T> => {
    const previous = queues.get(partition) ?? Promise.resolve();
    const job = previous.catch(() => {}).then(work);
    queues.set(partition, job);
    return job;
  };

  const write = async (partition: number, o: Open) => {
    const blocks = o.builder.finish();
    const first = blocks[0];
    if (!first) return;
    await producer.send(
      options.indexTopic,
      blocks.map((b) => ({
        key: `${options.eventsTopic}:${partition}:${b.key}`,
        value: encodeIndexBlock(b),
        partition: indexPartitionOf(b.key, partition, eventsPartitions, indexPartitions),
        // The block's newest record time: `lookup` seeks the index by time as it seeks the topic.
        timestampMs: b.maxTimestampMs ?? now(),
      })),
    );
    written++;
    next.set(partition, { generation: o.generation, offset: first.to });
    open.delete(partition);
  };

  const handle = (batch: ConsumedBatch) =>
    serial(batch.partition, async () => {
      const p = batch.partition;
      let o = open.get(p);
      const firstOffset = batch.messages[0] ? BigInt(batch.messages[0].offset) : undefined;
      if (o && (o.generation !== generation || (firstOffset !== undefined && firstOffset < o.builder.to))) {
        // Read again from the committed offset (a rebalance or a restart): start the block afresh.
        open.delete(p);
        o = undefined;
      }
      for (const m of batch.messages) {
        const offset = BigInt(m.offset);
        if (o) {
          const b = o.builder;
          const full =
            b.added >= options.blockRecords ||
            (b.minTimestampMs !== null && m.timestampMs - b.minTimestampMs >= spanMs) ||
            now() - o.openedAt >= options.blockAgeMs;
          if (full) {
            await write(p, o);
            o = undefined;
          }
        }
        if (!o) {
          const follows = next.get(p);
          const from =
            follows && follows.generation === generation && follows.offset <= offset ? follows.offset : offset;
          o = { builder: new IndexBlockBuilder(options.eventsTopic, p, from), generation, openedAt: now() };
          open.set(p, o);
        }
        o.builder.add(offset, m.timestampMs, m.value);
      }
      if (o && o.builder.added >= options.blockRecords) {
        await write(p, o);
        o = undefined;
      }
      // Everything before the open block is in blocks written.
      const committed = o ? o.builder.from : next.get(p)?.offset;
      return { commitOffset: committed === undefined ? null : committed.toString() };
    });

  /** Writes the blocks that have been open for blockAgeMs on partitions that went quiet. */
  const flushIdle = async () => {
    for (const [p, o] of [...open]) {
      if (now() - o.openedAt < options.blockAgeMs || o.builder.added === 0) continue;
      await serial(p, async () => {
        if (open.get(p) !== o || o.generation !== generation) return;
        await write(p, o);
        await consumer?.commit(options.eventsTopic, p, o.builder.to.toString());
      }).catch((error: unknown) => options.log?.warn({ err: error, partition: p }, "index block not written"));
    }
  };

  consumer = await startBatchConsumer(kafka, {
    groupId: options.groupId,
    topics: [options.eventsTopic],
    fromBeginning: options.fromBeginning ?? true,
    readCommitted: true,
    concurrentPartitions: 2,
    // The index is not in a hurry (a block waits up to blockAgeMs anyway): fetches wait for a
    // megabyte or a quarter of the block age, rather than coming back for every transaction the
    // enricher commits, at a cost to the broker that the enricher's own transactions then wait for.
    fetchMinBytes: INDEX_FETCH_MIN_BYTES,
    fetchMaxWaitMs: Math.max(100, Math.min(INDEX_FETCH_MAX_WAIT_MS, options.blockAgeMs / 4)),
    handle,
    onJoin: () => {
      generation++;
      open.clear();
    },
    onCrash: (error, restart) => options.log?.warn({ err: error, restart }, "lookup indexer consumer failed"),
  });
  const timer = setInterval(
    () => {
      void flushIdle();
    },
    Math.max(200, Math.min(5_000, options.blockAgeMs / 4)),
  );
  timer.unref();
  return {
    started: consumer.started,
    running: () => consumer?.running() ?? false,
    blocksWritten: () => written,
    async stop(drainMs?: number) {
      clearInterval(timer);
      await consumer?.close(drainMs);
      await producer.close();
    },
  };
}
