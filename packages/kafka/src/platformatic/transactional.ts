// startTransactionalPipe on @platformatic/kafka: ONE transaction per poll, covering every partition
// batch the fetch returned, with ONE transactional producer per instance (KIP-447). A poll's
// transaction commits while the next poll is fetched and handled; the next begins once it settled,
// while its own poll is still handled, and takes in its partitions and offsets then (openTransaction).
//
// Fencing (docs/decisions/0003):
// - Offsets go in with TxnOffsetCommit v3+ carrying the consumer's generation and member id: a
//   member that lost its partitions (a zombie) has its offset commit refused (ILLEGAL_GENERATION),
//   so its transaction aborts. That is the fence kafkajs's TxnOffsetCommit v0-v1 could not give.
// - After every join the pipe reads the group's committed offsets with `requireStable`: the
//   broker holds the answer while a transaction with offsets for those partitions is open, so a
//   zombie's transaction that won the race is seen, and the pipe starts where it ended.
// - Transactional id `<prefix>.<topic>.<lowest assigned partition>`: partitions are held by one
//   member each, so two live members never share an id. After a join, the pipe first runs
//   InitProducerId for the id of every partition it now holds: whoever used that id before (a
//   killed process, or a member whose lowest partition it was) is fenced and its open transaction
//   aborted at once, rather than at the transaction timeout, before the stable offset read waits
//   on it.
import {
  kGetApi,
  kGetConnection,
  type MessageRecord,
  Producer as PlatformaticProducer,
  ProduceAcks,
} from "@platformatic/kafka";
import { chunkBySize, MAX_REQUEST_BYTES } from "../chunk.ts";
import type { KafkaClient } from "../client.ts";
import { FETCH_MAX_WAIT_MS } from "../consumer.ts";
import { settledWithin } from "../settle.ts";
import {
  PipeInactiveError,
  type PipeResult,
  type TransactionalPipe,
  type TransactionalPipeOptions,
} from "../transactional.ts";
import { eachLimited } from "./consumer.ts";
import { type FetchedBatch, Fetcher, key } from "./fetcher.ts";
import { Group, GroupRefusedError } from "./group.ts";
import { baseOptions, partitioner, producerCompression } from "./options.ts";
import { toProduce } from "./producer.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The longest close() waits for the producer to close, then for the group to be left. */
const CLOSE_STEP_MS = 3_000;

/**
 * InitProducerId as a new producer: id and epoch -1. The library sends 0 and 0 by default, which
 * the broker (KIP-360) takes as "I am producer 0 at epoch 0" and answers PRODUCER_FENCED as soon as
 * the transactional id has been initialized once before: a second process could never take an id.
 */
const FRESH = { producerId: -1n, producerEpoch: -1 };

type TxnApi = (connection: unknown, ...args: unknown[]) => void;
/** A poll's transaction, begun while its batches are handled (openTransaction). */
interface OpenTransaction {
  current: { id: string; producer: PlatformaticProducer };
  transaction: Awaited<ReturnType<PlatformaticProducer["beginTransaction"]>>;
  /** Adding the expected partitions or the group's offsets failed: the poll's transaction fails with this. */
  error?: unknown;
}
/** Who fetched a poll's batches: the generation and member id its offsets are committed under. */
interface Membership {
  generationId: number;
  memberId: string | null;
}

