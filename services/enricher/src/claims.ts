// Where and how dedup claims are kept in Redis, with no I/O: compact claims of about 30 bytes per
// identity (docs/enricher.md, "Claims in Redis").
//
// A claim is a field of a small hash: the key is the event's own hour and a shard
// (`<prefix><hour>:<shard>`), the field the first 16 bytes of SHA-256 over `account:eventID`, the
// value the owner (`partition:offset`). Copies of an event carry the same eventTime, so they meet
// in the same hash. Shards keep each hash below `hash-max-listpack-entries` (128 by default), where
// Redis stores it as one flat listpack instead of a hashtable of separate objects: that is what
// takes a claim from ~180 bytes (a string key per identity) to ~30. Each bucket expires a window
// after its hour ends, so no claim needs a TTL of its own.
//
// The hashes of an hour are gathered into SLOT_GROUPS_PER_HOUR hash slots (a hash tag in the key),
// and a batch's claims go as one script call per slot (EVALSHA over that slot's hashes): a batch of
// a few thousand claims touches a hash for about every claim, so this is tens of calls instead of
// thousands, whatever DEDUP_SHARDS_PER_HOUR is, and on a Redis Cluster the slots of the hours still
// spread over the nodes.
import { hash } from "node:crypto";
import type { DedupClaim } from "@trailstream/cloudtrail";
import { defineScript } from "@trailstream/redis";

export const HOUR_MS = 3_600_000;

export interface ClaimLayout {
  keyPrefix: string;
  /** Hashes per hour: size it so an hour's unique identities / shards stays well under 128. */
  shardsPerHour: number;
  /** How long after its hour ends a bucket is kept (DEDUP_TTL). */
  windowMs: number;
}

/** A Redis command's arguments; binary fields go as Buffers. */
export type RedisArgs = (string | Buffer)[];

/** The first 16 bytes of SHA-256 over the identity (`account:eventID`). */
export function identityDigest(identity: string): Buffer {
  return hash("sha256", identity, "buffer").subarray(0, 16);
}

/**
 * The hour a claim is filed under: the event's own hour. Without a usable eventTime the claim falls
 * back to the hour it is made in (a copy arriving in another hour would then pass as new).
 */
export function claimHour(eventTimeMs: number | undefined, nowMs: number): number {
  const ms = eventTimeMs !== undefined && Number.isFinite(eventTimeMs) ? eventTimeMs : nowMs;
  return Math.floor(ms / HOUR_MS);
}

/** Hash slots an hour's hashes are gathered into: a batch's claims make at most this many calls an hour. */
export const SLOT_GROUPS_PER_HOUR = 32;

/** The shard of its hour a claim falls in: the digest's first four bytes modulo the shards. */
export function shardOf(layout: ClaimLayout, digest: Buffer): number {
  return digest.readUInt32BE(0) % layout.shardsPerHour;
}

/**
 * A shard's hash: `<prefix>{<hour>.<slot group>}:<shard>`, its slot group the shard modulo the
 * hour's groups. The braces make a shard's slot its group's, and one call claims in one group.
 */
export function hashKey(layout: ClaimLayout, hour: number, shard: number): string {
  return `${layout.keyPrefix}{${hour}.${shard % slotGroups(layout)}}:${shard}`;
}

/** Where a claim is kept: the hash of its digest's shard of the hour. */
export function bucketKey(layout: ClaimLayout, hour: number, digest: Buffer): string {
  return hashKey(layout, hour, shardOf(layout, digest));
}

function slotGroups(layout: ClaimLayout): number {
  return Math.min(layout.shardsPerHour, SLOT_GROUPS_PER_HOUR);
}

/**
 * When a bucket expires, in seconds since the epoch: a window after its hour ends, or a window from
 * now when that is later (a replay of logs older than the window still deduplicates within itself,
 * and its buckets then live one window).
 */
export function bucketExpiry(layout: ClaimLayout, hour: number, nowMs: number): number {
  return Math.ceil((Math.max((hour + 1) * HOUR_MS, nowMs) + layout.windowMs) / 1_000);
}

