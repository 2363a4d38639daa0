// The set of event identities `scan` has read, kept off the JavaScript heap.
//
// Half a million identities held as strings in a Map are half a million objects that every full
// garbage collection walks (docs/benchmarks.md, "Scan"). Here each identity is packed into six
// 32-bit words and kept, with a 31-bit value, in one typed array; a second typed array is the
// open-addressing (linear probing) index into it. Typed arrays keep their contents outside V8's
// heap, so the collector sees two objects, whatever the count.
//
// Entries sit in a ring in the order they were first offered, so the oldest is always at the head:
// past `maxEntries` the oldest is forgotten (the index entry removed by backward shift), as the
// Map-based set before it did. The ring and the index grow by doubling up to `maxEntries`.

import { hash } from "node:crypto";
import { murmurBlock, murmurFinish } from "./murmur3.ts";

/** Words of one packed key. */
export const KEY_WORDS = 6;
const STRIDE = KEY_WORDS + 1; // the key, then its value
const MIN_CAPACITY = 1024;

/**
 * A bounded, insertion-ordered map from packed keys (`KEY_WORDS` uint32 words) to 31-bit values,
 * stored in two typed arrays. Memory: 28 bytes per ring entry plus 4 bytes per index slot, the index
 * at most half full: a full table of 5M entries takes 140 MB + 64 MiB, none of it on the JS heap.
 */
export class IdentityTable {
  #entries: Uint32Array;
  /** Ring slot + 1 of the entry stored there, 0 for an empty slot. Its length is a power of two. */
  #index: Uint32Array;
  #mask: number;
  #capacity: number;
  /** Ring slot of the oldest entry. */
  #head = 0;
  #size = 0;
  #evicted = 0;
  readonly #maxEntries: number;

  constructor(maxEntries: number, initialCapacity = MIN_CAPACITY) {
    if (!(maxEntries > 0) || !Number.isInteger(maxEntries) || maxEntries >= 2 ** 31) {
      throw new RangeError("IdentityTable needs a whole maxEntries from 1 to 2^31 - 1");
    }
    this.#maxEntries = maxEntries;
    this.#capacity = Math.max(1, Math.min(maxEntries, Math.floor(initialCapacity)));
    this.#entries = new Uint32Array(this.#capacity * STRIDE);
    this.#index = new Uint32Array(indexLength(this.#capacity));
    this.#mask = this.#index.length - 1;
  }

  get size(): number {
    return this.#size;
  }

  /** Entries forgotten because the table was full. */
  get evicted(): number {
    return this.#evicted;
  }

  /** Bytes held in the two typed arrays. */
  get bytes(): number {
    return this.#entries.byteLength + this.#index.byteLength;
  }

  /** The value stored for `key`, or -1 if it is not in the table. */
  get(key: Uint32Array): number {
    const position = this.#find(key, keyHash(key, 0));
    return position < 0 ? -1 : (this.#entries[((this.#index[position] as number) - 1) * STRIDE + KEY_WORDS] as number);
  }

  has(key: Uint32Array): boolean {
    return this.#find(key, keyHash(key, 0)) >= 0;
  }

  /**
   * Stores `key` with `value` (0 to 2^31 - 1) unless it is there already. Answers the value already
   * stored, or -1 when this call stored it (evicting the oldest entry first if the table was full).
   */
  offer(key: Uint32Array, value: number): number {
    const h = keyHash(key, 0);
    const found = this.#find(key, h);
    if (found >= 0) return this.#entries[((this.#index[found] as number) - 1) * STRIDE + KEY_WORDS] as number;
    let position = ~found;
    if (this.#size === this.#maxEntries) {
      this.#evictOldest();
      position = this.#emptyPosition(h);
    } else if (this.#size === this.#capacity) {
      this.#grow();
      position = this.#emptyPosition(h);
    }
    const slot = (this.#head + this.#size) % this.#capacity;
    const base = slot * STRIDE;
    const target = this.#entries;
    for (let w = 0; w < KEY_WORDS; w++) target[base + w] = key[w] as number;
    target[base + KEY_WORDS] = value & 0x7fffffff;
    this.#index[position] = slot + 1;
    this.#size++;
    return -1;
  }

  /** Index position holding `key`; if it is absent, ~position of the empty slot that ends its probe. */
  #find(key: Uint32Array, h: number): number {
    const entries = this.#entries;
    const index = this.#index;
    const mask = this.#mask;
    let position = h & mask;
    for (let slot = index[position] as number; slot !== 0; slot = index[position] as number) {
      const base = (slot - 1) * STRIDE;
      if (
        entries[base + 2] === key[2] &&
        entries[base + 5] === key[5] &&
        entries[base] === key[0] &&
        entries[base + 1] === key[1] &&
        entries[base + 3] === key[3] &&
        entries[base + 4] === key[4]
      ) {
        return position;
      }
      position = (position + 1) & mask;
    }
    return ~position;
  }

  #emptyPosition(h: number): number {
    const index = this.#index;
    const mask = this.#mask;
    let position = h & mask;
    while (index[position] !== 0) position = (position + 1) & mask;
    return position;
  }

