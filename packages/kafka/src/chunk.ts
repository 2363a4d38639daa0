// Produce requests are cut by bytes: the client puts all of one call's records for a partition into
// one record batch, and the broker refuses a batch above `max.message.bytes` (1 MiB by default)
// on every retry alike, so an unbounded burst for one key would never go through.
import type { OutgoingMessage } from "./message.ts";

/** Bytes per produce call: well below the broker's default 1 MiB record-batch limit. */
export const MAX_REQUEST_BYTES = 512 * 1024;

/** A message's bytes on the wire, near enough: key, value, headers and a record's overhead. */
export function sizeOf(m: OutgoingMessage): number {
  let n = 64 + (m.key === null ? 0 : Buffer.byteLength(m.key)) + Buffer.byteLength(m.value);
  for (const [k, v] of Object.entries(m.headers ?? {})) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

/** Consecutive groups of at most `maxBytes`, in order; a larger single message stands alone. */
export function chunkBySize<T extends OutgoingMessage>(messages: readonly T[], maxBytes = MAX_REQUEST_BYTES): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = sizeOf(m);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
