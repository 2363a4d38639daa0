// The embedded pipeline: files ─► decode ─► identify ─► collapse copies ─► enrich ─► report / ndjson.
// The same packages the services use, with the dedup claims kept in memory instead of Redis.

import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import {
  type CloudTrailRecord,
  type DecodeItem,
  decodeLogFileItems,
  dedupCategory,
  type EnrichedEnvelope,
  type Enrichment,
  type EventSelectors,
  enrich,
  eventFingerprint,
  eventIdentity,
  type InflatedLogFile,
  inflateLogFile,
  LogFileHasher,
  parseCloudTrailKey,
  SeenIdentities,
} from "@trailstream/cloudtrail";
import type { CorrelationRule, RuleSet } from "@trailstream/rules";
import { AlertTally, type RuleErrorTally } from "./alerts.ts";
import type { ScanInput } from "./inputs.ts";
import type { ScanIntegrity } from "./integrity.ts";
import { type Prices, type ScanReport, ScanTally } from "./report.ts";

export interface ScanOptions {
  prices: Prices;
  /** How many event identities are remembered at most (the memory bound). */
  maxIdentities: number;
  /** Called with each unique, enriched event, in the order read. */
  onEvent?: (envelope: EnrichedEnvelope<Enrichment>) => void | Promise<void>;
  /** Event selectors (`--selectors`): records none keeps are left out, as the enricher drops them. */
  selectors?: EventSelectors;
  /** Evaluated on each unique event; the report then lists the alerts they would raise. */
  rules?: RuleSet;
  /** Sigma correlation rules over `rules`, judged in memory. */
  correlations?: readonly CorrelationRule[];
  /** Where `rules` reports a rule that threw (the RuleSet's onError); listed in the report. */
  ruleErrors?: RuleErrorTally;
  onProgress?: (progress: { files: number; totalFiles: number; records: number; unique: number }) => void;
  /** `--validate`: log files are hashed as they are read, and digests checked after. */
  integrity?: ScanIntegrity;
}

/**
 * A scan allocates a great deal of short-lived garbage (every file parsed, its records enriched and
 * dropped) and keeps little (the identities seen, off the JS heap). With V8's default sizing the
 * young generation grows to 128 MB here (two 64 MB semi-spaces), and a 1 GB scan peaks at
 * 330-345 MB. `--optimize-for-size` kept it near 160 MB but at the cost of a third of the scan in
 * the collector: it held the young generation at about a megabyte, so each file's parsed records were
 * copied and promoted before they died (1,371 scavenges and 198 full collections for 1 GB, against
 * 119 and 99 now; docs/benchmarks.md). Instead the young generation may grow to YOUNG_GENERATION_BYTES
 * and no further: once it is there, V8's growth factor is set to 1 (`--max-semi-space-size` would do
 * the same, but only on the command line: the heap is sized before any code runs). Process-wide, so
 * only the `scan` command and its benchmark call it; `scan` checks the size after each file.
 */
export function preferSmallHeap(): void {
  youngGenerationCap = YOUNG_GENERATION_BYTES;
}

/** Both semi-spaces together: 16 MB each holds the largest file parsed whole (8 MiB of JSON) while it is read. */
const YOUNG_GENERATION_BYTES = 32 * 1024 ** 2;
let youngGenerationCap = 0;
let youngGenerationGrows = true;

/** Lets the young generation grow while it is below the cap, and stops it there (it may also shrink when idle). */
function holdYoungGeneration(): void {
  if (youngGenerationCap === 0) return;
  const young = getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.space_size;
  if (young === undefined) return;
  const grows = young < youngGenerationCap;
  if (grows === youngGenerationGrows) return;
  // 2 is V8's default growth factor.
  setFlagsFromString(grows ? "--semi-space-growth-factor=2" : "--semi-space-growth-factor=1");
  youngGenerationGrows = grows;
}

const DIGEST_NAME = /_CloudTrail-Digest_[^/]*$/;

