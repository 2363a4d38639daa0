// Many rules, one record: only the rules that can match the record are evaluated. Each rule is filed
// under the first of INDEX_FIELDS its index keys pin down (the values a matching record must hold),
// so a record looks up its own eventName, eventSource and userIdentity.type and evaluates those
// buckets plus the few rules nothing pins down. Adding rules for other events adds nothing to a
// record's cost.
import type { Rule } from "./types.ts";

export const INDEX_FIELDS = ["eventName", "eventSource", "userIdentity.type"] as const;

type IndexField = (typeof INDEX_FIELDS)[number];

/**
 * The index values a record holds in a field: a string itself; a number or boolean as the text the
 * matchers compare (filter patterns compare `String(v)`, Sigma crosses arrays); each element of an
 * array. `ALL` for any other value that is present (an object): every rule in that field's buckets is
 * evaluated, since missing a match costs more than an evaluation.
 */
const ALL = Symbol("all");

function fieldOf(record: unknown, field: IndexField): string | readonly string[] | typeof ALL | undefined {
  if (typeof record !== "object" || record === null) return undefined;
  const r = record as Record<string, unknown>;
  let v: unknown;
  if (field === "userIdentity.type") {
    const ui = r.userIdentity;
    v = typeof ui === "object" && ui !== null ? (ui as Record<string, unknown>).type : undefined;
  } else v = r[field];
  if (typeof v === "string") return v.toLowerCase();
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v).toLowerCase();
  if (Array.isArray(v)) {
    const out: string[] = [];
    for (const e of v) {
      if (typeof e === "string" || typeof e === "number" || typeof e === "boolean") out.push(String(e).toLowerCase());
      else if (e !== null && e !== undefined) return ALL;
    }
    return out;
  }
  return ALL;
}

export class RuleSet {
  readonly size: number;
  readonly rules: readonly Rule[];
  readonly #buckets = new Map<IndexField, Map<string, number[]>>();
  readonly #unindexed: number[] = [];
  readonly #onError: ((rule: Rule, error: unknown) => void) | undefined;
  readonly #budgetMs: number;
  /** Per rule index: evaluations over the budget so far. */
  readonly #slow = new Map<number, number>();
  readonly #disabled = new Set<number>();

  /**
   * `onError` hears of a rule that threw on a record; that rule counts as not matching, and the
   * other rules still run. One bad rule must never stop the stream. It also hears of a rule whose
   * one evaluation took longer than `budgetMs` (a `RuleTooSlowError`): a match cannot be interrupted,
   * but after `SLOW_STRIKES` such evaluations the rule is set aside, so one rule cannot stall the
   * stream (or a consumer group's heartbeat) event after event.
   */
  constructor(rules: Rule[], options: { onError?: (rule: Rule, error: unknown) => void; budgetMs?: number } = {}) {
    this.#onError = options.onError;
    this.#budgetMs = options.budgetMs ?? DEFAULT_BUDGET_MS;
    this.rules = [...rules];
    this.size = rules.length;
    for (const f of INDEX_FIELDS) this.#buckets.set(f, new Map());
    this.rules.forEach((rule, i) => {
      const field = INDEX_FIELDS.find((f) => (rule.indexKeys?.[f]?.length ?? 0) > 0);
      const values = field ? rule.indexKeys?.[field] : undefined;
      const bucket = field ? this.#buckets.get(field) : undefined;
      if (!field || !values || !bucket) {
        this.#unindexed.push(i);
        return;
      }
      for (const v of values) {
        const list = bucket.get(v);
        if (list) list.push(i);
        else bucket.set(v, [i]);
      }
    });
  }

