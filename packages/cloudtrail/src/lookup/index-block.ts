// The lookup index: for each block of consecutive offsets of one events-topic partition and each of
// the eight lookup attribute keys, the event times the block holds and a Bloom filter of its values
// for that key (`Key=value`, the values lookupValues gives, which is what a lookup compares). One
// record per key, so a lookup reads only its key's filters: a block's EventName filter is a few
// bytes, its EventId filter ~1.8 bytes per event. It is only a hint: a block whose
// filter says "absent" cannot answer, and everything no block covers is read as if there were no
// index, so answers never depend on it. No I/O here: the indexer and `lookup` do the Kafka part.
import { type CloudTrailRecord, isPlainObject } from "../record.ts";
import { LOOKUP_ATTRIBUTE_KEYS, type LookupAttributeKey, lookupValues } from "./attributes.ts";
import { BloomFilter } from "./bloom.ts";

/** The entry a block's filter holds for one attribute value. */
export const indexEntry = (key: LookupAttributeKey, value: string): string => `${key}=${value}`;

/**
 * The CloudTrail record inside an events-topic value, read the way `lookup` reads it: JSON with an
 * `event` object. Undefined when it is not one (such a record never answers a lookup).
 */
export function lookupRecordOf(value: Buffer | null | undefined): CloudTrailRecord | undefined {
  if (!value) return undefined;
  let envelope: unknown;
  try {
    envelope = JSON.parse(value.toString("utf8"));
  } catch {
    return undefined;
  }
  return isPlainObject(envelope) && isPlainObject(envelope.event) ? (envelope.event as CloudTrailRecord) : undefined;
}

export interface IndexBlock {
  /** The events topic the block belongs to. */
  topic: string;
  partition: number;
  /** The attribute whose values the filter holds. */
  key: LookupAttributeKey;
  /** First offset covered. */
  from: bigint;
  /** Offset after the last one covered (offsets of transaction markers and aborted records included). */
  to: bigint;
  /** Records in the block that are events (what a lookup can read). */
  records: number;
  /** Oldest and newest eventTime (ms) of those events; null when none has a valid time. */
  minEventMs: number | null;
  maxEventMs: number | null;
  /** Oldest and newest Kafka timestamp of the block's records. */
  minTimestampMs: number | null;
  maxTimestampMs: number | null;
  bloom: BloomFilter;
}

/**
 * The index topic's partition for a block's record: per key, one run of partitions as long as the
 * events topic's partition count (with an index topic of 8 times as many partitions, each holds one
 * key of one events partition, in offset order).
 */
export function indexPartitionOf(
  key: LookupAttributeKey,
  eventsPartition: number,
  eventsPartitions: number,
  indexPartitions: number,
): number {
  return (LOOKUP_ATTRIBUTE_KEYS.indexOf(key) * eventsPartitions + eventsPartition) % Math.max(1, indexPartitions);
}

/** Collects one block's events; `finish` gives its records, one per key, filters sized for what they hold. */
export class IndexBlockBuilder {
  readonly topic: string;
  readonly partition: number;
  readonly from: bigint;
  #to: bigint;
  #records = 0;
  #offsets = 0;
  #minEventMs: number | null = null;
  #maxEventMs: number | null = null;
  #minTimestampMs: number | null = null;
  #maxTimestampMs: number | null = null;
  readonly #entries = new Map<LookupAttributeKey, Set<string>>(LOOKUP_ATTRIBUTE_KEYS.map((k) => [k, new Set()]));
  readonly #rate: number;

  /** `from`: the first offset the block covers (where the previous block ended, or the reader started). */
  constructor(topic: string, partition: number, from: bigint, rate = 0.001) {
    this.topic = topic;
    this.partition = partition;
    this.from = from;
    this.#to = from;
    this.#rate = rate;
  }

  /** Offsets covered so far (to - from). */
  get span(): bigint {
    return this.#to - this.from;
  }
  /** Records added so far. */
  get added(): number {
    return this.#offsets;
  }
  get to(): bigint {
    return this.#to;
  }
  get minTimestampMs(): number | null {
    return this.#minTimestampMs;
  }