export async function scan(inputs: readonly ScanInput[], options: ScanOptions): Promise<ScanReport> {
  const tally = new ScanTally(options.prices);
  const seen = new SeenIdentities(options.maxIdentities);
  const alerts = options.rules ? new AlertTally(options.rules, options.correlations) : undefined;
  const receivedAt = new Date().toISOString();
  const selectors = options.selectors;
  let selectedOut = 0;

  const parsedKeys = inputs.map((input) => (input.key === "-" ? null : parseCloudTrailKey(input.key)));
  // A digest folder synced on its own has no AWSLogs/ layout above it; its names still say so.
  const isDigest = (i: number) => {
    const parsedKey = parsedKeys[i];
    return (parsedKey?.ok && parsedKey.value.kind === "digest") || DIGEST_NAME.test(inputs[i]?.key ?? "");
  };
  // What a unique event is for beyond the report: the rules, and the --ndjson listener.
  const deliver = async (
    record: CloudTrailRecord,
    identity: string,
    enrichment: Enrichment,
    key: string,
    parsedKey: ReturnType<typeof parseCloudTrailKey> | null,
  ): Promise<void> => {
    await alerts?.evaluate(record, identity);
    if (options.onEvent) {
      await options.onEvent({
        v: 1,
        event: record,
        origin: { kind: "file", key, receivedAt, ...originFromKey(parsedKey) },
        enrichment,
      });
    }
  };
  // The next log file is read and inflated (on zlib's thread pool) while this one is parsed.
  let ahead: { index: number; opened: Promise<Opened> } | undefined;

  for (const [fileIndex, input] of inputs.entries()) {
    const parsedKey = parsedKeys[fileIndex] ?? null;
    if (isDigest(fileIndex)) {
      tally.filesSkipped++;
      options.integrity?.addDigest(input);
      continue;
    }
    const opened = ahead?.index === fileIndex ? ahead.opened : openAhead(input);
    let next = fileIndex + 1;
    while (next < inputs.length && isDigest(next)) next++;
    const nextInput = inputs[next];
    ahead = nextInput ? { index: next, opened: openAhead(nextInput) } : undefined;
    const hasher = options.integrity ? new LogFileHasher() : undefined;
    const location = tally.location(parsedKey?.ok ? parsedKey.value.location : "(outside a CloudTrail key layout)");
    location.files++;
    tally.files++;
    // One record's work; a promise only when a rule or a listener may wait, so a scan without
    // either reads a file parsed whole in a plain loop, with no microtask turn per record.
    const take = (item: DecodeItem): Promise<void> | undefined => {
      if (!item.ok) {
        if (item.index === undefined) tally.errors.push({ file: input.name, reason: item.error.message });
        else tally.recordError(input.name, item.index, item.error.message);
        return undefined;
      }
      tally.records++;
      location.records++;
      const identity = eventIdentity(item.record);
      if (identity === null) {
        tally.recordError(input.name, item.index, "the record has no eventID or recipientAccountId");
        return undefined;
      }
      // Before dedup, as in the enricher: a dropped event takes no room among the identities.
      if (selectors && selectors.match(item.record) === -1) {
        selectedOut++;
        return undefined;
      }
      const seenBefore = seen.offer(identity, eventFingerprint(item.record));
      if (seenBefore !== "first") {
        tally.copy(location, dedupCategory(item.record));
        if (seenBefore === "conflict") tally.conflict(input.name, item.index, identity);
        return undefined;
      }
      const enrichment = enrich(item.record);
      tally.unique(item.record, enrichment);
      if (!alerts && !options.onEvent) return undefined;
      return deliver(item.record, identity, enrichment, input.key, parsedKey);
    };
    try {
      const source = await opened;
      if (!source.ok) throw source.error;
      const items = decodeLogFileItems(source.value, {}, hasher);
      if (Array.isArray(items)) {
        for (const item of items) {
          const waiting = take(item);
          if (waiting) await waiting;
        }
      } else {
        for await (const item of items) {
          const waiting = take(item);
          if (waiting) await waiting;
        }
      }
      await options.integrity?.logFile(input, await hasher?.result());
    } catch (error) {
      // The decoder reports bad input as items; anything thrown is the file system's (unreadable file).
      tally.errors.push({ file: input.name, reason: error instanceof Error ? error.message : String(error) });
    }
    holdYoungGeneration();
    options.onProgress?.({
      files: fileIndex + 1,
      totalFiles: inputs.length,
      records: tally.records,
      unique: tally.uniqueEvents,
    });
  }
  const integrity = options.integrity ? await options.integrity.finish() : null;
  return {
    ...tally.report(seen.evicted),
    selectedOut: selectors ? selectedOut : null,
    alerts: alerts?.report() ?? null,
    ruleErrors: options.ruleErrors?.report() ?? (options.rules ? [] : null),
    integrity,
  };
}

type Opened =
  | { ok: true; value: AsyncIterable<Uint8Array> | Uint8Array | InflatedLogFile }
  | { ok: false; error: unknown };

/** Opens a file and inflates it if it is in memory; never rejects (it may wait unawaited a while). */
async function openAhead(input: ScanInput): Promise<Opened> {
  try {
    const source = await input.open();
    return { ok: true, value: source instanceof Uint8Array ? await inflateLogFile(source) : source };
  } catch (error) {
    return { ok: false, error };
  }
}

function originFromKey(parsed: ReturnType<typeof parseCloudTrailKey> | null): { account?: string; region?: string } {
  return parsed?.ok ? { account: parsed.value.accountId, region: parsed.value.region } : {};
}
