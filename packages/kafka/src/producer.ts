import type { KafkaClient } from "./client.ts";
import type { OutgoingMessage } from "./message.ts";
import { openPlatformaticProducer } from "./platformatic/producer.ts";

export interface Producer {
  /**
   * Resolves once every message is acknowledged by all in-sync replicas; sent in order, in requests
   * of at most `maxRequestBytes`.
   */
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * An idempotent producer: retries never write a message twice into a partition, and `acks: -1`
 * means a resolved send is durable, so upstream may be acknowledged after it.
 */
export async function openProducer(kafka: KafkaClient, options: { maxRequestBytes?: number } = {}): Promise<Producer> {
  return openPlatformaticProducer(kafka, options);
}
