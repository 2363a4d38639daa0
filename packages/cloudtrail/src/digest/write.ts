// Writes digests as CloudTrail does (compact JSON in its field order, gzipped, signed): for the
// sample tree, tests and benchmarks, which hold a private key of their own.
import { createHash, type KeyObject } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { DigestBody, DigestLogFile } from "./digest-file.ts";
import { signString, stringToSign } from "./signing.ts";

export interface DigestPlace {
  /** `[prefix/]` before AWSLogs, '' for none. */
  prefix: string;
  organizationId?: string;
  account: string;
  /** The delivering Region. */
  region: string;
  trail: string;
  homeRegion: string;
  backfill?: boolean;
}

const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

export function digestKeyFor(place: DigestPlace, end: Date): string {
  const day = end.toISOString().slice(0, 10).replace(/-/g, "/");
  const root = [place.prefix, "AWSLogs", place.organizationId, place.account].filter((p) => p).join("/");
  const suffix = place.backfill ? "_backfill" : "";
  return `${root}/CloudTrail-Digest/${place.region}/${day}/${place.account}_CloudTrail-Digest_${place.region}_${place.trail}_${place.homeRegion}_${stamp(end)}${suffix}.json.gz`;
}

export interface PreviousDigest {
  bucket: string;
  key: string;
  sha256: string;
  signature: string;
}

export interface WrittenDigest {
  bucket: string;
  key: string;
  /** The gzipped object. */
  body: Buffer;
  /** The decompressed JSON, exactly. */
  json: string;
  sha256: string;
  /** Hex, as S3 metadata `signature` keeps it. */
  signature: string;
  endTime: string;
}

export interface DigestInput {
  bucket: string;
  key: string;
  account: string;
  start: Date;
  end: Date;
  previous: PreviousDigest | null;
  logFiles: DigestLogFile[];
  fingerprint: string;
  privateKey: KeyObject;
  /** Writes `/` as `\/` in strings, as at least one real digest does. */
  escapeSlashes?: boolean;
}

const noMillis = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

export function writeDigest(input: DigestInput): WrittenDigest {
  const times = input.logFiles.flatMap((f) => [f.oldestEventTime, f.newestEventTime]).filter((t) => t) as string[];
  times.sort();
  const body: DigestBody = {
    awsAccountId: input.account,
    digestStartTime: noMillis(input.start),
    digestEndTime: noMillis(input.end),
    digestS3Bucket: input.bucket,
    digestS3Object: input.key,
    digestPublicKeyFingerprint: input.fingerprint,
    digestSignatureAlgorithm: "SHA256withRSA",
    newestEventTime: times.at(-1) ?? null,
    oldestEventTime: times[0] ?? null,
    previousDigestS3Bucket: input.previous?.bucket ?? null,
    previousDigestS3Object: input.previous?.key ?? null,
    previousDigestHashValue: input.previous?.sha256 ?? null,
    previousDigestHashAlgorithm: input.previous ? "SHA-256" : null,
    previousDigestSignature: input.previous?.signature ?? null,
    logFiles: input.logFiles,
  };
  let json = JSON.stringify(body);
  if (input.escapeSlashes) json = json.replace(/\//g, "\\/");
  const sha256 = createHash("sha256").update(json).digest("hex");
  const signature = signString(stringToSign(body, sha256), input.privateKey);
  return {
    bucket: input.bucket,
    key: input.key,
    body: gzipSync(json),
    json,
    sha256,
    signature,
    endTime: body.digestEndTime,
  };
}
