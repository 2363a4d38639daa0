// The chain tracker: log files seen, digests seen and time passing, turned into verdicts. The state
// lives in a store (process memory for `scan` and tests, Redis for the ingester's replicas), and
// every hand-over between a log file and the digest that lists it is an atomic take, so whichever
// replica sees the second half decides, and exactly one does.
//
// Log files are never held back: a file's hash waits in the store for the digest that lists it,
// and a digest's entries wait for files not seen yet (for `missingGraceMs`). Holes in a chain are
// judged `missingGraceMs` after the digest that reveals them, so a digest that was only late (SQS
// does not keep order) is not called missing.

import type { DigestCheck } from "./check.ts";
import type { DigestKey, ParsedDigest } from "./digest-file.ts";
import type { Verdict, VerdictKind, VerdictSubject } from "./verdict.ts";

export interface PendingFile {
  bucket: string;
  key: string;
  site: string;
  /** undefined when the file could not be read to its end. */
  sha256?: string;
  trailingBytes: number;
  deliveredMs: number;
  /** When it was read: a file read late (a backlog) gets its full grace from then. */
  seenMs: number;
}

export interface ExpectedFile {
  bucket: string;
  key: string;
  sha256: string;
  digestKey: string;
  chain: string;
  deadlineMs: number;
}

export interface SeenDigest {
  key: string;
  startMs: number;
  endMs: number;
  prevKey: string | null;
  prevSignature: string | null;
  prevSha256: string | null;
  signature: string;
  sha256: string;
  seenMs: number;
  /** Notified but no longer in the bucket: already reported missing. */
  gone?: boolean;
  /** Signed by a known key where it belongs: its list of log files counts (absent: trusted). */
  trusted?: boolean;
}

export interface ChainState {
  chain: string;
  site: string;
  bucket: string;
  trail: string;
  account: string;
  region: string;
  backfill: boolean;
  /** The newest digests, oldest first, at most `keepDigests`. */
  digests: SeenDigest[];
  /** The end time of the newest digest whose link to its predecessor was judged. */
  checkedMs: number;
  /** The newest digest's end time when `digests-stopped` was last reported for it. */
  stoppedForMs?: number;
}

export interface IntegrityStore {
  putPending(id: string, file: PendingFile): Promise<void>;
  /** Removes and returns: of two callers, one gets it. */
  takePending(id: string): Promise<PendingFile | undefined>;
  /** Pending files due a look: at first those delivered before `beforeMs`, then as deferred. */
  stalePending(beforeMs: number, limit: number): Promise<PendingFile[]>;
  /**
   * Look at the file again when `stalePending` is asked for files before `checkMs`. `overdue`: its
   * site has digests and it is past the window in which one should have listed it.
   */
  deferPending(id: string, checkMs: number, overdue: boolean): Promise<void>;
  /** Pending files last deferred as overdue (`takePending` ends that). */
  overdueCount(): Promise<number>;
  putExpected(id: string, file: ExpectedFile): Promise<void>;
  takeExpected(id: string): Promise<ExpectedFile | undefined>;
  dueExpected(nowMs: number, limit: number): Promise<ExpectedFile[]>;
  /** Files whose verdict was given; a later copy of their notification is ignored. */
  markResolved(id: string): Promise<void>;
  isResolved(id: string): Promise<boolean>;
  /** Runs `change` on the chain's state with no other change to that chain in between. */
  updateChain<T>(
    chain: string,
    change: (state: ChainState | undefined) => { state: ChainState | undefined; result: T },
  ): Promise<T>;
  chains(): Promise<string[]>;
  /** The newest end time of a trusted digest for log files of `site`. */
  raiseSiteEnd(site: string, endMs: number): Promise<void>;
  siteEnd(site: string): Promise<number | undefined>;
  /** Delivery times whose digest is missing (already reported): their files are not reported again. */
  addSiteHole(site: string, fromMs: number, toMs: number): Promise<void>;
  inSiteHole(site: string, ms: number): Promise<boolean>;
}

