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
  InflatedLogFile,
  inflateLogFile,
  KEY_WORDS,
  LogFileHasher,
  parseCloudTrailKey,
  SeenIdentities,
} from "@trailstream/cloudtrail";
import type { CorrelationRule, RuleCatalogInputs, RuleSet } from "@trailstream/rules";
import { AlertTally, alertFields, type RuleErrorTally } from "./alerts.ts";
import type { ScanInput } from "./inputs.ts";
import type { ScanIntegrity } from "./integrity.ts";
import { ParseWorker } from "./parallel.ts";
import { type Prices, type ScanReport, ScanTally } from "./report.ts";
import { type ItemMarks, RuleMarksReader, rulesDigest, type WorkerRules } from "./rule-marks.ts";
import { CATEGORIES, ERROR_CLASSES, type FileSummary, ITEM, SummaryTexts } from "./summaries.ts";

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
  /**
   * The catalog `rules` was loaded from (loadRuleCatalog), so that the parse worker can load the same
   * rules and evaluate them there; without it, a scan with rules decodes every file on this thread.
   * The worker's rule failures are reported to `ruleErrors`, which must then be the RuleSet's onError.
   */
  ruleCatalog?: RuleCatalogInputs;
  onProgress?: (progress: { files: number; totalFiles: number; records: number; unique: number }) => void;
  /** `--validate`: log files are hashed as they are read, and digests checked after. */
  integrity?: ScanIntegrity;
  /**
   * Decode log files on a worker thread while this one tallies (parallel.ts). Only a scan that just
   * reports can, with or without rules (given their `ruleCatalog`): --ndjson, --selectors and
   * --validate need each record here. By default it does when it has at least PARALLEL_MIN_FILES
   * files. The report is the same either way.
   */
  parallel?: boolean;
}

/** Fewer files than this are decoded here: starting a worker takes longer than they do. */
const PARALLEL_MIN_FILES = 16;

/** Files read and inflated ahead when a worker decodes them, so it always has the next one. */
const WORKER_AHEAD = 2;

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
  holdsYoungGeneration = true;
  // And the old generation's limit grows by a fifth at a time, not by V8's factor of up to 4 (which
  // it picks from how fast it collects, so a loaded machine may get more). One bench round with a
  // parse worker at load 9 had peaked at 304 MB; with this, a 16 MB young generation in the worker
  // and two files ahead instead of three, single scans at load 9-11 peaked at 228-230 MB (243-252 MB
  // before), at the same speed.
  setFlagsFromString("--heap-growing-percent=20");
}

/** Both semi-spaces together: 16 MB each holds the largest file parsed whole (8 MiB of JSON) while it is read. */
const YOUNG_GENERATION_BYTES = 32 * 1024 ** 2;
/**
 * When a worker decodes the files this thread only tallies, and 16 MB is plenty: a scan of 1 GiB
 * peaked at 230 MiB with it, 264 MiB with 32 MB. The growth factor is process-wide, so setting it
 * also stops the worker's young generation where it is then (below its own cap, parallel.ts): it
 * collects more often (217 to 432 scavenges for 1 GiB) for about the same time (0.7 s).
 */
const YOUNG_GENERATION_BYTES_TALLYING = 16 * 1024 ** 2;
let holdsYoungGeneration = false;
let youngGenerationGrows = true;

