// readRanges on @platformatic/kafka: the Fetcher from each range's first offset, no group at all.
import { randomUUID } from "node:crypto";
import { Consumer } from "@platformatic/kafka";
import type { KafkaClient } from "../client.ts";
import { advancePlan, inPlan, type PartitionRange, type ReadRangesOptions, rangePlans } from "../range.ts";
import { Fetcher, key } from "./fetcher.ts";
import { baseOptions } from "./options.ts";

export async function readRangesPlatformatic(
  client: KafkaClient,
  topic: string,
  ranges: readonly PartitionRange[],
  options: ReadRangesOptions,
): Promise<void> {
  const pending = rangePlans(ranges);
  if (pending.size === 0) return;
  const consumer = new Consumer({
    ...baseOptions(client, "-range"),
    // Required by the library; never joined, nothing committed.
    groupId: `trailstream-range-${randomUUID()}`,
    autocommit: false,
  });
  try {
    consumer.topics.track(topic);
    const fetcher = new Fetcher(consumer, {
      readCommitted: options.readCommitted !== false,
      maxWaitMs: 250,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 4 * 1024 * 1024,
      maxBytes: 16 * 1024 * 1024,
    });
    for (const [partition, plan] of pending) {
      fetcher.positions.set(key(topic, partition), (plan.ranges[0] as PartitionRange).from);
    }
    const idleMs = options.idleMs ?? 3_000;
    let lastProgress = Date.now();
    while (pending.size > 0 && Date.now() - lastProgress <= idleMs) {
      const batches = await fetcher.fetch([...pending.keys()].map((partition) => ({ topic, partition })));
      for (const b of batches) {
        const plan = pending.get(b.partition);
        if (!plan) continue;
        lastProgress = Date.now();
        const inside = b.messages.filter((m) => inPlan(plan, BigInt(m.offset)));
        if (inside.length > 0) await options.handle(inside);
        // Several ranges: on to the next one past what this fetch read, skipping what lies between.
        const next = options.enough?.(b.partition) ? undefined : advancePlan(plan, b.next - 1n);
        if (next === undefined) {
          pending.delete(b.partition);
          fetcher.positions.delete(key(topic, b.partition));
        } else {
          fetcher.positions.set(key(topic, b.partition), next);
        }
      }
    }
  } finally {
    await consumer.close(true).catch(() => {});
  }
}
