// The alerter end to end on the real servers: Kafka, Redis and Alertmanager (deploy/local/stack),
// with the alerter running as child processes exactly as deployed (`trailstream alerter`, startServiceProcess).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import type { CloudTrailRecord, DeadLetter } from "@trailstream/cloudtrail";
import { consumerGroupLag, createKafka, ensureTopics, openProducer, type Producer } from "@trailstream/kafka";
import type { AlertDocument, SlackMessage } from "../../services/alerter/src/index.ts";
import { cloudTrailRecord, envelope } from "../../services/alerter/test/fixtures.ts";
import {
  type AlerterProcess,
  alertmanagerAlerts,
  alertmanagerUrl,
  deadUrl,
  spawnAlerter,
  type WebhookReceiver,
  webhookReceiver,
  writeRuleFile,
} from "../support/alerter.ts";
import { endpoints, requireReachable, uniqueName } from "../support/servers.ts";
import { readTopic, type TopicReader } from "../support/topic-reader.ts";
import { eventually } from "../support/wait.ts";

let brokers: string[];
let redisUrl: string;
let amUrl: string;
let kafka: ReturnType<typeof createKafka>;
let producer: Producer;
const processes: AlerterProcess[] = [];
const receivers: WebhookReceiver[] = [];

before(async () => {
  const e = await endpoints();
  brokers = e.kafkaBrokers;
  redisUrl = e.redisUrl;
  await requireReachable("Kafka", brokers[0] ?? "", "KAFKA_BROKERS");
  await requireReachable("Redis", redisUrl, "REDIS_URL");
  amUrl = await alertmanagerUrl();
  kafka = createKafka({ brokers, clientId: "alerter-test" });
  producer = await openProducer(kafka);
});

after(async () => {
  await Promise.all(processes.map((p) => p.stop().catch(() => null)));
  await Promise.all(receivers.map((r) => r.close()));
  await producer?.close();
});

/** Fresh topics, group and Redis prefix for one test. */
async function setup(partitions = 3) {
  const t = {
    events: uniqueName("alerter-events"),
    alerts: uniqueName("alerter-alerts"),
    dlq: uniqueName("alerter-dlq"),
    group: uniqueName("alerter-group"),
    prefix: `${uniqueName("alerter-test")}:`,
  };
  await ensureTopics(kafka, [
    { topic: t.events, partitions },
    { topic: t.alerts, partitions: 3 },
    { topic: t.dlq, partitions: 1 },
  ]);
  const env = {
    KAFKA_BROKERS: brokers.join(","),
    REDIS_URL: redisUrl,
    TOPIC_EVENTS: t.events,
    TOPIC_ALERTS: t.alerts,
    TOPIC_DLQ: t.dlq,
    ALERTER_GROUP_ID: t.group,
    ALERTER_KEY_PREFIX: t.prefix,
  };
  return { ...t, env };
}

function event(overrides: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return cloudTrailRecord({
    eventID: randomUUID(),
    eventTime: new Date(Date.now() - 30_000).toISOString(),
    ...overrides,
  });
}

const identityOf = (r: CloudTrailRecord) => `${r.recipientAccountId}:${r.eventID}`;

async function produce(topic: string, records: CloudTrailRecord[]) {
  await producer.send(
    topic,
    records.map((r) => ({ key: identityOf(r), value: JSON.stringify(envelope(r)) })),
  );
}

async function start(env: Record<string, string>): Promise<AlerterProcess> {
  const p = await spawnAlerter(env);
  processes.push(p);
  await p.ready();
  return p;
}

async function caughtUp(group: string, topic: string) {
  await eventually(async () => assert.equal(await consumerGroupLag(kafka, group, topic), 0n), 30_000, 250);
}

const docs = (reader: TopicReader) => reader.values as AlertDocument[];

