// Kinesis enhanced fan-out: the stream consumer (RegisterStreamConsumer, idempotent by name) and
// SubscribeToShard over HTTP/2, answered as an AWS event stream. The SDK's own SubscribeToShard
// fails against kinesis-local's HTTP/2 listener (a protocol error before the first event), so this
// module speaks it directly with node:http2: a SigV4-signed POST, then event-stream messages decoded
// as they arrive. Leases and checkpoints stay with the caller (kinesis.ts), as for polling.
import { createHash, createHmac } from "node:crypto";
import http2 from "node:http2";
import { crc32 } from "node:zlib";
import {
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  RegisterStreamConsumerCommand,
} from "@aws-sdk/client-kinesis";
import { errorName, sleep } from "../../util.ts";

export interface FanOutRecord {
  SequenceNumber: string;
  Data: Uint8Array;
  PartitionKey?: string;
  ApproximateArrivalTimestamp?: Date;
}

export interface ShardEvent {
  records: FanOutRecord[];
  continuationSequenceNumber: string | null;
  millisBehindLatest: number;
  /** Set once a closed shard was read to its end. */
  childShards: string[];
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SubscribeTarget {
  /** https:// URL of the Kinesis endpoint that speaks HTTP/2. */
  endpoint: string;
  region: string;
  credentials: () => Promise<Credentials>;
  /** false only for emulators with a self-signed certificate (kinesis-local). */
  verifyTls: boolean;
}

export type StartingPosition =
  | { Type: "TRIM_HORIZON" | "LATEST" }
  | { Type: "AFTER_SEQUENCE_NUMBER" | "AT_SEQUENCE_NUMBER"; SequenceNumber: string }
  | { Type: "AT_TIMESTAMP"; Timestamp: number };

/** An error the service answered in the event stream, or with an HTTP status. */
export class FanOutError extends Error {
  override readonly name: string;
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

// --- SigV4 ---------------------------------------------------------------------------------------

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

/** The headers of a signed Kinesis JSON request (POST /). */
export function signedHeaders(
  url: URL,
  target: string,
  body: string,
  region: string,
  creds: Credentials,
  now = new Date(),
): Record<string, string> {
  const amzDate = now.toISOString().replace(/[:-]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    "content-type": "application/x-amz-json-1.1",
    host: url.host,
    "x-amz-date": amzDate,
    "x-amz-target": `Kinesis_20131202.${target}`,
  };
  if (creds.sessionToken) headers["x-amz-security-token"] = creds.sessionToken;
  const names = Object.keys(headers).sort();
  const canonical = [
    "POST",
    url.pathname || "/",
    "",
    ...names.map((n) => `${n}:${headers[n]}`),
    "",
    names.join(";"),
    sha256(body),
  ].join("\n");
  const scope = `${day}/${region}/kinesis/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), region), "kinesis"), "aws4_request");
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  const { host: _host, ...rest } = headers;
  return {
    ...rest,
    authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`,
  };
}

// --- event stream --------------------------------------------------------------------------------

export interface StreamMessage {
  headers: Record<string, string | number | boolean | Buffer>;
  payload: Buffer;
}

/** Splits a byte stream into event-stream messages, checking both checksums. */
export class EventStreamDecoder {
  #buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): StreamMessage[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const out: StreamMessage[] = [];
    while (this.#buffer.length >= 12) {
      const total = this.#buffer.readUInt32BE(0);
      if (total < 16) throw new FanOutError("EventStreamError", `an event-stream message of ${total} bytes`);
      if (this.#buffer.length < total) break;
      const message = this.#buffer.subarray(0, total);
      this.#buffer = this.#buffer.subarray(total);
      if (crc32(message.subarray(0, 8)) !== message.readUInt32BE(8))
        throw new FanOutError("EventStreamError", "event-stream prelude checksum mismatch");
      if (crc32(message.subarray(0, total - 4)) !== message.readUInt32BE(total - 4))
        throw new FanOutError("EventStreamError", "event-stream message checksum mismatch");
      const headersLength = message.readUInt32BE(4);
      out.push({
        headers: decodeHeaders(message.subarray(12, 12 + headersLength)),
        payload: message.subarray(12 + headersLength, total - 4),
      });
    }
    return out;
  }
}

function decodeHeaders(bytes: Buffer): StreamMessage["headers"] {
  const headers: StreamMessage["headers"] = {};
  let i = 0;
  while (i < bytes.length) {
    const nameLength = bytes.readUInt8(i);
    const name = bytes.toString("utf8", i + 1, i + 1 + nameLength);
    i += 1 + nameLength;
    const type = bytes.readUInt8(i++);
    switch (type) {
      case 0:
      case 1:
        headers[name] = type === 0;
        break;
      case 2:
        headers[name] = bytes.readInt8(i);
        i += 1;
        break;
      case 3:
        headers[name] = bytes.readInt16BE(i);
        i += 2;
        break;
      case 4:
        headers[name] = bytes.readInt32BE(i);
        i += 4;
        break;
      case 5:
      case 8:
        headers[name] = Number(bytes.readBigInt64BE(i));
        i += 8;
        break;
      case 6:
      case 7: {
        const length = bytes.readUInt16BE(i);
        const value = bytes.subarray(i + 2, i + 2 + length);
        headers[name] = type === 7 ? value.toString("utf8") : Buffer.from(value);
        i += 2 + length;
        break;
      }
      case 9:
        headers[name] = Buffer.from(bytes.subarray(i, i + 16));
        i += 16;
        break;
      default:
        throw new FanOutError("EventStreamError", `event-stream header "${name}" of unknown type ${type}`);
    }
  }
  return headers;
}

interface WireRecord {
  SequenceNumber?: string;
  Data?: string;
  PartitionKey?: string;
  ApproximateArrivalTimestamp?: number;
}

/** A SubscribeToShardEvent, an exception (thrown), or null for anything else (initial-response). */
export function shardEvent(message: StreamMessage): ShardEvent | null {
  const type = message.headers[":message-type"];
  if (type === "exception" || type === "error") {
    const name = String(message.headers[":exception-type"] ?? message.headers[":error-code"] ?? "InternalFailure");
    let text = String(message.headers[":error-message"] ?? "");
    try {
      text ||= String((JSON.parse(message.payload.toString("utf8")) as { message?: string }).message ?? "");
    } catch {}
    throw new FanOutError(name, text || name);
  }
  if (message.headers[":event-type"] !== "SubscribeToShardEvent") return null;
  const body = JSON.parse(message.payload.toString("utf8")) as {
    Records?: WireRecord[];
    ContinuationSequenceNumber?: string | null;
    MillisBehindLatest?: number;
    ChildShards?: { ShardId?: string }[] | null;
  };
  return {
    records: (body.Records ?? []).map((r) => ({
      SequenceNumber: r.SequenceNumber ?? "",
      Data: Buffer.from(r.Data ?? "", "base64"),
      ...(r.PartitionKey === undefined ? {} : { PartitionKey: r.PartitionKey }),
      ...(r.ApproximateArrivalTimestamp === undefined
        ? {}
        : { ApproximateArrivalTimestamp: new Date(r.ApproximateArrivalTimestamp * 1_000) }),
    })),
    continuationSequenceNumber: body.ContinuationSequenceNumber ?? null,
    millisBehindLatest: body.MillisBehindLatest ?? 0,
    childShards: (body.ChildShards ?? []).map((c) => c.ShardId ?? "").filter(Boolean),
  };
}

/**
 * One subscription: the shard's events in order, each handed to `onEvent` (which resolves once its
 * records are durable: the stream waits meanwhile). Resolves when the service ends the subscription
 * (after five minutes) or `signal` aborts; rejects on any error.
 */
export async function subscribeToShard(
  target: SubscribeTarget,
  request: { consumerArn: string; shardId: string; start: StartingPosition },
  onEvent: (event: ShardEvent) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const url = new URL(target.endpoint);
  const body = JSON.stringify({
    ConsumerARN: request.consumerArn,
    ShardId: request.shardId,
    StartingPosition: request.start,
  });
  const headers = signedHeaders(url, "SubscribeToShard", body, target.region, await target.credentials());
  const session = http2.connect(url.origin, { rejectUnauthorized: target.verifyTls });
  const closed = new Promise<void>((resolve) => session.once("close", () => resolve()));
  const abort = () => session.destroy();
  signal.addEventListener("abort", abort, { once: true });
  try {
    const stream = session.request({
      ":method": "POST",
      ":path": url.pathname || "/",
      ...headers,
      "content-length": String(Buffer.byteLength(body)),
    });
    const sessionError = new Promise<never>((_, reject) => session.once("error", reject));
    sessionError.catch(() => {});
    stream.end(body);
    const [status, contentType] = await Promise.race([
      new Promise<[number, string]>((resolve, reject) => {
        stream.once("response", (h) => resolve([Number(h[":status"]), String(h["content-type"] ?? "")]));
        stream.once("error", reject);
      }),
      sessionError,
    ]);
    if (status !== 200 || !contentType.includes("eventstream")) {
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString("utf8");
      let name = `HTTP${status}`;
      let message = text.slice(0, 500);
      try {
        const parsed = JSON.parse(text) as { __type?: string; message?: string; Message?: string };
        name = (parsed.__type ?? name).split("#").pop() ?? name;
        message = parsed.message ?? parsed.Message ?? message;
      } catch {}
      throw new FanOutError(name, `SubscribeToShard answered ${status}: ${message}`);
    }
    const decoder = new EventStreamDecoder();
    for await (const chunk of stream) {
      for (const message of decoder.push(chunk as Buffer)) {
        const event = shardEvent(message);
        if (event) await onEvent(event);
        if (signal.aborted) return;
      }
    }
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  } finally {
    signal.removeEventListener("abort", abort);
    session.close();
    if (!session.destroyed) setTimeout(() => session.destroy(), 1_000).unref();
    await Promise.race([closed, sleep(1_000)]);
  }
}

/**
 * The stream consumer named `name`, registered when missing (registering is idempotent by name: a
 * consumer another replica registered is looked up), once it is ACTIVE.
 */
export async function ensureConsumer(
  client: KinesisClient,
  stream: string,
  name: string,
  signal: AbortSignal,
): Promise<{ streamArn: string; consumerArn: string }> {
  const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }), { abortSignal: signal });
  const streamArn = summary.StreamDescriptionSummary?.StreamARN;
  if (!streamArn) throw new Error(`DescribeStreamSummary ${stream} gave no StreamARN`);
  let consumerArn: string | undefined;
  try {
    const out = await client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: name }), {
      abortSignal: signal,
    });
    consumerArn = out.Consumer?.ConsumerARN;
  } catch (error) {
    if (errorName(error) !== "ResourceInUseException") throw error;
  }
  for (let attempt = 0; ; attempt++) {
    const out = await client.send(
      new DescribeStreamConsumerCommand(
        consumerArn ? { ConsumerARN: consumerArn } : { StreamARN: streamArn, ConsumerName: name },
      ),
      { abortSignal: signal },
    );
    const d = out.ConsumerDescription;
    consumerArn = d?.ConsumerARN ?? consumerArn;
    if (d?.ConsumerStatus === "ACTIVE" && consumerArn) return { streamArn, consumerArn };
    if (d?.ConsumerStatus === "DELETING")
      throw new FanOutError("ResourceInUseException", `consumer ${name} is being deleted`);
    await sleep(Math.min(500 * 2 ** attempt, 5_000), signal);
    if (signal.aborted) throw new Error("stopped while waiting for the stream consumer");
  }
}
