// Benchmark of the alerter: events per second from the events topic through all built-in rules
// (CIS + the shipped SigmaHQ CloudTrail rules) to alerts on the alerts topic, on the real Kafka and
// Redis (deploy/local/stack), beside the bare rule evaluation on the same events.
//   node bench/alerter.ts [--events 50000] [--attack-rate 0.02] [--callers iam-user|assumed-role]
//                         [--partitions 3] [--alertmanager] [--correlations FILE] [--denied-rate 0]
// The events are benign API calls with Stratus Red Team detonation records mixed in at attack-rate
// (each with a fresh eventID), written to a fresh topic first; the alerter then drains that backlog.
// --callers assumed-role makes the benign calls come from an assumed role, which SigmaHQ's
// "AWS STS AssumeRole Misuse" rule matches: every event raises an alert (the sink-bound worst case).
// --alertmanager also delivers every alert to ALERTMANAGER_URL.
// --correlations FILE runs the alerter twice over the same backlog, side by side: first with the
// built-in rules only, then with the Sigma correlation rules of FILE added (their state in Redis).
// --denied-rate makes that share of the benign calls fail with AccessDenied (food for event_count).
import { randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { CloudTrailRecord } from "@trailstream/cloudtrail";
import { createKafka, ensureTopics, openProducer } from "@trailstream/kafka";
import { builtinRules, RuleSet } from "@trailstream/rules";
import { createLogger } from "@trailstream/runtime";
import { loadSettings, start as startAlerter } from "../services/alerter/src/index.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "50000" },
    "attack-rate": { type: "string", default: "0.02" },
    partitions: { type: "string", default: "3" },
    callers: { type: "string", default: "iam-user" },
    alertmanager: { type: "boolean", default: false },
    correlations: { type: "string" },
    "denied-rate": { type: "string", default: "0" },
    stratus: {
      type: "string",
      default: new URL("../packages/bucket-tree/templates/stratus", import.meta.url).pathname,
    },
  },
});
const total = Number(values.events);
const attackRate = Number(values["attack-rate"]);
const partitions = Number(values.partitions);
const deniedRate = Number(values["denied-rate"]);
const env = process.env;
const brokers = (env.KAFKA_BROKERS ?? "").split(",").filter(Boolean);
if (brokers.length === 0 || !env.REDIS_URL) {
  console.error('KAFKA_BROKERS and REDIS_URL must be set: eval "$(deploy/local/stack env)"');
  process.exit(2);
}
if (values.alertmanager && !env.ALERTMANAGER_URL) {
  console.error("--alertmanager needs ALERTMANAGER_URL");
  process.exit(2);
}

async function stratusRecords(dir: string): Promise<CloudTrailRecord[]> {
  const out: CloudTrailRecord[] = [];
  try {
    for (const name of (await readdir(dir)).filter((n) => n.endsWith(".json")).sort()) {
      out.push(...(JSON.parse(await readFile(join(dir, name), "utf8")) as CloudTrailRecord[]));
    }
  } catch {
    const file = new URL("../packages/rules/test/fixtures/stratus-records.json", import.meta.url);
    out.push(...Object.values(JSON.parse(await readFile(file, "utf8")) as Record<string, CloudTrailRecord>));
  }
  return out;
}

const BENIGN: [string, string][] = [
  ["ec2.amazonaws.com", "DescribeInstances"],
  ["s3.amazonaws.com", "GetObject"],
  ["s3.amazonaws.com", "PutObject"],
  ["sts.amazonaws.com", "AssumeRole"],
  ["kms.amazonaws.com", "Decrypt"],
  ["lambda.amazonaws.com", "Invoke"],
  ["dynamodb.amazonaws.com", "GetItem"],
  ["logs.amazonaws.com", "PutLogEvents"],
  ["iam.amazonaws.com", "GetRole"],
  ["ssm.amazonaws.com", "GetParameter"],
];

let seq = 0;
function benign(): CloudTrailRecord {
  const [eventSource, eventName] = BENIGN[seq++ % BENIGN.length] ?? ["ec2.amazonaws.com", "DescribeInstances"];
  const account = String(100000000000 + (seq % 7));
  return {
    eventVersion: "1.09",
    userIdentity:
      values.callers === "assumed-role"
        ? {
            type: "AssumedRole",
            principalId: "AROAEXAMPLE:app",
            arn: `arn:aws:sts::${account}:assumed-role/app-role/i-0abc${seq % 50}`,
            accountId: account,
            accessKeyId: "ASIAEXAMPLE",
            sessionContext: {
              sessionIssuer: { type: "Role", arn: `arn:aws:iam::${account}:role/app-role`, userName: "app-role" },
            },
          }
        : {
            type: "IAMUser",
            principalId: "AIDAEXAMPLE",
            arn: `arn:aws:iam::${account}:user/app-${seq % 50}`,
            accountId: account,
            accessKeyId: "AKIAEXAMPLE",
            userName: `app-${seq % 50}`,
          },
    eventTime: new Date().toISOString(),
    eventSource,
    eventName,
    awsRegion: "eu-west-1",
    sourceIPAddress: `10.0.${seq % 250}.${seq % 200}`,
    userAgent: "aws-sdk-js/3.600.0",
    requestParameters: { bucketName: "data", key: `objects/${seq}` },
    responseElements: null,
    requestID: randomUUID(),
    eventID: randomUUID(),
    readOnly: eventName.startsWith("Get") || eventName.startsWith("Describe"),
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: "Management",
    ...((seq * deniedRate) % 1 > ((seq + 1) * deniedRate) % 1 ? { errorCode: "AccessDenied" } : {}),
  };
}

