// Reads the value of a record on cloudtrail.raw or cloudtrail.events: the one decoder the enricher
// and the alerter share, so a value one of them takes the other takes too, and both dead-letter
// what they refuse with the same reasons. Validates; never casts what it has not checked.
import type {
  DeadLetter,
  DlqReason,
  EnrichedEnvelope,
  EnvelopeRejectReason,
  RawEnvelope,
  ReceivedOrigin,
  Stage,
} from "./contract.ts";
import { eventIdentity } from "./identity.ts";
import { type CloudTrailRecord, isPlainObject } from "./record.ts";
import { describe, isCarriableRecord, validateRecord } from "./validate.ts";

/** What a reader finds on a topic: the raw envelope, with its enrichment when it has one. */
export type ReceivedEnvelope = RawEnvelope<ReceivedOrigin> & Partial<Pick<EnrichedEnvelope, "enrichment" | "dedup">>;

export type EnvelopeOutcome =
  | {
      ok: true;
      envelope: ReceivedEnvelope;
      identity: string;
      /**
       * The value's own JSON text, when it is a raw envelope with no other member than `v`, `event`
       * and `origin`: the enriched value can then be written from it (enrichedEnvelopeText) without
       * writing the event out again.
       */
      rawText?: string;
    }
  | {
      ok: false;
      reason: EnvelopeRejectReason;
      /** What was wrong, without where: the caller knows the topic, partition and offset. */
      message: string;
      /** The event's identity when the value got far enough to name one. */
      identity: string | null;
      origin?: Partial<ReceivedOrigin>;
    };

const ORIGIN_STRING_FIELDS = [
  "kind",
  "bucket",
  "key",
  "account",
  "region",
  "stream",
  "shardId",
  "sequenceNumber",
  "logGroup",
  "receivedAt",
] as const;

const utf8 = new TextDecoder("utf-8", { fatal: true });

export interface DecodeEnvelopeOptions {
  /**
   * false: the caller does not read `enrichment` (the alerter), so the enricher's layout, with the
   * enrichment last, is parsed without it when it can be (withoutEnrichment); the outcome is the
   * same but for `enrichment` and `dedup`, which are then absent.
   */
  readEnrichment?: boolean;
}

export function decodeEnvelope(
  value: Uint8Array | string | null,
  options: DecodeEnvelopeOptions = {},
): EnvelopeOutcome {
  const reject = (
    reason: EnvelopeRejectReason,
    message: string,
    identity: string | null = null,
    origin?: Partial<ReceivedOrigin>,
  ): EnvelopeOutcome => ({ ok: false, reason, message, identity, ...(origin ? { origin } : {}) });
  if (value === null || value.length === 0) return reject("empty", "the record has no value");
  let text: string;
  if (typeof value === "string") text = value;
  else {
    try {
      text = utf8.decode(value);
    } catch {
      return reject("utf8", "the record's value is not UTF-8");
    }
  }
  if (options.readEnrichment === false) {
    const outcome = decodeWithoutEnrichment(text);
    if (outcome) return outcome;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return reject("json", `the record's value is not JSON: ${(error as Error).message}`);
  }
  // The hot path: an envelope that passes every check below, found with no allocation and one walk
  // of the record. Anything else takes the checks one by one, for its exact reason and sentence.
  if (isPlainObject(parsed) && parsed.v === 1 && isCarriableOrigin(parsed.origin) && isCarriableRecord(parsed.event)) {
    const identity = eventIdentity(parsed.event);
    if (identity !== null) {
      const envelope = envelopeOf(parsed, parsed.event, parsed.origin);
      return hasOnlyRawMembers(parsed)
        ? { ok: true, envelope, identity, rawText: text }
        : { ok: true, envelope, identity };
    }
  }
  if (!isPlainObject(parsed)) return reject("shape", `the record's value is ${describe(parsed)}, not an envelope`);
  const maybeIdentity = isPlainObject(parsed.event) ? eventIdentity(parsed.event) : null;
  const rawOrigin = parsed.origin;
  // What of the origin can be shown in a dead letter, before it is known to be valid.
  const shown = isPlainObject(rawOrigin) ? (rawOrigin as Partial<ReceivedOrigin>) : undefined;
  if (parsed.v !== 1) {
    return reject(
      "version",
      `envelope version ${JSON.stringify(parsed.v) ?? "missing"} is not 1`,
      maybeIdentity,
      shown,
    );
  }
  if (!isPlainObject(rawOrigin)) return reject("shape", "the envelope has no origin object", maybeIdentity);
  for (const field of ORIGIN_STRING_FIELDS) {
    const v = rawOrigin[field];
    if (field === "kind" ? typeof v !== "string" || v === "" : v !== undefined && typeof v !== "string") {
      return reject("shape", `origin.${field} is ${describe(v)}, not a string`, maybeIdentity, shown);
    }
  }
  const checked = validateRecord(parsed.event, "$.event");
  if (!checked.ok) {
    const code = checked.error.code;
    const reason = code === "missing-event-id" || code === "field" || code === "too-deep" ? code : "shape";
    return reject(reason, checked.error.message, maybeIdentity, shown);
  }
  const identity = eventIdentity(checked.value);
  if (identity === null) return reject("missing-event-id", "the record has no identity", null, shown);
  return { ok: true, envelope: envelopeOf(parsed, checked.value, rawOrigin as ReceivedOrigin), identity };
}

const ENRICHMENT_MEMBER = ',"enrichment":';

