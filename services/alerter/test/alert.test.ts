import assert from "node:assert/strict";
import { test } from "node:test";
import { RuleSet } from "@trailstream/rules";
import { buildAlert, decodeEvent, summarize } from "../src/alert.ts";
import { toAlertmanager } from "../src/sinks/alertmanager.ts";
import { alertKey } from "../src/sinks/kafka.ts";
import { slackMessage } from "../src/sinks/slack.ts";
import { cloudTrailRecord, envelope, rule } from "./fixtures.ts";

test("decodeEvent reads the envelope and names the identity; bad records get a reason", () => {
  const record = cloudTrailRecord();
  const ok = decodeEvent(Buffer.from(JSON.stringify(envelope(record, "2026-01-01T00:00:00Z"))), "2:17");
  assert.ok(ok.ok);
  assert.equal(ok.event.identity, `111122223333:${record.eventID}`);
  assert.equal(ok.event.position, "2:17");
  assert.equal(ok.event.origin.receivedAt, "2026-01-01T00:00:00Z");

  const bad = (value: string | null) => {
    const r = decodeEvent(value === null ? null : Buffer.from(value), "0:1");
    assert.ok(!r.ok);
    return r.reason;
  };
  assert.equal(bad(null), "empty");
  assert.equal(bad("{nope"), "json");
  assert.equal(bad(JSON.stringify({ v: 2, event: {} })), "version");
  assert.equal(bad(JSON.stringify({ v: 1, event: { eventName: "X" }, origin: {} })), "shape");
  assert.equal(bad(JSON.stringify({ v: 1, event: { eventName: "X" }, origin: { kind: "s3" } })), "missing-event-id");
  assert.equal(
    bad(
      JSON.stringify({
        v: 1,
        event: { eventID: "e", recipientAccountId: "1", readOnly: "yes" },
        origin: { kind: "s3" },
      }),
    ),
    "field",
    "the alerter validates the record as the enricher does, instead of casting",
  );
});

test("the alert document carries the rule, the event summary, identity, times, lag and labels", () => {
  const record = cloudTrailRecord({
    eventTime: "2026-03-01T12:00:00Z",
    errorCode: "AccessDenied",
  });
  const decoded = decodeEvent(JSON.stringify(envelope(record, "2026-03-01T12:03:00Z")), "0:5");
  assert.ok(decoded.ok);
  const r = rule({ labels: { team: "sec" }, runbook: "https://runbooks.example/stop-logging" });
  const now = Date.parse("2026-03-01T12:04:30Z");
  const doc = buildAlert(r, decoded.event, { group: "", count: 1 }, now);
  assert.equal(doc.ruleId, "test-stop-logging");
  assert.equal(doc.title, "CloudTrail logging stopped");
  assert.equal(doc.severity, "high");
  assert.equal(doc.ruleSource, "custom");
  assert.equal(doc.identity, `111122223333:${record.eventID}`);
  assert.equal(doc.alertId, `test-stop-logging:111122223333:${record.eventID}`);
  assert.equal(doc.firstSeen, "2026-03-01T12:03:00Z");
  assert.equal(doc.eventTime, "2026-03-01T12:00:00Z");
  assert.equal(doc.alertedAt, "2026-03-01T12:04:30.000Z");
  assert.equal(doc.lagSeconds, 270);
  assert.deepEqual(doc.labels, { team: "sec" });
  assert.deepEqual(doc.summary, {
    eventName: "StopLogging",
    eventSource: "cloudtrail.amazonaws.com",
    principal: "arn:aws:iam::111122223333:user/alice",
    principalType: "IAMUser",
    sourceIPAddress: "198.51.100.7",
    awsRegion: "us-east-1",
    recipientAccountId: "111122223333",
    errorCode: "AccessDenied",
  });
  assert.equal(doc.sigmaId, undefined);
  assert.equal(doc.count, undefined);
  assert.equal(alertKey(doc), "test-stop-logging");
  assert.equal(alertKey({ ruleId: "r", group: '["1.2.3.4"]' }), 'r|["1.2.3.4"]');
});

test("Sigma rules carry their id and author; thresholds their count", () => {
  const decoded = decodeEvent(JSON.stringify(envelope(cloudTrailRecord())), "0:1");
  assert.ok(decoded.ok);
  const sigma = rule({ id: "8a5c2f0e-0000-4000-8000-000000000001", source: "sigma", author: "Jane Doe" });
  const doc = buildAlert(sigma, decoded.event, { group: "", count: 1 }, Date.now());
  assert.equal(doc.sigmaId, "8a5c2f0e-0000-4000-8000-000000000001");
  assert.equal(doc.author, "Jane Doe");
  const counted = rule({ threshold: { count: 5, windowMs: 60_000, groupBy: ["sourceIPAddress"] } });
  const t = buildAlert(counted, decoded.event, { group: '["198.51.100.7"]', count: 5 }, Date.now());
  assert.equal(t.count, 5);
  assert.deepEqual(t.threshold, { count: 5, windowMs: 60_000, groupBy: ["sourceIPAddress"] });
  assert.equal(alertKey(t), 'test-stop-logging|["198.51.100.7"]');
});

test("secrets in the event never reach the alert", () => {
  const record = cloudTrailRecord({
    eventSource: "sts.amazonaws.com",
    eventName: "GetSessionToken",
    requestParameters: { password: "hunter2" },
    responseElements: {
      credentials: {
        accessKeyId: "ASIAEXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/SECRET",
        sessionToken: "FwoGZXIvYXdz",
      },
    },
  });
  const decoded = decodeEvent(JSON.stringify(envelope(record)), "0:1");
  assert.ok(decoded.ok);
  const doc = buildAlert(rule({ eventName: "GetSessionToken" }), decoded.event, { group: "", count: 1 }, Date.now());
  const text = JSON.stringify([doc, toAlertmanager(doc, 0), slackMessage(doc)]);
  for (const secret of ["hunter2", "wJalrXUtnFEMI/SECRET", "FwoGZXIvYXdz"]) assert.ok(!text.includes(secret), secret);
  assert.ok(text.includes("ASIAEXAMPLE"), "non-secret fields stay");
  // The record handed in is not changed.
  assert.equal((record.requestParameters as { password: string }).password, "hunter2");
});

test("summarize names the caller by ARN, else user name or type; matching goes through the RuleSet", () => {
  assert.equal(summarize(cloudTrailRecord({ userIdentity: { type: "Root" } })).principal, "root");
  assert.equal(summarize(cloudTrailRecord({ userIdentity: { type: "AWSService" } })).principal, "AWSService");
  const set = new RuleSet([rule(), rule({ id: "other", eventName: "DeleteTrail" })]);
  assert.deepEqual(
    set.match(cloudTrailRecord()).map((r) => r.id),
    ["test-stop-logging"],
  );
});
