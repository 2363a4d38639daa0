// What `scan`'s report needs of each record of a log file, in a form cheap to send between threads.
// A parse worker (parse-worker.ts) decodes a file and sends this; the main thread dedups and tallies
// it in file order, as it would the records. Sending the records themselves would cost about what
// parsing them does (a structured clone walks every field), and so did sending a few strings per
// record (postMessage was 12 % of the worker's profile): a summary is typed arrays, moved rather
// than copied, plus the few distinct eventSource and eventName of the file, and the identities
// and eventTimes as one JSON text each, read only for the rare record that needs its text (an
// identity conflict, a new first or last time).
import {
  type CloudTrailRecord,
  correctedEventID,
  type DecodeItem,
  decodeLogFileItems,
  dedupCategory,
  type ErrorClass,
  type EventCategory,
  errorOf,
  eventFingerprint,
  eventIdentity,
  InflatedLogFile,
  KEY_WORDS,
  packIdentity,
} from "@trailstream/cloudtrail";
import { type FileRuleMarks, markTransferables, type RuleMarker } from "./rule-marks.ts";

/** What an item of the file is. */
export const ITEM = {
  /** A record with an identity. */
  record: 0,
  /** A record without one (no eventID or recipientAccountId). */
  noIdentity: 1,
  /** A record that could not be read: `messages` says why. */
  badRecord: 2,
  /** The rest of the file could not be read: `messages` says why. */
  fileError: 3,
} as const;

export const CATEGORIES: readonly EventCategory[] = ["management", "data", "insight", "network"];
export const ERROR_CLASSES: readonly (ErrorClass | null)[] = [null, "access-denied", "throttled", "other"];

/** One log file's items, in order: entry i of each per-item array is item i's. */
export interface FileSummary {
  kind: Uint8Array;
  /** The item's index in Records; -1 for a file error. */
  index: Int32Array;
  /** The identity packed by `packIdentity`, KEY_WORDS words per item. */
  key: Uint32Array;
  fingerprint: Int32Array;
  /** Index into CATEGORIES. */
  category: Uint8Array;
  /** Index into ERROR_CLASSES. */
  errorClass: Uint8Array;
  /** 1 when the record corrects another (an UPDATED_DATA addendum). */
  correction: Uint8Array;
  /** Index into `sources` and `names`; -1 for null. */
  source: Int32Array;
  name: Int32Array;
  sources: string[];
  names: string[];
  /** Date.parse of the eventTime (NaN when it is no time); `hasTime` 0 when eventTime is not a string. */
  timeMs: Float64Array;
  hasTime: Uint8Array;
  /** JSON arrays of the identities and the eventTimes, one entry per item (null where none). */
  identities: string;
  times: string;
  /** The errors' messages, in the order of the bad items. */
  messages: string[];
  /** What the rules made of each record, when the worker evaluates them (item = index in these arrays). */
  marks?: FileRuleMarks;
}

/**
 * The summary of a log file inflated ahead (`inflateLogFile`'s buffer and how its member ended), or
 * null when it is not parsed whole (too large or irregular): such a file is decoded where its records
 * are needed, so its errors read the same.
 */
export function summarizeLogFile(inflated: Uint8Array, trailingBytes: number, rules?: RuleMarker): FileSummary | null {
  const bytes = Buffer.from(inflated.buffer, inflated.byteOffset, inflated.byteLength);
  // The source bytes are read only when the file is not parsed whole, and then it is not summarized.
  const items = decodeLogFileItems(InflatedLogFile.of(new Uint8Array(0), [bytes, { trailingBytes }]));
  return Array.isArray(items) ? summarize(items, rules) : null;
}

function summarize(items: readonly DecodeItem[], rules: RuleMarker | undefined): FileSummary {
  const n = items.length;
  const summary: FileSummary = {
    kind: new Uint8Array(n),
    index: new Int32Array(n),
    key: new Uint32Array(n * KEY_WORDS),
    fingerprint: new Int32Array(n),
    category: new Uint8Array(n),
    errorClass: new Uint8Array(n),
    correction: new Uint8Array(n),
    source: new Int32Array(n).fill(-1),
    name: new Int32Array(n).fill(-1),
    sources: [],
    names: [],
    timeMs: new Float64Array(n),
    hasTime: new Uint8Array(n),
    identities: "",
    times: "",
    messages: [],
  };
  const identities: (string | null)[] = new Array(n).fill(null);
  const times: (string | null)[] = new Array(n).fill(null);
  const sources = new Map<string, number>();
  const names = new Map<string, number>();
  const key = new Uint32Array(KEY_WORDS);
  for (let i = 0; i < n; i++) {
    const item = items[i] as DecodeItem;
    summary.index[i] = item.index ?? -1;
    if (!item.ok) {
      summary.kind[i] = item.index === undefined ? ITEM.fileError : ITEM.badRecord;
      summary.messages.push(item.error.message);
      continue;
    }
    const record: CloudTrailRecord = item.record;
    const identity = eventIdentity(record);
    if (identity === null) {
      summary.kind[i] = ITEM.noIdentity;
      continue;
    }
    summary.kind[i] = ITEM.record;
    identities[i] = identity;
    packIdentity(identity, key);
    summary.key.set(key, i * KEY_WORDS);
    summary.fingerprint[i] = eventFingerprint(record);
    summary.category[i] = CATEGORIES.indexOf(dedupCategory(record));
    summary.errorClass[i] = ERROR_CLASSES.indexOf(errorOf(record)?.class ?? null);
    summary.correction[i] = correctedEventID(record) === null ? 0 : 1;
    summary.source[i] = indexOf(record.eventSource, sources, summary.sources);
    summary.name[i] = indexOf(record.eventName, names, summary.names);
    if (typeof record.eventTime === "string") {
      summary.hasTime[i] = 1;
      summary.timeMs[i] = Date.parse(record.eventTime);
      times[i] = record.eventTime;
    }
    rules?.mark(i, record);
  }
  if (rules) summary.marks = rules.take();
  summary.identities = JSON.stringify(identities);
  summary.times = JSON.stringify(times);
  return summary;
}

function indexOf(value: string | null | undefined, seen: Map<string, number>, list: string[]): number {
  if (typeof value !== "string") return -1;
  let at = seen.get(value);
  if (at === undefined) {
    at = list.push(value) - 1;
    seen.set(value, at);
  }
  return at;
}

/** The typed arrays of a summary, to be moved rather than copied to the other thread. */
export function transferables(summary: FileSummary): ArrayBuffer[] {
  const { kind, index, key, fingerprint, category, errorClass, correction, source, name, timeMs, hasTime } = summary;
  return [
    ...[kind, index, key, fingerprint, category, errorClass, correction, source, name, timeMs, hasTime].map(
      (a) => a.buffer as ArrayBuffer,
    ),
    ...(summary.marks ? markTransferables(summary.marks) : []),
  ];
}

/** A summary's JSON texts, parsed the first time an entry is asked for. */
export class SummaryTexts {
  readonly #summary: FileSummary;
  #identities: (string | null)[] | undefined;
  #times: (string | null)[] | undefined;

  constructor(summary: FileSummary) {
    this.#summary = summary;
  }

  identity(i: number): string {
    this.#identities ??= JSON.parse(this.#summary.identities) as (string | null)[];
    return this.#identities[i] ?? "";
  }

  time(i: number): string {
    this.#times ??= JSON.parse(this.#summary.times) as (string | null)[];
    return this.#times[i] ?? "";
  }
}
