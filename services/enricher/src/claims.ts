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

/**
 * Where a claim is kept: its hash, `<prefix>{<hour>.<slot group>}:<shard>` (the braces make a
 * shard's slot its group's), and that slot group, `<hour>.<group>`, which names the call it goes in.
 */
export function bucketOf(layout: ClaimLayout, hour: number, digest: Buffer): { key: string; slotGroup: string } {
  const shard = digest.readUInt32BE(0) % layout.shardsPerHour;
  const slotGroup = `${hour}.${shard % slotGroups(layout)}`;
  return { key: `${layout.keyPrefix}{${slotGroup}}:${shard}`, slotGroup };
}

export function bucketKey(layout: ClaimLayout, hour: number, digest: Buffer): string {
  return bucketOf(layout, hour, digest).key;
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
 * The claims of a batch in the hashes of one slot, atomically: for each hash (KEYS[k], its field
 * count next in ARGV, then its field/token pairs), `HSETNX` each field (the token stays when nobody
 * held it), `HGET` the holder of each field that was taken, and when any field was new,
 * `EXPIREAT <ARGV[1]> NX` (an existing bucket keeps the expiry its first claim gave it; the hashes
 * of one call share an hour, so an expiry). Answers, per field in that order, nil (taken now) or
 * the holder's token. Redis and its client spend their time per command, not per field.
 */
export const CLAIM_SCRIPT = `local out = {}
local a = 2
for k = 1, #KEYS do
  local fresh = false
  local last = a + 2 * tonumber(ARGV[a])
  for i = a + 1, last, 2 do
    if redis.call('HSETNX', KEYS[k], ARGV[i], ARGV[i + 1]) == 1 then
      out[#out + 1] = false
      fresh = true
    else
      out[#out + 1] = redis.call('HGET', KEYS[k], ARGV[i])
    end
  end
  if fresh then redis.call('EXPIREAT', KEYS[k], ARGV[1], 'NX') end
  a = last + 1
end
return out`;

/** Sent by its SHA-1 (EVALSHA): Redis neither receives nor hashes the text again for every hash. */
export const CLAIM = defineScript(CLAIM_SCRIPT);

export interface ClaimPlan {
  /** One pipeline: one `EVALSHA` of CLAIM per hash slot the batch touches. */
  commands: RedisArgs[];
  /** Each claim's owner, its token as stored, and where its answer is: command, then field. */
  owners: string[];
  tokens: string[];
  at: [number, number][];
}

interface SlotCall {
  hour: number;
  /** Per hash of the slot: its field/token pairs and which claims they are. */
  hashes: Map<string, { pairs: (string | Buffer)[]; claims: number[] }>;
}

/** The commands for a batch of claims, grouped by hash slot and hash, and where each claim's answer will be. */
export function planClaims(layout: ClaimLayout, claims: readonly DedupClaim[], nowMs: number): ClaimPlan {
  const owners: string[] = [];
  const tokens: string[] = [];
  const calls = new Map<string, SlotCall>();
  claims.forEach((c, i) => {
    const token = ownerToken(c.owner);
    owners.push(c.owner);
    tokens.push(token);
    const digest = identityDigest(c.identity);
    const hour = claimHour(c.eventTimeMs, nowMs);
    const { key, slotGroup } = bucketOf(layout, hour, digest);
    let call = calls.get(slotGroup);
    if (!call) {
      call = { hour, hashes: new Map() };
      calls.set(slotGroup, call);
    }
    let hash = call.hashes.get(key);
    if (!hash) {
      hash = { pairs: [], claims: [] };
      call.hashes.set(key, hash);
    }
    hash.pairs.push(digest, token);
    hash.claims.push(i);
  });
  const commands: RedisArgs[] = [];
  const at: [number, number][] = new Array(claims.length);
  for (const call of calls.values()) {
    const index = commands.length;
    const keys = [...call.hashes.keys()];
    const command: RedisArgs = ["EVALSHA", CLAIM.sha, String(keys.length), ...keys];
    command.push(String(bucketExpiry(layout, call.hour, nowMs)));
    let answer = 0;
    for (const hash of call.hashes.values()) {
      command.push(String(hash.claims.length));
      for (const pair of hash.pairs) command.push(pair);
      for (const claim of hash.claims) at[claim] = [index, answer++];
    }
    commands.push(command);
  }
  return { commands, owners, tokens, at };
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
  for (const reply of replies) {
    if (reply instanceof Error) throw reply;
    if (!Array.isArray(reply)) throw new Error(`Redis answered ${typeof reply} where a list of claims was expected`);
  }
  return plan.owners.map((owner, i) => {
    const [command, field] = plan.at[i] ?? [-1, -1];
    const answers = replies[command] as unknown[];
    if (field >= answers.length) throw new Error(`Redis answered ${answers.length} claims of a hash, fewer than asked`);
    const holder = asText(answers[field]);
    return holder === null ? null : holder === plan.tokens[i] ? owner : holder;
  });
}
