// The pure part of the alerter: an events-topic record ─► the rules it matches ─► alert documents,
// and how each sink presents an alert (Alertmanager v2 alert, Slack message). No I/O here.
import {
  type CloudTrailRecord,
  type DeadLetter,
  decodeEnvelope,
  type EnvelopeRejectReason,
  principalOf,
  type ReceivedOrigin,
  redact,
  type SinkKind,
} from "@trailstream/cloudtrail";
import type { Rule, RuleSet, Severity } from "@trailstream/rules";

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
  const outcome = decodeEnvelope(value);
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

/** The rules an event matches (RuleSet's index keeps this flat in the number of rules). */
export function matchEvent(rules: RuleSet, event: DecodedEvent): Rule[] {
  return rules.match(event.record);
}

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

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

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
  return doc;
}

/** Key of the alert on the alerts topic: the rule id and its group. */
export function alertKey(doc: Pick<AlertDocument, "ruleId" | "group">): string {
  return doc.group === "" ? doc.ruleId : `${doc.ruleId}|${doc.group}`;
}

/** A one-line human summary: "DeleteTrail (cloudtrail.amazonaws.com) by arn:... from 1.2.3.4 in 1111/us-east-1". */
export function summaryLine(doc: AlertDocument): string {
  const s = doc.summary;
  const parts = [`${s.eventName ?? "?"} (${s.eventSource ?? "?"})`, `by ${s.principal ?? "unknown principal"}`];
  if (s.sourceIPAddress) parts.push(`from ${s.sourceIPAddress}`);
  parts.push(`in ${s.recipientAccountId ?? "?"}/${s.awsRegion ?? "?"}`);
  if (s.errorCode) parts.push(`failed: ${s.errorCode}`);
  if (doc.count !== undefined && doc.threshold) parts.push(`${doc.count} times in ${doc.threshold.windowMs / 1_000}s`);
  return parts.join(" ");
}

// --- Alertmanager ------------------------------------------------------------------------------

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
}

/** Prometheus label names: [a-zA-Z_][a-zA-Z0-9_]*. Other characters become "_". */
export function labelName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[a-zA-Z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

/**
 * The Alertmanager v2 alert: labels alertname (rule id), severity, rule_source, the rule's own labels,
 * and the group or the event identity (identify and group the alert); annotations describe this
 * occurrence.
 */
export function toAlertmanager(doc: AlertDocument, resolveMs: number): AlertmanagerAlert {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.labels)) labels[labelName(k)] = v;
  labels.alertname = doc.ruleId;
  labels.severity = doc.severity;
  labels.rule_source = doc.ruleSource;
  // Alertmanager tells alerts apart by their labels alone. An alert counted over a group is that
  // group's; any other alert is about one event, and without its identity every event of a rule
  // would fold into one alert whose annotations the last event overwrites.
  if (doc.group) labels.group = doc.group;
  else labels.event_identity = doc.identity;
  const annotations: Record<string, string> = {
    title: doc.title,
    summary: summaryLine(doc),
    event_identity: doc.identity,
  };
  if (doc.description) annotations.description = doc.description;
  if (doc.runbook) annotations.runbook_url = doc.runbook;
  if (doc.sigmaId) annotations.sigma_id = doc.sigmaId;
  if (doc.author) annotations.author = doc.author;
  if (doc.eventTime) annotations.event_time = doc.eventTime;
  if (doc.firstSeen) annotations.first_seen = doc.firstSeen;
  if (doc.summary.principal) annotations.principal = doc.summary.principal;
  if (doc.group) annotations.group = doc.group;
  const alert: AlertmanagerAlert = { labels, annotations, startsAt: doc.alertedAt };
  if (resolveMs > 0) alert.endsAt = new Date(Date.parse(doc.alertedAt) + resolveMs).toISOString();
  return alert;
}

// --- Slack ---------------------------------------------------------------------------------------

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

const SEVERITY_MARK: Record<Severity, string> = {
  info: ":information_source:",
  low: ":large_blue_circle:",
  medium: ":large_yellow_circle:",
  high: ":large_orange_circle:",
  critical: ":red_circle:",
};

/** Slack's mrkdwn needs &, < and > escaped; everything else is literal. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** A Slack-compatible incoming-webhook message: `text` for notifications, `blocks` for the channel. */
export function slackMessage(doc: AlertDocument): SlackMessage {
  const s = doc.summary;
  const sev = doc.severity.toUpperCase();
  const text = clip(`[${sev}] ${doc.title}: ${summaryLine(doc)}`, 3_000);
  const field = (name: string, value: string | null | undefined) => ({
    type: "mrkdwn",
    text: clip(`*${name}*\n${value ? slackEscape(value) : "-"}`, 2_000),
  });
  const fields = [
    field("Severity", `${SEVERITY_MARK[doc.severity]} ${doc.severity}`),
    field("Rule", `${doc.ruleId} (${doc.ruleSource})`),
    field("Event", `${s.eventName ?? "?"} (${s.eventSource ?? "?"})`),
    field("Principal", s.principal),
    field("Source IP", s.sourceIPAddress),
    field("Account / region", `${s.recipientAccountId ?? "?"} / ${s.awsRegion ?? "?"}`),
    field("Event time", doc.eventTime),
    field("Lag", doc.lagSeconds === null ? null : `${doc.lagSeconds}s`),
  ];
  if (s.errorCode) fields.push(field("Error", s.errorCode));
  if (doc.count !== undefined) fields.push(field("Count", String(doc.count)));
  const context = [`identity ${doc.identity}`];
  if (doc.author) context.push(`author ${doc.author}`);
  const blocks: Record<string, unknown>[] = [
    { type: "header", text: { type: "plain_text", text: clip(`[${sev}] ${doc.title}`, 150), emoji: true } },
    { type: "section", fields: fields.slice(0, 10) },
  ];
  if (doc.description) {
    blocks.push({ type: "section", text: { type: "mrkdwn", text: clip(slackEscape(doc.description), 3_000) } });
  }
  if (doc.runbook) {
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: clip(`*Runbook:* <${doc.runbook.replace(/[<>|]/g, "")}|open>`, 3_000) },
    });
  }
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: clip(slackEscape(context.join(" · ")), 2_000) }] });
  return { text, blocks };
}

// --- DLQ -----------------------------------------------------------------------------------------

/** A dead letter for an alert a sink would not take, with the alert as its replayable payload. */
export function sinkDeadLetter(
  doc: AlertDocument,
  sink: SinkKind,
  message: string,
  attempts: number,
  nowMs: number,
  origin: Partial<ReceivedOrigin> = {},
): DeadLetter<"alerter"> {
  return {
    v: 1,
    stage: "alerter",
    reason: `sink-${sink}`,
    message,
    at: new Date(nowMs).toISOString(),
    origin,
    payload: JSON.stringify(doc),
    payloadEncoding: "utf8",
    attempts,
  };
}