const attacks = await stratusRecords(values.stratus);
const events: CloudTrailRecord[] = [];
let attackCount = 0;
for (let i = 0; i < total; i++) {
  if (attacks.length > 0 && (i * attackRate) % 1 > ((i + 1) * attackRate) % 1) {
    const base = attacks[attackCount++ % attacks.length] as CloudTrailRecord;
    events.push({ ...structuredClone(base), eventID: randomUUID(), eventTime: new Date().toISOString() });
  } else events.push(benign());
}

// The bare evaluation on the same events, for comparison.
const { rules } = await builtinRules();
const set = new RuleSet(rules);
const bySource = { cis: 0, sigma: 0, custom: 0 };
for (const r of rules) bySource[r.source]++;
let evalMatches = 0;
const evalStart = performance.now();
for (const e of events) evalMatches += set.match(e).length;
const evalSeconds = (performance.now() - evalStart) / 1_000;

const load = loadavg()[0]?.toFixed(1);
const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const topics = {
  events: `bench-alerter-events-${id}`,
  alerts: `bench-alerter-alerts-${id}`,
  dlq: `bench-alerter-dlq-${id}`,
};
const kafka = createKafka({ brokers, clientId: "bench-alerter" });
await ensureTopics(kafka, [
  { topic: topics.events, partitions },
  { topic: topics.alerts, partitions: 3 },
  { topic: topics.dlq, partitions: 1 },
]);
const producer = await openProducer(kafka);
const produceStart = performance.now();
const receivedAt = new Date().toISOString();
for (let i = 0; i < events.length; i += 1_000) {
  await producer.send(
    topics.events,
    events.slice(i, i + 1_000).map((e) => ({
      key: `${e.recipientAccountId}:${e.eventID}`,
      value: JSON.stringify({ v: 1, event: e, origin: { kind: "file", receivedAt }, enrichment: {} }),
    })),
  );
}
const produceSeconds = (performance.now() - produceStart) / 1_000;
await producer.close();

async function drain(variant: string, ruleFiles: string | undefined) {
  const config = loadSettings({
    KAFKA_BROKERS: brokers.join(","),
    REDIS_URL: env.REDIS_URL,
    TOPIC_EVENTS: topics.events,
    TOPIC_ALERTS: `${topics.alerts}-${variant}`,
    TOPIC_DLQ: topics.dlq,
    ALERTER_GROUP_ID: `bench-alerter-${id}-${variant}`,
    ALERTER_KEY_PREFIX: `bench-alerter-${id}-${variant}:`,
    RULES_BUILTIN: "true",
    ...(ruleFiles ? { RULE_FILES: ruleFiles } : {}),
    ALERT_DEDUP_TTL: "10m",
    ...(values.alertmanager ? { ALERTMANAGER_URL: env.ALERTMANAGER_URL } : {}),
  });
  let processed = 0;
  let alerts = 0;
  let correlationAlerts = 0;
  let matches = 0;
  let firstBatchAt = 0;
  let lastBatchAt = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const startAt = performance.now();
  const alerter = await startAlerter(config, {
    log: createLogger("alerter", env.BENCH_LOG_LEVEL ?? "warn"),
    onBatch: (r) => {
      if (firstBatchAt === 0) firstBatchAt = performance.now();
      processed += r.events;
      alerts += r.alerts.length;
      correlationAlerts += r.alerts.filter((a) => a.correlation).length;
      matches += r.matches;
      lastBatchAt = performance.now();
      if (processed >= total) done();
    },
  });
  await alerter.started;
  const joinedAt = performance.now();
  await finished;
  await alerter.stop();
  const seconds = (lastBatchAt - firstBatchAt) / 1_000;
  return {
    variant,
    matches,
    alerts,
    correlationAlerts,
    startSeconds: Number(((joinedAt - startAt) / 1_000).toFixed(2)),
    drainSeconds: Number(seconds.toFixed(2)),
    eventsPerSecond: Math.round(total / seconds),
  };
}

const plain = await drain("builtin", undefined);
const correlated = values.correlations ? await drain("correlations", values.correlations) : undefined;
const { matches, alerts } = plain;
const result = {
  events: total,
  attackRecords: attackCount,
  rules: rules.length,
  bySource,
  matches,
  alerts,
  callers: values.callers,
  deniedRate,
  sinks: values.alertmanager ? "kafka+alertmanager" : "kafka",
  partitions,
  startSeconds: plain.startSeconds,
  drainSeconds: plain.drainSeconds,
  eventsPerSecond: plain.eventsPerSecond,
  ...(correlated
    ? {
        withCorrelations: correlated,
        correlationCostRatio: Number((plain.eventsPerSecond / correlated.eventsPerSecond).toFixed(2)),
      }
    : {}),
  produceEventsPerSecond: Math.round(total / produceSeconds),
  bareEvaluationEventsPerSecond: Math.round(total / evalSeconds),
  bareEvaluationMatches: evalMatches,
  cpus: cpus().length,
  loadAverageAtStart: Number(load),
  node: process.version,
};
console.log(JSON.stringify(result));
console.error(
  `${total} events (${attackCount} Stratus records), ${rules.length} rules (${bySource.cis} CIS, ${bySource.sigma} Sigma): ` +
    `${result.eventsPerSecond} events/s through the alerter (${matches} matches, ${alerts} alerts, sinks ${result.sinks}); ` +
    `bare evaluation ${result.bareEvaluationEventsPerSecond} events/s` +
    (correlated
      ? `; with the correlation rules of ${values.correlations}: ${correlated.eventsPerSecond} events/s (${correlated.correlationAlerts} correlation alerts)`
      : ""),
);
process.exit(0);
