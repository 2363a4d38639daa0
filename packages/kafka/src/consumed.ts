// kafkajs's fetched message in the client-neutral shape the rest of trailstream sees.
import type kafkajs from "kafkajs";
import type { ConsumedMessage } from "./message.ts";

function headersOf(headers: kafkajs.IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

export function toConsumed(topic: string, partition: number, m: kafkajs.KafkaMessage): ConsumedMessage {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ?? null,
    value: m.value ?? null,
    headers: headersOf(m.headers),
    timestampMs: Number(m.timestamp),
  };
}