  /** Doubles the ring (up to maxEntries) and rebuilds the index for it. Only before any eviction. */
  #grow(): void {
    // Evictions start only once the ring holds maxEntries, and then it never grows again: the
    // ring has not wrapped, so its entries are slots 0..size-1 in order.
    const capacity = Math.min(this.#maxEntries, this.#capacity * 2);
    const entries = new Uint32Array(capacity * STRIDE);
    entries.set(this.#entries);
    const index = new Uint32Array(indexLength(capacity));
    const mask = index.length - 1;
    for (let slot = 0; slot < this.#size; slot++) {
      let position = keyHash(entries, slot * STRIDE) & mask;
      while (index[position] !== 0) position = (position + 1) & mask;
      index[position] = slot + 1;
    }
    this.#entries = entries;
    this.#index = index;
    this.#mask = mask;
    this.#capacity = capacity;
  }

  #evictOldest(): void {
    const entries = this.#entries;
    const index = this.#index;
    const mask = this.#mask;
    const oldest = this.#head;
    let hole = keyHash(entries, oldest * STRIDE) & mask;
    while (index[hole] !== oldest + 1) hole = (hole + 1) & mask;
    // Backward shift: move each later entry of the cluster whose home is not in (hole, position]
    // into the hole, so every entry stays reachable from its home without a tombstone.
    let position = hole;
    for (;;) {
      position = (position + 1) & mask;
      const slot = index[position] as number;
      if (slot === 0) break;
      const home = keyHash(entries, (slot - 1) * STRIDE) & mask;
      const stays = hole <= position ? hole < home && home <= position : hole < home || home <= position;
      if (!stays) {
        index[hole] = slot;
        hole = position;
      }
    }
    index[hole] = 0;
    this.#head = (oldest + 1) % this.#capacity;
    this.#size--;
    this.#evicted++;
  }
}

/** The index is a power of two at least twice the ring's capacity: never more than half full. */
function indexLength(capacity: number): number {
  let length = 4;
  while (length < capacity * 2) length *= 2;
  return length;
}

/** Murmur3's 32-bit mixing over the key's six words, read from `words` at `offset`. */
export function keyHash(words: Uint32Array, offset: number): number {
  let h = 0x2c1b3c6d;
  for (let w = 0; w < KEY_WORDS; w++) h = murmurBlock(h, words[offset + w] as number);
  return murmurFinish(h);
}

const UPDATED_SUFFIX = ":updated";
const UPDATED_FLAG = 1 << 20;
const DIGEST_FLAG = 0x80000000;

/**
 * Packs an identity (`eventIdentity`'s `ACCOUNT:eventID`, or `ACCOUNT:eventID:updated`) into
 * `out[0..5]`, one to one for equal strings:
 * - the usual form, a 12-digit account and a lowercase UUID, exactly: word 0 the account's first six
 *   digits, word 1 its last six (below 2^20) plus bit 20 for `:updated`, words 2-5 the UUID's 16 bytes;
 * - anything else as the first 192 bits of its SHA-256 with bit 31 of word 1 set, so the two forms
 *   never meet. Two different such identities share a key with probability 2^-191 per pair: at
 *   5M of them (the default `--max-identities`), below n²/2^192 ≈ 4e-45 that any two do.
 */
