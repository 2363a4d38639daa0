// The checks on one digest that need nothing but the digest and a key: read where it was meant to
// be, signed by the key its fingerprint names, over the exact bytes that were read.
import { DecodeError } from "../errors.ts";
import { fail, ok, type Result } from "../result.ts";
import type { DigestKey, ParsedDigest } from "./digest-file.ts";
import { type Keyring, stringToSign, verifySignature } from "./signing.ts";
import type { VerdictKind } from "./verdict.ts";

/** The S3 user metadata CloudTrail writes with a digest (keys without `x-amz-meta-`). */
export interface DigestMetadata {
  signature?: string;
  "signature-algorithm"?: string;
  "backfill-generation-timestamp"?: string;
}

export interface DigestProblem {
  kind: VerdictKind;
  message: string;
}

export interface DigestCheck {
  /** True when its list of log files can be believed: signed by a known key, where it belongs. */
  trusted: boolean;
  problems: DigestProblem[];
  /** The hex signature from the metadata ('' when none): the next digest embeds it. */
  signature: string;
}

export function checkDigest(at: DigestKey, digest: ParsedDigest, metadata: DigestMetadata, keys: Keyring): DigestCheck {
  const problems: DigestProblem[] = [];
  const b = digest.body;
  if (b.digestS3Bucket !== at.bucket || b.digestS3Object !== at.key) {
    problems.push({
      kind: "digest-moved",
      message: `the digest says it belongs at s3://${b.digestS3Bucket}/${b.digestS3Object}, not where it was read`,
    });
  }
  if (digest.trailingBytes > 0) {
    problems.push({
      kind: "trailing-data",
      message: `${digest.trailingBytes} bytes follow the end of the digest's gzip stream`,
    });
  }
  const signature = metadata.signature?.trim();
  const algorithm = metadata["signature-algorithm"];
  const key = keys.get(b.digestPublicKeyFingerprint);
  if (!signature) {
    problems.push({ kind: "signature-invalid", message: "the digest object has no signature metadata" });
  } else if (algorithm !== undefined && algorithm !== "SHA256withRSA") {
    problems.push({ kind: "signature-invalid", message: `unsupported signature algorithm ${algorithm}` });
  } else if (!key) {
    problems.push({
      kind: "unknown-key",
      message: `no public key in ${at.deliveringRegion} has fingerprint ${b.digestPublicKeyFingerprint}`,
    });
  } else if (!verifySignature(stringToSign(b, digest.sha256), signature, key.key)) {
    problems.push({ kind: "signature-invalid", message: "the digest's signature does not verify" });
  }
  if (at.backfill && !metadata["backfill-generation-timestamp"]) {
    problems.push({
      kind: "digest-invalid",
      message: "a backfill digest without its backfill-generation-timestamp metadata",
    });
  }
  // Trailing bytes or a missing backfill timestamp leave the signed listing intact; these do not.
  const untrusting = new Set<VerdictKind>(["digest-moved", "signature-invalid", "unknown-key"]);
  return {
    trusted: !problems.some((p) => untrusting.has(p.kind)),
    problems,
    signature: signature?.toLowerCase() ?? "",
  };
}

/**
 * The time to ask ListPublicKeys about for a digest's key: its end, or, for a backfill digest, when
 * it was generated (hours later, perhaps with a newer key; validate-logs asks around that time).
 */
export function keyLookupMs(at: DigestKey, metadata: DigestMetadata): number {
  const generated = at.backfill ? Date.parse(metadata["backfill-generation-timestamp"] ?? "") : Number.NaN;
  return Number.isFinite(generated) ? generated : at.endMs;
}

/** S3 metadata as a plain map: header names lower-cased, without the `x-amz-meta-` prefix. */
export function digestMetadata(raw: Record<string, string | undefined> | undefined): DigestMetadata {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    if (v !== undefined) out[k.toLowerCase().replace(/^x-amz-meta-/, "")] = v;
  }
  return out;
}

/** The delivery time a log file's name carries (`..._YYYYMMDDTHHmmZ_unique.json.gz`), in ms. */
export function logFileDeliveryMs(fileName: string): Result<number> {
  const m = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_[^_/]+$/.exec(fileName);
  if (!m) return fail(new DecodeError("shape", "the log file name has no delivery time", fileName));
  const [, y, mo, d, h, mi] = m.map(Number) as number[];
  return ok(Date.UTC(y as number, (mo as number) - 1, d, h, mi));
}