export async function startPlatformaticTransactionalPipe(
  client: KafkaClient,
  options: TransactionalPipeOptions,
): Promise<TransactionalPipe> {
  const { groupId, inputTopic } = options;
  if ((options.handle === undefined) === (options.handlePoll === undefined)) {
    throw new Error("a transactional pipe needs exactly one of handle and handlePoll");
  }
  const emit = options.onEvent ?? (() => {});
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
  const transactionTimeoutMs = options.transactionTimeoutMs ?? 60_000;
  const maxProduceBytes = options.maxProduceBytes ?? MAX_REQUEST_BYTES;
  const group = new Group(client, {
    groupId,
    topics: [inputTopic],
    groupInstanceId: options.groupInstanceId,
    sessionTimeoutMs,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? Math.max(500, Math.floor(sessionTimeoutMs / 10)),
    readCommitted: true,
    maxWaitMs: FETCH_MAX_WAIT_MS,
    onError: (error) => emit({ type: "crashed", error, restart: true }),
  });
  const fetcher = new Fetcher(group.consumer, {
    readCommitted: true,
    maxWaitMs: FETCH_MAX_WAIT_MS,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
  });
  const idOf = (partition: number) => `${options.transactionalIdPrefix}.${inputTopic}.${partition}`;
  const newProducer = (transactionalId: string) =>
    new PlatformaticProducer({
      ...baseOptions(client),
      ...producerCompression(client),
      // InitProducerId's transaction timeout is this client's request timeout.
      timeout: transactionTimeoutMs,
      transactionalId,
      idempotent: true,
      acks: ProduceAcks.ALL,
      partitioner,
    });

  let producer: { id: string; producer: PlatformaticProducer } | undefined;
  let assignment: number[] = [];
  let closing = false;
  let running = true;
  let seenJoins = -1;
  let resolveStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    resolveStarted = resolve;
  });

  const dropProducer = async () => {
    const p = producer;
    producer = undefined;
    await p?.producer.close().catch(() => {});
  };

  /** InitProducerId for a transactional id: fences its previous holder, aborts its open transaction. */
  const fence = async (transactionalId: string) => {
    const p = newProducer(transactionalId);
    try {
      const t = await p.beginTransaction(FRESH);
      await t.cancel();
    } finally {
      await p.close().catch(() => {});
    }
  };

  /** A new generation: fence, open the producer, read stable positions. */
  const takeOver = async () => {
    assignment = group.partitions(inputTopic);
    emit({ type: "assigned", partitions: assignment });
    const lowest = assignment[0];
    if (lowest === undefined) {
      await dropProducer();
      fetcher.positions.clear();
      return;
    }
    const wanted = idOf(lowest);
    if (producer?.id !== wanted) await dropProducer();
    await Promise.all(assignment.filter((p) => p !== lowest).map((p) => fence(idOf(p))));
    if (!producer) {
      const p = newProducer(wanted);
      try {
        // The first beginTransaction sends InitProducerId: this fences the id's previous holder.
        const t = await p.beginTransaction(FRESH);
        await t.cancel();
      } catch (error) {
        await p.close().catch(() => {});
        throw error;
      }
      if (closing) {
        // close() gave up waiting for this poll and dropped the producer already: do not leave one open.
        await p.close().catch(() => {});
        throw new PipeInactiveError("closing");
      }
      producer = { id: wanted, producer: p };
      emit({ type: "producer-ready", partition: lowest, transactionalId: wanted });
    }
    const committed = await fetcher.committedStable(groupId, inputTopic, assignment);
    const missing = assignment.filter((p) => (committed.get(p) ?? -1n) < 0n);
    const start = missing.length
      ? await fetcher.boundaries(inputTopic, missing, options.fromBeginning ?? true)
      : new Map<number, bigint>();
    const before = new Map(fetcher.positions);
    fetcher.positions.clear();
    for (const p of assignment) {
      const c = committed.get(p) ?? -1n;
      const position = c >= 0n ? c : (start.get(p) ?? 0n);
      const previous = before.get(key(inputTopic, p));
      if (previous !== undefined && previous !== position) {
        emit({ type: "position-reset", partition: p, from: previous.toString(), to: position.toString() });
      }
      fetcher.positions.set(key(inputTopic, p), position);
    }
  };

  /** TxnOffsetCommit of every partition's next offset in one request (the library sends one per partition). */
  /**
   * `member` is the generation and member id the batches were fetched under, not the consumer's
   * current ones: a rejoin while this transaction is open (the next poll's ensureMember, or the
   * library's own) must not lend these offsets a generation in which another member may own the
   * partitions and have read their committed offsets already; the broker refuses the stale one.
   */
  const commitOffsets = async (
    p: PlatformaticProducer,
    transactionalId: string,
    batches: FetchedBatch[],
    member: Membership,
  ) => {
    const consumer = group.consumer;
    const coordinator = consumer.coordinatorId ?? (await consumer.findGroupCoordinator());
    const metadata = await consumer.metadata({ topics: [inputTopic] });
    const internals = p as unknown as {
      [kGetApi]: (name: string, cb: (e: Error | null, api: TxnApi) => void) => void;
      [kGetConnection]: (broker: unknown, cb: (e: Error | null, c: unknown) => void) => void;
    };
    const connection = await new Promise<unknown>((resolve, reject) =>
      internals[kGetConnection](metadata.brokers.get(coordinator), (e, c) => (e ? reject(e) : resolve(c))),
    );
    const api = await new Promise<TxnApi>((resolve, reject) =>
      internals[kGetApi]("TxnOffsetCommit", (e, a) => (e ? reject(e) : resolve(a))),
    );
    await new Promise<void>((resolve, reject) =>
      api(
        connection,
        transactionalId,
        groupId,
        p.producerId,
        p.producerEpoch,
        member.generationId,
        member.memberId,
        consumer.groupInstanceId ?? null,
        [
          {
            name: inputTopic,
            partitions: batches.map((b) => ({
              partitionIndex: b.partition,
              committedOffset: b.next,
              committedLeaderEpoch: -1,
              committedMetadata: null,
            })),
          },
        ],
        (e: Error | null) => (e ? reject(e) : resolve()),
      ),
    );
  };

  /**
   * The next poll's fetch, sent while this poll's transaction commits (from the positions the commit
   * will leave): the fetch's wait and the transaction's round trips overlap. Used only if the commit
   * succeeded under the same generation and left exactly those positions; otherwise dropped.
   */
  let ahead:
    | { joins: number; positions: Map<string, bigint>; fetched: Promise<FetchedBatch[] | undefined> }
    | undefined;
  const samePositions = (a: Map<string, bigint>, b: Map<string, bigint>) =>
    a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
  /**
   * The previous poll's transaction, committing while this poll fetches and handles its batches:
   * the handler's work (decode, Redis, enrichment) overlaps the transaction's round trips. Settled,
   * never rejected (an unawaited rejection would end the process); its outcome is read before the
   * next transaction begins, so one producer never has two open. A failure fails the poll after it,
   * whose handled batches are dropped and come again from the committed offsets.
   */
  let committing: Promise<{ error: unknown } | undefined> | undefined;
  const settleCommitting = async () => {
    const outcome = await committing;
    committing = undefined;
    if (outcome) throw outcome.error;
  };
  /** The topic partitions the last committed transaction wrote to: the next one adds them as it opens. */
  let lastWritten: { topic: string; partition: number }[] = [];
  /** Where the fetcher stands once the transaction in flight commits: the next poll reads from here. */
  let expected = new Map<string, bigint>();

  const poll = async () => {
    await group.ensureMember();
    if (seenJoins !== group.joins) {
      await settleCommitting();
      seenJoins = group.joins;
      ahead = undefined;
      await takeOver();
      expected = new Map(fetcher.positions);
      resolveStarted();
    }
    const joins = group.joins;
    const member: Membership = { generationId: group.consumer.generationId, memberId: group.consumer.memberId };
    const active = (partition: number) =>
      !closing && joins === group.joins && group.consumer.isActive() && assignment.includes(partition);
    const wanted = assignment.map((partition) => ({ topic: inputTopic, partition }));
    const prefetched =
      ahead && ahead.joins === joins && samePositions(ahead.positions, expected) ? await ahead.fetched : undefined;
    ahead = undefined;
    const from = expected;
    const fetched = prefetched ?? (await fetcher.fetch(wanted, from));
    const batches = fetched.filter((b) => active(b.partition));
    if (batches.length === 0) return;
    const [handled, opened] = await Promise.allSettled([
      handleBatches(
        batches.filter((b) => b.messages.length > 0),
        active,
      ),
      openTransaction(),
    ]);
    // A failed previous transaction was reported when it failed (transaction-failed): the
    // handler's error, if it has one too, is the one this poll has to tell.
    if (handled.status === "rejected") {
      if (opened.status === "fulfilled") await abandon(opened.value);
      throw handled.reason;
    }
    if (opened.status === "rejected") throw opened.reason;
    const gone = batches.find((b) => !active(b.partition));
    if (gone !== undefined) {
      await abandon(opened.value);
      throw new PipeInactiveError(`partition ${gone.partition} of ${inputTopic} was handed away`);
    }
    const results = handled.value;
    const after = new Map(from);
    for (const b of batches) after.set(key(inputTopic, b.partition), b.next);
    expected = after;
    // A failed read ahead is not an error of this poll: the next poll fetches again.
    ahead = { joins, positions: after, fetched: fetcher.fetch(wanted, after).catch(() => undefined) };
    committing = commitPoll(opened.value, batches, results, member).then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
  };

  /** The poll's batches through the handler: one call for the poll, or one per partition batch. */
  const handleBatches = async (
    batches: FetchedBatch[],
    active: (partition: number) => boolean,
  ): Promise<PipeResult[]> => {
    const consumed = (b: FetchedBatch) => ({ topic: inputTopic, partition: b.partition, messages: b.messages });
    const contextOf = (partitions: readonly number[]) => ({
      heartbeat: async () => {
        const gone = partitions.find((p) => !active(p));
        if (gone !== undefined) throw new PipeInactiveError(`partition ${gone} was handed away`);
      },
      isActive: () => partitions.every(active),
    });
    if (options.handlePoll) {
      if (batches.length === 0) return [];
      return [await options.handlePoll(batches.map(consumed), contextOf(batches.map((b) => b.partition)))];
    }
    const handle = options.handle as NonNullable<typeof options.handle>;
    const byPartition = new Map<number, PipeResult>();
    const outcomes = await eachLimited(batches, options.partitionsConsumedConcurrently ?? batches.length, async (b) => {
      byPartition.set(b.partition, await handle(consumed(b), contextOf([b.partition])));
    });
    const failed = outcomes.find((o) => o.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    // In the fetch's order, whatever order the handlers finished in.
    return batches.flatMap((b) => byPartition.get(b.partition) ?? []);
  };

  /**
   * Begins a poll's transaction, once the previous one settled, while the poll's batches are
   * handled, and adds to it before its records exist the partitions the last transaction wrote to
   * (AddPartitionsToTxn) and the group's offsets (AddOffsetsToTxn). Those two round trips, and the
   * CONCURRENT_TRANSACTIONS retries of the first while the previous commit's markers are written,
   * then overlap the handler instead of following it. A partition added but not written gets only
   * an empty marker at the commit; one written but not added is added by its send, as before. One
   * after the other: the coordinator refuses a change to a transaction while another is written.
   * Rejects only when the previous transaction failed or none can begin; a failure to add is kept
   * in `error` and fails the poll's transaction (commitPoll), which drops the producer.
   */
  const openTransaction = async (): Promise<OpenTransaction> => {
    await settleCommitting();
    const current = producer;
    if (!current) throw new Error("no transactional producer");
    let transaction: OpenTransaction["transaction"];
    try {
      transaction = await current.producer.beginTransaction();
    } catch (error) {
      // The library keeps a transaction whose begin failed as the producer's active one, and every
      // later begin would be refused: a fresh producer, after a new take-over, starts clean.
      await dropProducer();
      seenJoins = -1;
      throw error;
    }
    const opened: OpenTransaction = { current, transaction };
    try {
      if (lastWritten.length > 0) {
        const topics = [...new Set(lastWritten.map((w) => w.topic))];
        const metadata = await current.producer.metadata({ topics });
        await opened.transaction.addPartitions(
          metadata,
          lastWritten.map((w) => ({ topic: w.topic, partition: w.partition }) as MessageRecord),
        );
      }
      await opened.transaction.addConsumer(group.consumer);
    } catch (error) {
      opened.error = error;
    }
    return opened;
  };

  /** A poll given up after its transaction opened (the handler failed, a partition was handed away). */
  const abandon = async (opened: OpenTransaction) => {
    try {
      await opened.transaction.abort();
    } catch {
      // The producer may still hold the transaction: a fresh one, after a new take-over, fences it.
      await dropProducer();
      seenJoins = -1;
    }
  };

  /** One transaction: the poll's records, then its offsets (TxnOffsetCommit), then the commit. */
  const commitPoll = async (
    opened: OpenTransaction,
    batches: FetchedBatch[],
    results: readonly PipeResult[],
    member: Membership,
  ) => {
    const { current, transaction } = opened;
    const records = results.flatMap((r) => r.records);
    const began = performance.now();
    const written = new Map<string, { topic: string; partition: number }>();
    try {
      if (opened.error !== undefined) throw opened.error;
      // A send of no records would still be a request: skip it (offsets alone are a valid transaction).
      for (const chunk of chunkBySize(records, maxProduceBytes)) {
        const result = await transaction.send({ messages: chunk.map((r) => toProduce(r.topic, r)) });
        for (const { topic, partition } of result.offsets ?? [])
          written.set(`${topic}:${partition}`, { topic, partition });
      }
      await commitOffsets(current.producer, current.id, batches, member);
      await transaction.commit();
      lastWritten = [...written.values()];
    } catch (error) {
      emit({ type: "transaction-failed", partitions: batches.map((b) => b.partition), error });
      ahead = undefined;
      await transaction.abort().catch(() => {});
      // Whether it committed is unknown: a fresh producer fences this one, and the stable position
      // read then starts from whatever was committed.
      await dropProducer();
      seenJoins = -1;
      throw error;
    }
    const seconds = (performance.now() - began) / 1_000;
    for (const b of batches) fetcher.positions.set(key(inputTopic, b.partition), b.next);
    for (const r of results) r.committed?.();
    emit({ type: "transaction-committed", seconds, records: records.length });
  };

  const loop = async () => {
    while (!closing) {
      try {
        await poll();
      } catch (error) {
        if (closing) break;
        if (error instanceof GroupRefusedError) {
          running = false;
          emit({ type: "crashed", error, restart: false });
          break;
        }
        if (!(error instanceof PipeInactiveError)) emit({ type: "crashed", error, restart: true });
        seenJoins = -1;
        await sleep(200);
      }
    }
    // Stopping: the last transaction commits (or fails) before the producer closes.
    await committing;
    committing = undefined;
  };
  const done = loop().finally(() => {
    running = false;
  });
  return {
    started,
    assigned: () => assignment,
    running: () => running && !closing,
    async close(drainMs = Number.POSITIVE_INFINITY) {
      if (closing) return;
      closing = true;
      try {
        if (!(await settledWithin(done, drainMs))) emit({ type: "drain-timeout", ms: drainMs });
      } finally {
        // Closing connections should take milliseconds; a broker that does not answer must not hold
        // the stop (the producer's open transaction is aborted by its timeout or the next owner).
        await settledWithin(dropProducer(), CLOSE_STEP_MS);
        await settledWithin(group.close(), CLOSE_STEP_MS);
        running = false;
      }
    },
  };
}
