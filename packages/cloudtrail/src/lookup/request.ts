// A LookupEvents request checked as CloudTrail checks it, with CloudTrail's error names, and the
// NextToken that pages through the answer (tied to the parameters it was issued for).
import { createHash } from "node:crypto";
import { LOOKUP_ATTRIBUTE_KEYS, type LookupAttributeKey } from "./attributes.ts";

export type LookupErrorName =
  | "InvalidLookupAttributesException"
  | "InvalidTimeRangeException"
  | "InvalidMaxResultsException"
  | "InvalidNextTokenException"
  | "InvalidEventCategoryException";

export class LookupError extends Error {
  override readonly name: LookupErrorName;
  constructor(name: LookupErrorName, message: string) {
    super(message);
    this.name = name;
  }
}

export interface LookupRequestInput {
  LookupAttributes?: { AttributeKey: string; AttributeValue: string }[];
  /** Milliseconds since the epoch; inclusive. */
  StartTime?: number;
  /** Milliseconds since the epoch; inclusive. */
  EndTime?: number;
  MaxResults?: number;
  NextToken?: string;
  EventCategory?: string;
}

/** Where the previous page ended: events strictly older than this in the answer's order come next. */
export interface PagePosition {
  timeMs: number;
  identity: string;
}

export interface LookupRequest {
  attribute: { key: LookupAttributeKey; value: string } | undefined;
  startMs: number | undefined;
  endMs: number | undefined;
  maxResults: number;
  insight: boolean;
  after: PagePosition | undefined;
  /** Names the parameters, so a token is honoured only with the ones it was issued for. */
  fingerprint: string;
}

const MAX_VALUE = 2000;

/** `_`, space, `,` and newline count as two characters in CloudTrail's 2000-character limit. */
function valueLength(value: string): number {
  let n = 0;
  for (const c of value) n += c === "_" || c === " " || c === "," || c === "\n" ? 2 : 1;
  return n;
}

export function lookupRequest(input: LookupRequestInput): LookupRequest {
  const attributes = input.LookupAttributes ?? [];
  if (attributes.length > 1) {
    throw new LookupError("InvalidLookupAttributesException", "Currently the list can contain only one item.");
  }
  let attribute: LookupRequest["attribute"];
  const first = attributes[0];
  if (first) {
    if (!(LOOKUP_ATTRIBUTE_KEYS as readonly string[]).includes(first.AttributeKey)) {
      throw new LookupError(
        "InvalidLookupAttributesException",
        `AttributeKey ${first.AttributeKey} is not one of ${LOOKUP_ATTRIBUTE_KEYS.join(", ")} (names are case-sensitive).`,
      );
    }
    if (first.AttributeValue === "" || valueLength(first.AttributeValue) > MAX_VALUE) {
      throw new LookupError(
        "InvalidLookupAttributesException",
        `AttributeValue must hold 1 to ${MAX_VALUE} characters (_, space, comma and newline count as two).`,
      );
    }
    attribute = { key: first.AttributeKey as LookupAttributeKey, value: first.AttributeValue };
  }
  const { StartTime: startMs, EndTime: endMs } = input;
  if (startMs !== undefined && endMs !== undefined && startMs > endMs) {
    throw new LookupError("InvalidTimeRangeException", "StartTime must be before or equal to EndTime.");
  }
  const maxResults = input.MaxResults ?? 50;
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 50) {
    throw new LookupError("InvalidMaxResultsException", "MaxResults must be a whole number from 1 to 50.");
  }
  if (input.EventCategory !== undefined && input.EventCategory !== "insight") {
    throw new LookupError("InvalidEventCategoryException", 'EventCategory takes only the value "insight".');
  }
  const insight = input.EventCategory === "insight";
  const fingerprint = createHash("sha256")
    .update(JSON.stringify([attribute?.key, attribute?.value, startMs, endMs, insight]))
    .digest("base64url")
    .slice(0, 16);
  const request: LookupRequest = { attribute, startMs, endMs, maxResults, insight, after: undefined, fingerprint };
  if (input.NextToken !== undefined) request.after = readToken(input.NextToken, fingerprint);
  return request;
}

export function nextToken(request: LookupRequest, last: PagePosition): string {
  return Buffer.from(JSON.stringify({ v: 1, q: request.fingerprint, t: last.timeMs, i: last.identity })).toString(
    "base64url",
  );
}

function readToken(token: string, fingerprint: string): PagePosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw new LookupError("InvalidNextTokenException", "NextToken is not a token this command issued.");
  }
  const t = parsed as { v?: unknown; q?: unknown; t?: unknown; i?: unknown };
  if (t?.v !== 1 || typeof t.q !== "string" || typeof t.t !== "number" || typeof t.i !== "string") {
    throw new LookupError("InvalidNextTokenException", "NextToken is not a token this command issued.");
  }
  if (t.q !== fingerprint) {
    throw new LookupError(
      "InvalidNextTokenException",
      "NextToken was issued for other parameters: use it with the same attributes and times.",
    );
  }
  return { timeMs: t.t, identity: t.i };
}