export function packIdentity(identity: string, out: Uint32Array): void {
  const n = identity.length;
  if ((n === 49 || (n === 57 && identity.endsWith(UPDATED_SUFFIX))) && packUuidIdentity(identity, out)) {
    if (n === 57) out[1] = (out[1] as number) | UPDATED_FLAG;
    return;
  }
  const digest = hash("sha256", identity, "buffer");
  for (let w = 0; w < KEY_WORDS; w++) out[w] = digest.readUInt32LE(w * 4);
  out[1] = (out[1] as number) | DIGEST_FLAG;
}

/** Tags below this fit `packTaggedIdentity`'s spare bits. */
export const MAX_IDENTITY_TAG = 2 ** 22;

/**
 * `packIdentity` with a tag (a whole number below MAX_IDENTITY_TAG) folded in, for a set of
 * (tag, identity) pairs kept in an IdentityTable, such as `scan`'s alert claims (rule, identity).
 * The usual form leaves bits 20-31 of word 0 (the account's first six digits are below 2^20) and
 * bits 21-30 of word 1 zero: the tag's 22 bits go there, so pairs pack one to one. In the digest form
 * those bits are the digest's own and the tag is XORed into them: two different pairs then share a key
 * only if their digests agree on the other 170 bits. Bit 31 of word 1 is left alone, so the two forms
 * still never meet. Tag 0 gives `packIdentity`'s key.
 */
export function packTaggedIdentity(identity: string, tag: number, out: Uint32Array): void {
  if (!Number.isInteger(tag) || tag < 0 || tag >= MAX_IDENTITY_TAG) {
    throw new RangeError(`packTaggedIdentity needs a whole tag from 0 to ${MAX_IDENTITY_TAG - 1}, not ${tag}`);
  }
  packIdentity(identity, out);
  out[0] = ((out[0] as number) ^ ((tag >>> 10) << 20)) >>> 0;
  out[1] = ((out[1] as number) ^ ((tag & 0x3ff) << 21)) >>> 0;
}

// `DDDDDDDDDDDD:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`: dashes at 21, 26, 31 and 36.
function packUuidIdentity(s: string, out: Uint32Array): boolean {
  let high = 0;
  let low = 0;
  for (let i = 0; i < 6; i++) {
    const d = s.charCodeAt(i) - 48;
    const e = s.charCodeAt(i + 6) - 48;
    if (d < 0 || d > 9 || e < 0 || e > 9) return false;
    high = high * 10 + d;
    low = low * 10 + e;
  }
  if (
    s.charCodeAt(12) !== 58 ||
    s.charCodeAt(21) !== 45 ||
    s.charCodeAt(26) !== 45 ||
    s.charCodeAt(31) !== 45 ||
    s.charCodeAt(36) !== 45
  ) {
    return false;
  }
  const a = hex4(s, 13);
  const b = hex4(s, 17);
  const c = hex4(s, 22);
  const d = hex4(s, 27);
  const e = hex4(s, 32);
  const f = hex4(s, 37);
  const g = hex4(s, 41);
  const h = hex4(s, 45);
  if ((a | b | c | d | e | f | g | h) < 0) return false;
  out[0] = high;
  out[1] = low;
  out[2] = (a << 16) | b;
  out[3] = (c << 16) | d;
  out[4] = (e << 16) | f;
  out[5] = (g << 16) | h;
  return true;
}

const HEX_DIGIT = new Int8Array(128).fill(-1);
for (let c = 48; c <= 57; c++) HEX_DIGIT[c] = c - 48;
for (let c = 97; c <= 102; c++) HEX_DIGIT[c] = c - 87;

/** Four lowercase hex digits at `at` as a number below 2^16; -1 if any is not one. */
function hex4(s: string, at: number): number {
  const c0 = s.charCodeAt(at);
  const c1 = s.charCodeAt(at + 1);
  const c2 = s.charCodeAt(at + 2);
  const c3 = s.charCodeAt(at + 3);
  if ((c0 | c1 | c2 | c3) > 127) return -1;
  const d0 = HEX_DIGIT[c0] as number;
  const d1 = HEX_DIGIT[c1] as number;
  const d2 = HEX_DIGIT[c2] as number;
  const d3 = HEX_DIGIT[c3] as number;
  if ((d0 | d1 | d2 | d3) < 0) return -1;
  return (d0 << 12) | (d1 << 8) | (d2 << 4) | d3;
}
