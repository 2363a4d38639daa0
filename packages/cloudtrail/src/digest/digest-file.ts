// A CloudTrail digest file: where it lives (its key names the chain), and its JSON, read from the
// exact decompressed bytes, which are what the signature covers. A re-serialised digest
// (`\/` written as `/`, say) hashes differently and so fails its signature, as it should.
import { createHash } from "node:crypto";
import { DecodeError } from "../errors.ts";
import { inflateFirstMemberSync } from "../gzip-member.ts";
import { parseCloudTrailKey } from "../keys.ts";
import { isGzip } from "../log-file.ts";
import { fail, ok, type Result } from "../result.ts";

/** One digest chain: CloudTrail chains each (account, trail, delivering Region, home Region) apart, backfill apart. */
export interface DigestKey {
  bucket: string;
  key: string;
  /** The folder of the trail's files up to `AWSLogs/[ORG/]ACCOUNT`, with the bucket: where its log files live too. */
  site: string;
  accountId: string;
  organizationId?: string;
  /** The Region that delivered the digest: its public key is looked up there. */
  deliveringRegion: string;
  trail: string;
  homeRegion: string;
  /** `digestEndTime` as the key writes it, in ms. */
  endMs: number;
  backfill: boolean;
  /** The chain's id: every digest of one chain has the same. */
  chain: string;
}

const DIGEST_NAME =
  /^(\d{12})_CloudTrail-Digest_([a-z0-9-]+)_(.+)_([a-z]{2,}(?:-[a-z0-9]+)+)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(_backfill)?\.json\.gz$/;

export function parseDigestKey(bucket: string, key: string): Result<DigestKey> {
  const parsed = parseCloudTrailKey(key);
  if (!parsed.ok) return parsed;
  const k = parsed.value;
  const bad = (message: string) => fail<DigestKey>(new DecodeError("shape", `not a digest key: ${message}`, key));
  if (k.kind !== "digest") return bad("not under CloudTrail-Digest/");
  const m = DIGEST_NAME.exec(k.fileName);
  if (!m) return bad("the file name is not ACCOUNT_CloudTrail-Digest_REGION_TRAIL_HOMEREGION_TIME.json.gz");
  const [, account, region, trail, homeRegion, y, mo, d, h, mi, s, backfill] = m as unknown as string[];
  if (account !== k.accountId || region !== k.region)
    return bad("the file name's account or Region is not its folder's");
  const endMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const site = siteOf(bucket, k.location);
  const kind = backfill ? "backfill" : "regular";
  return ok({
    bucket,
    key,
    site,
    accountId: k.accountId,
    ...(k.organizationId ? { organizationId: k.organizationId } : {}),
    deliveringRegion: k.region,
    trail: trail as string,
    homeRegion: homeRegion as string,
    endMs,
    backfill: Boolean(backfill),
    chain: `${site}|${trail}|${k.region}|${homeRegion}|${kind}`,
  });
}

/** `bucket/[prefix/]AWSLogs/[org/]account|region`: log files and digests of one place share it. */
export function siteOf(bucket: string, location: string): string {
  // location ends with /CloudTrail[-Digest]/REGION
  const parts = location.split("/");
  const region = parts.pop();
  parts.pop();
  return `${bucket}/${parts.join("/")}|${region}`;
}

export interface DigestLogFile {
  s3Bucket: string;
  s3Object: string;
  hashValue: string;
  hashAlgorithm: string;
  newestEventTime?: string;
  oldestEventTime?: string;
}

export interface DigestBody {
  awsAccountId: string;
  digestStartTime: string;
  digestEndTime: string;
  digestS3Bucket: string;
  digestS3Object: string;
  digestPublicKeyFingerprint: string;
  digestSignatureAlgorithm: string;
  newestEventTime: string | null;
  oldestEventTime: string | null;
  previousDigestS3Bucket: string | null;
  previousDigestS3Object: string | null;
  previousDigestHashValue: string | null;
  previousDigestHashAlgorithm: string | null;
  previousDigestSignature: string | null;
  logFiles: DigestLogFile[];
}

export interface ParsedDigest {
  body: DigestBody;
  /** Lowercase hex SHA-256 of the decompressed bytes, as signed and as the next digest chains it. */
  sha256: string;
  trailingBytes: number;
}

export interface DigestLimits {
  /** Default 16 MiB: an hour of a busy trail lists a few thousand files, a few MB. */
  maxCompressedBytes?: number;
  /** Default 64 MiB. */
  maxDecompressedBytes?: number;
}

const HEX64 = /^[0-9a-f]{64}$/i;
const FINGERPRINT = /^[0-9a-f]{32}$/i;