  /** How the rules were filed: per index field, how many rules; and how many are evaluated always. */
  get stats(): { indexed: Record<IndexField, number>; unindexed: number } {
    const indexed = {} as Record<IndexField, number>;
    for (const f of INDEX_FIELDS) {
      const rules = new Set<number>();
      for (const list of this.#buckets.get(f)?.values() ?? []) for (const i of list) rules.add(i);
      indexed[f] = rules.size;
    }
    return { indexed, unindexed: this.#unindexed.length };
  }

  #candidateLists(record: unknown): number[][] {
    const lists: number[][] = [];
    for (const f of INDEX_FIELDS) lists.push(...this.#listsFor(f, fieldOf(record, f)));
    if (this.#unindexed.length > 0) lists.push(this.#unindexed);
    return lists;
  }

  /** The rules that would be evaluated for this record (for tests and diagnostics). */
  candidates(record: unknown): Rule[] {
    return [...new Set(this.#candidateLists(record).flat())]
      .sort((a, b) => a - b)
      .map((i) => this.rules[i])
      .filter((r): r is Rule => r !== undefined);
  }

  /** The rules that match the record, in the order they were given. */
  match(record: unknown): Rule[] {
    // Written without intermediate arrays: this runs once per event for every event.
    const hits: number[] = [];
    let lists = 0;
    for (const f of INDEX_FIELDS) {
      const v = fieldOf(record, f);
      if (v === undefined) continue;
      if (typeof v === "string") {
        const list = this.#buckets.get(f)?.get(v);
        if (!list) continue;
        lists++;
        this.#evaluate(list, record, hits);
        continue;
      }
      // Rare shapes (a number, an array, an object): several buckets, each rule evaluated once.
      const seen = new Set<number>();
      for (const list of this.#listsFor(f, v)) for (const i of list) seen.add(i);
      if (seen.size === 0) continue;
      lists++;
      this.#evaluate(
        [...seen].sort((a, b) => a - b),
        record,
        hits,
      );
    }
    if (this.#unindexed.length > 0) {
      lists++;
      this.#evaluate(this.#unindexed, record, hits);
    }
    if (lists > 1 && hits.length > 1) hits.sort((a, b) => a - b);
    const out: Rule[] = [];
    for (const i of hits) {
      const rule = this.rules[i];
      if (rule) out.push(rule);
    }
    return out;
  }

  #listsFor(field: IndexField, v: ReturnType<typeof fieldOf>): number[][] {
    const bucket = this.#buckets.get(field);
    if (v === undefined || !bucket) return [];
    if (v === ALL) return [...bucket.values()];
    const out: number[][] = [];
    for (const key of typeof v === "string" ? [v] : new Set(v)) {
      const list = bucket.get(key);
      if (list) out.push(list);
    }
    return out;
  }

  /** Rules set aside for taking too long, by id. */
  get disabled(): string[] {
    return [...this.#disabled].map((i) => this.rules[i]?.id ?? "").sort();
  }

  #evaluate(list: readonly number[], record: unknown, hits: number[]): void {
    // One clock read per rule: each evaluation ends where the next one starts.
    let started = performance.now();
    for (const i of list) {
      const rule = this.rules[i];
      if (!rule || (this.#disabled.size > 0 && this.#disabled.has(i))) continue;
      let matched = false;
      let failure: { error: unknown } | undefined;
      try {
        matched = rule.matches(record);
      } catch (error) {
        failure = { error };
      }
      const took = performance.now() - started;
      if (matched) hits.push(i);
      if (failure) this.#onError?.(rule, failure.error);
      if (took > this.#budgetMs) this.#tooSlow(i, rule, took);
      // The next evaluation starts here, so a slow onError is not charged to the next rule.
      if (failure || took > this.#budgetMs) started = performance.now();
      else started += took;
    }
  }

  #tooSlow(i: number, rule: Rule, took: number): void {
    const strikes = (this.#slow.get(i) ?? 0) + 1;
    this.#slow.set(i, strikes);
    const setAside = strikes >= SLOW_STRIKES;
    if (setAside) this.#disabled.add(i);
    this.#onError?.(rule, new RuleTooSlowError(rule.id, took, this.#budgetMs, setAside));
  }
}

/** One evaluation may take this long before it is reported. */
const DEFAULT_BUDGET_MS = 250;
/** Evaluations over budget before the rule is set aside for the rest of the process. */
export const SLOW_STRIKES = 3;

export class RuleTooSlowError extends Error {
  override readonly name = "RuleTooSlowError";
  readonly setAside: boolean;
  constructor(ruleId: string, tookMs: number, budgetMs: number, setAside: boolean) {
    super(
      `rule ${ruleId} took ${Math.round(tookMs)} ms on one event (budget ${budgetMs} ms)${setAside ? `; set aside after ${SLOW_STRIKES} such events` : ""}`,
    );
    this.setAside = setAside;
  }
}
