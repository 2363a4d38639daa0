// Alertmanager's v2 API: POST /api/v2/alerts with every alert of a batch in one request.
// Alertmanager groups, deduplicates and routes them from there.
import { type AlertDocument, summaryLine } from "../alert.ts";
import { postJson, urlOrigin } from "./http.ts";
import type { Sink } from "./sink.ts";

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
 * The Alertmanager v2 alert. Alertmanager tells alerts apart by their labels and keeps each label
 * set live until it resolves, so labels come from bounded sets only: alertname (rule id), severity,
 * rule_source, the rule's own labels, the account, and the principal when the rule asks for it. A
 * flood summary carries `flood="true"` instead of the account. Which event it was (identity, group,
 * principal, time) goes into the annotations, which the latest alert of a label set overwrites.
 */
export function toAlertmanager(doc: AlertDocument, resolveMs: number): AlertmanagerAlert {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.labels)) labels[labelName(k)] = v;
  labels.alertname = doc.ruleId;
  labels.severity = doc.severity;
  labels.rule_source = doc.ruleSource;
  if (doc.kind === "summary") labels.flood = "true";
  else {
    labels.account = doc.summary.recipientAccountId ?? "unknown";
    if (doc.principalLabel) labels.principal = doc.summary.principal ?? "unknown";
  }
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
  if (doc.kind === "summary") annotations.count = String(doc.count ?? 0);
  const alert: AlertmanagerAlert = { labels, annotations, startsAt: doc.alertedAt };
  if (resolveMs > 0) alert.endsAt = new Date(Date.parse(doc.alertedAt) + resolveMs).toISOString();
  return alert;
}

export function alertmanagerSink(baseUrl: string, options: { timeoutMs: number; resolveMs: number }): Sink {
  const url = new URL("api/v2/alerts", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`).toString();
  const target = urlOrigin(baseUrl);
  return {
    kind: "alertmanager",
    target,
    unit: "batch",
    async deliver(alerts) {
      if (alerts.length === 0) return;
      await postJson(
        url,
        alerts.map((a) => toAlertmanager(a, options.resolveMs)),
        options.timeoutMs,
        target,
      );
    },
  };
}
