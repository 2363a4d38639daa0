// The one reader of a Kafka topic in the tests, the end-to-end test and the benchmarks: a consumer
// of packages/kafka's own (startBatchConsumer, so no client library here), in a group of its own,
// from the topic's beginning, keeping every record in memory as it comes. Values are JSON-parsed
// when first asked for. How long to read is the caller's: until a condition holds, until the
// reader's group has caught up with the topic's end, or until a number of keys came and the topic
// went quiet.
import { consumerGroupLag, type KafkaClient, startBatchConsumer } from "@trailstream/kafka";
import { uniqueName } from "./servers.ts";
import { eventually, withTimeout } from "./wait.ts";

export interface TopicRecord {
  /** The record's key ("" when it has none). */
  key: string;
  /** The value as text ("" when it has none). */
  text: string;
  partition: number;
  offset: string;
  /** The record's timestamp (CreateTime), ms since the epoch. */
  timestampMs: number;
}

/** What a key came with: how many records, and the first one's value. */
export interface KeyCount<T = Record<string, unknown>> {
  count: number;
  value: T;
}

/** The envelope on the raw and events topics, as far as the tests look into it. */
export interface Envelope {
  v: number;
  event: Record<string, unknown>;
  origin: Record<string, unknown>;
}

export interface TopicReaderOptions {
  /** Read only committed transactional records (default true, as the services read). */
  readCommitted?: boolean;
  /** How long the consumer may take to join its group (default 30 s). */
  joinMs?: number;
}

/** A value as JSON, or its text where it is not JSON. */
function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export class TopicReader {
  readonly topic: string;
  readonly groupId: string;
  /** Every record so far, in the order they came (per partition, offset order). */
  readonly records: TopicRecord[] = [];
  /** When the last batch came (ms since the epoch; when the reader opened, before one did). */
  lastAt = Date.now();
  readonly #byKey = new Map<string, number[]>();
  readonly #values: unknown[] = [];
  readonly #watchers = new Set<() => void>();
  readonly #kafka: KafkaClient;
  #close: () => Promise<void> = async () => {};

  private constructor(kafka: KafkaClient, topic: string) {
    this.#kafka = kafka;
    this.topic = topic;
    this.groupId = uniqueName(`reader-${topic}`);
  }

  /** Subscribes from the topic's beginning; resolves once the consumer has joined its group. */
  static async open(kafka: KafkaClient, topic: string, options: TopicReaderOptions = {}): Promise<TopicReader> {
    const reader = new TopicReader(kafka, topic);
    const consumer = await startBatchConsumer(kafka, {
      groupId: reader.groupId,
      topics: [topic],
      fromBeginning: true,
      readCommitted: options.readCommitted ?? true,
      handle: async (batch) => {
        for (const m of batch.messages) {
          const key = m.key?.toString("utf8") ?? "";
          const at = reader.records.length;
          reader.records.push({
            key,
            text: m.value?.toString("utf8") ?? "",
            partition: m.partition,
            offset: m.offset,
            timestampMs: m.timestampMs,
          });
          const list = reader.#byKey.get(key);
          if (list) list.push(at);
          else reader.#byKey.set(key, [at]);
        }
        reader.lastAt = Date.now();
        for (const w of reader.#watchers) w();
      },
    });
    reader.#close = () => consumer.close();
    try {
      await withTimeout(consumer.started, options.joinMs ?? 30_000, () => `reader of ${topic} did not join its group`);
    } catch (error) {
      await consumer.close().catch(() => {});
      throw error;
    }
    return reader;
  }

  /** How many records so far. */
  get length(): number {
    return this.records.length;
  }

  /** Every value so far (JSON-parsed, or the text where it is not JSON), in the order they came. */
  get values(): unknown[] {
    for (let i = this.#values.length; i < this.records.length; i++)
      this.#values.push(parse(this.records[i]?.text ?? ""));
    return this.#values;
  }

  /** The distinct keys so far. */
  keys(): string[] {
    return [...this.#byKey.keys()];
  }

  /** The values of the records with this key, in the order they came. */
  valuesOf(key: string): unknown[] {
    const values = this.values;
    return (this.#byKey.get(key) ?? []).map((i) => values[i]);
  }

  /** The envelopes that came with this key (on the raw and events topics, the event's identity). */
  envelopes(key: string): Envelope[] {
    return this.valuesOf(key) as Envelope[];
  }

  /** Each key with how many records it came in and the first one's value. */
  keyCounts<T = Record<string, unknown>>(): Map<string, KeyCount<T>> {
    const values = this.values;
    const out = new Map<string, KeyCount<T>>();
    for (const [key, at] of this.#byKey) out.set(key, { count: at.length, value: values[at[0] ?? 0] as T });
    return out;
  }

  /** Resolves once `done(this)` holds (checked now and after each batch); fails after `ms`. */
  async until(done: (reader: TopicReader) => boolean, ms = 30_000): Promise<void> {
    if (done(this)) return;
    let watcher = () => {};
    const reached = new Promise<void>((resolve) => {
      watcher = () => {
        if (done(this)) resolve();
      };
      this.#watchers.add(watcher);
    });
    try {
      await withTimeout(reached, ms, () => `${this.topic}: ${this.records.length} records, not yet what was expected`);
    } finally {
      this.#watchers.delete(watcher);
    }
  }

  /** Resolves once the reader's group has committed up to the topic's end, as it stands then; fails after `ms`. */
  async caughtUp(ms = 30_000): Promise<void> {
    await eventually(async () => {
      const lag = await consumerGroupLag(this.#kafka, this.groupId, this.topic);
      if (lag !== 0n) throw new Error(`${this.topic}: reader still ${lag} records behind`);
    }, ms);
  }

  /**
   * Resolves once at least `keys` distinct keys came and nothing more for `idleMs`, or after
   * `timeoutMs` regardless (the caller's assertions then say what is missing).
   */
  async quiet(options: { keys: number; idleMs?: number; timeoutMs?: number }): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    const idle = options.idleMs ?? 2_000;
    while (Date.now() < deadline) {
      if (this.#byKey.size >= options.keys && Date.now() - this.lastAt >= idle) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): Promise<void> {
    return this.#close();
  }
}

/**
 * Reads a topic and closes the reader: opens it, waits with `wait` (by default until the reader has
 * caught up with the topic's end), and returns it with what it read.
 */
export async function readTopic(
  kafka: KafkaClient,
  topic: string,
  wait: (reader: TopicReader) => Promise<void> = (r) => r.caughtUp(),
  options: TopicReaderOptions = {},
): Promise<TopicReader> {
  const reader = await TopicReader.open(kafka, topic, options);
  try {
    await wait(reader);
    return reader;
  } finally {
    await reader.close();
  }
}
