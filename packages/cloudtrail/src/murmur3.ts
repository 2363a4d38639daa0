// MurmurHash3 (x86, 32-bit) in its three steps, so what is not a byte string (a string's UTF-16 code
// units for the lookup index's Bloom filters, packed identity words for the scan's identity table)
// is hashed where it lies, without being copied into bytes first.

function scramble(k: number): number {
  const m = Math.imul(k, 0xcc9e2d51);
  return Math.imul((m << 15) | (m >>> 17), 0x1b873593);
}

/** Mixes one 32-bit block into the state. */
export function murmurBlock(h: number, block: number): number {
  const x = h ^ scramble(block);
  return (Math.imul((x << 13) | (x >>> 19), 5) + 0xe6546b64) | 0;
}

/** Mixes the last, partial block (no rotation, as the algorithm's tail). */
export function murmurTail(h: number, block: number): number {
  return h ^ scramble(block);
}

/** The final avalanche (fmix32), after the length is mixed in; an unsigned 32-bit hash. */
export function murmurFinish(h: number): number {
  let f = h ^ (h >>> 16);
  f = Math.imul(f, 0x85ebca6b);
  f ^= f >>> 13;
  f = Math.imul(f, 0xc2b2ae35);
  f ^= f >>> 16;
  return f >>> 0;
}
