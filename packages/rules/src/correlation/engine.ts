// Correlation rules over a stream of rule matches. For each event, the detection rules it matched
// feed the correlations that refer to them; each correlation logs the match in its group (store),
// judges the windows the match belongs to (window.ts), feeds the correlations that refer to it in
// turn (chains), and claims one alert per group and timespan. Time is the events' own eventTime, so
// a scan of old files and the live alerter reach the same verdicts.
import { fieldValues } from "../sigma/fields.ts";
import type { Rule } from "../types.ts";
import { describeCondition } from "./condition.ts";
import type { CorrelationStore } from "./store.ts";
import type { CorrelationRule } from "./types.ts";
import { entryMember, metWindows } from "./window.ts";

export interface CorrelationEvent {
  record: unknown;
  /** The event identity (`recipientAccountId:eventID`): a match counts once however often it comes. */
  identity: string;
  /** eventTime in epoch ms. */
  timeMs: number;
  /** The detection rules the event matched. */
  matched: readonly Rule[];
}

export interface CorrelationAlert {
  rule: CorrelationRule;
  /** JSON of the group-by values, as thresholds write groups ("" without group-by). */
  group: string;
  groupValues: Record<string, unknown>;
  /** What the condition compared: events, distinct values or rules, in the window. */
  count: number;
  windowStartMs: number;
  windowEndMs: number;
}

export interface CorrelationFailure {
  id: string;
  file?: string;
  reason: string;
}

export interface EngineOptions {
  store: CorrelationStore;
  /**
   * How late (in event time) a match may arrive after later ones and still be judged with them.
   * Older matches are forgotten beyond timespan + this. Default 15 minutes; `scan` uses Infinity.
   */
  latenessMs?: number;
}

/** One referenced rule of a correlation, resolved. */
interface Ref {
  kind: "rule" | "correlation";
  id: string;
  written: string;
}

interface Node {
  rule: CorrelationRule;
  refs: Ref[];
  /** Correlations that refer to this one: [their index, the position of this one in their rules]. */
  feeds: [number, number][];
  alerts: boolean;
}

interface Occurrence {
  ref: number;
  t: number;
  identity: string;
  /** Field values by name: from the record, or handed on by an inner correlation. */
  values: (field: string) => unknown;
}

const DEFAULT_LATENESS_MS = 15 * 60_000;

/** null when absent, the value when one, the list when several. */
function valueAt(record: unknown, path: string): unknown {
  const values = fieldValues(record, path.split("."));
  return values.length === 0 ? null : values.length === 1 ? values[0] : values;
}

/**
 * Resolves every correlation's references (by id, then by name, preferring its own file) among the
 * detection rules and the other correlations. A correlation that cannot be resolved (unknown rule,
 * ambiguous name, a cycle, a group-by field an inner correlation does not provide) is left out with
 * the reason, and so is any correlation that refers to it.
 */
