// What `scan` tells: counted as records stream past, so memory stays flat however much is read
// (the dedup claims are the only thing that grows, bounded by the store's size).
import type { CloudTrailRecord, Enrichment } from "@trailstream/cloudtrail";
import type { RuleAlerts } from "./alerts.ts";

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
  /** Per rule, the alerts the unique events would raise; null when the scan ran without rules. */
  alerts: RuleAlerts[] | null;
}

const MAX_RECORD_ERRORS = 100;
const TOP = 10;

export class ScanTally {
  readonly #prices: Prices;
  readonly #locations = new Map<string, LocationReport>();
  readonly #sources = new Map<string, number>();
  readonly #names = new Map<string, number>();
  readonly #errorsByClass: Record<string, number> = {};
  #first: string | null = null;
  #last: string | null = null;
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
    this.uniqueEvents++;
    bump(this.#sources, record.eventSource ?? "(none)");
    bump(this.#names, record.eventName ?? "(none)");
    if (enrichment.error) {
      this.errorEvents++;
      this.#errorsByClass[enrichment.error.class] = (this.#errorsByClass[enrichment.error.class] ?? 0) + 1;
      if (enrichment.error.class === "access-denied") this.accessDenied++;
    }
    const time = record.eventTime;
    if (typeof time === "string") {
      if (this.#first === null || time < this.#first) this.#first = time;
      if (this.#last === null || time > this.#last) this.#last = time;
    }
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

  report(dedupClaimsForgotten: number): Omit<ScanReport, "alerts"> {
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
      topEventSources: top(this.#sources),
      topEventNames: top(this.#names),
      accessDenied: this.accessDenied,
      errorEvents: this.errorEvents,
      errorsByClass: { ...this.#errorsByClass },
      timeSpan: this.#first !== null && this.#last !== null ? { first: this.#first, last: this.#last } : null,
      errors: this.errors,
      recordErrors: this.recordErrors,
      dedupClaimsForgotten,
    };
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function top(map: Map<string, number>): Array<{ name: string; count: number }> {
  return [...map]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, TOP)
    .map(([name, count]) => ({ name, count }));
}