const OWNER = /^(\d{1,5}):(\d{1,19})$/;
/** Odd and near 2^29: each partition's tokens sit hundreds of millions apart from another's. */
const PARTITION_STRIDE = 0x2545f491;
const TOKEN_RANGE = 2 ** 31;

/**
 * The owner as Redis keeps it: a 31-bit token of `partition:offset`, (offset + partition × stride)
 * mod 2^31, which a listpack stores as a 32-bit integer in 5 bytes (the text takes 3 to 22 bytes,
 * a lossless 64-bit packing 9). Two raw records share a token only 2^31 offsets apart in one
 * partition, or hundreds of millions apart across two, both far beyond one dedup window at
 * realistic rates; and a shared token can only let a copy through as a replay, never drop an
 * event. Owners of another shape are kept as they are.
 */
export function ownerToken(owner: string): string {
  const m = OWNER.exec(owner);
  if (!m) return owner;
  // Plain numbers: exact below 2^53 (an offset Kafka will not reach); the products stay below 2^46.
  const offset = Number(m[2]) % TOKEN_RANGE;
  const stride = (Number(m[1]) * PARTITION_STRIDE) % TOKEN_RANGE;
  return String((offset + stride) % TOKEN_RANGE);
}

/**
 * The claims of a batch in the hashes of one slot, atomically. KEYS: the slot's hashes; ARGV[1]:
 * their expiry (the hashes of one call share an hour); ARGV[2]: every claim of the call packed in
 * one string, in order: the index of its hash in KEYS (2 bytes), its field (16 bytes), its token's
 * length (1 byte) and its token. For each claim `HSETNX` (the token stays when nobody held the
 * field), else `HGET` its holder; then `EXPIREAT <ARGV[1]> NX` on each hash that got a new field
 * (an existing bucket keeps the expiry its first claim gave it). Answers only the claims that were
 * held, flat: the claim's place in the call (from 1), then the holder's token.
 *
 * One argument for all the claims and an answer only for the held ones, because Redis and its
 * client spend their time per argument and per answer, not per byte: a batch's claims spread over
 * as many hashes as there are claims, and most claims are new.
 */
export const CLAIM_SCRIPT = `local out = {}
local fresh = {}
local claims = ARGV[2]
local at, n = 1, 0
while at <= #claims do
  n = n + 1
  local high, low = string.byte(claims, at, at + 1)
  local key = KEYS[high * 256 + low]
  local field = string.sub(claims, at + 2, at + 17)
  local size = string.byte(claims, at + 18)
  if redis.call('HSETNX', key, field, string.sub(claims, at + 19, at + 18 + size)) == 1 then
    fresh[key] = true
  else
    out[#out + 1] = n
    out[#out + 1] = redis.call('HGET', key, field)
  end
  at = at + 19 + size
end
for key in pairs(fresh) do redis.call('EXPIREAT', key, ARGV[1], 'NX') end
return out`;

/** Sent by its SHA-1 (EVALSHA): Redis neither receives nor hashes the text again for every hash. */
export const CLAIM = defineScript(CLAIM_SCRIPT);

/** The most hashes one call names (a 2-byte index); a slot's claims beyond them go in another call. */
const MAX_KEYS_PER_CALL = 0xffff;
/** A token's length is one byte in the packed claims. */
const MAX_TOKEN_BYTES = 0xff;
/** Per claim in the packed string: the hash's index, the field and the token's length. */
const CLAIM_HEAD_BYTES = 2 + 16 + 1;

export interface ClaimPlan {
  /** One pipeline: one `EVALSHA` of CLAIM per hash slot the batch touches. */
  commands: RedisArgs[];
  /** Each claim's owner and its token as stored. */
  owners: string[];
  tokens: string[];
  /** Per command, its claims (indexes into the batch) in the order it packs them. */
  claimsOf: number[][];
}

interface SlotCall {
  hour: number;
  keys: string[];
  /** The index in `keys` of each shard the call names. */
  keyOf: Map<number, number>;
  claims: number[];
  keyIndexes: number[];
  bytes: number;
}

