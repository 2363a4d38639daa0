import { type MessageToProduce, Producer as PlatformaticProducer, ProduceAcks } from "@platformatic/kafka";
import { chunkBySize, MAX_REQUEST_BYTES } from "../chunk.ts";
import type { KafkaClient } from "../client.ts";
import type { OutgoingMessage } from "../message.ts";
import type { Producer } from "../producer.ts";
import { baseOptions, clearError, partitioner, producerCompression } from "./options.ts";

export function toProduce(topic: string, m: OutgoingMessage): MessageToProduce {
  const out: MessageToProduce = { topic, value: Buffer.isBuffer(m.value) ? m.value : Buffer.from(m.value) };
  if (m.key !== null) out.key = Buffer.from(m.key);
  if (m.headers) {
    const headers = new Map<Buffer, Buffer>();
    for (const [k, v] of Object.entries(m.headers)) headers.set(Buffer.from(k), Buffer.from(v));
    out.headers = headers;
  }
  if (m.timestampMs !== undefined) out.timestamp = BigInt(m.timestampMs);
  if (m.partition !== undefined) out.partition = m.partition;
  return out;
}

/** openProducer on @platformatic/kafka: idempotent, acks=all, requests cut at `maxRequestBytes`. */
export async function openPlatformaticProducer(
  kafka: KafkaClient,
  options: { maxRequestBytes?: number } = {},
): Promise<Producer> {
  const maxBytes = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
  const producer = new PlatformaticProducer({
    ...baseOptions(kafka),
    ...producerCompression(kafka),
    idempotent: true,
    acks: ProduceAcks.ALL,
    partitioner,
  });
  return {
    async send(topic, messages) {
      try {
        for (const chunk of chunkBySize(messages, maxBytes)) {
          await producer.send({ messages: chunk.map((m) => toProduce(topic, m)) });
        }
      } catch (error) {
        throw clearError(error);
      }
    },
    close: () => producer.close(),
  };
}
