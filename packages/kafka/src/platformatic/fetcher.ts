// A fetch loop of our own on @platformatic/kafka's Consumer (its group membership, heartbeats and
// Fetch request), instead of its MessagesStream: the stream fetches ahead from positions it keeps
// itself and re-reads committed offsets on every rejoin without `requireStable`, so a pipe could
// not tell which buffered records belong to which position. Here a position moves only when the
// caller says its batch is done, and a seek is an assignment to a Map.
import {
  type Consumer,
  FetchIsolationLevels,
  findErrorBy,
  kGetApi,
  kGetConnection,
  ListOffsetTimestamps,
  type RecordsBatch,
} from "@platformatic/kafka";
import type { ConsumedMessage } from "../message.ts";

const IS_TRANSACTIONAL = 1 << 4;
const IS_CONTROL = 1 << 5;
const MAX_SAFE_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface FetchedBatch {
  topic: string;
  partition: number;
  /** The position it was fetched from. */
  from: bigint;
  /** Data records at or after the partition's position, aborted transactions left out. */
  messages: ConsumedMessage[];
  /** The position after everything fetched for the partition (control records included). */
  next: bigint;
}

export const key = (topic: string, partition: number) => `${topic}\0${partition}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function headersOf(entries: [Buffer | null, Buffer | null][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (k === null || v === null) continue;
    const name = k.toString();
    if (!(name in out)) out[name] = v.toString();
  }
  return out;
}

export interface FetcherOptions {
  readCommitted: boolean;
  maxWaitMs: number;
  /** The broker answers once this many bytes are there or maxWaitMs passed (default 1). */
  minBytes?: number;
  maxBytesPerPartition: number;
  maxBytes?: number;
}

/** Each fetched partition's record batches as the broker sent them, before the library's own filter. */
const unfiltered = new WeakMap<object, RecordsBatch[]>();
const KEEPS_UNFILTERED = Symbol("trailstream.keepsUnfiltered");
type ApiCallback = (error: Error | null, api: FetchApi) => void;
type FetchApi = ((...args: unknown[]) => void) & { version?: number };

/**
 * Under read_committed the library drops aborted batches itself, with one range per producer from
 * its aborted transaction's first offset to the producer's LAST abort marker in the response. When
 * the broker lists one aborted transaction of a producer but the response also holds a later abort
 * marker of that producer (a transaction fenced before it wrote a record here, which the broker
 * does not list), everything in between is dropped: committed transactions too. A reader then
 * silently skipped committed events (the enricher crash test lost 98 of 20,000 on the events
 * topic, all of one producer between two such markers). So the Fetch API's answers are kept as
 * sent, and `decode` below does the filtering the way Kafka's Java client does.
 */
function keepUnfilteredFetches(consumer: Consumer): void {
  const internals = consumer as unknown as Record<symbol, unknown> & {
    [kGetApi]: (name: string, callback: ApiCallback) => void;
  };
  if (internals[KEEPS_UNFILTERED]) return;
  internals[KEEPS_UNFILTERED] = true;
  const getApi = internals[kGetApi].bind(consumer);
  internals[kGetApi] = (name, callback) =>
    getApi(name, (error, api) => {
      if (error || name !== "Fetch") {
        callback(error, api);
        return;
      }
      const keeping: FetchApi = Object.assign((...args: unknown[]) => {
        const done = args.pop() as (e: (Error & { response?: unknown }) | null, result?: unknown) => void;
        api(...args, (e: (Error & { response?: unknown }) | null, result?: unknown) => {
          const response = (result ?? e?.response) as
            | { responses?: { partitions?: { records?: RecordsBatch[] | null }[] }[] }
            | undefined;
          for (const topic of response?.responses ?? []) {
            for (const partition of topic.partitions ?? []) {
              if (partition.records) unfiltered.set(partition, partition.records);
            }
          }
          done(e, result);
        });
      }, api);
      callback(null, keeping);
    });
}

export class Fetcher {
  /** Next offset to fetch, per `key(topic, partition)`. */
  readonly positions = new Map<string, bigint>();
  readonly #consumer: Consumer;
  readonly #options: FetcherOptions;

  constructor(consumer: Consumer, options: FetcherOptions) {
    this.#consumer = consumer;
    this.#options = options;
    keepUnfilteredFetches(consumer);
  }

  /**
   * One fetch of every given partition that has a position (one request per leader, in parallel),
   * from `positions` (default this fetcher's own), waiting at most `maxWaitMs` (default the
   * fetcher's) for records to come. Positions are not moved: the caller does that.
   */
  async fetch(
    partitions: readonly TopicPartition[],
    positions = this.positions,
    maxWaitMs = this.#options.maxWaitMs,
  ): Promise<FetchedBatch[]> {
    const wanted = partitions.filter((p) => positions.has(key(p.topic, p.partition)));
    if (wanted.length === 0) {
      await sleep(maxWaitMs);
      return [];
    }
    const topics = [...new Set(wanted.map((p) => p.topic))];
    const metadata = await this.#consumer.metadata({ topics });
    const names = new Map<string, string>();
    const byNode = new Map<number, Map<string, { topicId: string; partitions: object[] }>>();
    const requested = new Map<string, bigint>();
    for (const { topic, partition } of wanted) {
      const t = metadata.topics.get(topic);
      const leader = t?.partitions[partition]?.leader;
      if (!t || leader === undefined) continue;
      names.set(t.id, topic);
      const fetchOffset = positions.get(key(topic, partition)) as bigint;
      requested.set(key(topic, partition), fetchOffset);
      const node = byNode.get(leader) ?? new Map();
      byNode.set(leader, node);
      const entry = node.get(t.id) ?? { topicId: t.id, partitions: [] };
      node.set(t.id, entry);
      entry.partitions.push({
        partition,
        fetchOffset,
        partitionMaxBytes: this.#options.maxBytesPerPartition,
        currentLeaderEpoch: -1,
        lastFetchedEpoch: -1,
      });
    }
    const isolationLevel = this.#options.readCommitted
      ? FetchIsolationLevels.READ_COMMITTED
      : FetchIsolationLevels.READ_UNCOMMITTED;
    const responses = await Promise.all(
      [...byNode].map(([node, t]) =>
        this.#consumer.fetch({
          node,
          topics: [...t.values()] as never,
          maxWaitTime: maxWaitMs,
          // A fetch told not to wait must not wait for bytes either.
          minBytes: maxWaitMs > 0 ? (this.#options.minBytes ?? 1) : 1,
          maxBytes: this.#options.maxBytes ?? 16 * 1024 * 1024,
          isolationLevel,
        }),
      ),
    );
    const out: FetchedBatch[] = [];
    for (const response of responses) {
      for (const topicResponse of response.responses) {
        const topic = names.get(topicResponse.topicId) ?? topicResponse.topicId;
        for (const p of topicResponse.partitions) {
          const from = requested.get(key(topic, p.partitionIndex));
          const records = unfiltered.get(p) ?? p.records;
          if (from === undefined || !records || records.length === 0) continue;
          const batch = decode(topic, p.partitionIndex, from, records, p.abortedTransactions ?? []);
          if (batch.next > from) out.push(batch);
        }
      }
    }
    return out;
  }

  /**
   * The group's committed offsets for the partitions, read with `requireStable`: the broker answers
   * UNSTABLE_OFFSET_COMMIT while a transaction holding offsets for one of them is open, and this
   * waits until it is settled (committed, aborted, or fenced), so the position is the true one.
   * -1n where nothing is committed.
   */
  async committedStable(groupId: string, topic: string, partitions: readonly number[]): Promise<Map<number, bigint>> {
    const consumer = this.#consumer as unknown as {
      [kGetApi]: (name: string, cb: (e: Error | null, api: StableApi) => void) => void;
      [kGetConnection]: (broker: unknown, cb: (e: Error | null, c: unknown) => void) => void;
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const coordinator = await this.#consumer.findGroupCoordinator();
        const metadata = await this.#consumer.metadata({ topics: [topic] });
        const broker = metadata.brokers.get(coordinator);
        const connection = await new Promise<unknown>((resolve, reject) =>
          consumer[kGetConnection](broker, (e, c) => (e ? reject(e) : resolve(c))),
        );
        const api = await new Promise<StableApi>((resolve, reject) =>
          consumer[kGetApi]("OffsetFetch", (e, a) => (e ? reject(e) : resolve(a))),
        );
        const response = await new Promise<StableResponse>((resolve, reject) =>
          api(
            connection,
            [
              {
                groupId,
                memberId: null,
                memberEpoch: -1,
                topics: [{ name: topic, partitionIndexes: [...partitions] }],
              },
            ],
            true,
            (e, r) => (e ? reject(e) : resolve(r)),
          ),
        );
        const out = new Map<number, bigint>();
        const topics = response.groups ? (response.groups[0]?.topics ?? []) : (response.topics ?? []);
        for (const t of topics) {
          if (t.name !== topic) continue;
          for (const p of t.partitions) out.set(p.partitionIndex, p.committedOffset);
        }
        return out;
      } catch (error) {
        if (attempt >= 600 || !retriableOffsetFetch(error)) throw error;
        await sleep(Math.min(500, 50 * 2 ** Math.min(attempt, 4)));
      }
    }
  }

  /** The first (or next) offsets of the partitions: where a group with nothing committed starts. */
  async boundaries(topic: string, partitions: readonly number[], earliest: boolean): Promise<Map<number, bigint>> {
    const offsets = await this.#consumer.listOffsets({
      topics: [topic],
      partitions: { [topic]: [...partitions] },
      timestamp: earliest ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST,
    });
    const list = offsets.get(topic) ?? [];
    return new Map(partitions.map((p) => [p, list[p] ?? 0n]));
  }
}

type StableResponse = {
  groups?: { topics: StableTopic[] }[];
  topics?: StableTopic[];
};
type StableTopic = { name: string; partitions: { partitionIndex: number; committedOffset: bigint }[] };
type StableApi = (
  connection: unknown,
  groups: object[],
  requireStable: boolean,
  cb: (e: Error | null, r: StableResponse) => void,
) => void;

function retriableOffsetFetch(error: unknown): boolean {
  return Boolean(
    findErrorBy(error as Error, "apiId", "UNSTABLE_OFFSET_COMMIT") ||
      findErrorBy(error as Error, "apiId", "COORDINATOR_LOAD_IN_PROGRESS") ||
      findErrorBy(error as Error, "apiId", "COORDINATOR_NOT_AVAILABLE") ||
      findErrorBy(error as Error, "apiId", "NOT_COORDINATOR") ||
      findErrorBy(error as Error, "code", "PLT_KFK_NETWORK"),
  );
}

/**
 * A partition's fetched record batches as data records from `from` on. Aborted transactions are
 * dropped the way Kafka's Java client does it: a producer in the response's aborted list is
 * skipped from its first aborted offset until its abort marker. (The library's own filter keeps
 * one range per producer id, so with two aborted transactions of one producer in a response the
 * first one's records were delivered; its filter runs first and removes only aborted batches.)
 */
export function decode(
  topic: string,
  partition: number,
  from: bigint,
  batches: readonly RecordsBatch[],
  aborted: readonly { producerId: bigint; firstOffset: bigint }[],
): FetchedBatch {
  const pending = [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1));
  const abortedProducers = new Set<bigint>();
  const messages: ConsumedMessage[] = [];
  let next = from;
  for (const batch of batches) {
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (last + 1n > next) next = last + 1n;
    while (pending.length > 0 && (pending[0] as { firstOffset: bigint }).firstOffset <= last) {
      abortedProducers.add((pending.shift() as { producerId: bigint }).producerId);
    }
    if (batch.attributes & IS_CONTROL) {
      // Control record key: version (int16), type (int16: 0 abort, 1 commit).
      const type = batch.records[0]?.key?.readInt16BE(2);
      if (type === 0) abortedProducers.delete(batch.producerId);
      continue;
    }
    if (batch.attributes & IS_TRANSACTIONAL && abortedProducers.has(batch.producerId)) continue;
    const firstTimestamp = Number(batch.firstTimestamp);
    if (last <= MAX_SAFE_OFFSET) {
      // Offsets as numbers (exact below 2^53): no BigInt made per record, which the consumers'
      // decode of every record paid for in garbage.
      const firstOffset = Number(batch.firstOffset);
      const start = Number(from);
      for (const record of batch.records) {
        const offset = firstOffset + record.offsetDelta;
        if (offset < start) continue;
        messages.push({
          topic,
          partition,
          offset: String(offset),
          key: record.key ?? null,
          value: record.value ?? null,
          headers: headersOf(record.headers),
          timestampMs: firstTimestamp + Number(record.timestampDelta),
        });
      }
      continue;
    }
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      if (offset < from) continue;
      messages.push({
        topic,
        partition,
        offset: offset.toString(),
        key: record.key ?? null,
        value: record.value ?? null,
        headers: headersOf(record.headers),
        timestampMs: firstTimestamp + Number(record.timestampDelta),
      });
    }
  }
  return { topic, partition, from, messages, next };
}
