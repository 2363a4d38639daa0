// The whole pipeline on the real local stack, the three services as separate processes: a
// generated estate of overlapping trails goes in through S3 notifications and a CloudWatch Logs
// subscription to Kinesis; the events topic must hold every identity exactly once, and the planted
// events must raise exactly their alerts, on the alerts topic and in a real Alertmanager, while
// the enricher is killed and restarted mid-run.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { loadTemplates, writeBucketTree } from "@trailstream/bucket-tree";
import { type CloudTrailRecord, eventIdentity, isGlobalServiceEvent } from "@trailstream/cloudtrail";
import { createKafka, ensureTopics } from "@trailstream/kafka";
import { applyPolicy, builtinRules, DEFAULT_POLICY, RuleSet } from "@trailstream/rules";
import { plantedEvents, trailsFor } from "../../scripts/pipeline/estate.ts";
import {
  awsClients,
  prepareBuckets,
  prepareLogSubscription,
  putFiles,
  putLogEvents,
  treeFiles,
  treeRecords,
} from "../../scripts/pipeline/feed.ts";
import {
  committedDashboards,
  instantQuery,
  type Panel,
  type RunningPrometheus,
  startPrometheus,
  substitute,
} from "../support/observability.ts";
import { endpoints, requireReachable, uniqueName } from "../support/servers.ts";
import { freePort, type ServiceProcess, startServiceProcess } from "../support/service-process.ts";
import { TopicReader } from "../support/topic-reader.ts";
import { eventually } from "../support/wait.ts";

const run = uniqueName("e2e").toLowerCase();
const topics = { raw: `raw.${run}`, events: `events.${run}`, alerts: `alerts.${run}`, dlq: `dlq.${run}` };
const services: ServiceProcess[] = [];
let dir = "";
let kafka: ReturnType<typeof createKafka>;
const readers: TopicReader[] = [];
let prometheus: RunningPrometheus | undefined;

before(async () => {
  const e = await endpoints();
  await requireReachable("Kafka", e.kafkaBrokers[0] ?? "", "KAFKA_BROKERS");
  await requireReachable("Redis", e.redisUrl, "REDIS_URL");
  await requireReachable("moto (AWS emulator)", e.awsEndpoint, "AWS_ENDPOINT_URL");
  const alertmanager = process.env.ALERTMANAGER_URL;
  assert.ok(
    alertmanager,
    "ALERTMANAGER_URL is not set: `deploy/local/stack up` starts one, `deploy/local/stack env` names it",
  );
  await requireReachable("Alertmanager", alertmanager, "ALERTMANAGER_URL");
  dir = await mkdtemp(join(tmpdir(), "trailstream-e2e-"));
  kafka = createKafka({ brokers: e.kafkaBrokers, clientId: "e2e-test" });
  await ensureTopics(
    kafka,
    Object.values(topics).map((topic) => ({ topic, partitions: 3 })),
  );
});

after(async () => {
  await Promise.all(readers.map((r) => r.close().catch(() => {})));
  await Promise.all(services.map((s) => s.kill().catch(() => {})));
  await prometheus?.stop();
  if (dir && !process.env.KEEP_E2E) await rm(dir, { recursive: true, force: true });
});

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
};