export interface TrackerOptions {
  /** How long a digest's listed file, or a chain's previous digest, may arrive after it. Default 2 min. */
  missingGraceMs?: number;
  /** After a digest should have listed a file, how long to wait for a backfill digest. Default 1 h. */
  unreferencedGraceMs?: number;
  /** No digest for this long after a chain's newest digest's end: `digests-stopped`. Default 75 min. */
  stoppedAfterMs?: number;
  /** How long a site's unlisted files are kept before the site counts as unvalidated. Default 24 h. */
  pendingRetentionMs?: number;
  /** Digests remembered per chain. Default 72 (three days of hours). */
  keepDigests?: number;
}

const HOUR = 3_600_000;
const fileId = (bucket: string, key: string) => `${bucket}/${key}`;

export class ChainTracker {
  readonly #store: IntegrityStore;
  readonly #missingGraceMs: number;
  readonly #unreferencedGraceMs: number;
  readonly #stoppedAfterMs: number;
  readonly #retentionMs: number;
  readonly #keep: number;

  constructor(store: IntegrityStore, options: TrackerOptions = {}) {
    this.#store = store;
    this.#missingGraceMs = options.missingGraceMs ?? 2 * 60_000;
    this.#unreferencedGraceMs = options.unreferencedGraceMs ?? HOUR;
    this.#stoppedAfterMs = options.stoppedAfterMs ?? 75 * 60_000;
    this.#retentionMs = options.pendingRetentionMs ?? 24 * HOUR;
    this.#keep = options.keepDigests ?? 72;
  }

