// Group membership on @platformatic/kafka's Consumer: it joins, heartbeats in the background and
// rejoins on a rebalance by itself; this tracks the generation and the assignment it gives.
import { Consumer, FetchIsolationLevels, findErrorBy } from "@platformatic/kafka";
import type { KafkaClient } from "../client.ts";
import { baseOptions, describeError, isAuthenticationFailure } from "./options.ts";

export interface GroupOptions {
  groupId: string;
  topics: readonly string[];
  /** Static membership (KIP-345): the same id after a restart takes its assignment back at once. */
  groupInstanceId?: string | undefined;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  readCommitted: boolean;
  maxWaitMs: number;
  onError?: (error: unknown) => void;
}

/**
 * The group cannot be joined and retrying will not change that: another application holds the group
 * with a protocol this one does not speak, or the credentials or ACLs refuse it. The consumer stops
 * for good (kafkajs's `restart: false`), and the service says so.
 */
export class GroupRefusedError extends Error {
  override readonly name = "GroupRefusedError";
}

function refused(error: unknown): boolean {
  const e = error as Error;
  return Boolean(
    findErrorBy(e, "apiId", "INCONSISTENT_GROUP_PROTOCOL") ||
      findErrorBy(e, "apiId", "GROUP_AUTHORIZATION_FAILED") ||
      findErrorBy(e, "apiId", "TOPIC_AUTHORIZATION_FAILED") ||
      findErrorBy(e, "apiId", "GROUP_MAX_SIZE_REACHED") ||
      isAuthenticationFailure(e),
  );
}

export class Group {
  readonly consumer: Consumer;
  readonly #topics: readonly string[];
  /** Bumped on every join: a batch fetched under an older one is not committed. */
  joins = 0;
  #joining: Promise<void> | undefined;

  constructor(kafka: KafkaClient, options: GroupOptions) {
    this.#topics = options.topics;
    this.consumer = new Consumer({
      ...baseOptions(kafka),
      groupId: options.groupId,
      ...(options.groupInstanceId ? { groupInstanceId: options.groupInstanceId } : {}),
      autocommit: false,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(options.sessionTimeoutMs, 60_000),
      maxWaitTime: options.maxWaitMs,
      isolationLevel: options.readCommitted
        ? FetchIsolationLevels.READ_COMMITTED
        : FetchIsolationLevels.READ_UNCOMMITTED,
    });
    this.consumer.on("consumer:group:join", () => {
      this.joins++;
    });
    // An EventEmitter 'error' without a listener would end the process: a failed rejoin lands here,
    // and the loop's ensureMember() joins again.
    this.consumer.on("error", (error: unknown) => options.onError?.(error));
  }

  /** Joins (or rejoins, after a failed background rejoin) unless a member already. */
  async ensureMember(): Promise<void> {
    if (this.consumer.isActive() && this.consumer.assignments !== null) return;
    if (!this.#joining) {
      for (const t of this.#topics) this.consumer.topics.track(t);
      this.#joining = this.consumer
        .joinGroup({})
        .then(
          () => {},
          (error: unknown) => {
            throw refused(error)
              ? new GroupRefusedError(`cannot join the group: ${describeError(error)}`, { cause: error })
              : error;
          },
        )
        .finally(() => {
          this.#joining = undefined;
        });
    }
    await this.#joining;
  }

  /** The partitions of `topic` this member holds in the current generation, sorted. */
  partitions(topic: string): number[] {
    const found = this.consumer.assignments?.find((a) => a.topic === topic);
    return [...(found?.partitions ?? [])].sort((a, b) => a - b);
  }

  async close(): Promise<void> {
    await this.consumer.close(true).catch(() => {});
  }
}
