// startBatchConsumer on @platformatic/kafka: one fetch of every assigned partition, each partition's
// batch handled (up to `concurrentPartitions` at once), then one OffsetCommit for the batches that
// were handled. With `prefetch` the next fetch is in flight while they are handled and committed
// (one fetch ahead at most, so memory stays bounded). A batch whose handler threw is fetched again
// from its first offset, and so is everything fetched behind it in its partition.
import type { KafkaClient } from "../client.ts";
import type { BatchConsumer, BatchConsumerOptions } from "../consumer.ts";
import { FETCH_MAX_WAIT_MS } from "../consumer.ts";
import { settledWithin } from "../settle.ts";
import { type FetchedBatch, Fetcher, key, type TopicPartition } from "./fetcher.ts";
import { Group, GroupRefusedError } from "./group.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work` on every item, at most `limit` at once; the first failure is kept per item. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<PromiseSettledResult<void>[]> {
  const results: PromiseSettledResult<void>[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        await work(items[i] as T);
        results[i] = { status: "fulfilled", value: undefined };
      } catch (reason) {
        results[i] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}

export async function startPlatformaticBatchConsumer(
  kafka: KafkaClient,
  options: BatchConsumerOptions,
): Promise<BatchConsumer> {
  const group = new Group(kafka, {
    groupId: options.groupId,
    topics: options.topics,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
    heartbeatIntervalMs: Math.min(3_000, Math.max(500, Math.floor((options.sessionTimeoutMs ?? 30_000) / 10))),
    readCommitted: options.readCommitted !== false,
    maxWaitMs: FETCH_MAX_WAIT_MS,
    onError: (error) => options.onCrash?.(error, true),
  });
  const fetcher = new Fetcher(group.consumer, {
    readCommitted: options.readCommitted !== false,
    maxWaitMs: FETCH_MAX_WAIT_MS,
    maxBytesPerPartition: 1024 * 1024,
  });
  let running = true;
  let closing = false;
  let seenJoins = -1;
  let resolveStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    resolveStarted = resolve;
  });

  const assigned = (): TopicPartition[] =>
    options.topics.flatMap((topic) => group.partitions(topic).map((partition) => ({ topic, partition })));

  /** Positions from the group's committed offsets (or the topic's start or end) for a new generation. */
  const seed = async () => {
    fetcher.positions.clear();
    for (const topic of options.topics) {
      const partitions = group.partitions(topic);
      if (partitions.length === 0) continue;
      const committed = await fetcher.committedStable(options.groupId, topic, partitions);
      const missing = partitions.filter((p) => (committed.get(p) ?? -1n) < 0n);
      const start = missing.length
        ? await fetcher.boundaries(topic, missing, options.fromBeginning ?? true)
        : new Map<number, bigint>();
      for (const p of partitions) {
        const c = committed.get(p) ?? -1n;
        fetcher.positions.set(key(topic, p), c >= 0n ? c : (start.get(p) ?? 0n));
      }
    }
  };

  /**
   * Where the next fetch starts, per partition: past the batches already fetched, handled or not.
   * `fetcher.positions` stays where the handled batches end (what a restart would read from).
   */
  let ahead = new Map<string, bigint>();
  /** With `prefetch`: the fetch started while the current batches are handled. */
  let pending: Promise<FetchedBatch[]> | undefined;
  const fetchAhead = () => {
    const fetching = fetcher.fetch(assigned(), ahead);
    // Awaited later (or dropped on close): its failure must not be an unhandled rejection meanwhile.
    fetching.catch(() => {});
    return fetching;
  };

  const loop = async () => {
    while (!closing) {
      try {
        await group.ensureMember();
        if (seenJoins !== group.joins) {
          seenJoins = group.joins;
          await seed();
          ahead = new Map(fetcher.positions);
          options.onJoin?.();
          resolveStarted();
        }
        const fetching = pending ?? fetchAhead();
        pending = undefined;
        const fetched = await fetching;
        if (closing) break;
        if (seenJoins !== group.joins) {
          // A rebalance while it was fetched: judged again against the new generation's positions.
          pending = Promise.resolve(fetched);
          continue;
        }
        // Only batches that start where this consumer reads next: a batch fetched ahead of one that
        // failed, or of a partition handed away or reseeded by a rebalance, is dropped and comes
        // again from the committed offset.
        const batches = fetched.filter((b) => ahead.get(key(b.topic, b.partition)) === b.from);
        for (const b of batches) ahead.set(key(b.topic, b.partition), b.next);
        // The next fetch overlaps these batches' handling and commit; it is used only once they are
        // committed (and only from where they end), so a restart still reads from the committed offsets.
        if (options.prefetch) pending = fetchAhead();
        const joinsAtHandle = group.joins;
        const done: FetchedBatch[] = [];
        /** What to commit per batch when its handler chose (null: nothing). */
        const chosen = new Map<FetchedBatch, bigint | null>();
        const outcomes = await eachLimited(batches, options.concurrentPartitions ?? 1, async (batch) => {
          if (batch.messages.length > 0) {
            const handled = await options.handle({
              topic: batch.topic,
              partition: batch.partition,
              messages: batch.messages,
            });
            if (handled) chosen.set(batch, handled.commitOffset === null ? null : BigInt(handled.commitOffset));
          }
          done.push(batch);
        });
        // No commit across a rebalance: the partitions may be another member's by now.
        if (done.length > 0 && joinsAtHandle === group.joins) {
          const offsets = done.flatMap((b) => {
            const offset = chosen.has(b) ? chosen.get(b) : b.next;
            return offset === null || offset === undefined
              ? []
              : [{ topic: b.topic, partition: b.partition, offset, leaderEpoch: -1 }];
          });
          if (offsets.length > 0) await group.consumer.commit({ offsets });
          for (const b of done) fetcher.positions.set(key(b.topic, b.partition), b.next);
        }
        const failed = outcomes.find((o) => o.status === "rejected");
        if (failed) throw (failed as PromiseRejectedResult).reason;
      } catch (error) {
        if (closing) break;
        if (error instanceof GroupRefusedError) {
          running = false;
          options.onCrash?.(error, false);
          break;
        }
        options.onCrash?.(error, true);
        // Whatever was not committed comes again: positions from the committed offsets (and what
        // was fetched ahead is kept only where it starts at them).
        seenJoins = -1;
        await sleep(500);
      }
    }
    // Nothing outlives close(): the fetch in flight ends within its max wait.
    await pending?.catch(() => {});
    pending = undefined;
  };
  const done = loop().finally(() => {
    running = false;
  });
  return {
    started,
    commit: async (topic, partition, offset) => {
      await group.consumer.commit({ offsets: [{ topic, partition, offset: BigInt(offset), leaderEpoch: -1 }] });
    },
    running: () => running,
    async close(drainMs = Number.POSITIVE_INFINITY) {
      closing = true;
      // Past drainMs the batch in flight is left uncommitted (it comes again) and the group is left.
      await settledWithin(done, drainMs);
      await group.close();
    },
  };
}
