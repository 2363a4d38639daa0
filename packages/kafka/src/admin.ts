import { type KafkaClient, kafkajsOf } from "./client.ts";
import {
  consumerGroupLagPlatformatic,
  deleteTopicsPlatformatic,
  ensureTopicsPlatformatic,
  topicMaxMessageBytesPlatformatic,
} from "./platformatic/admin.ts";

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor?: number;
  config?: Record<string, string>;
}

/** Creates the topics that are missing; existing topics are left as they are. */
export async function ensureTopics(kafka: KafkaClient, topics: readonly TopicSpec[]): Promise<string[]> {
  if (kafka.kind === "platformatic") return ensureTopicsPlatformatic(kafka, topics);
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          replicationFactor: t.replicationFactor ?? 1,
          configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    return missing.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}

/** The sum over partitions of (high watermark - committed offset) for a consumer group. */
export async function consumerGroupLag(kafka: KafkaClient, groupId: string, topic: string): Promise<bigint> {
  if (kafka.kind === "platformatic") return consumerGroupLagPlatformatic(kafka, groupId, topic);
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    const [ends, committed] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const done = new Map<number, bigint>();
    for (const p of committed[0]?.partitions ?? []) done.set(p.partition, BigInt(p.offset === "-1" ? "0" : p.offset));
    let lag = 0n;
    for (const p of ends) lag += BigInt(p.high) - (done.get(p.partition) ?? 0n);
    return lag;
  } finally {
    await admin.disconnect();
  }
}

/** Deletes the topics that exist (tests and demos tidying up after themselves). */
export async function deleteTopics(kafka: KafkaClient, topics: readonly string[]): Promise<void> {
  if (kafka.kind === "platformatic") return deleteTopicsPlatformatic(kafka, topics);
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  } finally {
    await admin.disconnect();
  }
}

/** What one record batch adds around a record's value (batch header, record header, key, headers): kept free. */
export const RECORD_OVERHEAD_BYTES = 512;

/**
 * The largest value one record on the topic may carry: its `max.message.bytes` less the overhead of
 * the batch around it, and never more than `configured` (the service's own cap). `configured` alone
 * when the topic's bound cannot be read.
 */
export async function topicValueBound(
  kafka: KafkaClient,
  topic: string,
  configured: number,
): Promise<{ maxValueBytes: number; topicMaxMessageBytes: number | undefined }> {
  const topicMax = await topicMaxMessageBytes(kafka, topic);
  const fromTopic = topicMax === undefined ? configured : topicMax - RECORD_OVERHEAD_BYTES;
  return { maxValueBytes: Math.max(1, Math.min(configured, fromTopic)), topicMaxMessageBytes: topicMax };
}

/**
 * The topic's `max.message.bytes` (what the broker accepts in one record batch), or undefined when
 * it cannot be read (no DescribeConfigs ACL): callers then keep their configured bound.
 */
export async function topicMaxMessageBytes(kafka: KafkaClient, topic: string): Promise<number | undefined> {
  if (kafka.kind === "platformatic") return topicMaxMessageBytesPlatformatic(kafka, topic);
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: topic, configNames: ["max.message.bytes"] }],
    });
    const value = described.resources[0]?.configEntries.find((e) => e.configName === "max.message.bytes")?.configValue;
    const n = Number(value);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  } finally {
    await admin.disconnect();
  }
}

/** The topic's `retention.ms`, or undefined when it cannot be read. */
export async function topicRetentionMs(kafka: KafkaClient, topic: string): Promise<string | undefined> {
  if (kafka.kind === "platformatic") return undefined;
  const admin = kafkajsOf(kafka).admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: topic, configNames: ["retention.ms"] }],
    });
    return described.resources[0]?.configEntries.find((e) => e.configName === "retention.ms")?.configValue;
  } catch {
    return undefined;
  } finally {
    await admin.disconnect();
  }
}