/** The commands for a batch of claims, one per hash slot, and which claims each command holds. */
export function planClaims(layout: ClaimLayout, claims: readonly DedupClaim[], nowMs: number): ClaimPlan {
  const owners: string[] = new Array(claims.length);
  const tokens: string[] = new Array(claims.length);
  const digests: Buffer[] = new Array(claims.length);
  const groups = slotGroups(layout);
  const open = new Map<number, SlotCall>();
  const calls: SlotCall[] = [];
  claims.forEach((c, i) => {
    const token = ownerToken(c.owner);
    const tokenBytes = Buffer.byteLength(token);
    if (tokenBytes > MAX_TOKEN_BYTES) {
      throw new RangeError(`a claim's owner token is longer than ${MAX_TOKEN_BYTES} bytes: ${token.slice(0, 40)}…`);
    }
    owners[i] = c.owner;
    tokens[i] = token;
    const digest = identityDigest(c.identity);
    digests[i] = digest;
    const hour = claimHour(c.eventTimeMs, nowMs);
    const shard = shardOf(layout, digest);
    const slot = hour * groups + (shard % groups);
    let call = open.get(slot);
    if (!call || (call.keys.length === MAX_KEYS_PER_CALL && !call.keyOf.has(shard))) {
      call = { hour, keys: [], keyOf: new Map(), claims: [], keyIndexes: [], bytes: 0 };
      open.set(slot, call);
      calls.push(call);
    }
    let keyIndex = call.keyOf.get(shard);
    if (keyIndex === undefined) {
      keyIndex = call.keys.length;
      call.keys.push(hashKey(layout, hour, shard));
      call.keyOf.set(shard, keyIndex);
    }
    call.claims.push(i);
    call.keyIndexes.push(keyIndex + 1); // Lua counts from 1
    call.bytes += CLAIM_HEAD_BYTES + tokenBytes;
  });
  const commands = calls.map((call): RedisArgs => {
    const packed = Buffer.allocUnsafe(call.bytes);
    let at = 0;
    call.claims.forEach((claim, n) => {
      at = packed.writeUInt16BE(call.keyIndexes[n] as number, at);
      at += (digests[claim] as Buffer).copy(packed, at);
      const size = packed.write(tokens[claim] as string, at + 1);
      packed[at] = size;
      at += 1 + size;
    });
    return [
      "EVALSHA",
      CLAIM.sha,
      String(call.keys.length),
      ...call.keys,
      String(bucketExpiry(layout, call.hour, nowMs)),
      packed,
    ];
  });
  return { commands, owners, tokens, claimsOf: calls.map((c) => c.claims) };
}

function asText(reply: unknown): string | null {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === "string") return reply;
  if (typeof reply === "number") return String(reply);
  if (Buffer.isBuffer(reply)) return reply.toString("utf8");
  if (reply instanceof Error) throw reply;
  throw new Error(`Redis answered ${typeof reply} where an owner was expected`);
}

/**
 * For each claim, who held it before: null when this claim took it, the claim's own owner when the
 * stored token is its own (a replay after a crash), else the stored token (a copy).
 */
export function previousOwners(plan: ClaimPlan, replies: readonly unknown[]): (string | null)[] {
  if (replies.length !== plan.commands.length) {
    throw new Error(`Redis answered ${replies.length} replies to ${plan.commands.length} commands`);
  }
  const holders: (string | null)[] = new Array(plan.owners.length).fill(null);
  replies.forEach((reply, command) => {
    if (reply instanceof Error) throw reply;
    if (!Array.isArray(reply) || reply.length % 2 !== 0) {
      throw new Error(`Redis answered ${describeReply(reply)} where pairs of a claim and its holder were expected`);
    }
    const claims = plan.claimsOf[command] ?? [];
    for (let j = 0; j < reply.length; j += 2) {
      const claim = claims[Number(reply[j]) - 1];
      if (claim === undefined)
        throw new Error(`Redis answered claim ${String(reply[j])} of a call of ${claims.length}`);
      holders[claim] = asText(reply[j + 1]);
    }
  });
  return holders.map((holder, i) =>
    holder === null ? null : holder === plan.tokens[i] ? (plan.owners[i] as string) : holder,
  );
}

function describeReply(reply: unknown): string {
  return Array.isArray(reply) ? `a list of ${reply.length}` : typeof reply;
}
