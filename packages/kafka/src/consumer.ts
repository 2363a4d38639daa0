import type { KafkaClient } from "./client.ts";
import type { ConsumedBatch } from "./message.ts";
import { startPlatformaticBatchConsumer } from "./platformatic/consumer.ts";

/** The longest a fetch waits on a quiet topic: what close() may wait for, so what an idle stop costs. */
export const FETCH_MAX_WAIT_MS = 250;

export interface BatchConsumerOptions {
  groupId: string;
  topics: readonly string[];
  fromBeginning?: boolean;
  /** Read only committed transactional records (default true). */
  readCommitted?: boolean;
  /**
   * Partition batches of one fetch handled at once (default 1). Each partition's batches stay in
   * order; more than one overlaps one batch's waits (Redis, sinks, the commit) with another's work.
   */
  concurrentPartitions?: number;
  /**
   * Fetch the next batches while the current ones are handled and committed (default false): the
   * fetch's round trip leaves the handler's path. Offsets are still committed only after the
   * handler resolved; a failed batch and whatever was fetched behind it in its partition come again,
   * and a rebalance drops what was fetched ahead for partitions handed away.
   */
  prefetch?: boolean;
  /**
   * Called once per fetched partition batch; offsets are committed only after it resolves: the
   * batch's end, or the offset it resolves to (`{ commitOffset }`, null: commit nothing), for a
   * handler that keeps part of what it consumed in memory until later.
   */
  handle: (batch: ConsumedBatch) => Promise<void | BatchHandled>;
  /** The consumer (re)joined its group: fetching restarts from the committed offsets. */
  onJoin?: () => void;
  /** The consumer failed; with `restart: false` it stopped for good (running() turns false). */
  onCrash?: (error: unknown, restart: boolean) => void;
  /**
   * The group's session timeout (default 30 s). A member that stops heartbeating (killed, or
   * restarted as a new member after a broker outage) holds its partitions this long. The handler
   * must finish well inside it: the consumer heartbeats between batches.
   */
  sessionTimeoutMs?: number;
  /** Static group membership (KAFKA_GROUP_INSTANCE_ID); unset: a new member on every start. */
  groupInstanceId?: string | undefined;
  /**
   * For a consumer that is not in a hurry: the broker answers a fetch once this many bytes are there
   * (default 1) or `fetchMaxWaitMs` passed (default 500 ms). Fewer, larger batches cost the broker
   * and this process less per record.
   */
  fetchMinBytes?: number;
  fetchMaxWaitMs?: number;
}

export interface BatchHandled {
  /** The offset to commit for the batch's partition (the next one to read after a restart); null: none. */
  commitOffset: string | null;
}

export interface BatchConsumer {
  /** Commits an offset of a partition outside a batch (it must be this consumer's). */
  commit(topic: string, partition: number, offset: string): Promise<void>;
  /** Resolves when the consumer has joined its group and started fetching. */
  started: Promise<void>;
  /** True while the consumer runs (false after a crash it could not recover from, or close). */
  running(): boolean;
  /**
   * Stops fetching and waits up to `drainMs` (default: no bound) for the batches in flight to be
   * handled and committed, then leaves the group; past it, what was not committed comes again.
   */
  close(drainMs?: number): Promise<void>;
}

/**
 * At-least-once batch consumption: a batch's offsets are committed only after `handle` resolved,
 * so a crash re-delivers whatever was not yet durable downstream. A throwing handler leaves the
 * batch uncommitted, and it is fetched again.
 */
export async function startBatchConsumer(kafka: KafkaClient, options: BatchConsumerOptions): Promise<BatchConsumer> {
  return startPlatformaticBatchConsumer(kafka, options);
}
