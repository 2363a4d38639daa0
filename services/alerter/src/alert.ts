// An event from the events topic, and the alert document a rule match makes of it: what every sink
// receives. How each sink presents it is the sink's own (sinks/). No I/O here.
import {
  type CloudTrailRecord,
  decodeEnvelope,
  type EnvelopeRejectReason,
  principalOf,
  type ReceivedOrigin,
  redact,
} from "@trailstream/cloudtrail";
import type { Rule, Severity } from "@trailstream/rules";

/** One event from the events topic, decoded. */
export interface DecodedEvent {
  identity: string;
  record: CloudTrailRecord;
  origin: ReceivedOrigin;
  /** Where it was read, `<partition>:<offset>`: the owner of its claims in Redis. */
  position: string;
}

export type DecodeOutcome =
  | { ok: true; event: DecodedEvent }
  | { ok: false; reason: EnvelopeRejectReason; message: string; origin?: Partial<ReceivedOrigin> };

/** Decodes an events-topic value (`{v: 1, event, origin, enrichment}`) with the contract's decoder. */
export function decodeEvent(value: Buffer | string | null, position: string): DecodeOutcome {
  const outcome = decodeEnvelope(value, { readEnrichment: false });
  if (!outcome.ok) {
    return {
      ok: false,
      reason: outcome.reason,
      message: `record ${position}: ${outcome.message}`,
      ...(outcome.origin ? { origin: outcome.origin } : {}),
    };
  }
  const { event: record, origin } = outcome.envelope;
  return { ok: true, event: { identity: outcome.identity, record, origin, position } };
}

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

export interface EventSummary {
  eventName: string | null;
  eventSource: string | null;
  /** The caller: its ARN, else user name, principal id or identity type. */
  principal: string | null;
  principalType: string | null;
  sourceIPAddress: string | null;
  awsRegion: string | null;
  recipientAccountId: string | null;
  errorCode: string | null;
}

export function summarize(record: CloudTrailRecord): EventSummary {
  const p = principalOf(record);
  return {
    eventName: str(record.eventName),
    eventSource: str(record.eventSource),
    principal: p.arn ?? p.userName ?? p.principalId ?? p.type,
    principalType: p.type,
    sourceIPAddress: str(record.sourceIPAddress),
    awsRegion: str(record.awsRegion),
    recipientAccountId: str(record.recipientAccountId),
    errorCode: str(record.errorCode),
  };
}

/** The document on the alerts topic, and what the webhooks receive. */
export interface AlertDocument {
  v: 1;
  /** `<rule id>:<event identity>`: the same alert (raised again after a crash) has the same id. */
  alertId: string;
  ruleId: string;
  title: string;
  severity: Severity;
  ruleSource: Rule["source"];
  description?: string;
  /** For Sigma rules: the Sigma rule's id (also ruleId) and author. */
  sigmaId?: string;
  author?: string;
  tags?: string[];
  references?: string[];
  runbook?: string;
  labels: Record<string, string>;
  /** The group the threshold or suppression counted in (JSON of the groupBy values), "" for none. */
  group: string;
  /** Occurrences in the threshold window when the rule has a threshold. */
  count?: number;
  threshold?: { count: number; windowMs: number; groupBy: string[] };
  /**
   * Sigma correlation rules: what was correlated and the window (of eventTime) that met the
   * condition; `count` is what the condition compared, the event is the one that completed it.
   */
  correlation?: {
    type: string;
    rules: string[];
    groupBy: string[];
    timespanMs: number;
    condition: Record<string, number>;
    field?: string[];
    windowStart: string;
    windowEnd: string;
  };
  identity: string;
  summary: EventSummary;
  /** When trailstream first received the event (origin.receivedAt). */
  firstSeen: string | null;
  eventTime: string | null;
  alertedAt: string;
  /** alertedAt - eventTime, in seconds (null without a usable eventTime). */
  lagSeconds: number | null;
  /** The CloudTrail record with secrets redacted (without its bulky parts when it was too large). */
  event: CloudTrailRecord;
  /** Set when requestParameters, responseElements and the like were left out to bound the size. */
  eventTruncated?: true;
  /** The rule labels its alerts by principal (summary.principal) as well as by account. */
  principalLabel?: true;
  /**
   * "summary": the rule raised more than its per-minute limit; this one alert stands for `count`
   * alerts in the minute (the event is the latest of them) instead of one alert each.
   */
  kind?: "summary";
}

/** An alert carries at most this much of its event (JSON bytes); larger records lose their payloads. */
export const MAX_EVENT_BYTES = 64 * 1024;

const BULKY = ["requestParameters", "responseElements", "additionalEventData", "resources", "serviceEventDetails"];

