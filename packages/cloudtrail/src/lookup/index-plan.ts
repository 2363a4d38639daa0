// What a lookup reads when the index has blocks for its window: every offset of the window except
// those a block rules out (its filter lacks the value, or its event times miss the asked range).
// Offsets no block covers (the newest, not yet indexed; a gap an indexer crash left; an index
// record that was lost) are read as without an index. So the answer is the brute force's, always.

import { type IndexBlock, indexEntry } from "./index-block.ts";
import type { LookupRequest } from "./request.ts";

export interface OffsetWindow {
  partition: number;
  /** First offset to read. */
  from: bigint;
  /** Offset after the last one. */
  to: bigint;
}

export interface ReadSegment extends OffsetWindow {
  /**
   * The newest eventTime a record of the segment can have (the smallest maxEventMs of the blocks
   * covering it); +Infinity for offsets no block covers.
   */
  boundMs: number;
  /** Covered by index blocks (false: a gap of the index). */
  indexed: boolean;
}

/** Whether a block may hold an event the request asks for (the filter can say yes wrongly, never no). */
export function blockMayAnswer(block: IndexBlock, request: LookupRequest): boolean {
  if (block.minEventMs === null || block.maxEventMs === null) return false;
  if (request.startMs !== undefined && block.maxEventMs < request.startMs) return false;
  const newest = Math.min(request.endMs ?? Number.POSITIVE_INFINITY, request.after?.timeMs ?? Number.POSITIVE_INFINITY);
  if (block.minEventMs > newest) return false;
  const a = request.attribute;
  return a === undefined || a.key !== block.key || block.bloom.has(indexEntry(a.key, a.value));
}

/**
 * The segments of `windows` to read, given the index blocks (of any partitions, overlapping or
 * not, in any order) and which of them may answer: an offset is skipped only when a block that
 * cannot answer covers it. Adjacent segments with the same bound are merged.
 */
export function planIndexedRead(
  windows: readonly OffsetWindow[],
  blocks: readonly IndexBlock[],
  mayAnswer: (block: IndexBlock) => boolean,
): ReadSegment[] {
  const byPartition = new Map<number, IndexBlock[]>();
  for (const b of blocks) {
    if (b.to <= b.from) continue;
    const list = byPartition.get(b.partition) ?? [];
    list.push(b);
    byPartition.set(b.partition, list);
  }
  const out: ReadSegment[] = [];
  for (const w of windows) {
    if (w.to <= w.from) continue;
    const inside = (byPartition.get(w.partition) ?? []).filter((b) => b.to > w.from && b.from < w.to);
    const cuts = new Set<bigint>([w.from, w.to]);
    for (const b of inside) {
      if (b.from > w.from) cuts.add(b.from);
      if (b.to < w.to) cuts.add(b.to);
    }
    const points = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const answers = new Map(inside.map((b) => [b, mayAnswer(b)]));
    inside.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
    let active: IndexBlock[] = [];
    let next = 0;
    for (let i = 0; i + 1 < points.length; i++) {
      const from = points[i] as bigint;
      const to = points[i + 1] as bigint;
      active = active.filter((b) => b.to > from);
      while (next < inside.length && (inside[next] as IndexBlock).from <= from) {
        const b = inside[next++] as IndexBlock;
        if (b.to > from) active.push(b);
      }
      if (active.some((b) => !answers.get(b))) continue;
      const boundMs =
        active.length === 0
          ? Number.POSITIVE_INFINITY
          : Math.min(...active.map((b) => b.maxEventMs ?? Number.NEGATIVE_INFINITY));
      const last = out.at(-1);
      if (last && last.partition === w.partition && last.to === from && last.boundMs === boundMs) last.to = to;
      else out.push({ partition: w.partition, from, to, boundMs, indexed: active.length > 0 });
    }
  }
  return out;
}

/** The offsets the segments hold. */
export const segmentOffsets = (segments: readonly OffsetWindow[]): bigint =>
  segments.reduce((n, s) => n + (s.to - s.from), 0n);

/**
 * Splits segments, newest bound first, into what to read now (at least one segment, then until
 * `budget` offsets) and what remains; every gap of the index goes into the first round.
 */
export function nextRound(
  remaining: readonly ReadSegment[],
  budget: bigint,
): { now: ReadSegment[]; later: ReadSegment[] } {
  const sorted = [...remaining].sort((a, b) => b.boundMs - a.boundMs);
  const now: ReadSegment[] = [];
  let taken = 0n;
  let i = 0;
  for (; i < sorted.length; i++) {
    const s = sorted[i] as ReadSegment;
    if (now.length > 0 && s.indexed && taken >= budget) break;
    now.push(s);
    taken += s.to - s.from;
  }
  return { now, later: sorted.slice(i) };
}

/** The newest eventTime still unread (-Infinity when nothing is). */
export const newestUnread = (later: readonly ReadSegment[]): number =>
  later.reduce((m, s) => Math.max(m, s.boundMs), Number.NEGATIVE_INFINITY);