test("an event becomes an alert on the alerts topic, in Alertmanager and at the webhooks; once, however often it comes", async () => {
  const t = await setup();
  const ruleId = uniqueName("it-stop-logging");
  const rules = await writeRuleFile(`rules:
  - id: ${ruleId}
    title: CloudTrail logging stopped (test)
    severity: high
    pattern: '{ ($.eventName = "StopLogging") && ($.requestParameters.name = "${ruleId}") }'
    labels: { team: sec }
    runbook: https://runbooks.example/stop-logging
`);
  const hook = await webhookReceiver();
  const slack = await webhookReceiver();
  receivers.push(hook, slack);
  const alerter = await start({
    ...t.env,
    RULE_FILES: rules,
    RULES_BUILTIN: "true",
    ALERTMANAGER_URL: amUrl,
    WEBHOOK_URLS: hook.url,
    SLACK_WEBHOOK_URLS: slack.url,
  });
  const port = alerter.port;

  const stop = event({ requestParameters: { name: ruleId }, responseElements: { password: "hunter2" } });
  const quiet = event({ eventName: "DescribeTrails", readOnly: true });
  await produce(t.events, [stop, quiet, stop]); // the second copy must not alert again
  await producer.send(t.events, [{ key: "garbage", value: "not json" }]);

  const mine = (bodies: unknown[]) => bodies.filter((b) => (b as AlertDocument).ruleId === ruleId);
  await eventually(async () => assert.equal(mine(hook.bodies).length, 1), 30_000);
  await caughtUp(t.group, t.events);

  const [alertRecords, dlqRecords] = await Promise.all([readTopic(kafka, t.alerts), readTopic(kafka, t.dlq)]);
  // The alerts topic: the document, keyed by rule id (no group), once.
  const alerts = docs(alertRecords);
  const ours = alerts.filter((a) => a.ruleId === ruleId);
  assert.equal(ours.length, 1, JSON.stringify(alerts.map((a) => a.ruleId)));
  const doc = ours[0] as AlertDocument;
  assert.equal(alertRecords.records.find((r) => r.text.includes(`"ruleId":"${ruleId}"`))?.key, ruleId);
  assert.equal(doc.identity, identityOf(stop));
  assert.equal(doc.severity, "high");
  assert.equal(doc.ruleSource, "custom");
  assert.deepEqual(doc.labels, { team: "sec" });
  assert.equal(doc.summary.eventName, "StopLogging");
  assert.equal(doc.summary.principal, "arn:aws:iam::111122223333:user/alice");
  assert.equal(doc.eventTime, stop.eventTime);
  assert.ok(doc.firstSeen);
  assert.ok(doc.lagSeconds !== null && doc.lagSeconds >= 30 && doc.lagSeconds < 120, String(doc.lagSeconds));
  assert.ok(!JSON.stringify(alerts).includes("hunter2"), "secrets are redacted");
  // The built-in CIS rule for CloudTrail configuration changes matched the same event.
  assert.ok(alerts.some((a) => a.ruleSource === "cis" && a.identity === identityOf(stop)));
  assert.ok(!alerts.some((a) => a.identity === identityOf(quiet)));

  // The webhooks: the plain document, and a Slack message.
  assert.deepEqual(mine(hook.bodies)[0], doc);
  const slackMsgs = slack.bodies as SlackMessage[];
  const slackOurs = slackMsgs.find((m) => m.text.includes("CloudTrail logging stopped (test)"));
  assert.ok(slackOurs, JSON.stringify(slackMsgs));
  assert.equal(slackOurs.blocks[0]?.type, "header");

  // Alertmanager holds it, labelled and annotated.
  const held = await eventually(async () => {
    const list = await alertmanagerAlerts(amUrl, ruleId);
    assert.equal(list.length, 1);
    return list;
  }, 10_000);
  const am = held[0];
  assert.equal(am?.labels.severity, "high");
  assert.equal(am?.labels.rule_source, "custom");
  assert.equal(am?.labels.team, "sec");
  assert.equal(am?.annotations.event_identity, identityOf(stop));
  assert.equal(am?.annotations.runbook_url, "https://runbooks.example/stop-logging");
  assert.equal(am?.status.state, "active");

  // The undecodable record went to the DLQ with its reason.
  const letters = dlqRecords.values as DeadLetter[];
  assert.deepEqual(
    letters.map((l) => [l.stage, l.reason]),
    [["alerter", "json"]],
  );

  // Health and metrics.
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
  const metrics = await alerter.metrics();
  assert.match(
    metrics,
    new RegExp(`trailstream_alerter_alerts_total\\{rule="${ruleId}",severity="high",service="alerter"\\} 1\\n`),
  );
  assert.match(metrics, /trailstream_alerter_decisions_total\{result="duplicate",service="alerter"\} [1-9]/);
  assert.match(metrics, /trailstream_alerter_event_lag_seconds_bucket\{le="60",service="alerter"\} [1-9]/);
  assert.match(metrics, /trailstream_alerter_rules_loaded\{source="sigma",service="alerter"\} [1-9]/);

  assert.equal(await alerter.stop(), 0, "SIGTERM: a clean stop");
});

