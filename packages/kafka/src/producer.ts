import type kafkajs from "kafkajs";
import { chunkBySize, MAX_REQUEST_BYTES } from "./chunk.ts";
import { type KafkaClient, kafkajsOf } from "./client.ts";
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

function toKafkaMessages(messages: readonly OutgoingMessage[]): kafkajs.Message[] {
  return messages.map((m) => ({
    key: m.key,
    value: m.value,
    ...(m.headers ? { headers: m.headers } : {}),
    ...(m.timestampMs === undefined ? {} : { timestamp: String(m.timestampMs) }),
    ...(m.partition === undefined ? {} : { partition: m.partition }),
  }));
}

/**
 * An idempotent producer: retries never write a message twice into a partition, and `acks: -1`
 * means a resolved send is durable, so upstream may be acknowledged after it.
 */
export async function openProducer(kafka: KafkaClient, options: { maxRequestBytes?: number } = {}): Promise<Producer> {
  if (kafka.kind === "platformatic") return openPlatformaticProducer(kafka, options);
  const maxBytes = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
  const producer = kafkajsOf(kafka).producer({
    idempotent: true,
    maxInFlightRequests: 5,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  return {
    async send(topic, messages) {
      for (const chunk of chunkBySize(messages, maxBytes)) {
        await producer.send({ topic, messages: toKafkaMessages(chunk), acks: -1 });
      }
    },
    close: () => producer.disconnect(),
  };
}
