// The ingester's two writers: the raw-topic writer, which gathers records from every source into
// Kafka batches and tells each caller when all of its records are acknowledged, and the DLQ writer.
// A resolved write is durable (idempotent producer, acks=all): only then may a source acknowledge
// upstream (delete the SQS message, store the Kinesis checkpoint).
import type { DeadLetter, Origin, OriginKind, RawEnvelope } from "@trailstream/cloudtrail";
import type { OutgoingMessage, Producer } from "@trailstream/kafka";
import { type IngesterMetrics, lagSeconds } from "./metrics.ts";
import { rawValue } from "./records.ts";

export interface RawRecord {
  identity: string;
  envelope: RawEnvelope;
  /**
   * `envelope.event` as JSON text, exactly as read (the decoder's `text`): the value carries these
   * characters instead of serialising the record again, which was the largest single cost of a write.
   */
  eventText?: string;
}

/** A raw record whose value is already encoded (by a decode thread): what the sink needs of it. */
export interface EncodedRecord {
  identity: string;
  /** The UTF-8 bytes of the value `rawValue` gives. */
  value: Buffer;
  origin: Origin;
  eventTime: unknown;
}

interface Pending {
  messages: OutgoingMessage[];
  bytes: number;
  sources: OriginKind[];
  locations: string[];
  eventTimes: unknown[];
  done: Deferred;
}

/**
 * The trail a copy came through, as a bounded metric label: for S3 the bucket and the key's prefix
 * before `AWSLogs/` (one value per trail, however many accounts and regions it covers), so a trail
 * that goes quiet can be seen on its own; '' for other sources.
 */