test("S3 and Kinesis in, each event once on the events topic, planted events alert exactly once", {
  timeout: 600_000,
}, async () => {
  const e = await endpoints();
  const alertmanager = process.env.ALERTMANAGER_URL ?? "";
  const now = new Date();
  const planted = plantedEvents(new Date(now.getTime() - 60_000));

  // The rules must see the planted events as the test names them; a near miss matches no rule at all.
  // The rules that are on by default; suppression and the flood limit are off for this run (below),
  // so every match of every event is an alert the test can account for.
  const catalog = new RuleSet(
    applyPolicy((await builtinRules()).rules, { ...DEFAULT_POLICY, defaultSuppressMs: 0 }).rules,
  );
  for (const p of planted) {
    const matched = catalog.match(p.record).map((r) => r.id);
    if (p.mustAlert.length === 0) assert.deepEqual(matched, [], p.why);
    else for (const id of p.mustAlert) assert.ok(matched.includes(id), `${p.why}: ${id} in ${matched.join(", ")}`);
  }

  const root = join(dir, "buckets");
  const truth = await writeBucketTree({
    outDir: root,
    templates: await loadTemplates(),
    isGlobalService: isGlobalServiceEvent,
    trails: trailsFor(run),
    windows: 2,
    eventsPerWindow: 12,
    repeatEvery: 5,
    seed: 11,
    start: new Date(now.getTime() - 10 * 60_000),
    planted: planted.map((p) => p.record),
  });
  const files = await treeFiles(root);
  const records = await treeRecords(files);
  const unique = new Map<string, CloudTrailRecord>();
  for (const r of records) unique.set(eventIdentity(r) ?? "", r);
  assert.equal(unique.size, truth.uniqueIdentities);
  assert.ok(truth.copiesCollapsed > truth.uniqueIdentities / 2, "the estate delivers many copies");

  const aws = awsClients({ endpoint: e.awsEndpoint, region: e.region });
  const queueUrl = await prepareBuckets(aws, [...new Set(files.map((f) => f.bucket))], `e2e-${run}`);
  const stream = `e2e-${run}`;
  const logGroup = `/aws/cloudtrail/${run}`;
  await prepareLogSubscription(aws, logGroup, stream);

  const common = {
    KAFKA_BROKERS: e.kafkaBrokers.join(","),
    REDIS_URL: e.redisUrl,
    TOPIC_RAW: topics.raw,
    TOPIC_EVENTS: topics.events,
    TOPIC_ALERTS: topics.alerts,
    TOPIC_DLQ: topics.dlq,
    AWS_REGION: e.region,
    AWS_ENDPOINT_URL: e.awsEndpoint,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    LOG_LEVEL: "warn",
    SHUTDOWN_GRACE_MS: "20000",
  };
  const logDir = dir;
  const ingester = await startServiceProcess(
    "ingester",
    {
      ...common,
      SQS_QUEUE_URLS: queueUrl,
      SQS_WAIT_SECONDS: "1",
      KINESIS_STREAMS: stream,
      // The CloudWatch Logs subscription delivers into moto's own Kinesis.
      AWS_ENDPOINT_URL_KINESIS: e.awsEndpoint,
      KINESIS_START_POSITION: "trim_horizon",
      REDIS_KEY_PREFIX: `e2e:${run}:ingester:`,
    },
    { logDir },
  );
  const enricher = await startServiceProcess(
    "enricher",
    {
      ...common,
      ENRICHER_GROUP_ID: `e2e-enricher-${run}`,
      DEDUP_KEY_PREFIX: `e2e:${run}:dedup:`,
      DEDUP_TTL: "1h",
      // A killed member's partitions move once its session expires.
      KAFKA_SESSION_TIMEOUT_MS: "10000",
    },
    { logDir },
  );
  const alerter = await startServiceProcess(
    "alerter",
    {
      ...common,
      ALERTER_GROUP_ID: `e2e-alerter-${run}`,
      ALERTER_KEY_PREFIX: `e2e:${run}:alerter:`,
      ALERTMANAGER_URL: alertmanager,
      RULES_BUILTIN: "true",
      ALERT_SUPPRESS_DEFAULT: "0",
      ALERT_FLOOD_PER_MINUTE: "0",
      // A webhook nobody answers: its alerts go to the DLQ and the stream goes on (and the sink
      // panels get data).
      WEBHOOK_URLS: `http://127.0.0.1:${await freePort()}/hook`,
      SINK_RETRIES: "1",
      SINK_RETRY_BASE_MS: "20",
    },
    { logDir },
  );
  services.push(ingester, enricher, alerter);
  await Promise.all(services.map((s) => s.ready()));
  // A real Prometheus scraping the three services, with trailstream's rules loaded.
  prometheus = await startPrometheus(Object.fromEntries(services.map((s) => [s.name, `127.0.0.1:${s.port}`])), "2s");

  // Every message of the three topics as it comes, read_committed, as the services read.
  readers.push(
    ...(await Promise.all([topics.events, topics.alerts, topics.dlq].map((t) => TopicReader.open(kafka, t)))),
  );
  const [events, alerts, dlq] = readers as [TopicReader, TopicReader, TopicReader];

  const identitiesIn = (fileList: typeof files) =>
    treeRecords(fileList).then((rs) => new Set(rs.map((r) => eventIdentity(r) ?? "")));
  const onEventsTopic = () => new Set(events.keys());

  // Steady state: the first half of the files, all of their events through to the events topic.
  const half = Math.floor(files.length / 2);
  // One undecodable notification among the real ones: dead-lettered, and the stream goes on.
  await aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "this is not a notification" }));
  const putAt = await putFiles(aws, files.slice(0, half));
  const firstHalf = await identitiesIn(files.slice(0, half));
  await eventually(
    async () => {
      const seen = onEventsTopic();
      assert.ok(
        [...firstHalf].every((id) => seen.has(id)),
        `${seen.size} of ${firstHalf.size} identities so far`,
      );
    },
    120_000,
    100,
  );
  const steadyAlerts = alerts.length;

  // Then the enricher dies without warning while the rest arrives, and comes back.
  for (const [k, v] of await putFiles(aws, files.slice(half, half + 2))) putAt.set(k, v);
  await enricher.kill();
  for (const [k, v] of await putFiles(aws, files.slice(half + 2))) putAt.set(k, v);
  // The Kinesis path carries the same events, as CloudTrail's CloudWatch Logs delivery would.
  const logPutAt = await putLogEvents(aws, logGroup, [...unique.values()]);
  await enricher.restart();

  await eventually(
    async () => {
      const seen = new Set(events.keys());
      assert.equal(seen.size, unique.size, `${seen.size} of ${unique.size} identities on the events topic`);
    },
    240_000,
    500,
  );
  // Whatever is still in flight (the Kinesis copies) must collapse too: wait for the raw topic to settle.
  await new Promise((r) => setTimeout(r, 8_000));

  const keys = events.records.map((r) => r.key);
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  const twice = [...counts].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], "no identity twice on the events topic (read_committed)");
  assert.deepEqual(new Set(keys), new Set(unique.keys()), "exactly the estate's identities");
  const letters = () => dlq.values as { stage: string; reason: string }[];

  // Alerts: one per rule and matching event, whatever copies arrived and despite the crash. The
  // built-in rules have no thresholds, so the count is the number of (rule, event) matches.
  const expectedAlerts = [...unique.values()].reduce((n, r) => n + catalog.match(r).length, 0);
  await eventually(async () => assert.equal(alerts.length, expectedAlerts, "alerts on the topic"), 60_000);
  const docs = alerts.values as { ruleId: string; identity: string }[];
  // The DLQ holds the bad notification, and each alert the dead webhook refused; nothing else.
  await eventually(async () => {
    const byKind = new Map<string, number>();
    for (const l of letters()) byKind.set(`${l.stage} ${l.reason}`, (byKind.get(`${l.stage} ${l.reason}`) ?? 0) + 1);
    const ingester = [...byKind].filter(([k]) => k.startsWith("ingester"));
    assert.equal(ingester.length, 1, `one kind of ingester dead letter: ${[...byKind.keys()].join(", ")}`);
    assert.equal(ingester[0]?.[1], 1, "one bad notification");
    assert.equal(byKind.get("alerter sink-webhook"), expectedAlerts, "every alert the webhook refused");
    assert.equal(dlq.length, 1 + expectedAlerts, "nothing else dead-lettered");
  }, 60_000);
  const pairs = new Map<string, number>();
  for (const d of docs) pairs.set(`${d.ruleId}|${d.identity}`, (pairs.get(`${d.ruleId}|${d.identity}`) ?? 0) + 1);
  assert.deepEqual(
    [...pairs].filter(([, n]) => n > 1),
    [],
    "no alert twice for one rule and event",
  );
  for (const p of planted) {
    const identity = eventIdentity(p.record) ?? "";
    const raised = docs.filter((d) => d.identity === identity).map((d) => d.ruleId);
    if (p.mustAlert.length === 0) assert.deepEqual(raised, [], p.why);
    else for (const id of p.mustAlert) assert.ok(raised.includes(id), `${p.why}: ${id} not among ${raised.join(", ")}`);
  }

  // The same alerts in Alertmanager.
  await eventually(async () => {
    const listed = (await (await fetch(`${alertmanager}/api/v2/alerts`)).json()) as Array<{
      labels: Record<string, string>;
      annotations: Record<string, string>;
      updatedAt: string;
    }>;
    // Labels are bounded (rule, severity, account): one Alertmanager alert per rule and account,
    // whatever the number of events; the event's identity is an annotation of the latest.
    for (const p of planted.filter((x) => x.mustAlert.length > 0)) {
      const account = String(p.record.recipientAccountId);
      const names = listed.filter((a) => a.labels.account === account).map((a) => a.labels.alertname);
      for (const id of p.mustAlert) assert.ok(names.includes(id), `Alertmanager lacks ${id} for ${p.why}`);
    }
    assert.ok(
      listed
        // Alertmanager is shared and keeps alerts for an hour: judge only what this run posted.
        .filter((a) => Date.parse(a.updatedAt) >= now.getTime())
        .filter((a) => docs.some((d) => d.identity === a.annotations.event_identity))
        .every((a) => a.labels.event_identity === undefined),
      "no event identity among the labels",
    );
    return listed;
  }, 30_000);

  // Added latency: from the first put of an event (its file, or its log event) to its alert.
  const firstPut = new Map<string, number>();
  for (const f of files) {
    const at = putAt.get(`${f.bucket}/${f.key}`);
    if (at === undefined) continue;
    for (const r of await treeRecords([f])) {
      const id = eventIdentity(r) ?? "";
      firstPut.set(id, Math.min(firstPut.get(id) ?? at, at));
    }
  }
  for (const [id, at] of logPutAt) firstPut.set(id, Math.min(firstPut.get(id) ?? at, at));
  const latency = (from: number, to: number) =>
    alerts.records
      .slice(from, to)
      .map((m, i) => m.timestampMs - (firstPut.get(docs[from + i]?.identity ?? "") ?? Number.NaN))
      .filter((ms) => Number.isFinite(ms));
  const steady = latency(0, steadyAlerts);
  const all = latency(0, alerts.length);
  assert.ok(steady.length > 0, "alerts were raised in the steady phase");
  console.log(
    `e2e: ${unique.size} events (${truth.copiesCollapsed} copies collapsed) → ${alerts.length} alerts; added latency, put → alert out: steady p50 ${percentile(steady, 50)} ms, p99 ${percentile(steady, 99)} ms; across the enricher's crash p50 ${percentile(all, 50)} ms, p99 ${percentile(all, 99)} ms`,
  );

  // The Prometheus scraping the services answers every dashboard panel's query with data.
  await new Promise((r) => setTimeout(r, 6_000));
  const panels = (list: Panel[]): Panel[] =>
    list.flatMap((p) => [p, ...panels((p as Panel & { panels?: Panel[] }).panels ?? [])]);
  const empty: string[] = [];
  let asked = 0;
  for (const { file, dashboard } of committedDashboards()) {
    for (const panel of panels(dashboard.panels)) {
      for (const target of panel.targets ?? []) {
        // Kafka consumer lag comes from a kafka-exporter, which the local stack does not run.
        if (target.expr.includes("kafka_consumergroup_lag")) continue;
        asked++;
        const answer = await instantQuery(prometheus.url, substitute(target.expr, 600, "1m"));
        assert.equal(answer.status, "success", `${file} "${panel.title}": ${answer.error ?? ""}`);
        if ((answer.data?.result.length ?? 0) === 0) empty.push(`${file} "${panel.title}": ${target.expr}`);
      }
    }
  }
  assert.ok(asked > 50, `${asked} panel queries asked`);
  assert.deepEqual(empty, [], "every panel query has data");

  // Every service stops cleanly on SIGTERM.
  for (const s of services) assert.equal(await s.stop(), 0, `${s.name} exits 0 on SIGTERM (log: ${s.logFile})`);
});
