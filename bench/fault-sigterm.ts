// Fault campaign, SIGTERM (issue 16): each service (ingester, enricher, alerter), run as its own
// process with its default SHUTDOWN_GRACE_MS, stops within 1 s when idle and within its grace when
// busy, and loses nothing: after the busy stop a fresh process finishes the input, and the output
// is counted by event identity against the input.
//   eval "$(deploy/local/stack env)"; node bench/fault-sigterm.ts [--service all|ingester|enricher|alerter]
//        [--events 20000] [--idle-stops 3]
// Shared Kafka, Redis and moto, with this run's own topics, queue, bucket and key prefixes.
//   ingester: log files of --events records in all (200 a file) put into a bucket that notifies a
//             queue; output: the raw topic.
//   enricher: --events raw envelopes on the raw topic; output: the events topic (read_committed).
//   alerter:  --events events that one custom rule matches (no suppression: one alert each);
//             output: the alerts topic, counted by the alert's event identity.
// The busy stop is sent once about a third of the output is there. "twice" counts identities that
// came out more than once (the ingester and alerter are at-least-once; the enricher exactly-once).
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { CloudTrailRecord } from "@trailstream/cloudtrail";
import { createKafka, ensureTopics, openProducer, startBatchConsumer } from "@trailstream/kafka";
import { awsClients, prepareBuckets } from "../scripts/pipeline/feed.ts";
import { type ServiceName, type ServiceProcess, startServiceProcess } from "../test/support/service-process.ts";

const { values } = parseArgs({
  options: {
    service: { type: "string", default: "all" },
    events: { type: "string", default: "20000" },
    "idle-stops": { type: "string", default: "3" },
  },
});
const total = Number(values.events);
const idleStops = Number(values["idle-stops"]);
const env = process.env;
const brokers = (env.KAFKA_BROKERS ?? "").split(",").filter(Boolean);
if (brokers.length === 0 || !env.REDIS_URL || !env.AWS_ENDPOINT_URL) {
  console.error('KAFKA_BROKERS, REDIS_URL and AWS_ENDPOINT_URL must be set: eval "$(deploy/local/stack env)"');
  process.exit(2);
}
const GRACE_MS: Record<ServiceName, number> = { ingester: 30_000, enricher: 25_000, alerter: 25_000 };
const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const dir = await mkdtemp(join(tmpdir(), `trailstream-fault-sigterm-${run}-`));
const kafka = createKafka({ brokers, clientId: "bench-fault-sigterm" });
const region = env.AWS_REGION ?? "us-east-1";

/** Reads a topic from its start and counts records by the identity `identify` finds in each. */
async function countTopic(topic: string, identify: (key: string, value: string) => string) {
  const counts = new Map<string, number>();
  const consumer = await startBatchConsumer(kafka, {
    groupId: `fault-sigterm-reader-${run}-${topic}`,
    topics: [topic],
    fromBeginning: true,
    readCommitted: true,
    handle: async (batch) => {
      for (const m of batch.messages) {
        const id = identify(m.key?.toString("utf8") ?? "", m.value?.toString("utf8") ?? "");
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
    },
  });
  await consumer.started;
  return { counts, close: () => consumer.close() };
}

function record(i: number, tag: string, eventName = "DescribeInstances"): CloudTrailRecord {
  const account = String(300000000000 + (i % 5));
  return {
    eventVersion: "1.09",
    userIdentity: {
      type: "IAMUser",
      principalId: "AIDAEXAMPLE",
      arn: `arn:aws:iam::${account}:user/app-${i % 20}`,
      accountId: account,
      userName: `app-${i % 20}`,
    },
    eventTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    eventSource: eventName === "StopLogging" ? "cloudtrail.amazonaws.com" : "ec2.amazonaws.com",
    eventName,
    awsRegion: region,
    sourceIPAddress: `10.1.${i % 250}.${i % 200}`,
    userAgent: "aws-sdk-js/3.600.0",
    requestParameters: eventName === "StopLogging" ? { name: `trail-${tag}` } : null,
    responseElements: null,
    requestID: randomUUID(),
    eventID: `${tag}-${i}`,
    readOnly: eventName !== "StopLogging",
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: "Management",
  };
}
const identityOf = (r: CloudTrailRecord) => `${r.recipientAccountId}:${r.eventID}`;

interface Subject {
  name: ServiceName;
  env: Record<string, string>;
  /** Puts the whole input in; the identities that must come out. */
  feed(): Promise<string[]>;
  outputTopic: string;
  identify(key: string, value: string): string;
}

const common = { KAFKA_BROKERS: brokers.join(","), REDIS_URL: env.REDIS_URL ?? "", LOG_LEVEL: "warn" };

async function ingesterSubject(): Promise<Subject> {
  const topics = { raw: `fault-sigterm-raw-i-${run}`, dlq: `fault-sigterm-dlq-i-${run}` };
  await ensureTopics(kafka, [
    { topic: topics.raw, partitions: 3 },
    { topic: topics.dlq, partitions: 1 },
  ]);
  const aws = awsClients({ endpoint: env.AWS_ENDPOINT_URL ?? "", region });
  const bucket = `fault-sigterm-${run}`;
  const queueUrl = await prepareBuckets(aws, [bucket], `fault-sigterm-${run}`);
  return {
    name: "ingester",
    env: {
      ...common,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL ?? "",
      TOPIC_RAW: topics.raw,
      TOPIC_DLQ: topics.dlq,
      SQS_QUEUE_URLS: queueUrl,
      REDIS_KEY_PREFIX: `fault-sigterm:${run}:`,
      INTEGRITY: "false",
    },
    async feed() {
      const ids: string[] = [];
      const perFile = 200;
      const day = new Date().toISOString().slice(0, 10).replaceAll("-", "/");
      for (let f = 0; f * perFile < total; f++) {
        const records = Array.from({ length: Math.min(perFile, total - f * perFile) }, (_, i) =>
          record(f * perFile + i, `ing-${run}`),
        );
        ids.push(...records.map(identityOf));
        const key = `AWSLogs/300000000000/CloudTrail/${region}/${day}/300000000000_CloudTrail_${region}_${run}-${f}.json.gz`;
        await aws.s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(JSON.stringify({ Records: records })) }),
        );
      }
      return ids;
    },
    outputTopic: topics.raw,
    identify: (key) => key,
  };
}