export function trailLocation(origin: { kind: string; bucket?: string; key?: string }): string {
  if (origin.kind !== "s3" || !origin.bucket) return "";
  const at = origin.key?.indexOf("AWSLogs/") ?? -1;
  const prefix = at > 0 ? (origin.key ?? "").slice(0, at).replace(/\/+$/, "") : "";
  return prefix ? `${origin.bucket}/${prefix}` : origin.bucket;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function deferred(): Deferred {
  let resolve: () => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Every batch's promise is awaited by the writes that joined it; this only keeps a batch that
  // lost all its waiters from surfacing as an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export interface SinkOptions {
  topicRaw: string;
  topicDlq: string;
  batchRecords: number;
  lingerMs: number;
  /** A batch never passes this many bytes with its keys and framing (the topic's max.message.bytes bounds a batch). Default 512 KiB. */
  batchBytes?: number;
  /** A record whose value is larger goes to the DLQ as too-large instead (the broker would refuse it). Default 1,000,000. */
  maxMessageBytes?: number;
  /** A dead letter larger than this loses its payload (the DLQ topic's bound). Default: maxMessageBytes. */
  dlqMaxMessageBytes?: number;
  metrics?: IngesterMetrics;
  now?: () => number;
}

/** A record's framing inside a batch (length, attributes, deltas, header count), rounded up. */
const PER_RECORD_BYTES = 32;

export type DeadLetterInput = Omit<DeadLetter<"ingester">, "v" | "stage" | "at"> & { at?: string };

export class Sink {
  readonly #producer: Producer;
  readonly #options: SinkOptions;
  readonly #now: () => number;
  #pending: Pending;
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  #failing: string | undefined;
  #origin: RawEnvelope["origin"] | undefined;
  #originJson = "";

  constructor(producer: Producer, options: SinkOptions) {
    this.#producer = producer;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#pending = this.#fresh();
  }

  /** Resolves when every record is acknowledged by Kafka; rejects when any batch holding one failed. */
  write(records: readonly (RawRecord | EncodedRecord)[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const waits: Promise<void>[] = [];
    const maxBytes = this.#options.maxMessageBytes ?? 1_000_000;
    const batchBytes = this.#options.batchBytes ?? 512 * 1024;
    for (const r of records) {
      const encoded = "value" in r;
      const origin = encoded ? r.origin : r.envelope.origin;
      const value = encoded ? r.value : this.#value(r);
      // Characters are bytes for ASCII; count UTF-8 bytes only where it could matter.
      const size =
        typeof value !== "string"
          ? value.length
          : value.length > maxBytes / 3
            ? Buffer.byteLength(value)
            : value.length;
      if (size > maxBytes) {
        waits.push(this.#tooLarge(r.identity, origin, size));
        continue;
      }
      // The broker bounds a whole record batch (max.message.bytes), so a batch is cut before a
      // record would take it past batchBytes, counting each record's key and framing too.
      const cost = size + r.identity.length + PER_RECORD_BYTES;
      if (this.#pending.messages.length > 0 && this.#pending.bytes + cost > batchBytes) waits.push(this.#cut());
      this.#pending.messages.push({ key: r.identity, value });
      this.#pending.bytes += cost;
      this.#pending.sources.push(origin.kind);
      this.#pending.locations.push(trailLocation(origin));
      this.#pending.eventTimes.push(encoded ? r.eventTime : r.envelope.event.eventTime);
      if (this.#pending.messages.length >= this.#options.batchRecords || this.#pending.bytes >= batchBytes) {
        waits.push(this.#cut());
      }
    }
    if (this.#pending.messages.length > 0) {
      waits.push(this.#pending.done.promise);
      if (this.#options.lingerMs === 0) waits.push(this.#cut());
      else this.#timer ??= setTimeout(() => void this.#cut(), this.#options.lingerMs);
    }
    return Promise.all(waits).then(() => undefined);
  }

  /** The record's value (records.ts); the origin is serialised once per origin object (one per file). */
  #value(r: RawRecord): string {
    const origin = r.envelope.origin;
    if (origin !== this.#origin) {
      this.#origin = origin;
      this.#originJson = JSON.stringify(origin);
    }
    return rawValue(r, this.#originJson);
  }

  /** A record too large for the broker: dead-lettered with where it came from (its bytes would not fit either). */
  #tooLarge(identity: string, o: Origin, bytes: number): Promise<void> {
    return this.deadLetter(
      {
        reason: "too-large",
        message: `event ${identity} is ${bytes} bytes as a raw record, over the ${this.#options.maxMessageBytes ?? 1_000_000} bytes Kafka accepts`,
        origin: o,
        ...(o.bucket !== undefined ? { bucket: o.bucket } : {}),
        ...(o.key !== undefined ? { key: o.key } : {}),
      },
      identity,
    );
  }

  /** Writes one dead letter and resolves when Kafka acknowledged it. */
  async deadLetter(input: DeadLetterInput, key: string | null): Promise<void> {
    const letter: DeadLetter<"ingester"> = {
      v: 1,
      stage: "ingester",
      at: new Date(this.#now()).toISOString(),
      ...input,
    };
    let value = JSON.stringify(letter);
    const maxBytes = this.#options.dlqMaxMessageBytes ?? this.#options.maxMessageBytes ?? 1_000_000;
    if (Buffer.byteLength(value) > maxBytes && letter.payload !== undefined) {
      // The original bytes do not fit in a Kafka record: keep where they came from, say so.
      const { payload, payloadEncoding: _, ...rest } = letter;
      value = JSON.stringify({
        ...rest,
        message: `${letter.message} (payload of ${payload.length} characters omitted: too large for Kafka)`,
      });
    }
    const started = performance.now();
    await this.#producer.send(this.#options.topicDlq, [{ key, value }]);
    this.#options.metrics?.produceSeconds.observe({ topic: "dlq" }, (performance.now() - started) / 1000);
    this.#options.metrics?.dlq.inc({ reason: letter.reason });
  }

  /** For /readyz: why the last produce failed, until one succeeds again. */
  notReady(): string[] {
    return this.#failing ? [`kafka: ${this.#failing}`] : [];
  }

  /** Sends what is waiting and resolves when everything handed over so far is acknowledged. */
  async flush(): Promise<void> {
    if (this.#pending.messages.length > 0) void this.#cut();
    await Promise.allSettled([...this.#inFlight]);
  }

  #fresh(): Pending {
    return { messages: [], bytes: 0, sources: [], locations: [], eventTimes: [], done: deferred() };
  }

  #cut(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const batch = this.#pending;
    if (batch.messages.length === 0) return batch.done.promise;
    this.#pending = this.#fresh();
    const started = performance.now();
    const sending = this.#producer.send(this.#options.topicRaw, batch.messages).then(
      () => {
        const m = this.#options.metrics;
        if (m) {
          m.produceSeconds.observe({ topic: "raw" }, (performance.now() - started) / 1000);
          const now = this.#now();
          const counts = new Map<string, { source: OriginKind; location: string; n: number }>();
          batch.sources.forEach((source, i) => {
            const location = batch.locations[i] ?? "";
            const key = `${source} ${location}`;
            const entry = counts.get(key) ?? { source, location, n: 0 };
            entry.n++;
            counts.set(key, entry);
          });
          for (const { source, location, n } of counts.values()) m.records.inc({ source, location }, n);
          batch.eventTimes.forEach((t, i) => {
            const lag = lagSeconds(t, now);
            if (lag !== undefined) m.eventLagSeconds.observe({ source: batch.sources[i] ?? "unknown" }, lag);
          });
        }
        this.#failing = undefined;
        batch.done.resolve();
      },
      (error: unknown) => {
        this.#failing = error instanceof Error ? error.message : String(error);
        batch.done.reject(error);
      },
    );
    this.#inFlight.add(sending);
    void sending.finally(() => this.#inFlight.delete(sending));
    return batch.done.promise;
  }
}
