// One page of a lookup: the matching events newest first (eventTime, then identity, descending),
// after the previous page's last one, at most MaxResults, with a NextToken when more remain.
// Records may come in any order and more than once (copies); only MaxResults + 1 are kept at a time.
import { eventIdentity } from "../identity.ts";
import type { CloudTrailRecord } from "../record.ts";
import { type LookupEvent, lookupEvent, lookupValues } from "./attributes.ts";
import { type LookupRequest, nextToken, type PagePosition } from "./request.ts";

export interface LookupResponse {
  Events: LookupEvent[];
  NextToken?: string;
}

interface Candidate extends PagePosition {
  record: CloudTrailRecord;
}

/** a before b in the answer: newer first, then the larger identity. */
const newerFirst = (a: PagePosition, b: PagePosition) =>
  b.timeMs - a.timeMs || (a.identity < b.identity ? 1 : a.identity > b.identity ? -1 : 0);

export function isInsight(record: CloudTrailRecord): boolean {
  return record.eventCategory === "Insight" || record.eventType === "AwsCloudTrailInsight";
}

/** Whether a record answers the request's attribute, time range and category (paging aside). */
export function lookupMatches(request: LookupRequest, record: CloudTrailRecord, timeMs: number): boolean {
  if (!Number.isFinite(timeMs)) return false;
  if (request.startMs !== undefined && timeMs < request.startMs) return false;
  if (request.endMs !== undefined && timeMs > request.endMs) return false;
  if (isInsight(record) !== request.insight) return false;
  const a = request.attribute;
  return a === undefined || lookupValues(record, a.key).includes(a.value);
}

export class LookupPage {
  readonly #request: LookupRequest;
  #kept: Candidate[] = [];
  #identities = new Set<string>();

  constructor(request: LookupRequest) {
    this.#request = request;
  }

  /** The oldest time that can still enter the page, once it is full; -Infinity before. */
  get floorMs(): number {
    const k = this.#request.maxResults + 1;
    if (this.#kept.length < k) return Number.NEGATIVE_INFINITY;
    this.#trim();
    return this.#kept[this.#kept.length - 1]?.timeMs ?? Number.NEGATIVE_INFINITY;
  }

  offer(record: CloudTrailRecord): void {
    const timeMs = Date.parse(record.eventTime ?? "");
    if (!lookupMatches(this.#request, record, timeMs)) return;
    const identity = eventIdentity(record);
    if (identity === null) return;
    const position = { timeMs, identity };
    const after = this.#request.after;
    if (after && newerFirst(position, after) <= 0) return;
    if (this.#identities.has(identity)) return;
    this.#identities.add(identity);
    this.#kept.push({ ...position, record });
    if (this.#kept.length > 4 * (this.#request.maxResults + 1)) this.#trim();
  }

  #trim(): void {
    this.#kept.sort(newerFirst);
    const dropped = this.#kept.splice(this.#request.maxResults + 1);
    // A dropped identity cannot come back into the page, so forgetting it keeps memory bounded.
    for (const d of dropped) this.#identities.delete(d.identity);
  }

  response(): LookupResponse {
    this.#trim();
    const page = this.#kept.slice(0, this.#request.maxResults);
    const out: LookupResponse = { Events: page.map((c) => lookupEvent(c.record)) };
    const last = page.at(-1);
    if (this.#kept.length > page.length && last) out.NextToken = nextToken(this.#request, last);
    return out;
  }
}
