// The alerts topic: the alert document, keyed by rule id and group. The producer is idempotent and
// waits for all in-sync replicas, so a resolved send is durable. Sends are split so that no request
// nears the broker's message.max.bytes (1 MiB by default): a burst of alerts for one rule all goes
// to one partition, and one oversized record batch would be refused again on every retry.
import type { OutgoingMessage, Producer } from "@trailstream/kafka";
import type { AlertDocument } from "../alert.ts";
import type { Sink } from "./sink.ts";

/** Key of the alert on the alerts topic: the rule id and its group. */
export function alertKey(doc: Pick<AlertDocument, "ruleId" | "group">): string {
  return doc.group === "" ? doc.ruleId : `${doc.ruleId}|${doc.group}`;
}

/** Bytes of message values per send, well below Kafka's default 1 MiB record-batch limit. */
export const MAX_SEND_BYTES = 512 * 1024;

/** Splits messages into consecutive groups of at most maxBytes of keys and values (a larger single message stands alone). */
export function chunkBySize<T extends OutgoingMessage>(messages: readonly T[], maxBytes = MAX_SEND_BYTES): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const m of messages) {
    const bytes = Buffer.byteLength(m.value) + (m.key === null ? 0 : Buffer.byteLength(m.key)) + 64;
    if (current.length > 0 && size + bytes > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Sends in size-bounded chunks, in order; resolves once all are durable. */
export async function sendChunked(producer: Producer, topic: string, messages: readonly OutgoingMessage[]) {
  for (const chunk of chunkBySize(messages)) await producer.send(topic, chunk);
}

export function kafkaSink(producer: Producer, topic: string): Sink {
  return {
    kind: "kafka",
    target: `topic ${topic}`,
    unit: "batch",
    critical: true,
    async deliver(alerts) {
      await sendChunked(
        producer,
        topic,
        alerts.map((a) => ({
          key: alertKey(a),
          value: JSON.stringify(a),
          headers: { rule: a.ruleId, severity: a.severity, identity: a.identity },
        })),
      );
    },
  };
}
