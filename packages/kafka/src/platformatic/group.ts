// Group membership on @platformatic/kafka's Consumer: it joins, heartbeats in the background and
// rejoins on a rebalance by itself; this tracks the generation and the assignment it gives.
import { Consumer, FetchIsolationLevels } from "@platformatic/kafka";
import type { KafkaClient } from "../client.ts";
import { baseOptions } from "./options.ts";

export interface GroupOptions {
  groupId: string;
  topics: readonly string[];
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  readCommitted: boolean;
  maxWaitMs: number;
  onError?: (error: unknown) => void;
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
        .then(() => {})
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
