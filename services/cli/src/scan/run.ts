// The embedded pipeline: files ─► decode ─► identify ─► collapse copies ─► enrich ─► report / ndjson.
// The same packages the services use, with the dedup claims kept in memory instead of Redis.
import {
  decodeLogFile,
  dedupCategory,
  type EnrichedEnvelope,
  type Enrichment,
  enrich,
  eventIdentity,
  MemoryDedupStore,
  parseCloudTrailKey,
} from "@trailstream/cloudtrail";
import type { ScanInput } from "./inputs.ts";
import { type Prices, type ScanReport, ScanTally } from "./report.ts";

export interface ScanOptions {
  prices: Prices;
  /** How many event identities are remembered at most (the memory bound). */
  maxIdentities: number;
  /** Called with each unique, enriched event, in the order read. */
  onEvent?: (envelope: EnrichedEnvelope<Enrichment>) => void | Promise<void>;
  onProgress?: (progress: { files: number; totalFiles: number; records: number; unique: number }) => void;
}

// A scan covers whatever time the files span, so claims never expire by age; only the count bounds them.
const NEVER_MS = Number.MAX_SAFE_INTEGER / 2;

export async function scan(inputs: readonly ScanInput[], options: ScanOptions): Promise<ScanReport> {
  const tally = new ScanTally(options.prices);
  const claims = new MemoryDedupStore({ ttlMs: NEVER_MS, maxEntries: options.maxIdentities, now: () => 0 });
  const receivedAt = new Date().toISOString();

  for (const [fileIndex, input] of inputs.entries()) {
    const parsedKey = input.key === "-" ? null : parseCloudTrailKey(input.key);
    if (parsedKey?.ok && parsedKey.value.kind === "digest") {
      tally.filesSkipped++;
      continue;
    }
    const location = tally.location(parsedKey?.ok ? parsedKey.value.location : "(outside a CloudTrail key layout)");
    location.files++;
    tally.files++;
    try {
      for await (const item of decodeLogFile(input.open())) {
        if (!item.ok) {
          if (item.index === undefined) tally.errors.push({ file: input.name, reason: item.error.message });
          else tally.recordError(input.name, item.index, item.error.message);
          continue;
        }
        tally.records++;
        location.records++;
        const identity = eventIdentity(item.record);
        if (identity === null) {
          tally.recordError(input.name, item.index, "the record has no eventID or recipientAccountId");
          continue;
        }
        if (claims.claimOne(identity, `${fileIndex}:${item.index}`) !== null) {
          tally.copy(location, dedupCategory(item.record));
          continue;
        }
        const enrichment = enrich(item.record);
        tally.unique(item.record, enrichment);
        if (options.onEvent) {
          await options.onEvent({
            v: 1,
            event: item.record,
            origin: { kind: "file", key: input.key, receivedAt, ...originFromKey(parsedKey) },
            enrichment,
          });
        }
      }
    } catch (error) {
      // The decoder reports bad input as items; anything thrown is the file system's (unreadable file).
      tally.errors.push({ file: input.name, reason: error instanceof Error ? error.message : String(error) });
    }
    options.onProgress?.({
      files: fileIndex + 1,
      totalFiles: inputs.length,
      records: tally.records,
      unique: tally.uniqueEvents,
    });
  }
  return tally.report(claims.evicted);
}

function originFromKey(parsed: ReturnType<typeof parseCloudTrailKey> | null): { account?: string; region?: string } {
  return parsed?.ok ? { account: parsed.value.accountId, region: parsed.value.region } : {};
}
