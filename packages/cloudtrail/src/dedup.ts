// The dedup decision, separate from where claims are kept. A claim stores `owner` unless a claim
// for the identity exists, and answers what was there before (the enricher keeps claims in Redis
// hashes, services/enricher/src/claims.ts). The owner names the one copy allowed through (for Kafka,
// `partition:offset`), so a record replayed after a crash finds its own claim and goes out again.
// A store that forgets a claim can only let a copy through; it can never drop an event.

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
 * covers whatever time its files span), so each identity costs one string in a Set. Bounded in
 * count: past `maxEntries` the oldest is forgotten, which can only let a copy through.
 */
export class SeenIdentities {
  // Each identity keeps a 31-bit fingerprint of what the event says (eventName, eventSource,
  // eventTime), so one eventID carrying two different events is counted rather than collapsed
  // without a word. A small integer is stored in the Map's slot itself: no allocation per event.
  readonly #seen = new Map<string, number>();
  readonly #maxEntries: number;
  #evicted = 0;

  constructor(maxEntries: number) {
    if (!(maxEntries > 0)) throw new RangeError("SeenIdentities needs a positive maxEntries");
    this.#maxEntries = maxEntries;
  }

  /** True the first time an identity is offered, false for every copy after it. */
  firstTime(identity: string, fingerprint = 0): boolean {
    return this.offer(identity, fingerprint) === "first";
  }

  /** "first" the first time; "copy" for a copy; "conflict" for the same identity with another fingerprint. */
  offer(identity: string, fingerprint = 0): "first" | "copy" | "conflict" {
    const key = compactIdentity(identity);
    const known = this.#seen.get(key);
    if (known !== undefined) return known === fingerprint ? "copy" : "conflict";
    this.#seen.set(key, fingerprint);
    if (this.#seen.size > this.#maxEntries) {
      const oldest = this.#seen.keys().next();
      if (!oldest.done) {
        this.#seen.delete(oldest.value);
        this.#evicted++;
      }
    }
    return "first";
  }

  get evicted(): number {
    return this.#evicted;
  }

  get size(): number {
    return this.#seen.size;
  }
}

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

const UUID_IDENTITY = /^(\d{12}):([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/;
const packed = Buffer.alloc(29);

/**
 * `ACCOUNT:uuid` (49 characters, usually a concatenation V8 keeps as two strings) packed into one
 * flat 29-character string: \x01, the account's digits, the uuid's 16 bytes. A raw identity never
 * starts with \x01, so packed and unpacked keys cannot collide. A 1 GB scan's set shrinks by half.
 */
export function compactIdentity(identity: string): string {
  const m = UUID_IDENTITY.exec(identity);
  if (!m) return identity;
  packed[0] = 1;
  packed.write(m[1] ?? "", 1, "latin1");
  packed.write(`${m[2]}${m[3]}${m[4]}${m[5]}${m[6]}`, 13, "hex");
  return packed.toString("latin1");
}
