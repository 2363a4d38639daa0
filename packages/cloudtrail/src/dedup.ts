// The dedup decision, separate from where claims are kept. A claim stores `owner` unless a claim
// for the identity exists, and answers what was there before (the enricher keeps claims in Redis
// hashes, services/enricher/src/claims.ts). The owner names the one copy allowed through (for Kafka,
// `partition:offset`), so a record replayed after a crash finds its own claim and goes out again.
// A store that forgets a claim can only let a copy through; it can never drop an event.

import { IdentityTable, KEY_WORDS, packIdentity } from "./identity-table.ts";

export type DedupVerdict =
  /** Nobody claimed this identity: the first copy, emit it. */
  | "first"
  /** The claim is this very record's: it was claimed before a crash, emit it again. */
  | "replay"
  /** Another record holds the claim: a copy, drop it and count it. */
  | "copy";

export interface DedupClaim {
  identity: string;
  owner: string;
  /** The event's eventTime, ms since the epoch: copies share it, so a store may file claims by it. */
  eventTimeMs?: number;
}

export interface DedupStore {
  /** For each claim, in order: the owner that was already stored, or null if this claim took it. */
  claim(claims: readonly DedupClaim[]): Promise<(string | null)[]>;
}

export function decide(previousOwner: string | null, owner: string): DedupVerdict {
  if (previousOwner === null) return "first";
  return previousOwner === owner ? "replay" : "copy";
}

export async function dedupBatch(store: DedupStore, claims: readonly DedupClaim[]): Promise<DedupVerdict[]> {
  if (claims.length === 0) return [];
  const previous = await store.claim(claims);
  if (previous.length !== claims.length) {
    throw new Error(`dedup store answered ${previous.length} claims for ${claims.length} asked`);
  }
  return claims.map((c, i) => decide(previous[i] ?? null, c.owner));
}

export interface MemoryDedupOptions {
  /** How long a claim is kept, in ms: size it from how far apart copies arrive. */
  ttlMs: number;
  /** At most this many claims are kept; the oldest are forgotten first. */
  maxEntries: number;
  now?: () => number;
}

/**
 * Claims in process memory, bounded in count and age, for the embedded `scan` mode and tests.
 * Map iteration order is insertion order, and a claim is never refreshed, so the first entry is
 * always the oldest: eviction and expiry are both O(1) at the front.
 */
export class MemoryDedupStore implements DedupStore {
  readonly #claims = new Map<string, { owner: string; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  #evicted = 0;

  constructor(options: MemoryDedupOptions) {
    if (!(options.ttlMs > 0) || !(options.maxEntries > 0)) {
      throw new RangeError("MemoryDedupStore needs a positive ttlMs and maxEntries");
    }
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** Claims forgotten because the store was full (each may let one copy through). */
  get evicted(): number {
    return this.#evicted;
  }

  get size(): number {
    return this.#claims.size;
  }

  claimOne(identity: string, owner: string): string | null {
    const now = this.#now();
    this.#expire(now);
    const existing = this.#claims.get(identity);
    if (existing && existing.expiresAt > now) return existing.owner;
    if (existing) this.#claims.delete(identity);
    this.#claims.set(identity, { owner, expiresAt: now + this.#ttlMs });
    if (this.#claims.size > this.#maxEntries) {
      const oldest = this.#claims.keys().next();
      if (!oldest.done) {
        this.#claims.delete(oldest.value);
        this.#evicted++;
      }
    }
    return null;
  }

  async claim(claims: readonly DedupClaim[]): Promise<(string | null)[]> {
    return claims.map((c) => this.claimOne(c.identity, c.owner));
  }

  #expire(now: number): void {
    for (const [identity, entry] of this.#claims) {
      if (entry.expiresAt > now) return;
      this.#claims.delete(identity);
    }
  }
}

/**
 * The embedded `scan`'s memory of which identities it has read: no owners and no expiry (a scan
 * covers whatever time its files span). Bounded in count: past `maxEntries` the oldest is
 * forgotten, which can only let a copy through. Each identity is packed into 24 bytes
 * (`packIdentity`: exact for `ACCOUNT:uuid`, a 192-bit digest otherwise) and kept off the JS heap
 * in an `IdentityTable`, so a scan's half million identities cost the garbage collector nothing.
 */
export class SeenIdentities {
  // Each identity keeps a 31-bit fingerprint of what the event says (eventName, eventSource,
  // eventTime), so one eventID carrying two different events is counted rather than collapsed
  // without a word.
  readonly #table: IdentityTable;
  readonly #key = new Uint32Array(KEY_WORDS);

  constructor(maxEntries: number) {
    if (!(maxEntries > 0)) throw new RangeError("SeenIdentities needs a positive maxEntries");
    this.#table = new IdentityTable(Math.min(Math.floor(maxEntries), MAX_IDENTITIES) || 1);
  }

  /** True the first time an identity is offered, false for every copy after it. */
  firstTime(identity: string, fingerprint = 0): boolean {
    return this.offer(identity, fingerprint) === "first";
  }

  /** "first" the first time; "copy" for a copy; "conflict" for the same identity with another fingerprint. */
  offer(identity: string, fingerprint = 0): "first" | "copy" | "conflict" {
    packIdentity(identity, this.#key);
    const print = fingerprint & 0x7fffffff;
    const known = this.#table.offer(this.#key, print);
    if (known === -1) return "first";
    return known === print ? "copy" : "conflict";
  }

  /**
   * `offer` for an identity packed beforehand (`packIdentity`), read from `words` at `offset`: a
   * thread that parsed the record packs it, the one that keeps the table offers it.
   */
  offerPacked(words: Uint32Array, offset: number, fingerprint = 0): "first" | "copy" | "conflict" {
    for (let w = 0; w < KEY_WORDS; w++) this.#key[w] = words[offset + w] as number;
    const print = fingerprint & 0x7fffffff;
    const known = this.#table.offer(this.#key, print);
    if (known === -1) return "first";
    return known === print ? "copy" : "conflict";
  }

  get evicted(): number {
    return this.#table.evicted;
  }

  get size(): number {
    return this.#table.size;
  }

  /** Bytes the identities take (outside the JS heap). */
  get bytes(): number {
    return this.#table.bytes;
  }
}

/** The table numbers its entries in 31 bits (2^31 identities would take some 90 GB). */
const MAX_IDENTITIES = 2 ** 31 - 1;

/** A 31-bit FNV-1a of the fields every copy of one event shares; 0 when none is a string. */
export function eventFingerprint(record: { eventName?: unknown; eventSource?: unknown; eventTime?: unknown }): number {
  let h = 0x811c9dc5;
  for (const field of [record.eventName, record.eventSource, record.eventTime]) {
    const text = typeof field === "string" ? field : "";
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0xff;
    h = Math.imul(h, 0x01000193);
  }
  return h & 0x7fffffff;
}