export function resolveCorrelations(
  correlations: readonly CorrelationRule[],
  rules: readonly Rule[],
): { resolved: { rule: CorrelationRule; refs: Ref[] }[]; failures: CorrelationFailure[] } {
  const failures: CorrelationFailure[] = [];
  const fail = (c: CorrelationRule, reason: string) =>
    failures.push({ id: c.id, ...(c.file === undefined ? {} : { file: c.file }), reason });
  const resolved = new Map<string, { rule: CorrelationRule; refs: Ref[] }>();
  const ids = new Set<string>();
  for (const c of correlations) {
    if (ids.has(c.id) || rules.some((r) => r.id === c.id)) {
      fail(c, `id "${c.id}" is used by another rule`);
      continue;
    }
    ids.add(c.id);
    const refs: Ref[] = [];
    let problem: string | undefined;
    for (const written of c.rules) {
      const byId = [
        ...rules.filter((r) => r.id === written).map((r) => ({ kind: "rule" as const, id: r.id, file: r.file })),
        ...correlations
          .filter((x) => x.id === written)
          .map((x) => ({ kind: "correlation" as const, id: x.id, file: x.file })),
      ];
      let found = byId;
      if (found.length === 0) {
        const byName = [
          ...rules.filter((r) => r.name === written).map((r) => ({ kind: "rule" as const, id: r.id, file: r.file })),
          ...correlations
            .filter((x) => x.name === written)
            .map((x) => ({ kind: "correlation" as const, id: x.id, file: x.file })),
        ];
        const mine = byName.filter((x) => x.file === c.file);
        found = mine.length > 0 ? mine : byName;
      }
      if (found.length === 0) problem = `refers to "${written}", which is no loaded rule's id or name`;
      else if (found.length > 1) problem = `"${written}" names ${found.length} rules; refer to it by id`;
      else if (found[0]?.id === c.id) problem = "refers to itself";
      if (problem) break;
      const f = found[0];
      if (f) refs.push({ kind: f.kind, id: f.id, written });
    }
    if (problem) fail(c, problem);
    else resolved.set(c.id, { rule: c, refs });
  }
  // Drop correlations over failed ones, and cycles, until nothing changes.
  let changed = true;
  while (changed) {
    changed = false;
    for (const [id, r] of resolved) {
      const missing = r.refs.find((ref) => ref.kind === "correlation" && !resolved.has(ref.id));
      if (missing) {
        fail(r.rule, `refers to correlation "${missing.written}", which was not loaded`);
        resolved.delete(id);
        changed = true;
      }
    }
  }
  // Inner correlations first; what is left when none can be placed refers to itself in a cycle.
  const order: string[] = [];
  const placed = new Set<string>();
  let progress = true;
  while (progress) {
    progress = false;
    for (const [id, r] of resolved) {
      if (placed.has(id)) continue;
      if (r.refs.every((ref) => ref.kind === "rule" || placed.has(ref.id))) {
        placed.add(id);
        order.push(id);
        progress = true;
      }
    }
  }
  for (const [id, r] of resolved) {
    if (placed.has(id)) continue;
    fail(r.rule, "its references form a cycle");
    resolved.delete(id);
  }
  const out: { rule: CorrelationRule; refs: Ref[] }[] = [];
  for (const id of order) {
    const r = resolved.get(id);
    if (!r) continue;
    // An inner correlation hands on only its group: every field the outer one groups or counts by
    // must be one of its group-by fields.
    const fields = (ref: Ref) => [
      ...r.rule.groupBy.map((g) => r.rule.aliases[g]?.[ref.written] ?? g),
      ...(r.rule.field ?? []),
    ];
    const bad = r.refs
      .filter((ref) => ref.kind === "correlation")
      .flatMap((ref) => {
        const inner = resolved.get(ref.id)?.rule;
        return fields(ref)
          .filter((f) => !inner?.groupBy.includes(f))
          .map((f) => `uses "${f}" of correlation "${ref.written}", which does not group by it`);
      });
    if (bad[0]) {
      fail(r.rule, bad[0]);
      resolved.delete(id);
      continue;
    }
    out.push(r);
  }
  return { resolved: out, failures };
}

export class CorrelationEngine {
  readonly #nodes: Node[] = [];
  /** Detection rule id -> [correlation index, position in its rules]. */
  readonly #byRule = new Map<string, [number, number][]>();
  readonly #store: CorrelationStore;
  readonly #latenessMs: number;
  readonly failures: CorrelationFailure[];

  constructor(correlations: readonly CorrelationRule[], rules: readonly Rule[], options: EngineOptions) {
    this.#store = options.store;
    this.#latenessMs = options.latenessMs ?? DEFAULT_LATENESS_MS;
    const { resolved, failures } = resolveCorrelations(correlations, rules);
    this.failures = failures;
    const index = new Map(resolved.map((r, i) => [r.rule.id, i]));
    for (const r of resolved) this.#nodes.push({ rule: r.rule, refs: r.refs, feeds: [], alerts: !r.rule.silent });
    resolved.forEach((r, i) => {
      r.refs.forEach((ref, pos) => {
        if (ref.kind === "rule") {
          const list = this.#byRule.get(ref.id) ?? [];
          list.push([i, pos]);
          this.#byRule.set(ref.id, list);
        } else {
          const inner = index.get(ref.id);
          if (inner !== undefined) this.#nodes[inner]?.feeds.push([i, pos]);
        }
      });
    });
  }

  /** The correlations that were resolved, inner ones first. */
  get rules(): CorrelationRule[] {
    return this.#nodes.map((n) => n.rule);
  }

  /** Whether any correlation refers to this detection rule (the alerter skips the rest quickly). */
  feedsOn(ruleId: string): boolean {
    return this.#byRule.has(ruleId);
  }

