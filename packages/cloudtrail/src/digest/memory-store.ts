// The tracker's state in process memory: for `scan --validate` and tests.
import type { ChainState, ExpectedFile, IntegrityStore, PendingFile } from "./tracker.ts";

export class MemoryIntegrityStore implements IntegrityStore {
  readonly pending = new Map<string, { file: PendingFile; checkMs: number; overdue?: boolean }>();
  readonly expected = new Map<string, ExpectedFile>();
  readonly resolved = new Set<string>();
  readonly chainStates = new Map<string, ChainState>();
  readonly siteEnds = new Map<string, number>();
  readonly siteHoles = new Map<string, [number, number][]>();

  async putPending(id: string, file: PendingFile): Promise<void> {
    this.pending.set(id, { file, checkMs: Math.max(file.deliveredMs, file.seenMs) });
  }

  async takePending(id: string): Promise<PendingFile | undefined> {
    const got = this.pending.get(id);
    this.pending.delete(id);
    return got?.file;
  }

  async stalePending(beforeMs: number, limit: number): Promise<PendingFile[]> {
    const out: PendingFile[] = [];
    for (const { file, checkMs } of this.pending.values()) {
      if (checkMs <= beforeMs) out.push(file);
      if (out.length >= limit) break;
    }
    return out;
  }

  async deferPending(id: string, checkMs: number, overdue: boolean): Promise<void> {
    const got = this.pending.get(id);
    if (!got) return;
    got.checkMs = checkMs;
    got.overdue = overdue;
  }

  async overdueCount(): Promise<number> {
    let n = 0;
    for (const p of this.pending.values()) if (p.overdue) n++;
    return n;
  }

  async putExpected(id: string, file: ExpectedFile): Promise<void> {
    this.expected.set(id, file);
  }

  async takeExpected(id: string): Promise<ExpectedFile | undefined> {
    const got = this.expected.get(id);
    this.expected.delete(id);
    return got;
  }

  async dueExpected(nowMs: number, limit: number): Promise<ExpectedFile[]> {
    return [...this.expected.values()].filter((e) => e.deadlineMs <= nowMs).slice(0, limit);
  }

  async markResolved(id: string): Promise<void> {
    this.resolved.add(id);
  }

  async isResolved(id: string): Promise<boolean> {
    return this.resolved.has(id);
  }

  async updateChain<T>(
    chain: string,
    change: (state: ChainState | undefined) => { state: ChainState | undefined; result: T },
  ): Promise<T> {
    const current = this.chainStates.get(chain);
    const { state, result } = change(current ? structuredClone(current) : undefined);
    if (state) this.chainStates.set(chain, state);
    else this.chainStates.delete(chain);
    return result;
  }

  async chains(): Promise<string[]> {
    return [...this.chainStates.keys()];
  }

  async raiseSiteEnd(site: string, endMs: number): Promise<void> {
    this.siteEnds.set(site, Math.max(endMs, this.siteEnds.get(site) ?? 0));
  }

  async siteEnd(site: string): Promise<number | undefined> {
    return this.siteEnds.get(site);
  }

  async addSiteHole(site: string, fromMs: number, toMs: number): Promise<void> {
    this.siteHoles.set(site, [...(this.siteHoles.get(site) ?? []), [fromMs, toMs]]);
  }

  async inSiteHole(site: string, ms: number): Promise<boolean> {
    return (this.siteHoles.get(site) ?? []).some(([from, to]) => ms >= from - 60_000 && ms <= to + 60_000);
  }
}
