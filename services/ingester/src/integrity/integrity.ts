// Log file integrity in the ingester: log files' hashes (taken while they were decoded) and
// digests go through the chain tracker, whose state is in Redis; verdicts go to a Redis outbox
// first, so a verdict reached is never lost to a Kafka hiccup, and from there to the integrity
// topic. Events are never held back for their digest: the verdict follows them.
import {
  ChainTracker,
  checkDigest,
  type DigestKey,
  type DigestMetadata,
  Keyring,
  keyLookupMs,
  type LogFileHash,
  logFileDeliveryMs,
  parseCloudTrailKey,
  parseDigest,
  parseDigestKey,
  type Result,
  siteOf,
  type TrackerOptions,
  type Verdict,
} from "@trailstream/cloudtrail";
import type { Producer } from "@trailstream/kafka";
import { replyList } from "@trailstream/redis";
import type { Logger } from "@trailstream/runtime";
import type { IngesterRedis } from "../leases.ts";
import type { IngesterMetrics } from "../metrics.ts";
import type { PublicKeySource } from "./public-keys.ts";
import { RedisIntegrityStore } from "./redis-store.ts";

export interface IntegrityOptions extends TrackerOptions {
  redis: IngesterRedis;
  redisPrefix: string;
  keys: PublicKeySource;
  producer: Producer;
  topic: string;
  /** How often time-based verdicts are looked for and the outbox drained, ms. */
  tickMs: number;
  metrics?: IngesterMetrics;
  log: Logger;
  now?: () => number;
}

/** Why a digest could not be judged: the caller dead-letters it with this reason. */
export interface DigestRejection {
  reason: `digest-${string}`;
  message: string;
}

const OUTBOX_BATCH = 200;

export class Integrity {
  readonly #o: IntegrityOptions;
  readonly #tracker: ChainTracker;
  readonly #now: () => number;
  readonly #outbox: string;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  /** Chains (trail and Region) this process has counted a verdict for. */
  readonly #chainsCounted = new Set<string>();

  constructor(options: IntegrityOptions) {
    this.#o = options;
    this.#tracker = new ChainTracker(new RedisIntegrityStore(options.redis, options.redisPrefix), options);
    this.#now = options.now ?? Date.now;
    this.#outbox = `${options.redisPrefix}integrity:outbox`;
  }