async function enricherSubject(): Promise<Subject> {
  const topics = {
    raw: `fault-sigterm-raw-e-${run}`,
    events: `fault-sigterm-events-e-${run}`,
    dlq: `fault-sigterm-dlq-e-${run}`,
  };
  await ensureTopics(kafka, [
    { topic: topics.raw, partitions: 3 },
    { topic: topics.events, partitions: 3 },
    { topic: topics.dlq, partitions: 1 },
  ]);
  return {
    name: "enricher",
    env: {
      ...common,
      TOPIC_RAW: topics.raw,
      TOPIC_EVENTS: topics.events,
      TOPIC_DLQ: topics.dlq,
      TOPIC_PARTITIONS: "3",
      ENRICHER_GROUP_ID: `fault-sigterm-${run}`,
      ENRICHER_TRANSACTIONAL_ID_PREFIX: `fault-sigterm-${run}`,
      DEDUP_KEY_PREFIX: `fault-sigterm:${run}:`,
    },
    async feed() {
      const producer = await openProducer(kafka);
      const ids: string[] = [];
      const receivedAt = new Date().toISOString();
      for (let i = 0; i < total; i += 1_000) {
        const records = Array.from({ length: Math.min(1_000, total - i) }, (_, j) => record(i + j, `enr-${run}`));
        ids.push(...records.map(identityOf));
        await producer.send(
          topics.raw,
          records.map((r) => ({
            key: identityOf(r),
            value: JSON.stringify({ v: 1, event: r, origin: { kind: "file", receivedAt } }),
          })),
        );
      }
      await producer.close();
      return ids;
    },
    outputTopic: topics.events,
    identify: (key) => key,
  };
}