export function parseDigest(bytes: Uint8Array, limits: DigestLimits = {}): Result<ParsedDigest> {
  const maxIn = limits.maxCompressedBytes ?? 16 * 1024 ** 2;
  const maxOut = limits.maxDecompressedBytes ?? 64 * 1024 ** 2;
  if (bytes.length > maxIn) return fail(new DecodeError("too-large", `the digest is larger than ${maxIn} bytes`));
  if (!isGzip(bytes)) return fail(new DecodeError("gzip", "the digest is not gzip"));
  let inflated: Buffer;
  let trailingBytes: number;
  try {
    const [out, end] = inflateFirstMemberSync(bytes, maxOut);
    inflated = out;
    trailingBytes = end.trailingBytes;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof RangeError) {
      return fail(new DecodeError("too-large", `the digest decompresses to more than ${maxOut} bytes`));
    }
    return fail(new DecodeError("gzip", `the digest's gzip stream is corrupt or cut short: ${message}`));
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(inflated));
  } catch (error) {
    return fail(new DecodeError("json", `the digest is not JSON: ${error instanceof Error ? error.message : error}`));
  }
  const body = checkBody(json);
  if (!body.ok) return body;
  return ok({ body: body.value, sha256: createHash("sha256").update(inflated).digest("hex"), trailingBytes });
}

function checkBody(json: unknown): Result<DigestBody> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return fail(new DecodeError("shape", "the digest is not a JSON object", "$"));
  }
  const o = json as Record<string, unknown>;
  const field = (name: string, message: string) => fail<DigestBody>(new DecodeError("field", message, `$.${name}`));
  for (const name of [
    "awsAccountId",
    "digestStartTime",
    "digestEndTime",
    "digestS3Bucket",
    "digestS3Object",
    "digestPublicKeyFingerprint",
  ]) {
    if (typeof o[name] !== "string" || o[name] === "") return field(name, `${name} is missing or not a string`);
  }
  for (const name of ["digestStartTime", "digestEndTime"]) {
    if (Number.isNaN(Date.parse(o[name] as string))) return field(name, `${name} is not a time`);
  }
  if (!FINGERPRINT.test(o.digestPublicKeyFingerprint as string)) {
    return field("digestPublicKeyFingerprint", "digestPublicKeyFingerprint is not 32 hex characters");
  }
  // validate-logs requires the key present even when null (a starting digest).
  if (!("previousDigestSignature" in o)) return field("previousDigestSignature", "previousDigestSignature is missing");
  for (const name of [
    "previousDigestS3Bucket",
    "previousDigestS3Object",
    "previousDigestHashValue",
    "previousDigestHashAlgorithm",
    "previousDigestSignature",
    "newestEventTime",
    "oldestEventTime",
  ]) {
    const v = o[name];
    if (v !== undefined && v !== null && typeof v !== "string") return field(name, `${name} is not a string or null`);
  }
  if (!Array.isArray(o.logFiles)) return field("logFiles", "logFiles is missing or not an array");
  for (const [i, f] of o.logFiles.entries()) {
    const where = `logFiles[${i}]`;
    if (typeof f !== "object" || f === null) return field(where, `${where} is not an object`);
    const e = f as Record<string, unknown>;
    for (const name of ["s3Bucket", "s3Object", "hashValue"]) {
      if (typeof e[name] !== "string" || e[name] === "")
        return field(`${where}.${name}`, `${where}.${name} is missing`);
    }
    if (!HEX64.test(e.hashValue as string)) return field(`${where}.hashValue`, `${where}.hashValue is not a SHA-256`);
    if (e.hashAlgorithm !== undefined && e.hashAlgorithm !== "SHA-256") {
      return field(`${where}.hashAlgorithm`, `${where}.hashAlgorithm ${String(e.hashAlgorithm)} is not SHA-256`);
    }
  }
  const s = (name: string) => (typeof o[name] === "string" ? (o[name] as string) : null);
  return ok({
    awsAccountId: o.awsAccountId as string,
    digestStartTime: o.digestStartTime as string,
    digestEndTime: o.digestEndTime as string,
    digestS3Bucket: o.digestS3Bucket as string,
    digestS3Object: o.digestS3Object as string,
    digestPublicKeyFingerprint: (o.digestPublicKeyFingerprint as string).toLowerCase(),
    digestSignatureAlgorithm: s("digestSignatureAlgorithm") ?? "SHA256withRSA",
    newestEventTime: s("newestEventTime"),
    oldestEventTime: s("oldestEventTime"),
    previousDigestS3Bucket: s("previousDigestS3Bucket"),
    previousDigestS3Object: s("previousDigestS3Object"),
    previousDigestHashValue: s("previousDigestHashValue"),
    previousDigestHashAlgorithm: s("previousDigestHashAlgorithm"),
    previousDigestSignature: s("previousDigestSignature"),
    logFiles: o.logFiles as DigestLogFile[],
  });
}
