// The rules of `scan`, evaluated on the parse worker (parse-worker.ts): what each record of a file
// matched, as (item, rule index) pairs, and of a matching record only the few fields the main thread's
// AlertTally reads (alertFields). The main thread still decides which records are unique, in file
// order, and takes the marks of those alone (RuleMarksReader): a copy's matches and rule failures
// count for nothing, as when the rules run on the main thread on unique events only.
import type { CloudTrailRecord } from "@trailstream/cloudtrail";
import { type Rule, type RuleCatalogInputs, RuleSet } from "@trailstream/rules";

/** What the parse worker needs to evaluate the main thread's rules. */
export interface WorkerRules {
  /** Where the main thread's rules were loaded from: the worker loads them again (a rule is a closure). */
  catalog: RuleCatalogInputs;
  /** rulesDigest of the main thread's rules: the worker checks that it loaded the same. */
  digest: string;
  /** alertFields of the main thread's rules and correlations. */
  fields: string[];
}

/**
 * The rules' data (every field but the matcher), in order: two loads of the same catalog give the same
 * text; a rule file changed between them gives another as soon as an id, title, pattern, Sigma
 * detection (Rule.definition), index key, threshold or suppression differs.
 */
export function rulesDigest(rules: readonly Rule[]): string | null {
  try {
    return JSON.stringify(rules, (_key, value: unknown) => (typeof value === "bigint" ? String(value) : value));
  } catch {
    // A rule whose data cannot be written as JSON (a cycle): its copy on the worker cannot be checked,
    // so such rules stay on the main thread.
    return null;
  }
}

/** One file's marks, in item order. */
export interface FileRuleMarks {
  /** (item, rule index) pairs: item ascending, the rules of one item in the RuleSet's order. */
  matches: Int32Array;
  /** A JSON array with, for each item that matched a rule, in order, the alertFields of its record. */
  records: string;
  /** (item, rule index) pairs of the rules that threw on an item (or ran over budget), as they did. */
  failures: Int32Array;
  /** The failures' messages, as RuleErrorTally words them. */
  reasons: string[];
}

/** Evaluates the rules on the worker, file by file. */
export class RuleMarker {
  readonly #ruleSet: RuleSet;
  readonly #ruleIndex: Map<Rule, number>;
  readonly #fields: readonly string[];
  #matches: number[] = [];
  #records: string[] = [];
  #failures: number[] = [];
  #reasons: string[] = [];
  #item = 0;

  /** `rules` in the main thread's order; `fields` what alertFields gave there. */
  constructor(rules: readonly Rule[], fields: readonly string[]) {
    this.#ruleSet = new RuleSet([...rules], {
      onError: (rule, error) => {
        this.#failures.push(this.#item, this.#ruleIndex.get(rule) ?? -1);
        this.#reasons.push(error instanceof Error ? error.message : String(error));
      },
    });
    this.#ruleIndex = new Map(this.#ruleSet.rules.map((rule, i) => [rule, i]));
    this.#fields = fields;
  }

  /** Evaluates the rules on item `item` of the current file (items in ascending order). */
  mark(item: number, record: CloudTrailRecord): void {
    this.#item = item;
    const matched = this.#ruleSet.match(record);
    if (matched.length === 0) return;
    for (const rule of matched) this.#matches.push(item, this.#ruleIndex.get(rule) ?? -1);
    this.#records.push(fieldsText(record, this.#fields));
  }

  /** The current file's marks; the next file starts empty. */
  take(): FileRuleMarks {
    const marks = {
      matches: Int32Array.from(this.#matches),
      records: `[${this.#records.join(",")}]`,
      failures: Int32Array.from(this.#failures),
      reasons: this.#reasons,
    };
    this.#matches = [];
    this.#records = [];
    this.#failures = [];
    this.#reasons = [];
    return marks;
  }
}

/**
 * The JSON text of the record's own `fields`, written key by key: a record parsed from JSON may hold
 * an own "__proto__" key, which an object built by assignment would turn into its prototype. The
 * values came from JSON.parse, so their JSON reads back equal (-0 comes back 0, and everything that
 * reads these fields writes them as JSON, where it is 0 too).
 */
function fieldsText(record: CloudTrailRecord, fields: readonly string[]): string {
  let text = "";
  for (const field of fields) {
    if (!Object.hasOwn(record, field)) continue;
    const value = JSON.stringify((record as Record<string, unknown>)[field]);
    if (value === undefined) continue;
    text += `${text === "" ? "" : ","}${JSON.stringify(field)}:${value}`;
  }
  return `{${text}}`;
}

/** One item's marks, as the main thread needs them. */
export interface ItemMarks {
  /** Indices into the RuleSet's rules. */
  matched: number[];
  /** The record's alertFields, when it matched a rule. */
  record: CloudTrailRecord | undefined;
  failures: { rule: number; reason: string }[];
}

/** Reads a file's marks item by item, in ascending item order (every item asked, or not). */
export class RuleMarksReader {
  readonly #marks: FileRuleMarks;
  #records: CloudTrailRecord[] | undefined;
  #match = 0;
  #record = 0;
  #failure = 0;

  constructor(marks: FileRuleMarks) {
    this.#marks = marks;
  }

  /**
   * The marks of item `item`, or null when it has none; items before it that were not asked are
   * passed over. Call for every item that may have marks (any record with an identity), unique or not.
   */
  at(item: number): ItemMarks | null {
    const { matches, failures, reasons } = this.#marks;
    let matched: number[] | undefined;
    let record: CloudTrailRecord | undefined;
    let failed: ItemMarks["failures"] | undefined;
    // Passed-over items first: their records are skipped so the next matching one lines up.
    while (this.#match < matches.length && (matches[this.#match] as number) < item) {
      const passed = matches[this.#match];
      while (this.#match < matches.length && matches[this.#match] === passed) this.#match += 2;
      this.#record++;
    }
    while (this.#failure < failures.length && (failures[this.#failure] as number) < item) this.#failure += 2;
    if (this.#match < matches.length && matches[this.#match] === item) {
      matched = [];
      while (this.#match < matches.length && matches[this.#match] === item) {
        matched.push(matches[this.#match + 1] as number);
        this.#match += 2;
      }
      this.#records ??= JSON.parse(this.#marks.records) as CloudTrailRecord[];
      record = this.#records[this.#record++];
    }
    while (this.#failure < failures.length && failures[this.#failure] === item) {
      failed ??= [];
      failed.push({ rule: failures[this.#failure + 1] as number, reason: reasons[this.#failure / 2] ?? "" });
      this.#failure += 2;
    }
    if (matched === undefined && failed === undefined) return null;
    return { matched: matched ?? [], record, failures: failed ?? [] };
  }
}

/** The typed arrays of a file's marks, to be moved rather than copied. */
export function markTransferables(marks: FileRuleMarks): ArrayBuffer[] {
  return [marks.matches.buffer as ArrayBuffer, marks.failures.buffer as ArrayBuffer];
}
