// readRanges on @platformatic/kafka: the Fetcher from each range's first offset, no group at all.
import { randomUUID } from "node:crypto";
import { Consumer } from "@platformatic/kafka";
import type { KafkaClient } from "../client.ts";
import type { PartitionRange, ReadRangesOptions } from "../range.ts";
import { Fetcher, key } from "./fetcher.ts";
import { baseOptions } from "./options.ts";

export async function readRangesPlatformatic(
  client: KafkaClient,
  topic: string,
  ranges: readonly PartitionRange[],
  options: ReadRangesOptions,
): Promise<void> {
  const pending = new Map(ranges.filter((r) => r.to > r.from).map((r) => [r.partition, r]));
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
    for (const r of pending.values()) fetcher.positions.set(key(topic, r.partition), r.from);
    const idleMs = options.idleMs ?? 3_000;
    let lastProgress = Date.now();
    while (pending.size > 0 && Date.now() - lastProgress <= idleMs) {
      const batches = await fetcher.fetch([...pending.keys()].map((partition) => ({ topic, partition })));
      for (const b of batches) {
        const range = pending.get(b.partition);
        if (!range) continue;
        lastProgress = Date.now();
        const inside = b.messages.filter((m) => {
          const o = BigInt(m.offset);
          return o >= range.from && o < range.to;
        });
        if (inside.length > 0) await options.handle(inside);
        fetcher.positions.set(key(topic, b.partition), b.next);
        if (b.next >= range.to) {
          pending.delete(b.partition);
          fetcher.positions.delete(key(topic, b.partition));
        }
      }
    }
  } finally {
    await consumer.close(true).catch(() => {});
  }
}