  /** Adds the record at `offset` (offsets must grow); the block then covers up to it. */
  add(offset: bigint, timestampMs: number, value: Buffer | null): void {
    if (offset < this.#to) throw new RangeError(`offset ${offset} is before the block's end ${this.#to}`);
    this.#to = offset + 1n;
    this.#offsets++;
    if (Number.isFinite(timestampMs)) {
      if (this.#minTimestampMs === null || timestampMs < this.#minTimestampMs) this.#minTimestampMs = timestampMs;
      if (this.#maxTimestampMs === null || timestampMs > this.#maxTimestampMs) this.#maxTimestampMs = timestampMs;
    }
    const record = lookupRecordOf(value);
    if (record === undefined) return;
    this.#records++;
    const eventMs = Date.parse(record.eventTime ?? "");
    if (Number.isFinite(eventMs)) {
      if (this.#minEventMs === null || eventMs < this.#minEventMs) this.#minEventMs = eventMs;
      if (this.#maxEventMs === null || eventMs > this.#maxEventMs) this.#maxEventMs = eventMs;
    }
    for (const key of LOOKUP_ATTRIBUTE_KEYS) {
      const entries = this.#entries.get(key) as Set<string>;
      for (const v of lookupValues(record, key)) entries.add(indexEntry(key, v));
    }
  }

  /** The block covers up to `to` (exclusive) even where no record was seen (markers, aborted records). */
  extendTo(to: bigint): void {
    if (to > this.#to) this.#to = to;
  }

  /** One block per attribute key. */
  finish(): IndexBlock[] {
    return LOOKUP_ATTRIBUTE_KEYS.map((key) => {
      const entries = this.#entries.get(key) as Set<string>;
      const bloom = BloomFilter.forCount(entries.size, this.#rate);
      for (const e of entries) bloom.add(e);
      return this.#block(key, bloom);
    });
  }

  #block(key: LookupAttributeKey, bloom: BloomFilter): IndexBlock {
    return {
      topic: this.topic,
      partition: this.partition,
      key,
      from: this.from,
      to: this.#to,
      records: this.#records,
      minEventMs: this.#minEventMs,
      maxEventMs: this.#maxEventMs,
      minTimestampMs: this.#minTimestampMs,
      maxTimestampMs: this.#maxTimestampMs,
      bloom,
    };
  }
}

// The record value: "TSX1", the header's length (uint32 big-endian), the header (JSON), the filter's bytes.
const MAGIC = Buffer.from("TSX1", "latin1");

interface Header {
  topic: string;
  partition: number;
  key: LookupAttributeKey;
  from: string;
  to: string;
  records: number;
  minEventMs: number | null;
  maxEventMs: number | null;
  minTimestampMs: number | null;
  maxTimestampMs: number | null;
  hashes: number;
}

export function encodeIndexBlock(block: IndexBlock): Buffer {
  const header: Header = {
    topic: block.topic,
    partition: block.partition,
    key: block.key,
    from: block.from.toString(),
    to: block.to.toString(),
    records: block.records,
    minEventMs: block.minEventMs,
    maxEventMs: block.maxEventMs,
    minTimestampMs: block.minTimestampMs,
    maxTimestampMs: block.maxTimestampMs,
    hashes: block.bloom.hashes,
  };
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return Buffer.concat([MAGIC, length, json, block.bloom.bytes]);
}

const isTime = (v: unknown): v is number | null => v === null || (typeof v === "number" && Number.isFinite(v));

/** The block in an index record, or null when the bytes are not one (an index is only a hint: skip it). */
export function decodeIndexBlock(value: Buffer | null | undefined): IndexBlock | null {
  if (!value || value.length < 8 || !value.subarray(0, 4).equals(MAGIC)) return null;
  const length = value.readUInt32BE(4);
  if (8 + length >= value.length) return null;
  let h: Partial<Header>;
  try {
    h = JSON.parse(value.subarray(8, 8 + length).toString("utf8"));
  } catch {
    return null;
  }
  if (
    !isPlainObject(h) ||
    typeof h.topic !== "string" ||
    !Number.isInteger(h.partition) ||
    !(LOOKUP_ATTRIBUTE_KEYS as readonly unknown[]).includes(h.key) ||
    typeof h.from !== "string" ||
    typeof h.to !== "string" ||
    !/^\d+$/.test(h.from) ||
    !/^\d+$/.test(h.to) ||
    typeof h.records !== "number" ||
    !isTime(h.minEventMs) ||
    !isTime(h.maxEventMs) ||
    !isTime(h.minTimestampMs) ||
    !isTime(h.maxTimestampMs) ||
    typeof h.hashes !== "number" ||
    !Number.isInteger(h.hashes) ||
    h.hashes < 1 ||
    h.hashes > 32
  ) {
    return null;
  }
  const from = BigInt(h.from);
  const to = BigInt(h.to);
  if (to < from) return null;
  // A copy: the filter must not alias the consumed record's buffer, which the client may reuse.
  const bytes = new Uint8Array(value.subarray(8 + length));
  return {
    topic: h.topic,
    partition: h.partition as number,
    key: h.key as LookupAttributeKey,
    from,
    to,
    records: h.records,
    minEventMs: h.minEventMs,
    maxEventMs: h.maxEventMs,
    minTimestampMs: h.minTimestampMs,
    maxTimestampMs: h.maxTimestampMs,
    bloom: new BloomFilter(bytes, h.hashes),
  };
}
