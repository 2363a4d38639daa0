// The client-neutral shapes the rest of trailstream sees.

export interface OutgoingMessage {
  key: string | null;
  value: string | Buffer;
  headers?: Record<string, string>;
  /** The record's timestamp (CreateTime), ms since the epoch; default the time of sending. */
  timestampMs?: number;
  /** The partition to write to; default the client's partitioner (by key). */
  partition?: number;
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit: kept as decimal strings. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestampMs: number;
}

export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
}

export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}
