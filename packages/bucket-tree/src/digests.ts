// The digest chains of the sample tree: for every trail, account and delivering Region, hourly
// digests signed with a key generated for the run, each signature beside its digest as
// `<digest>.metadata` (the object's S3 metadata, which `aws s3 sync` does not copy), and the
// public key at the root as `public-keys.json`, in the shape `aws cloudtrail list-public-keys` prints.
import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  type CloudTrailRecord,
  type DigestPlace,
  digestKeyFor,
  fingerprintOf,
  publicKeyListEntry,
  type WrittenDigest,
  writeDigest,
} from "@trailstream/cloudtrail";
import type { TrailSpec } from "./trails.ts";

export interface DigestOptions {
  /** Edit one log file after its digest hashed it, and delete one digest. */
  tamper?: boolean;
}

export interface DeliveredFile {
  trail: TrailSpec;
  account: string;
  region: string;
  /** Relative to the tree's root: `BUCKET/[prefix/]AWSLogs/...`. */
  key: string;
  /** The decompressed bytes. */
  body: Buffer;
  deliveryMs: number;
  records: readonly CloudTrailRecord[];
}

export interface IntegrityTruth {
  digests: number;
  logFilesListed: number;
  publicKeyFingerprint: string;
  /** What `scan --validate` must find (nothing when not tampered). */
  expected: { kind: string; bucket: string; key: string }[];
}

const HOUR = 3_600_000;

export async function writeDigestChains(
  outDir: string,
  files: readonly DeliveredFile[],
  options: DigestOptions & { firstDelivery: number; lastDelivery: number },
): Promise<IntegrityTruth> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const fingerprint = fingerprintOf(publicKey.export({ format: "der", type: "pkcs1" }));
  // Digest hours are not clock hours: CloudTrail's start at the minute and second validation was turned on.
  const first = Math.floor(options.firstDelivery / HOUR) * HOUR - 2 * HOUR + (4 * 60 + 31) * 1000;
  const truth: IntegrityTruth = { digests: 0, logFilesListed: 0, publicKeyFingerprint: fingerprint, expected: [] };
  const chains = new Map<string, { trail: TrailSpec; account: string; region: string; files: DeliveredFile[] }>();
  for (const f of files) {
    const id = `${f.trail.name}|${f.account}|${f.region}`;
    const chain = chains.get(id) ?? { trail: f.trail, account: f.account, region: f.region, files: [] };
    chain.files.push(f);
    chains.set(id, chain);
  }
  const written: { chain: string; digests: WrittenDigest[] }[] = [];
  for (const [id, chain] of [...chains].sort(([a], [b]) => a.localeCompare(b))) {
    const { trail, account, region } = chain;
    const place: DigestPlace = {
      prefix: trail.prefix,
      ...(trail.organizationId ? { organizationId: trail.organizationId } : {}),
      account,
      region,
      trail: trail.name,
      homeRegion: trail.regions[0] ?? region,
    };
    const digests: WrittenDigest[] = [];
    let previous: WrittenDigest | null = null;
    for (let start = first; start <= options.lastDelivery; start += HOUR) {
      const end = start + HOUR;
      const listed = chain.files.filter((f) => f.deliveryMs >= start && f.deliveryMs < end);
      const digest: WrittenDigest = writeDigest({
        bucket: trail.bucket,
        key: digestKeyFor(place, new Date(end)),
        account,
        start: new Date(start),
        end: new Date(end),
        previous: previous
          ? { bucket: trail.bucket, key: previous.key, sha256: previous.sha256, signature: previous.signature }
          : null,
        logFiles: listed.map((f) => ({
          s3Bucket: trail.bucket,
          s3Object: withoutBucket(f.key),
          hashValue: createHash("sha256").update(f.body).digest("hex"),
          hashAlgorithm: "SHA-256",
          ...eventTimes(f.records),
        })),
        fingerprint,
        privateKey,
      });
      const path = join(outDir, trail.bucket, digest.key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, digest.body);
      await writeFile(
        `${path}.metadata`,
        `${JSON.stringify({ signature: digest.signature, "signature-algorithm": "SHA256withRSA" })}\n`,
      );
      truth.digests++;
      truth.logFilesListed += listed.length;
      digests.push(digest);
      previous = digest;
    }
    written.push({ chain: id, digests });
  }
  const now = Date.now();
  await writeFile(
    join(outDir, "public-keys.json"),
    `${JSON.stringify(
      {
        PublicKeyList: [
          publicKeyListEntry(
            publicKey,
            new Date(Math.min(first, now) - 30 * 86_400_000),
            new Date(Math.max(first, now) + 30 * 86_400_000),
          ),
        ],
      },
      null,
      2,
    )}\n`,
  );
  if (options.tamper) {
    const edited = [...files].sort((a, b) => a.key.localeCompare(b.key))[0];
    if (edited) {
      // What an intruder does: take their own event out of the file.
      await writeFile(join(outDir, edited.key), gzipSync(JSON.stringify({ Records: edited.records.slice(1) })));
      truth.expected.push({ kind: "hash-mismatch", bucket: edited.trail.bucket, key: withoutBucket(edited.key) });
    }
    const chain = written.find((w) => w.digests.length >= 3);
    const deleted = chain?.digests[1];
    if (deleted) {
      const path = join(outDir, deleted.bucket, deleted.key);
      await rm(path);
      await rm(`${path}.metadata`);
      truth.digests--;
      truth.expected.push({ kind: "digest-missing", bucket: deleted.bucket, key: deleted.key });
    }
  }
  return truth;
}

function withoutBucket(key: string): string {
  return key.slice(key.indexOf("/") + 1);
}

function eventTimes(records: readonly CloudTrailRecord[]): { oldestEventTime?: string; newestEventTime?: string } {
  const times = records.map((r) => String(r.eventTime)).sort();
  const oldest = times[0];
  const newest = times.at(-1);
  return oldest && newest ? { oldestEventTime: oldest, newestEventTime: newest } : {};
}
