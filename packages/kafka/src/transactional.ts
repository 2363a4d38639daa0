// Consume-transform-produce with Kafka transactions: what a poll produced and the input offsets it
// consumed are committed together, so a `read_committed` reader downstream sees each input's output
// exactly once, whatever moment the process died at. See docs/decisions/0003-enricher-transactions.md;
// the implementation, one transaction per poll across partitions, is src/platformatic/transactional.ts.
import type { KafkaClient } from "./client.ts";
import type { ConsumedBatch, OutgoingMessage } from "./message.ts";
import { startPlatformaticTransactionalPipe } from "./platformatic/transactional.ts";

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
  /** A poll's transaction failed and was aborted: the batches of these partitions come again. */
  | { type: "transaction-failed"; partitions: number[]; error: unknown }
  /** A poll's transaction committed: `seconds` from the poll's records being ready to EndTxn's answer (produce, offsets, commit). */
  | { type: "transaction-committed"; seconds: number; records: number }
  /** The consumer failed; with `restart: false` it stopped for good (running() turns false). */
  | { type: "crashed"; error: unknown; restart: boolean }
  /** close() waited `ms` for the poll in flight and closed under it: its batches come again. */
  | { type: "drain-timeout"; ms: number };

export interface TransactionalPipeOptions {
  groupId: string;
  inputTopic: string;
  /**
   * Transactional ids are `<prefix>.<inputTopic>.<lowest assigned partition>`: one producer per
   * instance, and after a rebalance the next owner of each partition fences whoever last used that
   * partition's id (a killed process), aborting its open transaction at once.
   */
  transactionalIdPrefix: string;
  /** Each partition batch of a poll, up to partitionsConsumedConcurrently at once. Give this or handlePoll. */
  handle?: (batch: ConsumedBatch, context: PipeBatchContext) => Promise<PipeResult>;
  /**
   * Every partition batch of a poll in one call (those with records, in the fetch's order): for a
   * handler whose cost is per call (a round trip, a message to a thread) more than per record. The
   * context's heartbeat and isActive cover all the poll's partitions.
   */
  handlePoll?: (batches: readonly ConsumedBatch[], context: PipeBatchContext) => Promise<PipeResult>;
  /** Where a group with no committed offset starts (default: the beginning). */
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  /** Static group membership (KAFKA_GROUP_INSTANCE_ID); unset: a new member on every start. */
  groupInstanceId?: string | undefined;
  heartbeatIntervalMs?: number;
  transactionTimeoutMs?: number;
  /** Partition batches of one poll handled at once with `handle` (default: all of them); one transaction covers the poll. */
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
  /**
   * Stops polling and waits up to `drainMs` (default: no bound) for the poll in flight to commit or
   * abort, then closes the producer and leaves the group. Past `drainMs` it closes anyway: the
   * open transaction is aborted (or fenced by the next owner) and its batches come again.
   */
  close(drainMs?: number): Promise<void>;
}

export class PipeInactiveError extends Error {
  override readonly name = "PipeInactiveError";
}

/**
 * Runs `handle` on every partition batch of `inputTopic` this instance is assigned, and commits the
 * output of all the batches of one poll and their offsets in one transaction. The consumer never
 * commits by itself.
 */
export async function startTransactionalPipe(
  client: KafkaClient,
  options: TransactionalPipeOptions,
): Promise<TransactionalPipe> {
  return startPlatformaticTransactionalPipe(client, options);
}