  /** Feeds one event's matches to the correlations; resolves to the alerts it raises. */
  async observe(event: CorrelationEvent): Promise<CorrelationAlert[]> {
    const pending = new Map<number, Occurrence[]>();
    const push = (node: number, occ: Occurrence) => {
      const list = pending.get(node);
      if (list) list.push(occ);
      else pending.set(node, [occ]);
    };
    for (const rule of event.matched) {
      for (const [node, ref] of this.#byRule.get(rule.id) ?? []) {
        push(node, {
          ref,
          t: event.timeMs,
          identity: event.identity,
          values: (field) => valueAt(event.record, field),
        });
      }
    }
    const alerts: CorrelationAlert[] = [];
    // Nodes are in dependency order, so an inner correlation's output is pending before its outer runs.
    for (let i = 0; i < this.#nodes.length; i++) {
      const occurrences = pending.get(i);
      const node = this.#nodes[i];
      if (!occurrences || !node) continue;
      for (const occ of occurrences) await this.#judge(node, occ, event.identity, alerts, push);
    }
    return alerts;
  }

  async #judge(
    node: Node,
    occ: Occurrence,
    owner: string,
    alerts: CorrelationAlert[],
    push: (node: number, occ: Occurrence) => void,
  ): Promise<void> {
    const c = node.rule;
    const written = node.refs[occ.ref]?.written ?? "";
    const groupValues: Record<string, unknown> = {};
    for (const g of c.groupBy) groupValues[g] = occ.values(c.aliases[g]?.[written] ?? g);
    // A match without a group-by field belongs to no group, as in a query's "by" clause (Splunk's
    // stats, Elasticsearch's terms): otherwise every such event would pile up in one null group.
    if (c.groupBy.some((g) => groupValues[g] === null)) return;
    const group = c.groupBy.length === 0 ? "" : JSON.stringify(c.groupBy.map((g) => groupValues[g]));
    let value = "";
    if (c.field) {
      const values = c.field.map((f) => occ.values(f));
      if (values.every((v) => v === null)) return; // nothing to count
      value = JSON.stringify(values.length === 1 ? values[0] : values);
    }
    const span = c.timespanMs;
    const entries = await this.#store.record(
      `corr:${c.id}:${group}`,
      entryMember(occ.ref, value, occ.identity),
      occ.t,
      {
        fromMs: occ.t - span + 1,
        toMs: occ.t + span - 1,
        forgetBeforeMs: occ.t - span - this.#latenessMs,
        ttlMs: this.#ttl(span),
      },
    );
    const met = metWindows(c, entries, occ.t, node.feeds.length === 0);
    if (met.length === 0) return;
    // A met window of an inner correlation is a match of the outer ones, at the window's end.
    for (const w of met) {
      for (const [outer, pos] of node.feeds) {
        push(outer, {
          ref: pos,
          t: w.endMs,
          identity: `${c.id}@${w.endMs}`,
          values: (field) => groupValues[field] ?? null,
        });
      }
    }
    if (!node.alerts) return;
    const first = met[0];
    if (!first) return;
    const claimed = await this.#store.claimAlert(
      `corr-alert:${c.id}:${group}`,
      first.endMs,
      span,
      owner,
      this.#ttl(span),
    );
    if (!claimed) return;
    alerts.push({
      rule: c,
      group,
      groupValues,
      count: first.count,
      windowStartMs: first.endMs - span,
      windowEndMs: first.endMs,
    });
  }

  #ttl(span: number): number {
    const lateness = Number.isFinite(this.#latenessMs) ? this.#latenessMs : 0;
    return 2 * span + lateness + 3_600_000;
  }
}

/** One line for `rules list`: "event_count of 2 rules by [sourceIPAddress] in 5m: gte 10". */
export function describeCorrelation(c: CorrelationRule): string {
  const by = c.groupBy.length > 0 ? ` by ${c.groupBy.join(", ")}` : "";
  const field = c.field ? ` of ${c.field.join("+")}` : "";
  const span =
    c.timespanMs % 3_600_000 === 0
      ? `${c.timespanMs / 3_600_000}h`
      : c.timespanMs % 60_000 === 0
        ? `${c.timespanMs / 60_000}m`
        : `${c.timespanMs / 1_000}s`;
  return `${c.type}${field} over ${c.rules.join(", ")}${by} within ${span}: ${describeCondition(c.condition)}`;
}
