// Admin calls and offset look-ups on @platformatic/kafka's Admin.
import { Admin, ConfigResourceTypes, ListOffsetTimestamps } from "@platformatic/kafka";
import type { TopicSpec } from "../admin.ts";
import type { KafkaClient } from "../client.ts";
import { baseOptions, clearError } from "./options.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function withAdmin<T>(client: KafkaClient, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin(baseOptions(client, "-admin"));
  try {
    return await work(admin);
  } catch (error) {
    throw clearError(error);
  } finally {
    await admin.close().catch(() => {});
  }
}

/** Every partition of the topics has a leader (kafkajs's waitForLeaders). */
async function waitForLeaders(admin: Admin, topics: readonly string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const metadata = await admin.metadata({ topics: [...topics], forceUpdate: true });
      const ready = topics.every((t) => {
        const m = metadata.topics.get(t);
        return m !== undefined && m.partitions.length > 0 && m.partitions.every((p) => p && p.leader >= 0);
      });
      if (ready) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`no leaders for ${topics.join(", ")} after 30 s`);
    await sleep(100);
  }
}

export async function ensureTopicsPlatformatic(client: KafkaClient, topics: readonly TopicSpec[]): Promise<string[]> {
  return withAdmin(client, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    for (const t of missing) {
      try {
        await admin.createTopics({
          topics: [t.topic],
          partitions: t.partitions,
          replicas: t.replicationFactor ?? 1,
          configs: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
        });
      } catch (error) {
        // Created meanwhile by someone else: as good.
        if (!String((error as Error)?.message ?? "").includes("TOPIC_ALREADY_EXISTS") && !alreadyExists(error)) {
          throw error;
        }
      }
    }
    if (missing.length > 0)
      await waitForLeaders(
        admin,
        missing.map((t) => t.topic),
      );
    return missing.map((t) => t.topic);
  });
}

function alreadyExists(error: unknown): boolean {
  const seen = new Set<unknown>();
  const walk = (e: unknown): boolean => {
    if (!e || typeof e !== "object" || seen.has(e)) return false;
    seen.add(e);
    const o = e as { apiId?: string; errors?: unknown[]; cause?: unknown };
    if (o.apiId === "TOPIC_ALREADY_EXISTS") return true;
    return (o.errors ?? []).some(walk) || walk(o.cause);
  };
  return walk(error);
}

export async function deleteTopicsPlatformatic(client: KafkaClient, topics: readonly string[]): Promise<void> {
  await withAdmin(client, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  });
}

async function listed(admin: Admin, topic: string, timestamp: bigint): Promise<Map<number, bigint>> {
  const metadata = await admin.metadata({ topics: [topic] });
  const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
  const answer = await admin.listOffsets({
    topics: [
      {
        name: topic,
        partitions: Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp })),
      },
    ],
  });
  const out = new Map<number, bigint>();
  for (const t of answer) for (const p of t.partitions) out.set(p.partitionIndex, p.offset);
  return out;
}

/** Per partition, the offset after the last record. */
export async function endOffsetsPlatformatic(
  client: KafkaClient,
  topic: string,
): Promise<{ partition: number; offset: bigint }[]> {
  return withAdmin(client, async (admin) =>
    [...(await listed(admin, topic, ListOffsetTimestamps.LATEST))]
      .map(([partition, offset]) => ({ partition, offset }))
      .sort((a, b) => a.partition - b.partition),
  );
}

/** Per partition, the first offset at or after the timestamp (the end when none), or the first offset. */
export async function offsetsAtPlatformatic(
  client: KafkaClient,
  topic: string,
  timestampMs?: number,
): Promise<{ partition: number; offset: bigint }[]> {
  return withAdmin(client, async (admin) => {
    if (timestampMs === undefined) {
      return [...(await listed(admin, topic, ListOffsetTimestamps.EARLIEST))]
        .map(([partition, offset]) => ({ partition, offset }))
        .sort((a, b) => a.partition - b.partition);
    }
    const high = await listed(admin, topic, ListOffsetTimestamps.LATEST);
    const at = await listed(admin, topic, BigInt(timestampMs));
    return [...high.keys()]
      .sort((a, b) => a - b)
      .map((partition) => {
        const o = at.get(partition);
        return { partition, offset: o === undefined || o < 0n ? (high.get(partition) ?? 0n) : o };
      });
  });
}

/** The sum over partitions of (high watermark - committed offset) for a consumer group. */
export async function consumerGroupLagPlatformatic(
  client: KafkaClient,
  groupId: string,
  topic: string,
): Promise<bigint> {
  return withAdmin(client, async (admin) => {
    const ends = await listed(admin, topic, ListOffsetTimestamps.LATEST);
    const groups = await admin.listConsumerGroupOffsets({
      groups: [{ groupId, topics: [{ name: topic, partitionIndexes: [...ends.keys()] }] }],
    });
    const done = new Map<number, bigint>();
    for (const g of groups) {
      for (const t of g.topics) {
        if (t.name !== topic) continue;
        for (const p of t.partitions) done.set(p.partitionIndex, p.committedOffset < 0n ? 0n : p.committedOffset);
      }
    }
    let lag = 0n;
    for (const [partition, high] of ends) lag += high - (done.get(partition) ?? 0n);
    return lag;
  });
}

/** A topic's config value, or undefined when it cannot be read (no DescribeConfigs ACL). */
export async function topicConfigPlatformatic(
  client: KafkaClient,
  topic: string,
  name: string,
): Promise<string | undefined> {
  try {
    return await withAdmin(client, async (admin) => {
      const described = await admin.describeConfigs({
        resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: [name] }],
      });
      return described[0]?.configs.find((c) => c.name === name)?.value ?? undefined;
    });
  } catch {
    return undefined;
  }
}

/** The topic's `max.message.bytes`, or undefined when it cannot be read. */
export async function topicMaxMessageBytesPlatformatic(
  client: KafkaClient,
  topic: string,
): Promise<number | undefined> {
  const n = Number(await topicConfigPlatformatic(client, topic, "max.message.bytes"));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** The bytes the topic's partitions take in the brokers' log directories (every replica counted). */
export async function topicSizeBytesPlatformatic(client: KafkaClient, topic: string): Promise<bigint> {
  return withAdmin(client, async (admin) => {
    const metadata = await admin.metadata({ topics: [topic] });
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    const brokers = await admin.describeLogDirs({
      topics: [{ name: topic, partitions: Array.from({ length: count }, (_, i) => i) }],
    });
    let bytes = 0n;
    for (const b of brokers)
      for (const dir of b.results)
        for (const t of dir.topics) if (t.name === topic) for (const p of t.partitions) bytes += p.partitionSize;
    return bytes;
  });
}