  /** A log file was read to the end (hash) or not (undefined). */
  async logFile(bucket: string, key: string, hash: LogFileHash | undefined): Promise<void> {
    const parsed = parseCloudTrailKey(key);
    if (!parsed.ok || parsed.value.kind !== "log") return;
    const delivered = logFileDeliveryMs(parsed.value.fileName);
    if (!delivered.ok) return;
    const now = this.#now();
    await this.#emit(
      await this.#tracker.logFile(
        {
          bucket,
          key,
          site: siteOf(bucket, parsed.value.location),
          ...(hash ? { sha256: hash.sha256 } : {}),
          trailingBytes: hash?.trailingBytes ?? 0,
          deliveredMs: delivered.value,
          seenMs: now,
        },
        now,
      ),
    );
  }

  /** A digest object was fetched, with its S3 metadata. */
  async digest(
    bucket: string,
    key: string,
    body: Uint8Array,
    metadata: DigestMetadata,
  ): Promise<DigestRejection | undefined> {
    const at = parseDigestKey(bucket, key);
    if (!at.ok) return { reason: "digest-shape", message: `s3://${bucket}/${key}: ${at.error.message}` };
    const parsed = parseDigest(body);
    if (!parsed.ok) {
      const message = `s3://${bucket}/${key}: ${parsed.error.message}`;
      await this.#emit([this.#invalid(at.value, message)]);
      return { reason: `digest-${parsed.error.code}`, message };
    }
    const keys = new Keyring();
    const found = await this.#o.keys.find(
      parsed.value.body.digestPublicKeyFingerprint,
      at.value.deliveringRegion,
      keyLookupMs(at.value, metadata),
    );
    if (found) keys.add([found]);
    const check = checkDigest(at.value, parsed.value, metadata, keys);
    await this.#emit(await this.#tracker.digest(at.value, parsed.value, check, this.#now()));
    return undefined;
  }

  /** A digest was announced but is gone from the bucket. */
  async digestGone(bucket: string, key: string): Promise<Result<void>> {
    const at = parseDigestKey(bucket, key);
    if (!at.ok) return at;
    await this.#emit(await this.#tracker.digestGone(at.value, this.#now()));
    return { ok: true, value: undefined };
  }

  start(): void {
    const loop = () => {
      this.#ticking = this.tick()
        .catch((error: unknown) => this.#o.log.warn({ err: error }, "integrity tick failed; trying again"))
        .finally(() => {
          if (this.#timer !== undefined) this.#timer = setTimeout(loop, this.#o.tickMs);
        });
    };
    this.#timer = setTimeout(loop, this.#o.tickMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
    await this.drain().catch((error: unknown) => this.#o.log.warn({ err: error }, "integrity outbox not drained"));
  }

  /** Time-based verdicts, then the outbox to Kafka. */
  async tick(): Promise<void> {
    const now = this.#now();
    await this.#emit(await this.#tracker.tick(now));
    await this.drain();
    this.#o.metrics?.integrityUnverifiedFiles.set(await this.#tracker.unverified());
  }

  /** Moves the outbox to the integrity topic; one replica at a time, so no verdict is sent twice. */
  async drain(): Promise<number> {
    const lock = `${this.#outbox}:lock`;
    if ((await this.#o.redis.command(["SET", lock, "1", "NX", "PX", "30000"])) === null) return 0;
    let sent = 0;
    try {
      for (;;) {
        const raw = replyList(
          await this.#o.redis.command(["LRANGE", this.#outbox, "0", String(OUTBOX_BATCH - 1)]),
        ).filter((v): v is string => v !== null);
        if (raw.length === 0) break;
        const verdicts = raw.map((r) => JSON.parse(r) as Verdict);
        await this.#o.producer.send(
          this.#o.topic,
          verdicts.map((v, i) => ({ key: v.chain ?? v.bucket, value: raw[i] as string })),
        );
        await this.#o.redis.command(["LTRIM", this.#outbox, String(raw.length), "-1"]);
        sent += raw.length;
        for (const v of verdicts) this.#count(v);
      }
    } finally {
      await this.#o.redis.command(["DEL", lock]);
    }
    return sent;
  }

  async #emit(verdicts: Verdict[]): Promise<void> {
    if (verdicts.length === 0) return;
    await this.#o.redis.command(["RPUSH", this.#outbox, ...verdicts.map((v) => JSON.stringify(v))]);
    for (const v of verdicts) {
      if (v.kind !== "valid") this.#o.log.warn({ verdict: v.kind, bucket: v.bucket, key: v.key }, v.message);
    }
  }

  #count(v: Verdict): void {
    const m = this.#o.metrics;
    if (!m) return;
    const chain = { trail: v.trail ?? "", region: v.region ?? "" };
    const seen = `${chain.trail}\n${chain.region}`;
    if (!this.#chainsCounted.has(seen)) {
      // A series born with its first increment shows Prometheus no increase: start the one the
      // digests-stopped alert reads at 0 with the chain's first (usually valid) verdict.
      this.#chainsCounted.add(seen);
      m.integrityVerdicts.inc({ kind: "digests-stopped", ...chain }, 0);
    }
    m.integrityVerdicts.inc({ kind: v.kind, ...chain });
    if (v.deliveredAt) {
      const seconds = (Date.parse(v.at) - Date.parse(v.deliveredAt)) / 1000;
      if (seconds >= 0) m.integrityVerdictSeconds.observe({ kind: v.kind }, seconds);
    }
  }

  #invalid(at: DigestKey, message: string): Verdict {
    return {
      v: 1,
      id: `digest-invalid:${at.bucket}/${at.key}`,
      kind: "digest-invalid",
      subject: "digest",
      bucket: at.bucket,
      key: at.key,
      chain: at.chain,
      trail: at.trail,
      account: at.accountId,
      region: at.deliveringRegion,
      message,
      at: new Date(this.#now()).toISOString(),
    };
  }
}
