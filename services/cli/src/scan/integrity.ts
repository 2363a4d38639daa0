// `scan --validate`: the ingester's chain tracker over a local copy of buckets. Log files are
// hashed as the scan decodes them; digests are read after, oldest first, each with its signature
// from `<digest>.metadata`; then time is let run to the newest digest of the tree plus a quarter
// hour, which is how long CloudTrail takes to deliver one.
import { readFile } from "node:fs/promises";
import {
  ChainTracker,
  checkDigest,
  type DigestMetadata,
  digestMetadata,
  type Keyring,
  type LogFileHash,
  logFileDeliveryMs,
  MemoryIntegrityStore,
  parseCloudTrailKey,
  parseDigest,
  parseDigestKey,
  siteOf,
  VERDICT_KINDS,
  type Verdict,
} from "@trailstream/cloudtrail";
import type { ScanInput } from "./inputs.ts";

export interface IntegrityReport {
  logFilesValid: number;
  digestsValid: number;
  /** Log files read that no digest of the tree covers yet (delivered after its newest digest). */
  logFilesNotYetCovered: number;
  byKind: Record<string, number>;
  /** Every verdict that is not `valid`. */
  problems: Verdict[];
}

const QUARTER_HOUR = 15 * 60_000;

/** The bucket is the first folder: `aws s3 sync s3://BUCKET DIR/BUCKET`, as `trailstream sample` writes. */
export function splitBucket(key: string): { bucket: string; key: string } {
  const at = key.indexOf("/");
  return at < 0 ? { bucket: "", key } : { bucket: key.slice(0, at), key: key.slice(at + 1) };
}

export class ScanIntegrity {
  readonly #store = new MemoryIntegrityStore();
  readonly #tracker = new ChainTracker(this.#store, { unreferencedGraceMs: 0 });
  readonly #keys: Keyring;
  readonly #digests: ScanInput[] = [];
  readonly #verdicts: Verdict[] = [];

  constructor(keys: Keyring) {
    this.#keys = keys;
  }

  addDigest(input: ScanInput): void {
    this.#digests.push(input);
  }

  /** A log file was read; `hash` is undefined when it could not be read to its end. */
  async logFile(input: ScanInput, hash: LogFileHash | undefined): Promise<void> {
    const { bucket, key } = splitBucket(input.key);
    const parsed = parseCloudTrailKey(key);
    if (!parsed.ok || parsed.value.kind !== "log") return;
    const delivered = logFileDeliveryMs(parsed.value.fileName);
    if (!delivered.ok) return;
    this.#verdicts.push(
      ...(await this.#tracker.logFile(
        {
          bucket,
          key,
          site: siteOf(bucket, parsed.value.location),
          ...(hash ? { sha256: hash.sha256 } : {}),
          trailingBytes: hash?.trailingBytes ?? 0,
          deliveredMs: delivered.value,
          seenMs: delivered.value,
        },
        delivered.value,
      )),
    );
  }

  async finish(): Promise<IntegrityReport> {
    const digests: { input: ScanInput; bucket: string; key: string; endMs: number }[] = [];
    for (const input of this.#digests) {
      const { bucket, key } = splitBucket(input.key);
      const at = parseDigestKey(bucket, key);
      if (!at.ok) {
        this.#problem("digest-invalid", bucket, key, at.error.message);
        continue;
      }
      digests.push({ input, bucket, key, endMs: at.value.endMs });
    }
    digests.sort((a, b) => a.endMs - b.endMs || a.key.localeCompare(b.key));
    let newest = 0;
    for (const d of digests) {
      const at = parseDigestKey(d.bucket, d.key);
      if (!at.ok) continue;
      const nowMs = d.endMs + 5 * 60_000;
      newest = Math.max(newest, d.endMs);
      const bytes = await readFile(d.input.name);
      const parsed = parseDigest(bytes);
      if (!parsed.ok) {
        this.#problem("digest-invalid", d.bucket, d.key, parsed.error.message);
        continue;
      }
      const check = checkDigest(at.value, parsed.value, await readMetadata(d.input.name), this.#keys);
      this.#verdicts.push(...(await this.#tracker.digest(at.value, parsed.value, check, nowMs)));
      // Time passes between digests as it does in the bucket: a listed file missing for the grace is missing.
      // (Whether a chain stopped is judged once, at the end: a later digest may be coming.)
      this.#verdicts.push(...(await this.#tracker.tick(nowMs, { stopped: false })));
    }
    if (newest > 0) this.#verdicts.push(...(await this.#tracker.tick(newest + QUARTER_HOUR)));
    const byKind: Record<string, number> = Object.fromEntries(VERDICT_KINDS.map((k) => [k, 0]));
    for (const v of this.#verdicts) byKind[v.kind] = (byKind[v.kind] ?? 0) + 1;
    return {
      logFilesValid: this.#verdicts.filter((v) => v.kind === "valid" && v.subject === "log-file").length,
      digestsValid: this.#verdicts.filter((v) => v.kind === "valid" && v.subject === "digest").length,
      logFilesNotYetCovered: this.#store.pending.size,
      byKind,
      problems: this.#verdicts.filter((v) => v.kind !== "valid"),
    };
  }

  #problem(kind: "digest-invalid", bucket: string, key: string, message: string): void {
    this.#verdicts.push({
      v: 1,
      id: `${kind}:${bucket}/${key}`,
      kind,
      subject: "digest",
      bucket,
      key,
      message,
      at: new Date().toISOString(),
    });
  }
}

/** The digest object's S3 metadata, kept beside it as `<digest>.metadata` (the JSON `head-object` prints). */
async function readMetadata(path: string): Promise<DigestMetadata> {
  let text: string;
  try {
    text = await readFile(`${path}.metadata`, "utf8");
  } catch {
    return {};
  }
  try {
    const json = JSON.parse(text) as { Metadata?: Record<string, string> } & Record<string, string>;
    // Either the Metadata map itself (`--query Metadata`) or the whole head-object answer.
    return digestMetadata(typeof json.Metadata === "object" ? json.Metadata : json);
  } catch {
    return {};
  }
}
