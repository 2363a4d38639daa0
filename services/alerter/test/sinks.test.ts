import assert from "node:assert/strict";
import { test } from "node:test";
import { buildAlert, decodeEvent } from "../src/alert.ts";
import { labelName, toAlertmanager } from "../src/sinks/alertmanager.ts";
import { slackEscape, slackMessage } from "../src/sinks/slack.ts";
import { cloudTrailRecord, envelope, rule } from "./fixtures.ts";

test("Alertmanager alert: alertname, severity, rule_source and rule labels; annotations for the occurrence", () => {
  const decoded = decodeEvent(JSON.stringify(envelope(cloudTrailRecord({ eventTime: "2026-03-01T12:00:00Z" }))), "0:1");
  assert.ok(decoded.ok);
  const r = rule({
    id: "sigma-1",
    source: "sigma",
    author: "Jane",
    labels: { team: "sec", "mitre.tactic": "defense-evasion", severity: "ignored" },
    runbook: "https://runbooks.example/x",
  });
  const doc = buildAlert(r, decoded.event, { group: "", count: 1 }, Date.parse("2026-03-01T12:01:00Z"));
  const am = toAlertmanager(doc, 3_600_000);
  assert.deepEqual(am.labels, {
    team: "sec",
    mitre_tactic: "defense-evasion",
    alertname: "sigma-1",
    severity: "high",
    rule_source: "sigma",
    account: "111122223333",
  });
  const grouped = toAlertmanager({ ...doc, group: '["alice"]' }, 0);
  assert.equal(grouped.labels.group, undefined, "the group is an annotation: labels stay bounded");
  assert.equal(grouped.annotations.group, '["alice"]');
  const byPrincipal = toAlertmanager({ ...doc, principalLabel: true }, 0);
  assert.equal(byPrincipal.labels.principal, "arn:aws:iam::111122223333:user/alice");
  assert.equal(am.annotations.title, "CloudTrail logging stopped");
  assert.equal(am.annotations.runbook_url, "https://runbooks.example/x");
  assert.equal(am.annotations.event_identity, doc.identity);
  assert.equal(am.annotations.sigma_id, "sigma-1");
  assert.equal(am.annotations.author, "Jane");
  assert.match(
    am.annotations.summary ?? "",
    /^StopLogging \(cloudtrail\.amazonaws\.com\) by arn:aws:iam::111122223333:user\/alice from 198\.51\.100\.7 in 111122223333\/us-east-1$/,
  );
  assert.equal(am.startsAt, "2026-03-01T12:01:00.000Z");
  assert.equal(am.endsAt, "2026-03-01T13:01:00.000Z");
  assert.equal(toAlertmanager(doc, 0).endsAt, undefined);
  assert.equal(labelName("9lives"), "_9lives");
});

test("Slack message: text for notifications, header, fields and context blocks, escaped", () => {
  const record = cloudTrailRecord({ userIdentity: { type: "IAMUser", arn: "arn:aws:iam::1:user/<script>&" } });
  const decoded = decodeEvent(JSON.stringify(envelope(record)), "0:1");
  assert.ok(decoded.ok);
  const doc = buildAlert(
    rule({ runbook: "https://runbooks.example/x" }),
    decoded.event,
    { group: "", count: 1 },
    Date.now(),
  );
  const msg = slackMessage(doc);
  assert.match(msg.text, /^\[HIGH\] CloudTrail logging stopped: StopLogging/);
  assert.deepEqual(
    msg.blocks.map((b) => b.type),
    ["header", "section", "section", "context"],
  );
  const header = msg.blocks[0] as { text: { type: string; text: string } };
  assert.equal(header.text.type, "plain_text");
  assert.equal(header.text.text, "[HIGH] CloudTrail logging stopped");
  const fields = (msg.blocks[1] as { fields: { type: string; text: string }[] }).fields;
  assert.ok(fields.length <= 10);
  assert.ok(fields.some((f) => f.text === "*Principal*\narn:aws:iam::1:user/&lt;script&gt;&amp;"));
  assert.ok(JSON.stringify(msg.blocks[2]).includes("<https://runbooks.example/x|open>"));
  assert.equal(slackEscape("a<b>&c"), "a&lt;b&gt;&amp;c");
});

test("Alertmanager labels stay bounded: a thousand events of one rule and account are one label set", () => {
  const r = rule({ id: "r-1" });
  const sets = new Set<string>();
  for (let i = 0; i < 1_000; i++) {
    const decoded = decodeEvent(
      JSON.stringify(envelope(cloudTrailRecord({ eventID: `e-${i}`, sourceIPAddress: `10.0.${i % 250}.1` }))),
      `0:${i}`,
    );
    assert.ok(decoded.ok);
    const am = toAlertmanager(buildAlert(r, decoded.event, { group: "", count: 1 }, Date.now()), 0);
    sets.add(JSON.stringify(am.labels));
  }
  assert.equal(sets.size, 1);
});
