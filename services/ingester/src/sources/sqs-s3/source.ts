// The sqs-s3 source: S3 notifications on SQS (direct, SNS-wrapped, CloudTrail's SNS notice,
// EventBridge Object Created) name log files; each file is streamed from S3 through the
// cloudtrail decoder into the raw topic. A message is deleted only after every record of its
// files (and every dead letter) is acknowledged by Kafka; until then its visibility is extended.
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from "@aws-sdk/client-s3";
import {
  ChangeMessageVisibilityCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import {
  decodeLogFile,
  decodeNotification,
  digestMetadata,
  type LogFileHash,
  LogFileHasher,
  type Origin,
  type S3ObjectRef,
} from "@trailstream/cloudtrail";
import { replyText } from "@trailstream/redis";
import type { Logger } from "@trailstream/runtime";
import type { Integrity } from "../../integrity/integrity.ts";
import type { IngesterRedis } from "../../leases.ts";
import type { IngesterMetrics } from "../../metrics.ts";
import { toOutcome } from "../../records.ts";
import type { Semaphore } from "../../semaphore.ts";
import type { DeadLetterInput, EncodedRecord, RawRecord, Sink } from "../../sink.ts";
import { Acks, backoffMs, errorMessage, errorName, httpStatus, sleep } from "../../util.ts";
import type { Source } from "../source.ts";
import { SqsDeletes } from "./deletes.ts";
import { type EncodedFile, fitsOnePiece, TooLargeForOnePiece } from "./encode-file.ts";
import type { EncodePool } from "./encode-pool.ts";

export interface SqsS3Options {
  sqs: SQSClient;
  s3: S3Client;
  queueUrl: string;
  waitSeconds: number;
  visibilitySeconds: number;
  /** Shared by every queue of this replica: the bound on files in flight. */
  slots: Semaphore;
  s3MaxAttempts: number;
  s3RetryBaseSeconds: number;
  /**
   * A message that failed this many receives for another reason than a missing or forbidden object
   * (a file that cannot be processed) is dead-lettered as `processing-failed` and deleted; 0: never.
   * Set the queue's redrive maxReceiveCount above it, as a backstop for when even that fails.
   */
  maxReceives?: number;
  /** 0 turns the identical-file skip off. */
  fileSkipWindowMs: number;
  redis: IngesterRedis;
  redisPrefix: string;
  maxDecompressedBytes: number;
  maxRecordBytes: number;
  batchRecords: number;
  /** Where log files read whole are decoded and encoded (a pool of decode threads, or none: inline). */
  encoder: EncodePool;
  sink: Sink;
  /** Set when log file integrity is checked: digests are read, log files hashed. */
  integrity?: Integrity;
  metrics?: IngesterMetrics;
  log: Logger;
  /** Called once when the source stopped for good (its queue is gone): the process should exit. */
  onStoppedForGood?: (error: unknown) => void;
}

/** Digests list an hour of files: a few MB at most. */
const DIGEST_MAX_BYTES = 16 * 1024 ** 2;

/** What became of one file of a message. */
type FileResult = "done" | "retry";

const MISSING = new Set(["NoSuchKey", "NotFound", "NoSuchBucket"]);
const DENIED = new Set(["AccessDenied", "Forbidden", "AllAccessDisabled", "InvalidObjectState"]);
/** ReceiveMessage errors no retry mends: the queue was deleted (or never existed). */
const QUEUE_GONE = new Set(["QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"]);
/** The identical-file check is an optimization: past this it gives up and the file is read. */
const SKIP_CHECK_TIMEOUT_MS = 1_000;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Log files up to this size (gzipped) are read into memory whole; CloudTrail's rarely exceed it. */
const READ_WHOLE_BYTES = 4 * 1024 ** 2;

async function readWhole(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
}

/** How many write batches of one file may await Kafka while the file is still being read. */
const MAX_PENDING_WRITES = 8;

/**
 * Received messages that may wait for a file slot, per queue: one ReceiveMessage asks for up to 10,
 * and the next is sent once half of them have started. Each waiting message is kept invisible to
 * other replicas meanwhile (its visibility renewed like a file's in progress), so this bounds what a
 * busy replica holds back from idle ones.
 */
const PREFETCH = 10;

/** How long a finished message's delete waits for others to share a DeleteMessageBatch. */
const DELETE_LINGER_MS = 20;

/** What becomes of a message once its files are done: deleted, or visible again after a while. */
type Next = "delete" | { visibility: number };

export class SqsS3Source implements Source {
  readonly #o: SqsS3Options;
  readonly #stop = new AbortController();
  readonly #inFlight = new Map<string, { abort: AbortController; done: Promise<void>; receipt: string }>();
  #loop: Promise<void> | undefined;
  #receiveError: string | undefined;
  #stoppedForGood = false;
  /** Received messages still waiting for a file slot, and the receive loop's wake-up when they drop. */
  #waiting = 0;
  #room: (() => void) | undefined;
  readonly #deletes: SqsDeletes;

  constructor(options: SqsS3Options) {
    this.#o = options;
    this.#deletes = new SqsDeletes({
      sqs: options.sqs,
      queueUrl: options.queueUrl,
      lingerMs: DELETE_LINGER_MS,
      log: options.log,
    });
  }

  get name(): string {
    return `sqs:${this.#o.queueUrl}`;
  }

  ready(): string[] {
    if (this.#stoppedForGood) return [`${this.name}: stopped for good: ${this.#receiveError}`];
    return this.#receiveError ? [`${this.name}: ${this.#receiveError}`] : [];
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Stops receiving; messages in flight get `drainMs` to finish, then the rest are handed back
   * (their reading stops and their visibility is set to 0 so another replica takes them now).
   */
  async stop(drainMs: number): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    const pending = [...this.#inFlight.values()];
    const drained = await Promise.race([
      Promise.all(pending.map((p) => p.done)).then(() => true),
      sleep(drainMs).then(() => false),
    ]);
    if (drained) return;
    const left = [...this.#inFlight.values()];
    for (const p of left) p.abort.abort();
    await Promise.all(left.map((p) => p.done));
  }

  async #run(): Promise<void> {
    const o = this.#o;
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      await this.#roomToReceive();
      if (this.#stop.signal.aborted) break;
      let messages: Message[];
      try {
        const out = await o.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: o.queueUrl,
            MaxNumberOfMessages: Math.min(10, PREFETCH - this.#waiting),
            WaitTimeSeconds: o.waitSeconds,
            VisibilityTimeout: o.visibilitySeconds,
            MessageSystemAttributeNames: ["ApproximateReceiveCount"],
          }),
          { abortSignal: this.#stop.signal },
        );
        messages = out.Messages ?? [];
        this.#receiveError = undefined;
        failures = 0;
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        failures++;
        this.#receiveError = `ReceiveMessage failed: ${errorMessage(error)}`;
        if (QUEUE_GONE.has(errorName(error))) {
          this.#stoppedForGood = true;
          o.onStoppedForGood?.(error);
          break;
        }
        o.log.warn({ err: error, queueUrl: o.queueUrl }, "ReceiveMessage failed; backing off");
        await sleep(backoffMs(failures, 500, 30_000), this.#stop.signal);
        continue;
      }
      for (const message of messages) {
        const id = message.MessageId ?? message.ReceiptHandle ?? String(Math.random());
        const abort = new AbortController();
        this.#waiting++;
        const done = this.#handle(message, abort.signal)
          .catch((error: unknown) => o.log.error({ err: error, messageId: id }, "message handling failed"))
          .finally(() => this.#inFlight.delete(id));
        this.#inFlight.set(id, { abort, done, receipt: message.ReceiptHandle ?? "" });
      }
    }
  }

  /**
   * Resolves when few enough received messages wait for a file slot that one ReceiveMessage of
   * several may be asked for (or on stop). Receiving only as slots free up asked SQS for one message
   * per finished file; moto spends about 10 ms of CPU on each such call, beside the ingester.
   */
  async #roomToReceive(): Promise<void> {
    if (this.#waiting <= PREFETCH / 2) return;
    const signal = this.#stop.signal;
    await new Promise<void>((resolve) => {
      const wake = () => {
        signal.removeEventListener("abort", wake);
        this.#room = undefined;
        resolve();
      };
      this.#room = wake;
      signal.addEventListener("abort", wake, { once: true });
    });
  }

  /** A received message took its file slot (or gave up waiting for one). */
  #leftWaiting(): void {
    this.#waiting--;
    if (this.#waiting <= PREFETCH / 2) this.#room?.();
  }

  async #handle(message: Message, signal: AbortSignal): Promise<void> {
    const o = this.#o;
    const receipt = message.ReceiptHandle ?? "";
    // Hidden from other receivers from receipt on: a message may first wait here for a file slot.
    const keeper = setInterval(
      () => void this.#visibility(receipt, o.visibilitySeconds),
      Math.max(1_000, (o.visibilitySeconds * 1000) / 2),
    );
    let next: Next;
    try {
      // Stopping before this message got a slot: it is handed back to the queue at once.
      const slot = await o.slots.acquire(AbortSignal.any([signal, this.#stop.signal]));
      this.#leftWaiting();
      if (!slot) next = { visibility: 0 };
      else {
        try {
          next = await this.#process(message, signal);
        } finally {
          // The slot bounds files being read and written; the delete needs none.
          o.slots.release();
        }
      }
    } finally {
      clearInterval(keeper);
    }
    if (next === "delete") await this.#deletes.delete(receipt);
    else await this.#visibility(receipt, next.visibility);
  }

  /** Reads the message's files into Kafka; says what becomes of the message. */
  async #process(message: Message, signal: AbortSignal): Promise<Next> {
    const o = this.#o;
    const attempt = Number(message.Attributes?.ApproximateReceiveCount ?? "1") || 1;
    const body = message.Body ?? "";
    const decoded = decodeNotification(body);
    if (!decoded.ok) {
      o.metrics?.notifications.inc({ kind: "invalid" });
      await o.sink.deadLetter(
        {
          reason: `notification-${decoded.error.code}`,
          message: `SQS message ${message.MessageId ?? "?"} on ${o.queueUrl}: ${decoded.error.message}`,
          payload: body,
          payloadEncoding: "utf8",
        },
        `sqs:${message.MessageId ?? ""}`,
      );
      return "delete";
    }
    const { kind, objects } = decoded.value;
    o.metrics?.notifications.inc({ kind });
    if (kind === "s3-test") return "delete";
    try {
      let retry = false;
      for (const object of objects) {
        if (signal.aborted) break;
        if ((await this.#file(object, attempt, signal)) === "retry") retry = true;
      }
      if (signal.aborted) return { visibility: 0 };
      // A missing or forbidden object: SQS brings the message back after the backoff.
      if (retry) return { visibility: Math.min(43_200, Math.round(o.s3RetryBaseSeconds * 2 ** (attempt - 1))) };
      return "delete";
    } catch (error) {
      if (signal.aborted) return { visibility: 0 };
      // Kafka, S3 or Redis failing: the message comes back after a short backoff and is read again,
      // up to maxReceives; then it is a dead letter with its reason, not a retry without end.
      const max = o.maxReceives ?? 0;
      if (max > 0 && attempt >= max && (await this.#giveUp(message, objects, attempt, error))) return "delete";
      o.log.warn({ err: error, messageId: message.MessageId, attempt }, "message not finished; it will be retried");
      return { visibility: Math.min(300, 2 ** Math.min(attempt, 8)) };
    }
  }

  /** Dead-letters a message that failed too often (to be deleted); false when even that failed (Kafka down). */
  async #giveUp(message: Message, objects: readonly S3ObjectRef[], attempt: number, error: unknown): Promise<boolean> {
    const o = this.#o;
    const first = objects[0];
    try {
      await o.sink.deadLetter(
        {
          reason: "processing-failed",
          message: `SQS message ${message.MessageId ?? "?"} on ${o.queueUrl} failed ${attempt} receives: ${errorMessage(error)}`,
          payload: message.Body ?? "",
          payloadEncoding: "utf8",
          attempts: attempt,
          ...(first ? { bucket: first.bucket, key: first.key } : {}),
        },
        `sqs:${message.MessageId ?? ""}`,
      );
      o.log.error(
        { messageId: message.MessageId, attempt, err: error },
        "message dead-lettered after too many receives",
      );
      return true;
    } catch (deadLetterError) {
      o.log.warn(
        { err: deadLetterError, messageId: message.MessageId },
        "could not dead-letter the message; it will be retried",
      );
      return false;
    }
  }

  async #file(object: S3ObjectRef, attempt: number, signal: AbortSignal): Promise<FileResult> {
    const o = this.#o;
    const m = o.metrics;
    const file = object.file;
    if (file === null) {
      m?.files.inc({ kind: "other", outcome: "not-cloudtrail" });
      o.log.info({ bucket: object.bucket, key: object.key }, "not a CloudTrail file; ignored");
      return "done";
    }
    if (file.kind === "digest" && o.integrity) return this.#digest(object, o.integrity, signal);
    if (file.kind !== "log") {
      m?.files.inc({ kind: file.kind, outcome: "ignored" });
      return "done";
    }
    if (object.eTag !== undefined && object.size !== undefined) {
      const seen = await this.#seen(object.eTag, object.size);
      if (seen !== null) {
        await this.#identical(object, seen);
        return "done";
      }
    }
    const where = `s3://${object.bucket}/${object.key}`;
    let got: GetObjectCommandOutput;
    try {
      got = await o.s3.send(new GetObjectCommand({ Bucket: object.bucket, Key: object.key }), { abortSignal: signal });
    } catch (error) {
      if (signal.aborted) throw error;
      const name = errorName(error);
      const status = httpStatus(error);
      const missing = MISSING.has(name) || status === 404;
      const denied = DENIED.has(name) || status === 403;
      if (!missing && !denied) throw error;
      const reason = missing ? "missing-object" : "access-denied";
      if (attempt < o.s3MaxAttempts) {
        m?.files.inc({ kind: "log", outcome: "retried" });
        o.log.warn({ bucket: object.bucket, key: object.key, attempt, reason }, "object not readable yet; will retry");
        return "retry";
      }
      await o.sink.deadLetter(
        {
          reason,
          message: `${where}: ${reason === "missing-object" ? "no such object" : "access denied"} after ${attempt} attempts (${name})`,
          origin: this.#origin(object, file.accountId, file.region),
          bucket: object.bucket,
          key: object.key,
          attempts: attempt,
        },
        where,
      );
      m?.files.inc({ kind: "log", outcome: reason });
      return "done";
    }
    const eTag = object.eTag ?? got.ETag?.replace(/"/g, "");
    const size = object.size ?? got.ContentLength;
    const body = got.Body;
    if (object.eTag === undefined && eTag !== undefined && size !== undefined) {
      const seen = await this.#seen(eTag, size);
      if (seen !== null) {
        destroy(body);
        await this.#identical(object, seen);
        return "done";
      }
    }
    if (!isAsyncIterable(body)) throw new Error(`${where}: the S3 response has no readable body`);
    const origin = this.#origin(object, file.accountId, file.region);
    const acks = new Acks();
    let read: { corrupt: boolean; hash: LogFileHash | undefined };
    // Stopping: the body is closed, which ends the read below at once.
    const onAbort = () => destroy(body);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const counted = counting(body, (n) => m?.bytes.inc({ source: "s3" }, n));
      // A small file is read whole, so the decoder can parse it in one JSON.parse (much faster than
      // record by record) on a decode thread; a large one streams, holding one record at a time.
      const source = size !== undefined && size <= READ_WHOLE_BYTES ? await readWhole(counted) : counted;
      read =
        (source instanceof Uint8Array && fitsOnePiece(source)
          ? await this.#onePiece(source, origin, where, object, acks)
          : undefined) ?? (await this.#recordByRecord(source, origin, where, object, acks, signal));
    } finally {
      signal.removeEventListener("abort", onAbort);
      destroy(body);
    }
    await acks.all();
    if (signal.aborted) throw new Error("stopped while reading");
    m?.files.inc({ kind: "log", outcome: read.corrupt ? "corrupt" : "read" });
    // The hash is remembered with the ETag: an identical copy under another key is skipped, not unverified.
    const hash = read.hash;
    await o.integrity?.logFile(object.bucket, object.key, hash);
    if (eTag !== undefined && size !== undefined) {
      await this.#markSeen(eTag, size, hash ? `${hash.sha256}:${hash.trailingBytes}` : "1");
    }
    return "done";
  }

  /**
   * A file in memory, encoded in one piece (on a decode thread when there are any) and handed to the
   * sink whole; undefined when its values turn out too large for one piece (its trailer lied).
   */
  async #onePiece(
    bytes: Uint8Array,
    origin: Origin,
    where: string,
    object: S3ObjectRef,
    acks: Acks,
  ): Promise<{ corrupt: boolean; hash: LogFileHash | undefined } | undefined> {
    const o = this.#o;
    let file: EncodedFile;
    try {
      file = await o.encoder.encode({
        bytes,
        maxDecompressedBytes: o.maxDecompressedBytes,
        maxRecordBytes: o.maxRecordBytes,
        where,
        origin,
        hash: o.integrity !== undefined,
      });
    } catch (error) {
      if (error instanceof TooLargeForOnePiece) return undefined;
      throw error;
    }
    for (const { letter, key } of file.letters) {
      acks.add(o.sink.deadLetter({ ...letter, bucket: object.bucket, key: object.key }, key));
    }
    const records: EncodedRecord[] = new Array(file.identities.length);
    const { values, ends } = file;
    for (let i = 0; i < records.length; i++) {
      const start = i === 0 ? 0 : (ends[i - 1] as number);
      records[i] = {
        identity: file.identities[i] as string,
        value: values.subarray(start, ends[i]) as Buffer,
        origin,
        eventTime: file.eventTimes[i],
      };
    }
    acks.add(o.sink.write(records));
    return { corrupt: file.corrupt, hash: file.hash };
  }

  /** A file decoded record by record, in batches, at most MAX_PENDING_WRITES of them awaiting Kafka. */
  async #recordByRecord(
    source: AsyncIterable<Uint8Array> | Uint8Array,
    origin: Origin,
    where: string,
    object: S3ObjectRef,
    acks: Acks,
    signal: AbortSignal,
  ): Promise<{ corrupt: boolean; hash: LogFileHash | undefined }> {
    const o = this.#o;
    const hasher = o.integrity ? new LogFileHasher() : undefined;
    let batch: RawRecord[] = [];
    let corrupt = false;
    const limits = { maxDecompressedBytes: o.maxDecompressedBytes, maxRecordBytes: o.maxRecordBytes };
    for await (const item of decodeLogFile(source, limits, hasher)) {
      if (signal.aborted) break;
      const outcome = toOutcome(item, origin, where);
      if (outcome.ok) {
        batch.push(outcome.record);
        if (batch.length >= o.batchRecords) {
          acks.add(o.sink.write(batch));
          batch = [];
          if (acks.size >= MAX_PENDING_WRITES) await acks.oldest();
        }
        continue;
      }
      if (!item.ok && item.index === undefined) corrupt = true;
      acks.add(o.sink.deadLetter({ ...outcome.letter, bucket: object.bucket, key: object.key }, outcome.key));
    }
    acks.add(o.sink.write(batch));
    return { corrupt, hash: signal.aborted ? undefined : await hasher?.result() };
  }

  /** A copy of a file read before (same ETag and size): its records are out already, its hash is known. */
  async #identical(object: S3ObjectRef, seen: string): Promise<void> {
    this.#o.metrics?.skippedIdenticalFiles.inc();
    this.#o.metrics?.files.inc({ kind: "log", outcome: "skipped-identical" });
    const [sha256, trailing] = seen.split(":");
    if (this.#o.integrity && sha256 && sha256.length === 64) {
      await this.#o.integrity.logFile(object.bucket, object.key, {
        sha256,
        trailingBytes: Number(trailing) || 0,
        decompressedBytes: 0,
      });
    }
  }

  /** A digest: fetched with its metadata (the signature), judged, its verdicts to the integrity topic. */
  async #digest(object: S3ObjectRef, integrity: Integrity, signal: AbortSignal): Promise<FileResult> {
    const o = this.#o;
    const where = `s3://${object.bucket}/${object.key}`;
    let got: GetObjectCommandOutput;
    try {
      got = await o.s3.send(new GetObjectCommand({ Bucket: object.bucket, Key: object.key }), { abortSignal: signal });
    } catch (error) {
      if (signal.aborted) throw error;
      const name = errorName(error);
      if (!MISSING.has(name) && httpStatus(error) !== 404) throw error;
      // S3 is read-after-write consistent: an announced digest that is not there was deleted.
      await integrity.digestGone(object.bucket, object.key);
      o.metrics?.files.inc({ kind: "digest", outcome: "missing-object" });
      return "done";
    }
    const size = got.ContentLength ?? 0;
    if (size > DIGEST_MAX_BYTES || got.Body === undefined) {
      destroy(got.Body);
      await o.sink.deadLetter(
        {
          reason: "digest-too-large",
          message: `${where}: a digest of ${size} bytes (at most ${DIGEST_MAX_BYTES} are read)`,
          bucket: object.bucket,
          key: object.key,
        },
        where,
      );
      o.metrics?.files.inc({ kind: "digest", outcome: "corrupt" });
      return "done";
    }
    const body = await got.Body.transformToByteArray();
    const rejected = await integrity.digest(object.bucket, object.key, body, digestMetadata(got.Metadata));
    if (rejected) {
      await o.sink.deadLetter(
        {
          reason: rejected.reason as DeadLetterInput["reason"],
          message: rejected.message,
          bucket: object.bucket,
          key: object.key,
          payload: Buffer.from(body).toString("base64"),
          payloadEncoding: "base64",
        },
        where,
      );
    }
    o.metrics?.files.inc({ kind: "digest", outcome: rejected ? "corrupt" : "read" });
    return "done";
  }

  #origin(object: S3ObjectRef, account: string, region: string): Origin {
    return {
      kind: "s3",
      bucket: object.bucket,
      key: object.key,
      account,
      region,
      receivedAt: new Date().toISOString(),
    };
  }

  #seenKey(eTag: string, size: number): string {
    return `${this.#o.redisPrefix}file:${eTag}:${size}`;
  }

  /** What was remembered of an identical file read before ('1', or its hash), or null. */
  async #seen(eTag: string, size: number): Promise<string | null> {
    if (this.#o.fileSkipWindowMs <= 0) return null;
    try {
      // Bounded: a stalled Redis must not hold a file slot (and so the whole S3 path).
      const reply = await withTimeout(this.#o.redis.command(["GET", this.#seenKey(eTag, size)]), SKIP_CHECK_TIMEOUT_MS);
      return replyText(reply);
    } catch (error) {
      // Only an optimization: without Redis, read the file.
      this.#o.log.warn({ err: error }, "could not check for an identical file; reading it");
      return null;
    }
  }

  async #markSeen(eTag: string, size: number, value: string): Promise<void> {
    if (this.#o.fileSkipWindowMs <= 0) return;
    try {
      await withTimeout(
        this.#o.redis.command(["SET", this.#seenKey(eTag, size), value, "PX", String(this.#o.fileSkipWindowMs)]),
        SKIP_CHECK_TIMEOUT_MS,
      );
    } catch (error) {
      this.#o.log.warn({ err: error }, "could not remember an ingested file");
    }
  }

  async #visibility(receipt: string, seconds: number): Promise<void> {
    try {
      await this.#o.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.#o.queueUrl,
          ReceiptHandle: receipt,
          VisibilityTimeout: seconds,
        }),
      );
    } catch (error) {
      this.#o.log.warn({ err: error, seconds }, "ChangeMessageVisibility failed");
    }
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

function destroy(body: unknown): void {
  if (typeof body === "object" && body !== null && "destroy" in body && typeof body.destroy === "function") {
    (body as { destroy: () => void }).destroy();
  }
}

async function* counting(source: AsyncIterable<Uint8Array>, count: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    count(chunk.length);
    yield chunk;
  }
}
