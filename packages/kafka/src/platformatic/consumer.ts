// startBatchConsumer on @platformatic/kafka: one fetch of every assigned partition, each partition's
// batch handled (up to `concurrentPartitions` at once), then one OffsetCommit for the batches that
// were handled. A batch whose handler threw is fetched again from its first offset.
// With `prefetch`, each partition is a lane of its own instead (`lanes` below): the next fetch is in
// flight while batches are handled, and no partition waits for the slowest batch of a poll.
import type { KafkaClient } from "../client.ts";
import type { BatchConsumer, BatchConsumerOptions } from "../consumer.ts";
import { FETCH_MAX_WAIT_MS } from "../consumer.ts";
import { settledWithin } from "../settle.ts";
import { type FetchedBatch, Fetcher, key, type TopicPartition } from "./fetcher.ts";
import { Group, GroupRefusedError } from "./group.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** At most `limit` of the calls to run() at once; the others wait their turn, in order. */
export function limiter(limit: number): <T>(work: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    if (active >= Math.max(1, limit)) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/**
 * OffsetCommits one at a time: offsets given while one is in flight are merged (the latest per
 * partition) into the next. Each call resolves when a commit holding its offset succeeded.
 */
class Committer {
  readonly #consumer: Group["consumer"];
  #queued = new Map<string, { topic: string; partition: number; offset: bigint; leaderEpoch: number }>();
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  #inFlight: Promise<void> | undefined;

  constructor(consumer: Group["consumer"]) {
    this.#consumer = consumer;
  }

  commit(topic: string, partition: number, offset: bigint): Promise<void> {
    this.#queued.set(key(topic, partition), { topic, partition, offset, leaderEpoch: -1 });
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#inFlight) this.#flush();
    return done;
  }

  /** Resolves when no commit is in flight or queued (whatever their outcome). */
  async idle(): Promise<void> {
    while (this.#inFlight) await this.#inFlight;
  }

  #flush(): void {
    const offsets = [...this.#queued.values()];
    const waiters = this.#waiters;
    this.#queued = new Map();
    this.#waiters = [];
    this.#inFlight = this.#consumer.commit({ offsets }).then(
      () => {
        for (const w of waiters) w.resolve();
      },
      (error: unknown) => {
        for (const w of waiters) w.reject(error);
      },
    );
    void this.#inFlight.finally(() => {
      this.#inFlight = undefined;
      if (this.#queued.size > 0) this.#flush();
    });
  }
}

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
    groupInstanceId: options.groupInstanceId,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
    heartbeatIntervalMs: Math.min(3_000, Math.max(500, Math.floor((options.sessionTimeoutMs ?? 30_000) / 10))),
    readCommitted: options.readCommitted !== false,
    maxWaitMs: FETCH_MAX_WAIT_MS,
    onError: (error) => options.onCrash?.(error, true),
  });
  const fetcher = new Fetcher(group.consumer, {
    readCommitted: options.readCommitted !== false,
    maxWaitMs: options.fetchMaxWaitMs ?? FETCH_MAX_WAIT_MS,
    minBytes: options.fetchMinBytes ?? 1,
    maxBytesPerPartition: 1024 * 1024,
  });
  /**
   * The offset last committed per partition in this generation: a batch whose handler keeps its
   * commit where it was (the lookup indexer, until a block is written) sends no OffsetCommit, which
   * the broker would append to __consumer_offsets again for nothing.
   */
  const committed = new Map<string, bigint>();
  const changed = (topic: string, partition: number, offset: bigint) => {
    const k = key(topic, partition);
    if (committed.get(k) === offset) return false;
    committed.set(k, offset);
    return true;
  };
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
    committed.clear();
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
   * After a failed poll: a group that refuses this member stops the consumer for good (false);
   * anything else is reported and the loop goes on, from the committed offsets, after a pause.
   */
  const recover = async (error: unknown): Promise<boolean> => {
    if (error instanceof GroupRefusedError) {
      running = false;
      options.onCrash?.(error, false);
      return false;
    }
    options.onCrash?.(error, true);
    // Whatever was not committed comes again: positions from the committed offsets.
    seenJoins = -1;
    await sleep(500);
    return true;
  };

  const loop = async () => {
    while (!closing) {
      try {
        await group.ensureMember();
        if (seenJoins !== group.joins) {
          seenJoins = group.joins;
          await seed();
          options.onJoin?.();
          resolveStarted();
        }
        const joinsAtFetch = group.joins;
        const batches = (await fetcher.fetch(assigned())).filter(() => !closing && joinsAtFetch === group.joins);
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
        if (done.length > 0 && joinsAtFetch === group.joins) {
          const offsets = done.flatMap((b) => {
            const offset = chosen.has(b) ? chosen.get(b) : b.next;
            return offset === null || offset === undefined || !changed(b.topic, b.partition, offset)
              ? []
              : [{ topic: b.topic, partition: b.partition, offset, leaderEpoch: -1 }];
          });
          if (offsets.length > 0) await group.consumer.commit({ offsets });
          for (const b of done) fetcher.positions.set(key(b.topic, b.partition), b.next);
        }
        const failed = outcomes.find((o) => o.status === "rejected");
        if (failed) throw (failed as PromiseRejectedResult).reason;
      } catch (error) {
        if (closing || !(await recover(error))) break;
      }
    }
  };

  /**
   * With `prefetch`: each partition is a lane. Its batches are handled one after another, in order,
   * each committed once its handler resolved, while the other lanes' batches are handled (up to
   * `concurrentPartitions` at once) and the next fetch is in flight: one partition's waits (Redis,
   * sinks, its commit) overlap the others' work, and no partition waits for the slowest batch of a
   * poll. A lane holds at most one batch beside the one being handled and one fetch is in flight, so
   * memory stays bounded. A batch is queued only if it starts where its lane ends, so what was
   * fetched under an older generation, or behind a batch that failed, is never handled. A failure
   * stops every lane (what is queued is dropped), and the consumer starts again from the committed
   * offsets; so does a rebalance, after the batches being handled finished (uncommitted).
   */
  const lanes = async () => {
    const queues = new Map<string, { tail: Promise<void>; batches: number }>();
    /** Where each lane's next fetch starts: past what is queued in it. */
    let ahead = new Map<string, bigint>();
    let failure: { error: unknown } | undefined;
    let wake: () => void = () => {};
    let progress = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const signal = () => {
      const woken = wake;
      progress = new Promise<void>((resolve) => {
        wake = resolve;
      });
      woken();
    };
    const slot = limiter(options.concurrentPartitions ?? 1);
    const committer = new Committer(group.consumer);
    const fail = (error: unknown) => {
      failure ??= { error };
      signal();
    };
    /** Waits for every lane to finish or drop what it holds, and for the commits in flight. */
    const settle = async () => {
      await Promise.all([...queues.values()].map((q) => q.tail));
      queues.clear();
      await committer.idle();
    };

    const run = async (batch: FetchedBatch, joins: number) => {
      // Dropped: it comes again from the committed offset.
      if (failure || closing || joins !== group.joins) return;
      let offset: bigint | null = batch.next;
      if (batch.messages.length > 0) {
        const handled = await slot(() =>
          options.handle({ topic: batch.topic, partition: batch.partition, messages: batch.messages }),
        );
        if (handled) offset = handled.commitOffset === null ? null : BigInt(handled.commitOffset);
      }
      // No commit across a rebalance: the partition may be another member's by now.
      if (offset === null || joins !== group.joins || !changed(batch.topic, batch.partition, offset)) return;
      // The lane goes on without waiting: commits leave in order and a later one covers an earlier
      // one; a commit that fails stops the lanes like a failed batch.
      committer.commit(batch.topic, batch.partition, offset).catch(fail);
    };

    while (!closing) {
      try {
        await group.ensureMember();
        if (seenJoins !== group.joins) {
          await settle();
          seenJoins = group.joins;
          await seed();
          ahead = new Map(fetcher.positions);
          options.onJoin?.();
          resolveStarted();
        }
        if (failure) {
          const { error } = failure;
          await settle();
          failure = undefined;
          throw error;
        }
        const partitions = assigned();
        const wanted = partitions.filter((p) => (queues.get(key(p.topic, p.partition))?.batches ?? 0) < 2);
        if (wanted.length === 0 && partitions.length > 0) {
          // Every lane holds a batch beside the one being handled: fetch again when one finishes.
          await progress;
          continue;
        }
        const joins = group.joins;
        // While a lane works, a fetch must not wait on quiet partitions (the fetch's max wait),
        // leaving the lanes idle once they are done: it takes what is there, and when nothing is,
        // the next fetch waits for a lane to finish a batch.
        const busy = [...queues.values()].some((q) => q.batches > 0);
        const finished = progress;
        const fetched = await fetcher.fetch(wanted, ahead, busy ? 0 : undefined);
        // Fetched under an older generation: dropped, the positions are seeded again above.
        if (closing || joins !== group.joins) continue;
        if (busy && fetched.length === 0) await finished;
        for (const batch of fetched) {
          const k = key(batch.topic, batch.partition);
          if (ahead.get(k) !== batch.from) continue;
          ahead.set(k, batch.next);
          const queue = queues.get(k) ?? { tail: Promise.resolve(), batches: 0 };
          queues.set(k, queue);
          queue.batches++;
          queue.tail = queue.tail.then(() =>
            run(batch, joins)
              .catch(fail)
              .finally(() => {
                queue.batches--;
                signal();
              }),
          );
        }
      } catch (error) {
        if (closing) break;
        await settle();
        failure = undefined;
        if (!(await recover(error))) break;
      }
    }
    // The batches being handled finish and commit; what is queued behind them is dropped.
    await settle();
  };
  const done = (options.prefetch ? lanes() : loop()).finally(() => {
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
      await settledWithin(group.close(), 3_000);
    },
  };
}
