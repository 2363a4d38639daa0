// A Bloom filter of strings: "maybe present" or "certainly absent", in about 14.4 bits per distinct
// value at a 0.1% false-positive rate. The lookup index keeps one per block of the events topic.
// Hashing: MurmurHash3 (x86, 32-bit) over the string's UTF-16 code units, two seeds, combined as
// h1 + i * h2 (Kirsch and Mitzenmacher): writer and reader are both this code, so the bytes agree.
import { murmurBlock, murmurFinish, murmurTail } from "../murmur3.ts";

/** MurmurHash3's 32-bit mix over UTF-16 code units, two per 32-bit block. */
export function murmur3(text: string, seed: number): number {
  let h = seed >>> 0;
  const n = text.length;
  let i = 0;
  for (; i + 1 < n; i += 2) h = murmurBlock(h, (text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16)) >>> 0);
  if (i < n) h = murmurTail(h, text.charCodeAt(i));
  return murmurFinish(h ^ (n * 2));
}

const SEED_1 = 0x9747b28c;
const SEED_2 = 0x5bd1e995;

export class BloomFilter {
  /** The bits, least significant bit of byte 0 first. */
  readonly bytes: Uint8Array;
  /** Number of bits (bytes.length * 8). */
  readonly bits: number;
  /** Hash functions per value. */
  readonly hashes: number;

  constructor(bytes: Uint8Array, hashes: number) {
    if (bytes.length === 0) throw new RangeError("a Bloom filter needs at least one byte");
    if (!Number.isInteger(hashes) || hashes < 1 || hashes > 32) throw new RangeError(`hashes ${hashes} not in 1..32`);
    this.bytes = bytes;
    this.bits = bytes.length * 8;
    this.hashes = hashes;
  }

  /** A filter sized for `count` distinct values at false-positive rate `rate`. */
  static forCount(count: number, rate = 0.001): BloomFilter {
    const n = Math.max(1, count);
    const bits = Math.max(64, Math.ceil((-n * Math.log(rate)) / Math.LN2 ** 2));
    const hashes = Math.min(32, Math.max(1, Math.round((bits / n) * Math.LN2)));
    return new BloomFilter(new Uint8Array(Math.ceil(bits / 8)), hashes);
  }

  add(value: string): void {
    const h1 = murmur3(value, SEED_1);
    const h2 = murmur3(value, SEED_2);
    for (let i = 0; i < this.hashes; i++) {
      const bit = (h1 + Math.imul(i, h2)) >>> 0;
      const at = bit % this.bits;
      this.bytes[at >>> 3] = (this.bytes[at >>> 3] ?? 0) | (1 << (at & 7));
    }
  }

  /** False: the value was never added. True: it probably was. */
  has(value: string): boolean {
    const h1 = murmur3(value, SEED_1);
    const h2 = murmur3(value, SEED_2);
    for (let i = 0; i < this.hashes; i++) {
      const at = ((h1 + Math.imul(i, h2)) >>> 0) % this.bits;
      if (((this.bytes[at >>> 3] ?? 0) & (1 << (at & 7))) === 0) return false;
    }
    return true;
  }
}
