// Slack (and Slack-compatible) incoming webhooks: one message per alert, `text` for the
// notification and `blocks` for the channel.
import type { Severity } from "@trailstream/rules";
import { type AlertDocument, summaryLine } from "../alert.ts";
import { postJson, urlOrigin } from "./http.ts";
import type { Sink } from "./sink.ts";

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

export function slackSink(url: string, timeoutMs: number): Sink {
  const target = urlOrigin(url);
  return {
    kind: "slack",
    target,
    unit: "alert",
    async deliver(alerts) {
      for (const alert of alerts) await postJson(url, slackMessage(alert), timeoutMs, target);
    },
  };
}