/** The record, or a copy without its bulky fields when its JSON is larger than maxBytes. */
export function boundEvent(record: CloudTrailRecord, maxBytes = MAX_EVENT_BYTES): CloudTrailRecord | null {
  if (Buffer.byteLength(JSON.stringify(record)) <= maxBytes) return null;
  const slim: CloudTrailRecord = { ...record };
  for (const key of BULKY) delete slim[key];
  if (Buffer.byteLength(JSON.stringify(slim)) <= maxBytes) return slim;
  // Still too large (a huge userIdentity or unknown fields): keep the summary fields only.
  const keep = [
    "eventVersion",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "eventID",
    "eventType",
    "recipientAccountId",
    "requestID",
    "readOnly",
    "managementEvent",
    "eventCategory",
  ];
  const minimal: CloudTrailRecord = {};
  for (const key of keep) if (typeof record[key] !== "object") minimal[key] = record[key];
  return minimal;
}

/** eventTime in epoch ms, or null when absent or not a date. */
export function eventTimeMs(record: CloudTrailRecord): number | null {
  const t = typeof record.eventTime === "string" ? Date.parse(record.eventTime) : Number.NaN;
  return Number.isFinite(t) ? t : null;
}

export function buildAlert(
  rule: Rule,
  event: DecodedEvent,
  decision: { group: string; count: number },
  nowMs: number,
): AlertDocument {
  const record = event.record;
  const at = eventTimeMs(record);
  const doc: AlertDocument = {
    v: 1,
    alertId: `${rule.id}:${event.identity}`,
    ruleId: rule.id,
    title: rule.title,
    severity: rule.severity,
    ruleSource: rule.source,
    labels: { ...(rule.labels ?? {}) },
    group: decision.group,
    identity: event.identity,
    summary: summarize(record),
    firstSeen: str(event.origin.receivedAt),
    eventTime: str(record.eventTime),
    alertedAt: new Date(nowMs).toISOString(),
    lagSeconds: at === null ? null : Math.round(nowMs - at) / 1_000,
    event: redact(record),
  };
  const bounded = boundEvent(doc.event);
  if (bounded !== null) {
    doc.event = bounded;
    doc.eventTruncated = true;
  }
  if (rule.description !== undefined) doc.description = rule.description;
  if (rule.source === "sigma") doc.sigmaId = rule.id;
  if (rule.author !== undefined) doc.author = rule.author;
  if (rule.tags !== undefined) doc.tags = [...rule.tags];
  if (rule.references !== undefined) doc.references = [...rule.references];
  if (rule.runbook !== undefined) doc.runbook = rule.runbook;
  if (rule.threshold !== undefined) {
    doc.threshold = { ...rule.threshold, groupBy: [...rule.threshold.groupBy] };
    doc.count = decision.count;
  }
  if (rule.principalLabel) doc.principalLabel = true;
  return doc;
}

/** Alerts of one rule are counted per minute of event time for the flood limit. */
export const FLOOD_WINDOW_MS = 60_000;

/**
 * The one alert a flooding rule raises per batch: `count` alerts in the last minute, the latest
 * event as the example. Its id is per rule and minute, so a re-sent summary replaces the last one.
 */
export function buildFloodSummary(rule: Rule, event: DecodedEvent, count: number, nowMs: number): AlertDocument {
  const doc = buildAlert(rule, event, { group: "", count }, nowMs);
  const at = eventTimeMs(event.record) ?? nowMs;
  doc.alertId = `${rule.id}:flood:${Math.floor(at / FLOOD_WINDOW_MS)}`;
  doc.kind = "summary";
  doc.count = count;
  delete doc.principalLabel;
  return doc;
}

/** A one-line human summary: "DeleteTrail (cloudtrail.amazonaws.com) by arn:... from 1.2.3.4 in 1111/us-east-1". */
export function summaryLine(doc: AlertDocument): string {
  const s = doc.summary;
  const parts = [`${s.eventName ?? "?"} (${s.eventSource ?? "?"})`, `by ${s.principal ?? "unknown principal"}`];
  if (s.sourceIPAddress) parts.push(`from ${s.sourceIPAddress}`);
  parts.push(`in ${s.recipientAccountId ?? "?"}/${s.awsRegion ?? "?"}`);
  if (s.errorCode) parts.push(`failed: ${s.errorCode}`);
  if (doc.kind === "summary")
    return `${doc.count ?? "many"} alerts in the last minute, more than the rule may raise one by one; the latest: ${parts.join(" ")}`;
  if (doc.count !== undefined && doc.threshold) parts.push(`${doc.count} times in ${doc.threshold.windowMs / 1_000}s`);
  if (doc.count !== undefined && doc.correlation)
    parts.push(`${doc.correlation.type} ${doc.count} in ${doc.correlation.timespanMs / 1_000}s`);
  return parts.join(" ");
}
