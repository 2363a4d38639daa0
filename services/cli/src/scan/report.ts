// What `scan` tells: counted as records stream past, so memory stays flat however much is read
// (the dedup claims are the only thing that grows, bounded by the store's size; the top event names
// and sources are a bounded sketch).
import type { CloudTrailRecord, Enrichment, ErrorClass } from "@trailstream/cloudtrail";
import type { RuleAlerts, RuleErrorReport } from "./alerts.ts";
import type { IntegrityReport } from "./integrity.ts";
import { TopCounter } from "./top.ts";

export interface Prices {
  /** USD per 100,000 additional copies of management events (AWS: $2.00). */
  managementPer100k: number;
  /** USD per 100,000 data (and network activity) events (AWS: $0.10). */
  dataPer100k: number;
}

export const AWS_PRICES: Prices = { managementPer100k: 2.0, dataPer100k: 0.1 };

export interface LocationReport {
  location: string;
  files: number;
  records: number;
  copies: number;
  managementCopies: number;
  dataCopies: number;
  /** What this location's extra copies cost at the given prices, in USD. */
  copyCostUsd: number;
}

export interface ScanReport {
  files: number;
  filesSkipped: number;
  records: number;
  invalidRecords: number;
  uniqueEvents: number;
  copiesCollapsed: number;
  copyCostUsd: number;
  prices: Prices;
  locations: LocationReport[];
  topEventSources: Array<{ name: string; count: number }>;
  topEventNames: Array<{ name: string; count: number }>;
  accessDenied: number;
  errorEvents: number;
  errorsByClass: Record<string, number>;
  timeSpan: { first: string; last: string } | null;
  /** Files that could not be read (or not to the end), with why. */
  errors: Array<{ file: string; reason: string }>;
  /** The first bad records, with why (`invalidRecords` counts them all). */
  recordErrors: Array<{ file: string; index: number | null; reason: string }>;
  dedupClaimsForgotten: number;
  /** Unique events that correct an earlier one (`addendum.reason` UPDATED_DATA). */
  corrections: number;
  /** Records whose identity was seen before with a different eventName, eventSource or eventTime. */
  identityConflicts: number;
  /** Unique events whose eventTime is not a time (left out of the time span). */
  unreadableEventTimes: number;
  /** Rules that threw on some events (counted as no match); null when the scan ran without rules. */
  ruleErrors: RuleErrorReport[] | null;
  /** Records no --selectors selector keeps (copies included), left out of everything else; null without --selectors. */
  selectedOut: number | null;
  /** Per rule, the alerts the unique events would raise; null when the scan ran without rules. */
  alerts: RuleAlerts[] | null;
  /** What `--validate` found; null without it. */
  integrity: IntegrityReport | null;
}

const MAX_RECORD_ERRORS = 100;
const TOP = 10;
/** Names tracked by the top-N sketch: far more than shown, so the ten shown are exact in practice. */
const TOP_TRACKED = 1_000;

export class ScanTally {
  readonly #prices: Prices;
  readonly #locations = new Map<string, LocationReport>();
  readonly #sources = new TopCounter(TOP_TRACKED);
  readonly #names = new TopCounter(TOP_TRACKED);
  readonly #errorsByClass: Record<string, number> = {};
  #first: { text: string; ms: number } | null = null;
  #last: { text: string; ms: number } | null = null;
  corrections = 0;
  identityConflicts = 0;
  unreadableEventTimes = 0;
  files = 0;
  filesSkipped = 0;
  records = 0;
  invalidRecords = 0;
  uniqueEvents = 0;
  copies = 0;
  accessDenied = 0;
  errorEvents = 0;
  readonly errors: ScanReport["errors"] = [];
  readonly recordErrors: ScanReport["recordErrors"] = [];

  constructor(prices: Prices) {
    this.#prices = prices;
  }

  location(name: string): LocationReport {
    let entry = this.#locations.get(name);
    if (!entry) {
      entry = { location: name, files: 0, records: 0, copies: 0, managementCopies: 0, dataCopies: 0, copyCostUsd: 0 };
      this.#locations.set(name, entry);
    }
    return entry;
  }

  unique(record: CloudTrailRecord, enrichment: Enrichment): void {
    this.uniqueFacts(
      record.eventSource,
      record.eventName,
      enrichment.correctionOf !== null,
      enrichment.error?.class ?? null,
      record.eventTime,
    );
  }

