import type kafkajs from "kafkajs";
import type { OutgoingMessage } from "./message.ts";

export interface Producer {
  /** Resolves once every message is acknowledged by all in-sync replicas. */
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

function toKafkaMessages(messages: readonly OutgoingMessage[]): kafkajs.Message[] {
  return messages.map((m) => ({ key: m.key, value: m.value, ...(m.headers ? { headers: m.headers } : {}) }));
}

/**
 * An idempotent producer: retries never write a message twice into a partition, and `acks: -1`
 * means a resolved send is durable, so upstream may be acknowledged after it.
 */
export async function openProducer(kafka: kafkajs.Kafka): Promise<Producer> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
  await producer.connect();
  return {
    async send(topic, messages) {
      if (messages.length === 0) return;
      await producer.send({ topic, messages: toKafkaMessages(messages), acks: -1 });
    },
    close: () => producer.disconnect(),
  };
}