  /** A log file was read (and hashed) from `site` (see `siteOf`). */
  async logFile(file: PendingFile, nowMs: number): Promise<Verdict[]> {
    const id = fileId(file.bucket, file.key);
    if (await this.#store.isResolved(id)) return [];
    const expected = await this.#store.takeExpected(id);
    if (expected) return [await this.#resolve(expected, file, nowMs)];
    await this.#store.putPending(id, file);
    // A digest may have expected it in between: whoever takes the pending file decides.
    const late = await this.#store.takeExpected(id);
    if (!late) return [];
    const mine = await this.#store.takePending(id);
    return mine ? [await this.#resolve(late, mine, nowMs)] : [];
  }

  /** A digest was read and checked (see `checkDigest`); `digest` is undefined when it could not be parsed. */
  async digest(at: DigestKey, digest: ParsedDigest, check: DigestCheck, nowMs: number): Promise<Verdict[]> {
    const b = digest.body;
    const seen: SeenDigest = {
      key: at.key,
      startMs: Date.parse(b.digestStartTime),
      endMs: Date.parse(b.digestEndTime),
      prevKey: b.previousDigestS3Object,
      prevSignature: b.previousDigestSignature,
      prevSha256: b.previousDigestHashValue,
      signature: check.signature,
      sha256: digest.sha256,
      seenMs: nowMs,
      trusted: check.trusted,
    };
    const fresh = await this.#store.updateChain(at.chain, (state) => {
      const s = state ?? this.#newChain(at);
      if (s.digests.some((d) => d.key === at.key && !d.gone)) return { state: s, result: false };
      this.#insert(s, seen);
      return { state: s, result: true };
    });
    if (!fresh) return []; // a repeated notification: judged the first time
    const verdicts = check.problems.map((p) => this.#verdict(p.kind, "digest", at, at.key, p.message, nowMs));
    if (!check.trusted) return verdicts;
    if (check.problems.length === 0)
      verdicts.push(this.#verdict("valid", "digest", at, at.key, "digest verified", nowMs));
    for (const listed of b.logFiles) {
      const id = fileId(listed.s3Bucket, listed.s3Object);
      const expected: ExpectedFile = {
        bucket: listed.s3Bucket,
        key: listed.s3Object,
        sha256: listed.hashValue.toLowerCase(),
        digestKey: at.key,
        chain: at.chain,
        deadlineMs: nowMs + this.#missingGraceMs,
      };
      const pending = await this.#store.takePending(id);
      if (pending) {
        verdicts.push(await this.#resolve(expected, pending, nowMs));
        continue;
      }
      await this.#store.putExpected(id, expected);
      const late = await this.#store.takePending(id);
      if (late) {
        await this.#store.takeExpected(id);
        verdicts.push(await this.#resolve(expected, late, nowMs));
      }
    }
    return verdicts;
  }

  /** A digest was announced but is not in the bucket (deleted before it could be read). */
  async digestGone(at: DigestKey, nowMs: number): Promise<Verdict[]> {
    const fresh = await this.#store.updateChain(at.chain, (state) => {
      const s = state ?? this.#newChain(at);
      if (s.digests.some((d) => d.key === at.key)) return { state: s, result: false };
      this.#insert(s, {
        key: at.key,
        startMs: at.endMs - HOUR,
        endMs: at.endMs,
        prevKey: null,
        prevSignature: null,
        prevSha256: null,
        signature: "",
        sha256: "",
        seenMs: nowMs,
        gone: true,
      });
      return { state: s, result: true };
    });
    if (!fresh) return [];
    return [this.#verdict("digest-missing", "digest", at, at.key, "the digest was delivered, then deleted", nowMs)];
  }

  /** What time reveals: listed files that never came, files no digest listed, holes, silent chains. */
  async tick(nowMs: number, options: { limit?: number; stopped?: boolean } = {}): Promise<Verdict[]> {
    const limit = options.limit ?? 1000;
    const verdicts: Verdict[] = [];
    for (const due of await this.#store.dueExpected(nowMs, limit)) {
      const id = fileId(due.bucket, due.key);
      const expected = await this.#store.takeExpected(id);
      if (!expected) continue;
      const pending = await this.#store.takePending(id);
      if (pending) {
        verdicts.push(await this.#resolve(expected, pending, nowMs));
        continue;
      }
      await this.#store.markResolved(id);
      verdicts.push({
        ...this.#fileVerdict("missing-log-file", expected, `listed in ${expected.digestKey}, never delivered`, nowMs),
      });
    }
    // Chains first: a hole they find covers the files its missing digest listed.
    for (const chain of await this.#store.chains()) {
      const holes: [string, number, number][] = [];
      const ends: [string, number][] = [];
      verdicts.push(
        ...(await this.#store.updateChain(chain, (state) =>
          this.#judgeChain(state, nowMs, holes, ends, options.stopped ?? true),
        )),
      );
      for (const [site, from, to] of holes) await this.#store.addSiteHole(site, from, to);
      // A site's end moves only with digests whose chain links were judged, so the hole a missing
      // digest leaves is known before any file in it could be called unreferenced.
      for (const [site, end] of ends) await this.#store.raiseSiteEnd(site, end);
    }
    const olderThan = nowMs - HOUR - this.#unreferencedGraceMs;
    for (const file of await this.#store.stalePending(olderThan, limit)) {
      const id = fileId(file.bucket, file.key);
      const siteEnd = await this.#store.siteEnd(file.site);
      // A trusted digest of the site ends after the file's delivery minute: it should have listed it.
      if (await this.#store.inSiteHole(file.site, file.deliveredMs)) {
        await this.#store.takePending(id); // its digest is missing, and reported
      } else if (siteEnd !== undefined && siteEnd > file.deliveredMs + 60_000) {
        const taken = await this.#store.takePending(id);
        if (!taken) continue;
        await this.#store.markResolved(id);
        verdicts.push({
          v: 1,
          id: `unreferenced-log-file:${id}`,
          kind: "unreferenced-log-file",
          subject: "log-file",
          bucket: file.bucket,
          key: file.key,
          message: "delivered, but no digest lists it, not even a backfill one",
          at: new Date(nowMs).toISOString(),
          deliveredAt: new Date(file.deliveredMs).toISOString(),
        });
      } else if (nowMs - file.deliveredMs > this.#retentionMs) {
        await this.#store.takePending(id); // its trail writes no digests
      } else {
        await this.#store.deferPending(id, olderThan + 10 * 60_000, siteEnd !== undefined);
      }
    }
    return verdicts;
  }

  /**
   * Log files past their window that no digest has listed, in sites that have digests (a trail
   * without log file validation has none, and its files are not counted). Up to date as of the
   * last `tick`.
   */
  async unverified(): Promise<number> {
    return this.#store.overdueCount();
  }

  #judgeChain(
    state: ChainState | undefined,
    nowMs: number,
    holes: [string, number, number][],
    ends: [string, number][],
    judgeStopped: boolean,
  ): { state: ChainState | undefined; result: Verdict[] } {
    if (!state || state.digests.length === 0) return { state, result: [] };
    const out: Verdict[] = [];
    const ds = state.digests;
    for (let i = 0; i < ds.length; i++) {
      const b = ds[i] as SeenDigest;
      if (b.endMs <= state.checkedMs) continue;
      if (b.seenMs + this.#missingGraceMs > nowMs) break;
      const firstJudged = state.checkedMs === 0;
      state.checkedMs = b.endMs;
      const a = i > 0 ? ds[i - 1] : undefined;
      if (b.gone) {
        holes.push([state.site, b.startMs, b.endMs]);
        continue;
      }
      if (b.trusted !== false) ends.push([state.site, b.endMs]);
      // The oldest digest of a chain first judged (trailstream started on a running trail, or scan
      // over a copy of recent days): what it chains to came before anything here, not missing.
      if (!a && firstJudged) continue;
      if (b.prevKey === null) {
        if (a) {
          out.push(
            this.#chainVerdict(
              state,
              "gap",
              `gap:${b.key}`,
              b.key,
              `the chain restarted: no log files were validated between ${iso(a.endMs)} and ${iso(b.startMs)}`,
              nowMs,
            ),
          );
        }
        continue;
      }
      if (a && b.prevKey === a.key) {
        if (!a.gone && (a.sha256 !== b.prevSha256 || (a.signature !== "" && a.signature !== b.prevSignature))) {
          out.push(
            this.#chainVerdict(
              state,
              "hash-mismatch",
              `hash-mismatch:${state.bucket}/${a.key}`,
              a.key,
              `the digest read is not the one ${b.key} chains to`,
              nowMs,
            ),
          );
        }
        continue;
      }
      if (ds.some((d) => d.key === b.prevKey)) continue; // out of order: linked, just not adjacent
      out.push(
        this.#chainVerdict(
          state,
          "digest-missing",
          `digest-missing:${state.bucket}/${b.prevKey}`,
          b.prevKey,
          `${b.key} chains to it, and it never arrived: the log files it listed cannot be verified`,
          nowMs,
        ),
      );
      holes.push([state.site, a ? a.endMs : b.startMs - HOUR, b.startMs]);
      if (a && !state.backfill) {
        // Digests are hourly: a longer hole before the named one hides more (the CLI reports one).
        const more = Math.round((b.startMs - a.endMs) / HOUR) - 1;
        if (more > 0) {
          out.push(
            this.#chainVerdict(
              state,
              "digest-missing",
              `digest-missing:${state.chain}:${a.endMs}-${b.startMs}`,
              a.key,
              `${more} more digest(s) between ${iso(a.endMs)} and ${iso(b.startMs - HOUR)} never arrived`,
              nowMs,
            ),
          );
        }
      }
    }
    const newest = ds.at(-1) as SeenDigest;
    if (
      judgeStopped &&
      !state.backfill &&
      // Measured from when the newest digest was read too: a backlog being caught up is not a silence.
      nowMs > Math.max(newest.endMs, newest.seenMs) + this.#stoppedAfterMs &&
      state.stoppedForMs !== newest.endMs
    ) {
      state.stoppedForMs = newest.endMs;
      out.push(
        this.#chainVerdict(
          state,
          "digests-stopped",
          `digests-stopped:${state.chain}:${newest.endMs}`,
          newest.key,
          `no digest since the one ending ${iso(newest.endMs)}: validation disabled, logging stopped or digests withheld`,
          nowMs,
        ),
      );
    }
    return { state, result: out };
  }

  async #resolve(expected: ExpectedFile, file: PendingFile, nowMs: number): Promise<Verdict> {
    await this.#store.markResolved(fileId(file.bucket, file.key));
    const delivered = { deliveredAt: new Date(file.deliveredMs).toISOString() };
    if (file.sha256 === undefined) {
      return {
        ...this.#fileVerdict("hash-mismatch", expected, "the log file could not be read to its end", nowMs),
        ...delivered,
      };
    }
    if (file.sha256 !== expected.sha256) {
      return {
        ...this.#fileVerdict(
          "hash-mismatch",
          expected,
          `its SHA-256 is not the one ${expected.digestKey} lists`,
          nowMs,
        ),
        ...delivered,
      };
    }
    if (file.trailingBytes > 0) {
      return {
        ...this.#fileVerdict(
          "trailing-data",
          expected,
          `${file.trailingBytes} bytes follow the end of the gzip stream`,
          nowMs,
        ),
        ...delivered,
      };
    }
    return { ...this.#fileVerdict("valid", expected, `listed in ${expected.digestKey}`, nowMs), ...delivered };
  }

  #fileVerdict(kind: VerdictKind, e: ExpectedFile, message: string, nowMs: number): Verdict {
    const [, trail, region] = e.chain.split("|").slice(1);
    const account = /AWSLogs\/(?:o-[a-z0-9]+\/)?(\d{12})\//.exec(e.key)?.[1];
    return {
      v: 1,
      id: `${kind}:${e.bucket}/${e.key}`,
      kind,
      subject: "log-file",
      bucket: e.bucket,
      key: e.key,
      chain: e.chain,
      ...(trail ? { trail } : {}),
      ...(account ? { account } : {}),
      ...(region ? { region } : {}),
      digestKey: e.digestKey,
      message,
      at: new Date(nowMs).toISOString(),
    };
  }

  #verdict(
    kind: VerdictKind,
    subject: VerdictSubject,
    at: DigestKey,
    key: string,
    message: string,
    nowMs: number,
  ): Verdict {
    return {
      v: 1,
      id: `${kind}:${at.bucket}/${key}`,
      kind,
      subject,
      bucket: at.bucket,
      key,
      chain: at.chain,
      trail: at.trail,
      account: at.accountId,
      region: at.deliveringRegion,
      message,
      at: new Date(nowMs).toISOString(),
    };
  }

  #chainVerdict(s: ChainState, kind: VerdictKind, id: string, key: string, message: string, nowMs: number): Verdict {
    return {
      v: 1,
      id,
      kind,
      subject: kind === "digests-stopped" || kind === "gap" ? "chain" : "digest",
      bucket: s.bucket,
      key,
      chain: s.chain,
      trail: s.trail,
      account: s.account,
      region: s.region,
      message,
      at: new Date(nowMs).toISOString(),
    };
  }

  #newChain(at: DigestKey): ChainState {
    return {
      chain: at.chain,
      site: at.site,
      bucket: at.bucket,
      trail: at.trail,
      account: at.accountId,
      region: at.deliveringRegion,
      backfill: at.backfill,
      digests: [],
      checkedMs: 0,
    };
  }

  #insert(s: ChainState, d: SeenDigest): void {
    s.digests = s.digests.filter((x) => x.key !== d.key);
    const i = s.digests.findIndex((x) => x.endMs > d.endMs);
    if (i < 0) s.digests.push(d);
    else s.digests.splice(i, 0, d);
    if (s.digests.length > this.#keep) s.digests.splice(0, s.digests.length - this.#keep);
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