  /** `unique` from just what it reads of the event. */
  uniqueFacts(
    eventSource: string | null | undefined,
    eventName: string | null | undefined,
    isCorrection: boolean,
    errorClass: ErrorClass | null,
    time: string | null | undefined,
  ): void {
    this.#count(eventSource, eventName, isCorrection, errorClass);
    // Compared as instants: "+09:00" and "Z" times order correctly, and a non-time is counted.
    if (typeof time === "string") this.#time(Date.parse(time), () => time);
  }

  /**
   * `uniqueFacts` with the eventTime read beforehand (a parse worker's summary, summaries.ts):
   * `ms` is Date.parse of it, null when it is not a string; `text` gives it when it is kept.
   */
  uniqueSummarized(
    eventSource: string | null,
    eventName: string | null,
    isCorrection: boolean,
    errorClass: ErrorClass | null,
    ms: number | null,
    text: () => string,
  ): void {
    this.#count(eventSource, eventName, isCorrection, errorClass);
    if (ms !== null) this.#time(ms, text);
  }

  #count(
    eventSource: string | null | undefined,
    eventName: string | null | undefined,
    isCorrection: boolean,
    errorClass: ErrorClass | null,
  ): void {
    this.uniqueEvents++;
    this.#sources.add(eventSource ?? "(none)");
    this.#names.add(eventName ?? "(none)");
    if (isCorrection) this.corrections++;
    if (errorClass !== null) {
      this.errorEvents++;
      this.#errorsByClass[errorClass] = (this.#errorsByClass[errorClass] ?? 0) + 1;
      if (errorClass === "access-denied") this.accessDenied++;
    }
  }

  #time(ms: number, text: () => string): void {
    if (!Number.isFinite(ms)) {
      this.unreadableEventTimes++;
      return;
    }
    if (this.#first === null || ms < this.#first.ms) this.#first = { text: text(), ms };
    if (this.#last === null || ms > this.#last.ms) this.#last = { text: text(), ms };
  }

  conflict(file: string, index: number, identity: string): void {
    this.identityConflicts++;
    if (this.recordErrors.length < MAX_RECORD_ERRORS)
      this.recordErrors.push({
        file,
        index,
        reason: `warning: ${identity} was read before with another eventName, eventSource or eventTime; kept the first`,
      });
  }

  copy(location: LocationReport, category: Enrichment["category"]): void {
    this.copies++;
    location.copies++;
    if (category === "management") {
      location.managementCopies++;
      location.copyCostUsd += this.#prices.managementPer100k / 100_000;
    } else if (category === "data" || category === "network") {
      location.dataCopies++;
      location.copyCostUsd += this.#prices.dataPer100k / 100_000;
    }
  }

  recordError(file: string, index: number | null, reason: string): void {
    this.invalidRecords++;
    if (this.recordErrors.length < MAX_RECORD_ERRORS) this.recordErrors.push({ file, index, reason });
  }

  report(dedupClaimsForgotten: number): Omit<ScanReport, "alerts" | "ruleErrors" | "selectedOut" | "integrity"> {
    const locations = [...this.#locations.values()].sort((a, b) => a.location.localeCompare(b.location));
    return {
      files: this.files,
      filesSkipped: this.filesSkipped,
      records: this.records,
      invalidRecords: this.invalidRecords,
      uniqueEvents: this.uniqueEvents,
      copiesCollapsed: this.copies,
      copyCostUsd: locations.reduce((sum, l) => sum + l.copyCostUsd, 0),
      prices: this.#prices,
      locations,
      topEventSources: this.#sources.top(TOP),
      topEventNames: this.#names.top(TOP),
      accessDenied: this.accessDenied,
      errorEvents: this.errorEvents,
      errorsByClass: { ...this.#errorsByClass },
      timeSpan: this.#first !== null && this.#last !== null ? { first: this.#first.text, last: this.#last.text } : null,
      errors: this.errors,
      recordErrors: this.recordErrors,
      dedupClaimsForgotten,
      corrections: this.corrections,
      identityConflicts: this.identityConflicts,
      unreadableEventTimes: this.unreadableEventTimes,
    };
  }
}
