import type { KafkaClient } from "./client.ts";
import {
  consumerGroupLagPlatformatic,
  deleteTopicsPlatformatic,
  ensureTopicsPlatformatic,
  topicConfigPlatformatic,
  topicMaxMessageBytesPlatformatic,
  topicSizeBytesPlatformatic,
} from "./platformatic/admin.ts";

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor?: number;
  config?: Record<string, string>;
}

/** Creates the topics that are missing (and waits for their leaders); existing topics are left as they are. */
export function ensureTopics(kafka: KafkaClient, topics: readonly TopicSpec[]): Promise<string[]> {
  return ensureTopicsPlatformatic(kafka, topics);
}

/** The sum over partitions of (high watermark - committed offset) for a consumer group. */
export function consumerGroupLag(kafka: KafkaClient, groupId: string, topic: string): Promise<bigint> {
  return consumerGroupLagPlatformatic(kafka, groupId, topic);
}

/** The bytes the topic takes on the brokers' disks (record batches as stored: compressed when they were). */
export function topicSizeBytes(kafka: KafkaClient, topic: string): Promise<bigint> {
  return topicSizeBytesPlatformatic(kafka, topic);
}

/** Deletes the topics that exist (tests and demos tidying up after themselves). */
export function deleteTopics(kafka: KafkaClient, topics: readonly string[]): Promise<void> {
  return deleteTopicsPlatformatic(kafka, topics);
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
export function topicMaxMessageBytes(kafka: KafkaClient, topic: string): Promise<number | undefined> {
  return topicMaxMessageBytesPlatformatic(kafka, topic);
}

/** The topic's `retention.ms`, or undefined when it cannot be read. */
export function topicRetentionMs(kafka: KafkaClient, topic: string): Promise<string | undefined> {
  return topicConfigPlatformatic(kafka, topic, "retention.ms");
}
