// A signed chain of digests over generated log files, written as CloudTrail writes them, for the
// digest tests: the tests hold the private key, so every signature is real.
import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";
import { gzipSync } from "node:zlib";
import {
  ChainTracker,
  checkDigest,
  type DigestPlace,
  decodeLogFile,
  digestKeyFor,
  digestMetadata,
  fingerprintOf,
  Keyring,
  LogFileHasher,
  logFileDeliveryMs,
  MemoryIntegrityStore,
  type PublicKey,
  parseCloudTrailKey,
  parseDigest,
  parseDigestKey,
  siteOf,
  type TrackerOptions,
  type Verdict,
  type WrittenDigest,
  writeDigest,
} from "../src/index.ts";

export const HOUR = 3_600_000;

export interface TestKey {
  privateKey: KeyObject;
  publicKey: PublicKey;
}

export function testKey(format: "pkcs1" | "spki" = "pkcs1"): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const der = publicKey.export({ format: "der", type: format });
  return { privateKey, publicKey: { fingerprint: fingerprintOf(der), key: publicKey } };
}

export interface LogObject {
  bucket: string;
  key: string;
  body: Buffer;
  sha256: string;
}

export function logObject(bucket: string, place: DigestPlace, at: Date, n: number): LogObject {
  const stamp = at.toISOString().slice(0, 16).replace(/[-:]/g, "");
  const day = at.toISOString().slice(0, 10).replace(/-/g, "/");
  const root = [place.prefix, "AWSLogs", place.organizationId, place.account].filter((p) => p).join("/");
  const key = `${root}/CloudTrail/${place.region}/${day}/${place.account}_CloudTrail_${place.region}_${stamp}Z_u${n}.json.gz`;
  const json = JSON.stringify({
    Records: [
      {
        eventVersion: "1.08",
        eventID: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
        eventTime: at.toISOString().replace(/\.\d{3}Z$/, "Z"),
        eventName: "DescribeInstances",
        eventSource: "ec2.amazonaws.com",
        awsRegion: place.region,
        recipientAccountId: place.account,
      },
    ],
  });
  return { bucket, key, body: gzipSync(json), sha256: createHash("sha256").update(json).digest("hex") };
}

export interface Hour {
  digest: WrittenDigest;
  logs: LogObject[];
}

/** `hours` hourly digests, each listing `filesPerHour` log files delivered in its window. */
export function chain(
  key: TestKey,
  options: { bucket?: string; place?: Partial<DigestPlace>; start?: Date; hours: number; filesPerHour?: number },
): Hour[] {
  const bucket = options.bucket ?? "trail-bucket";
  const place: DigestPlace = {
    prefix: "",
    account: "111122223333",
    region: "us-east-1",
    trail: "main",
    homeRegion: "us-east-1",
    ...options.place,
  };
  let start = options.start ?? new Date("2026-03-01T10:04:31Z");
  let previous: WrittenDigest | null = null;
  const out: Hour[] = [];
  let n = 0;
  for (let h = 0; h < options.hours; h++) {
    const end = new Date(start.getTime() + HOUR);
    const logs = Array.from({ length: options.filesPerHour ?? 3 }, (_, i) =>
      logObject(bucket, place, new Date(start.getTime() + (i + 1) * 60_000 * 7), n++),
    );
    const digest = writeDigest({
      bucket,
      key: digestKeyFor(place, end),
      account: place.account,
      start,
      end,
      previous: previous ? { bucket, key: previous.key, sha256: previous.sha256, signature: previous.signature } : null,
      logFiles: logs.map((l) => ({ s3Bucket: bucket, s3Object: l.key, hashValue: l.sha256, hashAlgorithm: "SHA-256" })),
      fingerprint: key.publicKey.fingerprint,
      privateKey: key.privateKey,
    });
    out.push({ digest, logs });
    previous = digest;
    start = end;
  }
  return out;
}

/** Feeds log files and digests through the tracker as the ingester would. */
export class Harness {
  readonly store = new MemoryIntegrityStore();
  readonly tracker: ChainTracker;
  readonly keys = new Keyring();
  readonly verdicts: Verdict[] = [];

  constructor(keys: PublicKey[], options: TrackerOptions = {}) {
    this.keys.add(keys);
    this.tracker = new ChainTracker(this.store, options);
  }

  async log(file: { bucket: string; key: string; body: Uint8Array }, nowMs: number): Promise<void> {
    const hasher = new LogFileHasher();
    for await (const _ of decodeLogFile(file.body, {}, hasher)) {
      // records flow on; only the hash matters here
    }
    const k = parseCloudTrailKey(file.key);
    if (!k.ok) throw k.error;
    const delivered = logFileDeliveryMs(k.value.fileName);
    if (!delivered.ok) throw delivered.error;
    const result = await hasher.result();
    this.verdicts.push(
      ...(await this.tracker.logFile(
        {
          bucket: file.bucket,
          key: file.key,
          site: siteOf(file.bucket, k.value.location),
          ...(result ? { sha256: result.sha256 } : {}),
          trailingBytes: result?.trailingBytes ?? 0,
          deliveredMs: delivered.value,
          seenMs: nowMs,
        },
        nowMs,
      )),
    );
  }

  async digest(
    d: { bucket: string; key: string; body: Uint8Array; signature?: string },
    nowMs: number,
    metadata?: Record<string, string>,
  ): Promise<void> {
    const at = parseDigestKey(d.bucket, d.key);
    if (!at.ok) throw at.error;
    const parsed = parseDigest(d.body);
    if (!parsed.ok) throw parsed.error;
    const meta = digestMetadata(metadata ?? { signature: d.signature ?? "", "signature-algorithm": "SHA256withRSA" });
    const check = checkDigest(at.value, parsed.value, meta, this.keys);
    this.verdicts.push(...(await this.tracker.digest(at.value, parsed.value, check, nowMs)));
  }

  async tick(nowMs: number): Promise<void> {
    this.verdicts.push(...(await this.tracker.tick(nowMs)));
  }

  kinds(): string[] {
    return this.verdicts.filter((v) => v.kind !== "valid").map((v) => v.kind);
  }

  valid(): number {
    return this.verdicts.filter((v) => v.kind === "valid").length;
  }
}

/** Delivers a chain as CloudTrail would: each hour's log files, then its digest a few minutes after its end. */
export async function deliver(h: Harness, hours: Hour[], skip: { logs?: Set<string>; digests?: Set<string> } = {}) {
  for (const hour of hours) {
    for (const log of hour.logs) {
      if (!skip.logs?.has(log.key)) await h.log(log, logFileDeliveryMsOf(log.key) + 30_000);
    }
    const endMs = Date.parse(hour.digest.endTime);
    if (!skip.digests?.has(hour.digest.key)) await h.digest(hour.digest, endMs + 5 * 60_000);
    await h.tick(endMs + 10 * 60_000);
  }
}

function logFileDeliveryMsOf(key: string): number {
  const got = logFileDeliveryMs(key.split("/").at(-1) as string);
  if (!got.ok) throw got.error;
  return got.value;
}
