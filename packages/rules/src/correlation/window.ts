// Which windows of one group's matches meet a correlation's condition. Pure: the entries come from
// a CorrelationStore (memory in `scan`, Redis in the alerter), so both judge alike.
//
// A window is the timespan of event time ending at a match: (end - timespan, end]. Any window that
// meets a lower-bound condition contains one ending at a match that meets it too, so these are the
// only windows to judge. A match arriving at t can complete the windows ending in [t, t + timespan);
// judging all of them makes the verdict independent of arrival order: late events count as if they
// had come in order.
import { isMonotone, meets } from "./condition.ts";
import type { CorrelationCondition, CorrelationType } from "./types.ts";

/** One match in a group's log: which referenced rule, the counted value, and the event. */
export interface Entry {
  t: number;
  member: string;
}

const SEP = "\u001f";

/** A log member: the referenced rule's position, the value (value_count) and the identity. Re-adding it changes nothing. */
export function entryMember(ref: number, value: string, identity: string): string {
  return `${ref}${SEP}${value}${SEP}${identity}`;
}

export function parseMember(member: string): { ref: number; value: string; identity: string } {
  const a = member.indexOf(SEP);
  const b = member.indexOf(SEP, a + 1);
  return { ref: Number(member.slice(0, a)), value: member.slice(a + 1, b), identity: member.slice(b + 1) };
}

export interface WindowShape {
  type: CorrelationType;
  condition: CorrelationCondition;
  timespanMs: number;
}

/** The count the condition is compared with, over the entries of one window (sorted by time). */
export function measure(type: CorrelationType, window: readonly Entry[]): number {
  const parsed = window.map((e) => ({ t: e.t, ...parseMember(e.member) }));
  switch (type) {
    case "event_count":
      return new Set(parsed.map((p) => p.identity)).size;
    case "value_count":
      return new Set(parsed.map((p) => p.value)).size;
    case "temporal":
      return new Set(parsed.map((p) => p.ref)).size;
    case "temporal_ordered": {
      // The longest prefix of the rules list matched in order; matches in the same instant may
      // stand in either order (CloudTrail's eventTime has whole seconds).
      let next = 0;
      let i = 0;
      while (i < parsed.length) {
        let j = i;
        while (j < parsed.length && parsed[j]?.t === parsed[i]?.t) j++;
        const refs = new Set(parsed.slice(i, j).map((p) => p.ref));
        while (refs.has(next)) next++;
        i = j;
      }
      return next;
    }
  }
}

export interface MetWindow {
  /** The window is (endMs - timespan, endMs]. */
  endMs: number;
  count: number;
}

/**
 * The windows that meet the condition among those a match at `t` belongs to, earliest first. With
 * `first`, stops at the first one (enough to decide an alert). Upper-bound conditions can be broken
 * by a later event, so they are judged only on the window ending at `t`, when its last event came.
 */
export function metWindows(shape: WindowShape, entries: readonly Entry[], t: number, first = false): MetWindow[] {
  const span = shape.timespanMs;
  if (!isMonotone(shape.condition)) {
    const window = entries.filter((e) => e.t > t - span && e.t <= t);
    const count = measure(shape.type, window);
    return meets(shape.condition, count) ? [{ endMs: t, count }] : [];
  }
  if (shape.type === "temporal_ordered") {
    const out: MetWindow[] = [];
    const ends = [...new Set(entries.filter((e) => e.t >= t && e.t < t + span).map((e) => e.t))].sort((a, b) => a - b);
    for (const end of ends) {
      const count = measure(
        shape.type,
        entries.filter((e) => e.t > end - span && e.t <= end),
      );
      if (!meets(shape.condition, count)) continue;
      out.push({ endMs: end, count });
      if (first) break;
    }
    return out;
  }
  // The other types count distinct keys: slide the window over the sorted entries, adding and
  // removing one entry at a time, so judging every window costs one pass.
  const keyOf = (e: Entry): string => {
    const p = parseMember(e.member);
    return shape.type === "event_count" ? p.identity : shape.type === "value_count" ? p.value : String(p.ref);
  };
  const sorted = [...entries].sort((a, b) => a.t - b.t);
  const counts = new Map<string, number>();
  const out: MetWindow[] = [];
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < sorted.length; i++) {
    const end = sorted[i]?.t ?? 0;
    if (end < t || end >= t + span) continue;
    if (i + 1 < sorted.length && sorted[i + 1]?.t === end) continue; // the last entry of this instant ends the window
    for (; hi <= i; hi++) {
      const k = keyOf(sorted[hi] as Entry);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (; lo < hi && (sorted[lo]?.t ?? 0) <= end - span; lo++) {
      const k = keyOf(sorted[lo] as Entry);
      const n = (counts.get(k) ?? 0) - 1;
      if (n === 0) counts.delete(k);
      else counts.set(k, n);
    }
    if (!meets(shape.condition, counts.size)) continue;
    out.push({ endMs: end, count: counts.size });
    if (first) break;
  }
  return out;
}