/**
 * The hot path of decodeEnvelope on the text before the top-level enrichment, which the enricher
 * writes last; undefined when that does not give a valid envelope, and the whole text is parsed.
 * Why a cut cannot change what is read: inside a JSON string a quote is always escaped, so a comma
 * then a quote is structure, and `,"enrichment":` begins a member name. If its object is not the
 * top-level one, the text before it plus one "}" leaves a container open and does not parse. If it
 * is, what precedes it is the envelope's other members, each whole; members after the enrichment
 * are left out, and v, event and origin are checked as always (one written after it fails the check).
 */
function decodeWithoutEnrichment(text: string): EnvelopeOutcome | undefined {
  // A value cut short (the one damage a text that parsed up to its enrichment may still carry) does
  // not end its object: such a value takes the whole parse and its "json" refusal.
  if (text.charCodeAt(lastNonSpace(text)) !== 0x7d) return undefined;
  const cut = text.lastIndexOf(ENRICHMENT_MEMBER);
  if (cut <= 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(`${text.slice(0, cut)}}`);
  } catch {
    return undefined;
  }
  if (!isPlainObject(parsed) || parsed.v !== 1 || !isCarriableOrigin(parsed.origin)) return undefined;
  if (!isCarriableRecord(parsed.event)) return undefined;
  const identity = eventIdentity(parsed.event);
  if (identity === null) return undefined;
  return { ok: true, envelope: { v: 1, event: parsed.event, origin: parsed.origin }, identity };
}

function envelopeOf(
  parsed: Record<string, unknown>,
  event: CloudTrailRecord,
  origin: ReceivedOrigin,
): ReceivedEnvelope {
  const envelope: ReceivedEnvelope = { v: 1, event, origin };
  if ("enrichment" in parsed) envelope.enrichment = parsed.enrichment;
  if (parsed.dedup === "unchecked") envelope.dedup = "unchecked";
  return envelope;
}

/** Whether the object's members are exactly a raw envelope's three (the caller checked those are there). */
function hasOnlyRawMembers(parsed: Record<string, unknown>): boolean {
  let members = 0;
  for (const _ in parsed) members++;
  return members === 3;
}

/**
 * The enriched envelope's JSON, from the raw envelope's own text (`rawText` of decodeEnvelope): the
 * text less its closing brace, then `enrichment` (and `dedup` when unchecked). It reads as
 * `JSON.stringify({ ...envelope, enrichment })` does, and for a text JSON.stringify wrote it is the
 * same string, but the event, most of the bytes, is not walked and written again.
 */
export function enrichedEnvelopeText(rawText: string, enrichment: unknown, unchecked: boolean): string {
  // JSON allows whitespace after the value; rawText is an object, so what precedes it is its "}".
  const end = lastNonSpace(rawText);
  const dedup = unchecked ? ',"dedup":"unchecked"' : "";
  return `${rawText.slice(0, end)},"enrichment":${JSON.stringify(enrichment)}${dedup}}`;
}

/** Where the JSON text's value ends: the index of its last character that is not JSON whitespace. */
function lastNonSpace(text: string): number {
  let end = text.length - 1;
  while (end > 0 && isJsonWhitespace(text.charCodeAt(end))) end--;
  return end;
}

const isJsonWhitespace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Whether decodeEnvelope's origin checks pass (kind a non-empty string, the rest strings when present). */
function isCarriableOrigin(o: unknown): o is ReceivedOrigin {
  if (!isPlainObject(o)) return false;
  const kind = o.kind;
  if (typeof kind !== "string" || kind === "") return false;
  // Named reads, as in isCarriableRecord; the same fields as ORIGIN_STRING_FIELDS.
  return (
    optionalString(o.bucket) &&
    optionalString(o.key) &&
    optionalString(o.account) &&
    optionalString(o.region) &&
    optionalString(o.stream) &&
    optionalString(o.shardId) &&
    optionalString(o.sequenceNumber) &&
    optionalString(o.logGroup) &&
    optionalString(o.receivedAt)
  );
}

const optionalString = (v: unknown): boolean => v === undefined || typeof v === "string";

/** Larger undecodable values are not copied into a dead letter (base64 would pass Kafka's 1 MiB limit). */
export const MAX_DEAD_PAYLOAD_BYTES = 512 * 1024;

/**
 * The dead letter for a topic record a stage could not read: the reason, where it was, and its
 * bytes to replay (as text when they are UTF-8, else base64; left out when larger than maxBytes).
 */
export function rejectedRecordLetter<S extends Stage>(o: {
  stage: S;
  reason: DlqReason<S>;
  message: string;
  value: Uint8Array | null;
  nowMs: number;
  origin?: Partial<ReceivedOrigin> | undefined;
  maxBytes?: number;
}): DeadLetter<S> {
  const letter: DeadLetter<S> = {
    v: 1,
    stage: o.stage,
    reason: o.reason,
    message: o.message,
    at: new Date(o.nowMs).toISOString(),
    ...(o.origin ? { origin: o.origin } : {}),
  };
  const value = o.value;
  if (value === null || value.length === 0) return letter;
  const max = o.maxBytes ?? MAX_DEAD_PAYLOAD_BYTES;
  if (value.length > max) {
    letter.message = `${o.message} (payload of ${value.length} bytes left out: replay it from the topic)`;
    return letter;
  }
  try {
    letter.payload = utf8.decode(value);
    letter.payloadEncoding = "utf8";
  } catch {
    letter.payload = Buffer.from(value.buffer, value.byteOffset, value.length).toString("base64");
    letter.payloadEncoding = "base64";
  }
  return letter;
}