async function alerterSubject(): Promise<Subject> {
  const topics = {
    events: `fault-sigterm-events-a-${run}`,
    alerts: `fault-sigterm-alerts-a-${run}`,
    dlq: `fault-sigterm-dlq-a-${run}`,
  };
  await ensureTopics(kafka, [
    { topic: topics.events, partitions: 3 },
    { topic: topics.alerts, partitions: 3 },
    { topic: topics.dlq, partitions: 1 },
  ]);
  const tag = `alr-${run}`;
  const rules = join(dir, "rules.yaml");
  await writeFile(
    rules,
    `rules:\n  - id: fault-sigterm-${run}\n    title: StopLogging (fault campaign)\n    severity: high\n    pattern: '{ ($.eventName = "StopLogging") && ($.requestParameters.name = "trail-${tag}") }'\n`,
  );
  return {
    name: "alerter",
    env: {
      ...common,
      TOPIC_EVENTS: topics.events,
      TOPIC_ALERTS: topics.alerts,
      TOPIC_DLQ: topics.dlq,
      TOPIC_PARTITIONS: "3",
      ALERTER_GROUP_ID: `fault-sigterm-${run}`,
      ALERTER_KEY_PREFIX: `fault-sigterm:${run}:`,
      RULES_BUILTIN: "false",
      RULE_FILES: rules,
      ALERT_FLOOD_PER_MINUTE: "0",
    },
    async feed() {
      const producer = await openProducer(kafka);
      const ids: string[] = [];
      const receivedAt = new Date().toISOString();
      for (let i = 0; i < total; i += 1_000) {
        const records = Array.from({ length: Math.min(1_000, total - i) }, (_, j) => record(i + j, tag, "StopLogging"));
        ids.push(...records.map(identityOf));
        await producer.send(
          topics.events,
          records.map((r) => ({
            key: identityOf(r),
            value: JSON.stringify({ v: 1, event: r, origin: { kind: "file", receivedAt }, enrichment: {} }),
          })),
        );
      }
      await producer.close();
      return ids;
    },
    outputTopic: topics.alerts,
    identify: (_key, value) => String((JSON.parse(value) as { identity?: unknown }).identity),
  };
}

async function timedStop(p: ServiceProcess): Promise<{ ms: number; code: number | null }> {
  const started = performance.now();
  const code = await p.stop();
  return { ms: performance.now() - started, code };
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1_000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const rows: string[] = [];
const wanted: ServiceName[] =
  values.service === "all" ? ["ingester", "enricher", "alerter"] : [values.service as ServiceName];
for (const name of wanted) {
  const subject =
    name === "ingester"
      ? await ingesterSubject()
      : name === "enricher"
        ? await enricherSubject()
        : await alerterSubject();
  const logDir = join(dir, name);
  await mkdir(logDir, { recursive: true });

  // Idle: started, ready, nothing to do for 3 s, then SIGTERM.
  const idle: { ms: number; code: number | null }[] = [];
  for (let i = 0; i < idleStops; i++) {
    const p = await startServiceProcess(name, subject.env, { logDir });
    await p.ready();
    await new Promise((r) => setTimeout(r, 3_000));
    idle.push(await timedStop(p));
  }

  // Busy: the whole input in, SIGTERM once a third is out, then a fresh process finishes it.
  const out = await countTopic(subject.outputTopic, subject.identify);
  let p = await startServiceProcess(name, subject.env, { logDir });
  await p.ready();
  const feedStart = performance.now();
  const ids = await subject.feed();
  await waitFor(`${name}: a third of the output`, () => out.counts.size >= ids.length / 3, 300_000);
  const atStop = out.counts.size;
  const busy = await timedStop(p);
  const afterStop = out.counts.size;
  p = await startServiceProcess(name, subject.env, { logDir });
  await p.ready();
  const wantedIds = new Set(ids);
  await waitFor(
    `${name}: all ${ids.length} identities out`,
    () => [...wantedIds].every((id) => out.counts.has(id)),
    600_000,
  ).catch((error: unknown) => console.error(String(error)));
  const seconds = (performance.now() - feedStart) / 1_000;
  await new Promise((r) => setTimeout(r, 2_000));
  await p.stop();
  await out.close();
  const lost = ids.filter((id) => !out.counts.has(id)).length;
  const twice = ids.filter((id) => (out.counts.get(id) ?? 0) > 1).length;
  const idleMax = Math.max(...idle.map((s) => s.ms));
  rows.push(
    `| ${name} | ${idle.map((s) => s.ms.toFixed(0)).join(", ")} ms (exit ${[...new Set(idle.map((s) => s.code))].join("/")}) | ` +
      `${busy.ms.toFixed(0)} ms (exit ${busy.code}; grace ${GRACE_MS[name] / 1_000} s; ${atStop} of ${ids.length} out at SIGTERM, ${afterStop} when it exited) | ` +
      `${ids.length} in, ${ids.length - lost} out, ${lost} lost, ${twice} twice | ${seconds.toFixed(0)} s |`,
  );
  if (idleMax > 1_000 || busy.ms > GRACE_MS[name] || lost > 0 || idle.some((s) => s.code !== 0) || busy.code !== 0)
    process.exitCode = 1;
}

console.log(
  `fault-sigterm: ${cpus().length} cores, load ${loadavg()[0]?.toFixed(1)}, ${total} events a service, run ${run}`,
);
console.log("| service | SIGTERM when idle | SIGTERM when busy | by identity | input to all out |");
console.log("| ------- | ----------------- | ----------------- | ----------- | ---------------- |");
for (const row of rows) console.log(row);