/** Lets the young generation grow while it is below the cap, and stops it there (it may also shrink when idle). */
function holdYoungGeneration(cap: number): void {
  if (!holdsYoungGeneration) return;
  const young = getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.space_size;
  if (young === undefined) return;
  const grows = young < cap;
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
  // The rules go to the worker when it can load them itself; the alerts are still decided here.
  const digest = options.rules && options.ruleCatalog ? rulesDigest(options.rules.rules) : null;
  const workerRules: WorkerRules | undefined =
    options.rules && options.ruleCatalog && digest !== null
      ? { catalog: options.ruleCatalog, digest, fields: alertFields(options.rules.rules, options.correlations) }
      : undefined;
  const reportOnly = !options.onEvent && !selectors && !options.integrity && (!alerts || workerRules !== undefined);
  const worker =
    reportOnly && (options.parallel ?? inputs.length >= PARALLEL_MIN_FILES) ? new ParseWorker(workerRules) : undefined;
  const ruleList = options.rules?.rules ?? [];
  // A unique event's marks from the worker: its rule failures, then its matches, as `evaluate` would.
  const deliverMarks = async (marks: ItemMarks, identity: string): Promise<void> => {
    for (const failure of marks.failures) {
      const rule = ruleList[failure.rule];
      if (rule) options.ruleErrors?.add(rule, failure.reason);
    }
    if (!alerts || !marks.record || marks.matched.length === 0) return;
    const matched = [];
    for (const i of marks.matched) {
      const rule = ruleList[i];
      if (rule) matched.push(rule);
    }
    await alerts.evaluateMatched(marks.record, identity, matched);
  };
  const open = (input: ScanInput) => (worker ? openForWorker(input, worker) : openAhead(input));
  // The next log files are read and inflated (on zlib's thread pool, or decoded by the worker) while
  // this one is parsed.
  const ahead = new Map<number, Promise<Opened>>();
  const depth = worker ? WORKER_AHEAD : 1;

  for (const [fileIndex, input] of inputs.entries()) {
    const parsedKey = parsedKeys[fileIndex] ?? null;
    if (isDigest(fileIndex)) {
      tally.filesSkipped++;
      options.integrity?.addDigest(input);
      continue;
    }
    const opened = ahead.get(fileIndex) ?? open(input);
    ahead.delete(fileIndex);
    for (let next = fileIndex + 1, count = 0; next < inputs.length && count < depth; next++) {
      const nextInput = inputs[next];
      if (!nextInput || isDigest(next)) continue;
      count++;
      if (!ahead.has(next)) ahead.set(next, open(nextInput));
    }
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
    // A file the worker decoded: the same steps as take's, from its summary.
    const takeSummary = async (s: FileSummary): Promise<void> => {
      const texts = new SummaryTexts(s);
      const marks = s.marks ? new RuleMarksReader(s.marks) : undefined;
      let message = 0;
      for (let i = 0; i < s.kind.length; i++) {
        const kind = s.kind[i];
        const index = s.index[i] as number;
        if (kind === ITEM.fileError || kind === ITEM.badRecord) {
          const reason = s.messages[message++] ?? "";
          if (kind === ITEM.fileError) tally.errors.push({ file: input.name, reason });
          else tally.recordError(input.name, index, reason);
          continue;
        }
        tally.records++;
        location.records++;
        if (kind === ITEM.noIdentity) {
          tally.recordError(input.name, index, "the record has no eventID or recipientAccountId");
          continue;
        }
        // Read for copies too, so the reader passes over their marks.
        const marked = marks?.at(i) ?? null;
        const seenBefore = seen.offerPacked(s.key, i * KEY_WORDS, s.fingerprint[i]);
        if (seenBefore !== "first") {
          tally.copy(location, CATEGORIES[s.category[i] as number] ?? "management");
          if (seenBefore === "conflict") tally.conflict(input.name, index, texts.identity(i));
          continue;
        }
        const source = s.source[i] as number;
        const name = s.name[i] as number;
        tally.uniqueSummarized(
          source < 0 ? null : (s.sources[source] ?? null),
          name < 0 ? null : (s.names[name] ?? null),
          s.correction[i] === 1,
          ERROR_CLASSES[s.errorClass[i] as number] ?? null,
          s.hasTime[i] === 1 ? (s.timeMs[i] as number) : null,
          () => texts.time(i),
        );
        if (marked) await deliverMarks(marked, texts.identity(i));
      }
    };
    try {
      const source = await opened;
      if (!source.ok) throw source.error;
      const items = source.value instanceof SummarizedFile ? undefined : decodeLogFileItems(source.value, {}, hasher);
      if (source.value instanceof SummarizedFile) await takeSummary(source.value.summary);
      else if (Array.isArray(items)) {
        for (const item of items) {
          const waiting = take(item);
          if (waiting) await waiting;
        }
      } else if (items) {
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
    holdYoungGeneration(worker ? YOUNG_GENERATION_BYTES_TALLYING : YOUNG_GENERATION_BYTES);
    options.onProgress?.({
      files: fileIndex + 1,
      totalFiles: inputs.length,
      records: tally.records,
      unique: tally.uniqueEvents,
    });
  }
  await worker?.close();
  const integrity = options.integrity ? await options.integrity.finish() : null;
  return {
    ...tally.report(seen.evicted),
    selectedOut: selectors ? selectedOut : null,
    alerts: alerts?.report() ?? null,
    ruleErrors: options.ruleErrors?.report() ?? (options.rules ? [] : null),
    integrity,
  };
}

/** A log file the parse worker decoded. */
class SummarizedFile {
  readonly summary: FileSummary;
  constructor(summary: FileSummary) {
    this.summary = summary;
  }
}

type Opened =
  | { ok: true; value: AsyncIterable<Uint8Array> | Uint8Array | InflatedLogFile | SummarizedFile }
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

/**
 * Opens a file, inflates it if it is in memory, and has the worker decode it. A file the worker does
 * not parse whole is left for this thread to decode, as without one; if the worker failed, the file
 * is read again (its bytes went to the worker) and decoded here.
 */
async function openForWorker(input: ScanInput, worker: ParseWorker): Promise<Opened> {
  const opened = await openAhead(input);
  if (!opened.ok || !(opened.value instanceof InflatedLogFile) || opened.value.inflated === null) return opened;
  const { source, inflated } = opened.value;
  const [bytes, end] = inflated;
  try {
    const answer = await worker.summarize(bytes, end.trailingBytes);
    if (answer.summary) return { ok: true, value: new SummarizedFile(answer.summary) };
    const back = Buffer.from(answer.bytes.buffer, answer.bytes.byteOffset, answer.bytes.byteLength);
    return { ok: true, value: InflatedLogFile.of(source, [back, end]) };
  } catch {
    return openAhead(input);
  }
}

function originFromKey(parsed: ReturnType<typeof parseCloudTrailKey> | null): { account?: string; region?: string } {
  return parsed?.ok ? { account: parsed.value.accountId, region: parsed.value.region } : {};
}
