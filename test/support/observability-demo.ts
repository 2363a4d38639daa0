// A demo run for the dashboards and their pictures: the three services as deployed (`trailstream
// <service>`, started by startServiceProcess) on the local servers (deploy/local/stack), each on its own topics,
// consumer groups and Redis prefixes; a Prometheus scraping them with the trailstream rules; and
// CloudTrail records (the Stratus detonation logs, with fresh ids and eventTimes) put into a Kinesis
// stream for a few minutes, some twice (copies to collapse) and some broken (the DLQ), with a
// webhook sink that refuses (sink errors). Then scripts/pictures.ts draws the overview.
//   eval "$(deploy/local/stack env)"; node test/support/observability-demo.ts [--minutes 8] [--out docs/images] [--keep]
// --keep leaves everything running (Ctrl-C stops it) so the Prometheus can be browsed.
import { spawnSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { createKafka, deleteTopics, ensureTopics } from "@trailstream/kafka";
import { deadUrl } from "./alerter.ts";
import { freshRecords, type Json, kinesisPayloads, stratusRecords } from "./ingester.ts";
import { freePort, ROOT, type RunningPrometheus, startPrometheus } from "./observability.ts";
import { endpoints, uniqueName } from "./servers.ts";
import { type ServiceName, type ServiceProcess, startServiceProcess } from "./service-process.ts";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "8" },
    out: { type: "string", default: join(ROOT, "docs", "images") },
    "prometheus-port": { type: "string" },
    keep: { type: "boolean", default: false },
  },
});

const e = await endpoints();
const run = uniqueName("obs");
const kafka = createKafka({ brokers: e.kafkaBrokers, clientId: run });
const topics = { raw: `${run}.raw`, events: `${run}.events`, alerts: `${run}.alerts`, dlq: `${run}.dlq` };
await ensureTopics(kafka, [
  { topic: topics.raw, partitions: 3 },
  { topic: topics.events, partitions: 3 },
  { topic: topics.alerts, partitions: 1 },
  { topic: topics.dlq, partitions: 1 },
]);

const kinesis = new KinesisClient({
  endpoint: e.kinesisEndpoint,
  region: e.region,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  // kinesis-local speaks HTTP/1.1 only.
  requestHandler: new NodeHttpHandler(),
});
const stream = `${run}-trail`;
await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
for (let i = 0; i < 100; i++) {
  const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  if (s.StreamDescriptionSummary?.StreamStatus === "ACTIVE") break;
  await new Promise((r) => setTimeout(r, 200));
}

const ports = { ingester: await freePort(), enricher: await freePort(), alerter: await freePort() };
const common = {
  PATH: process.env.PATH ?? "",
  KAFKA_BROKERS: e.kafkaBrokers.join(","),
  REDIS_URL: e.redisUrl,
  AWS_REGION: e.region,
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
  LOG_LEVEL: "warn",
  TOPIC_RAW: topics.raw,
  TOPIC_EVENTS: topics.events,
  TOPIC_ALERTS: topics.alerts,
  TOPIC_DLQ: topics.dlq,
};
const children: ServiceProcess[] = [];
const logDir = await mkdtemp(join(tmpdir(), `${run}-logs-`));
async function start(service: ServiceName, env: Record<string, string>): Promise<void> {
  const { METRICS_PORT, ...rest } = env;
  children.push(await startServiceProcess(service, { ...common, ...rest }, { logDir, port: Number(METRICS_PORT) }));
}
let prometheus: RunningPrometheus | undefined;
let stopping = false;
async function stop(): Promise<void> {
  stopping = true;
  await Promise.all(children.map((c) => c.stop()));
  await prometheus?.stop();
  // kinesis-local allows 50 shards in all: leave none behind.
  await kinesis.send(new DeleteStreamCommand({ StreamName: stream, EnforceConsumerDeletion: true })).catch(() => {});
  kinesis.destroy();
  await deleteTopics(kafka, Object.values(topics)).catch(() => {});
}
process.once("SIGINT", () => {
  void stop().then(() => process.exit(130));
});

try {
  await start("ingester", {
    METRICS_PORT: String(ports.ingester),
    KINESIS_STREAMS: stream,
    AWS_ENDPOINT_URL_KINESIS: e.kinesisEndpoint,
    KINESIS_IDLE_MS: "200",
    REDIS_KEY_PREFIX: `${run}:ingester:`,
    INGESTER_ID: `${run}-ingester`,
  });
  await start("enricher", {
    METRICS_PORT: String(ports.enricher),
    ENRICHER_GROUP_ID: `${run}-enricher`,
    DEDUP_KEY_PREFIX: `${run}:dedup:`,
  });
  await start("alerter", {
    METRICS_PORT: String(ports.alerter),
    ALERTER_GROUP_ID: `${run}-alerter`,
    ALERTER_KEY_PREFIX: `${run}:alerter:`,
    WEBHOOK_URLS: await deadUrl(),
    SINK_RETRIES: "1",
    SINK_RETRY_BASE_MS: "50",
    SINK_TIMEOUT_MS: "500",
  });

  const prometheusPort = values["prometheus-port"] ? Number(values["prometheus-port"]) : undefined;
  prometheus = await startPrometheus(
    Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, `127.0.0.1:${port}`])),
    "5s",
    prometheusPort,
  );
  console.error(`[demo] PROMETHEUS_URL=${prometheus.url}  topics ${run}.*  stream ${stream}  logs ${logDir}`);

  // Feed: every 5 s a batch of fresh records, a third of them put twice, and now and then a record
  // that is not JSON (the enricher dead-letters it).
  const templates: Json[] = await stratusRecords();
  const until = Date.now() + Number(values.minutes) * 60_000;
  let batches = 0;
  while (!stopping && Date.now() < until) {
    const records = freshRecords(templates, 60);
    const payloads = [
      ...kinesisPayloads(records, "/aws/cloudtrail/demo"),
      ...kinesisPayloads(records.slice(0, 20), "/aws/cloudtrail/copy"),
    ];
    if (batches % 6 === 5) payloads.push(Buffer.from("{not json"));
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: payloads.map((data, i) => ({ Data: data, PartitionKey: `${batches}-${i}` })),
      }),
    );
    batches++;
    await new Promise((r) => setTimeout(r, 5_000));
  }
  console.error(`[demo] fed ${batches} batches; drawing the pictures`);
  await new Promise((r) => setTimeout(r, 15_000));
  const pictures = spawnSync(
    process.execPath,
    [join(ROOT, "scripts", "pictures.ts"), "--range", `${Number(values.minutes) + 2}m`, "--out", values.out],
    { env: { ...process.env, PROMETHEUS_URL: prometheus.url }, stdio: "inherit" },
  );
  if (values.keep) {
    console.error(`[demo] still running: PROMETHEUS_URL=${prometheus.url} (Ctrl-C stops everything)`);
  } else {
    await stop();
    process.exitCode = pictures.status ?? 1;
  }
} catch (error) {
  // Leave no service, Prometheus, stream or topic behind.
  await stop();
  throw error;
}