test("thresholds and suppression hold across two alerter replicas sharing Redis", async () => {
  const t = await setup(4);
  const thr = uniqueName("it-login-failures");
  const sup = uniqueName("it-sg-open");
  const rules = await writeRuleFile(`rules:
  - id: ${thr}
    title: Console login failures from one address
    severity: medium
    pattern: '{ ($.eventName = "ConsoleLogin") && ($.errorMessage = "Failed authentication") }'
    threshold: { count: 5, window: 10m, groupBy: [sourceIPAddress] }
  - id: ${sup}
    title: Security group opened
    severity: low
    pattern: '{ $.eventName = "AuthorizeSecurityGroupIngress" }'
    suppression: { window: 10m, groupBy: [userIdentity.arn] }
`);
  const env = { ...t.env, RULE_FILES: rules, RULES_BUILTIN: "false" };
  const a = await start(env);
  const b = await start(env);

  // Windows follow eventTime, and four partitions are read in no common order: with distinct times a
  // late-read early event would make the crossing count 6 or 7. One second for all of them keeps the
  // count exact, so the test can hold the crossing event (and no other) to raising the alert.
  const loginTime = new Date(Date.now() - 30_000).toISOString();
  const login = (ip: string) =>
    event({
      eventTime: loginTime,
      eventName: "ConsoleLogin",
      eventSource: "signin.amazonaws.com",
      errorMessage: "Failed authentication",
      sourceIPAddress: ip,
    });
  const open = (user: string) =>
    event({
      eventName: "AuthorizeSecurityGroupIngress",
      eventSource: "ec2.amazonaws.com",
      userIdentity: { type: "IAMUser", arn: `arn:aws:iam::111122223333:user/${user}` },
    });
  const records = [
    ...Array.from({ length: 12 }, () => login("203.0.113.9")),
    ...Array.from({ length: 3 }, () => login("203.0.113.10")),
    ...Array.from({ length: 6 }, () => open("alice")),
    ...Array.from({ length: 2 }, () => open("bob")),
  ];
  // Several small sends, so batches interleave on both replicas.
  for (let i = 0; i < records.length; i += 4) await produce(t.events, records.slice(i, i + 4));
  await caughtUp(t.group, t.events);

  const alerts = docs(await readTopic(kafka, t.alerts));
  const byRule = (id: string) => alerts.filter((x) => x.ruleId === id);
  assert.deepEqual(
    byRule(thr).map((x) => x.group),
    ['["203.0.113.9"]'],
    "one alert when the fifth failure from one address arrives, none for the address below the threshold",
  );
  assert.equal(byRule(thr)[0]?.count, 5);
  assert.deepEqual(
    byRule(sup)
      .map((x) => x.group)
      .sort(),
    ['["arn:aws:iam::111122223333:user/alice"]', '["arn:aws:iam::111122223333:user/bob"]'],
  );

  // Both replicas took part.
  const eventsIn = async (p: AlerterProcess) =>
    Number(/trailstream_alerter_events_in_total\{service="alerter"\} (\d+)/.exec(await p.metrics())?.[1] ?? 0);
  const [na, nb] = [await eventsIn(a), await eventsIn(b)];
  assert.equal(na + nb, records.length);
  assert.ok(na > 0 && nb > 0, `events per replica: ${na} and ${nb}`);
  assert.deepEqual(await Promise.all([a.stop(), b.stop()]), [0, 0]);
});

test("a webhook that is down: bounded retries, the alert goes to the DLQ with the reason, and the stream goes on", async () => {
  const t = await setup();
  const ruleId = uniqueName("it-delete-trail");
  const rules = await writeRuleFile(`- id: ${ruleId}
  title: Trail deleted
  severity: critical
  pattern: '{ $.eventName = "DeleteTrail" }'
`);
  const down = `${await deadUrl()}/${uniqueName("secret-path")}`;
  const alerter = await start({
    ...t.env,
    RULE_FILES: rules,
    RULES_BUILTIN: "false",
    WEBHOOK_URLS: down,
    SINK_RETRIES: "2",
    SINK_RETRY_BASE_MS: "50",
    SINK_RETRY_MAX_MS: "100",
  });
  const deleteTrail = () => event({ eventName: "DeleteTrail" });
  const first = [deleteTrail(), deleteTrail(), deleteTrail()];
  await produce(t.events, first);
  await caughtUp(t.group, t.events);
  const later = [deleteTrail(), deleteTrail()];
  await produce(t.events, later);
  await caughtUp(t.group, t.events);

  const [alertRecords, dlqRecords] = await Promise.all([readTopic(kafka, t.alerts), readTopic(kafka, t.dlq)]);
  const letters = dlqRecords.values as DeadLetter[];
  const alerts = docs(alertRecords);
  assert.deepEqual(
    alerts.map((a) => a.identity).sort(),
    [...first, ...later].map(identityOf).sort(),
    "every alert reached the alerts topic",
  );
  assert.equal(letters.length, 5);
  for (const [i, letter] of letters.entries()) {
    assert.equal(letter.stage, "alerter");
    assert.equal(letter.reason, "sink-webhook");
    assert.match(letter.message, /webhook http:\/\/127\.0\.0\.1:\d+/);
    assert.ok(!letter.message.includes("secret-path"), "the webhook's path is not written out");
    const payload = JSON.parse(letter.payload ?? "{}") as AlertDocument;
    assert.equal(payload.ruleId, ruleId);
    assert.equal(dlqRecords.records[i]?.key, payload.identity);
  }
  const metrics = await alerter.metrics();
  assert.match(metrics, /trailstream_alerter_dlq_records_total\{reason="sink-webhook",service="alerter"\} 5/);
  assert.match(metrics, /trailstream_alerter_sink_errors_total\{sink="webhook",service="alerter"\} [1-9]/);
  assert.equal(await alerter.stop(), 0);
});
