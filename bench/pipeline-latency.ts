// The added latency of the whole pipeline at a steady rate: CloudWatch Logs subscription payloads
// put into a kinesis-local stream at RATE events/s for SECONDS, through the ingester, the enricher
// and the alerter running as separate processes with the built-in rules, to the alerts topic.
// Latency per alert = the alert's append time on the alerts topic - when its event was put.
// Events are real Stratus records with fresh identities: ALERTING percent of them (default 1) are
// ones the built-in rules alert on, the rest ones no rule matches, as in a real estate where alerts
// are rare. The payloads are built before the clock starts, so the putter is not what limits the rate.
// A steady rate is put in TICKS even steps a second (default 10: 500 events every 100 ms at 5,000/s);
// --ticks 1 puts each second's events in one burst, as this bench did before 2026-12-07.
// --enrichers N runs N enricher replicas (static members, as the chart runs them); --kill-enricher-at S
// kills the first with SIGKILL S seconds into the run and starts it again --restart-after-ms later,
// as Kubernetes restarts a crashed container in its pod: the latency across an enricher kill.
//   eval "$(deploy/local/stack env)"; node bench/pipeline-latency.ts [--rate 5000] [--seconds 180] [--alerting 1] [--ticks 10]
//     [--enrichers 2 --kill-enricher-at 60 --restart-after-ms 1000] [--fan-out]
// --fan-out has the ingester read Kinesis with enhanced fan-out (SubscribeToShard) instead of polling.
// --warmup S (default 10): the events put in the first S seconds go through the pipeline but are
// left out of the steady-state figures (the services' code is still being compiled then: the first
// two seconds' batches took 5-10 times as long); the whole run's put → alert is printed beside them.
import { mkdir, mkdtemp } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { loadTemplates } from "@trailstream/bucket-tree";
import type { CloudTrailRecord } from "@trailstream/cloudtrail";
import { createKafka, ensureTopics, startBatchConsumer } from "@trailstream/kafka";
import { builtinRules, RuleSet } from "@trailstream/rules";
import { metricValue, type ServiceProcess, startServiceProcess } from "../test/support/service-process.ts";
import { cpuShares, kafkaBrokers, processesWhere } from "./process-cpu.ts";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "5000" },
    seconds: { type: "string", default: "180" },
    alerting: { type: "string", default: "1" },
    ticks: { type: "string", default: "10" },
    enrichers: { type: "string", default: "1" },
    "kill-enricher-at": { type: "string", default: "" },
    "restart-after-ms": { type: "string", default: "1000" },
    "fan-out": { type: "boolean", default: false },
    warmup: { type: "string", default: "10" },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const env = process.env;
const need = (name: string) =>
  env[name] ?? (console.error(`${name} is not set: eval "$(deploy/local/stack env)"`), process.exit(2));
const brokers = need("KAFKA_BROKERS");
const kinesisEndpoint = need("AWS_ENDPOINT_URL_KINESIS");
const run = `lat-${Date.now().toString(36)}`;
const topics = { raw: `raw.${run}`, events: `events.${run}`, alerts: `alerts.${run}`, dlq: `dlq.${run}` };

const kafka = createKafka({ brokers: brokers.split(","), clientId: "bench-latency" });
await ensureTopics(
  kafka,
  Object.values(topics).map((topic) => ({ topic, partitions: 6 })),
);
const kinesis = new KinesisClient({
  region: env.AWS_REGION ?? "us-east-1",
  endpoint: kinesisEndpoint,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  requestHandler: new NodeHttpHandler(),
});
const stream = run;
await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 4 }));
for (let i = 0; i < 200; i++) {
  const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  if (s.StreamDescriptionSummary?.StreamStatus === "ACTIVE") break;
  await new Promise((r) => setTimeout(r, 100));
}

const logDir = await mkdtemp(join(tmpdir(), "trailstream-latency-"));
const common = {
  KAFKA_BROKERS: brokers,
  REDIS_URL: need("REDIS_URL"),
  TOPIC_RAW: topics.raw,
  TOPIC_EVENTS: topics.events,
  TOPIC_ALERTS: topics.alerts,
  TOPIC_DLQ: topics.dlq,
  LOG_LEVEL: "warn",
};
const services = [
  await startServiceProcess(
    "ingester",
    {
      ...common,
      KINESIS_STREAMS: stream,
      KINESIS_START_POSITION: "trim_horizon",
      REDIS_KEY_PREFIX: `${run}:ingester:`,
      // --fan-out: records pushed by SubscribeToShard instead of polled with GetRecords (five calls
      // a second a shard); kinesis-local answers it on its TLS port, one below the plain one.
      ...(values["fan-out"]
        ? {
            KINESIS_CONSUMER_MODE: "fan-out",
            KINESIS_CONSUMER_NAME: `${run}-ingester`,
            KINESIS_FANOUT_ENDPOINT:
              env.KINESIS_FANOUT_ENDPOINT ??
              `https://${new URL(kinesisEndpoint).hostname}:${Number(new URL(kinesisEndpoint).port) - 1}`,
            KINESIS_FANOUT_TLS_VERIFY: "false",
          }
        : {}),
    },
    { logDir },
  ),
  await startServiceProcess(
    "alerter",
    {
      ...common,
      ALERTER_GROUP_ID: `${run}-alerter`,
      ALERTER_KEY_PREFIX: `${run}:alerter:`,
      // Latency is read on the alerts topic; a benchmark's alert flood must not fill Alertmanager.
      ALERTMANAGER_URL: "",
      // Every alerting event an alert of its own, so each is a latency sample: without this the
      // default suppression (one alert per rule and account per 15 min) left about 15 per run.
      ALERT_SUPPRESS_DEFAULT: "0",
      ALERT_FLOOD_PER_MINUTE: "0",
    },
    { logDir },
  ),
];
const enrichers: ServiceProcess[] = [];
for (let i = 0; i < Number(values.enrichers); i++) {
  await mkdir(join(logDir, `enricher-${i}`));
  enrichers.push(
    await startServiceProcess(
      "enricher",
      {
        ...common,
        ENRICHER_GROUP_ID: `${run}-enricher`,
        DEDUP_KEY_PREFIX: `${run}:dedup:`,
        KAFKA_GROUP_INSTANCE_ID: `${run}-enricher-${i}`,
      },
      { logDir: join(logDir, `enricher-${i}`) },
    ),
  );
}
services.push(...enrichers);
await Promise.all(services.map((s) => s.ready()));
const killAtSecond = values["kill-enricher-at"] === "" ? null : Number(values["kill-enricher-at"]);
let killedAt: number | undefined;

const putAt = new Map<string, number>();
/** Events put before this are the warm-up: left out of the steady-state figures. */
let steadyFrom = Number.POSITIVE_INFINITY;
const warmupMs = Number(values.warmup) * 1000;
/** Put → alert of every alert, warm-up included. */
const latenciesAll: number[] = [];
const latencies: number[] = [];
/** Latencies of the events put around the enricher kill (--kill-enricher-at). */
const latenciesNear: number[] = [];
// The same alerts split at the ingester's receipt (origin.receivedAt, the alert's firstSeen):
// put -> receipt is the Kinesis source (kinesis-local and the polling), receipt -> alert the rest.
const toReceipt: number[] = [];
const fromReceipt: number[] = [];
// Each stage's share, from the Kafka timestamps (CreateTime: when the ingester and the enricher
// sent each record) of the alerting events on the raw and events topics: receipt -> raw is the
// ingester, raw -> events the enricher up to its produce, events -> alert the enricher's commit
// and the alerter.
const alertingIdentities = new Set<string>();
const sentAt = { raw: new Map<string, number>(), events: new Map<string, number>() };
const stageConsumer = await startBatchConsumer(kafka, {
  groupId: `${run}-stages`,
  topics: [topics.raw, topics.events],
  fromBeginning: true,
  handle: async (batch) => {
    const seen = batch.topic === topics.raw ? sentAt.raw : sentAt.events;
    for (const m of batch.messages) {
      const key = m.key?.toString() ?? "";
      if (alertingIdentities.has(key)) seen.set(key, m.timestampMs);
    }
  },
});
await stageConsumer.started;
const receivedAt = new Map<string, number>();
const alertedAt = new Map<string, number>();
const alertsConsumer = await startBatchConsumer(kafka, {
  groupId: `${run}-reader`,
  topics: [topics.alerts],
  fromBeginning: true,
  handle: async (batch) => {
    for (const m of batch.messages) {
      const doc = JSON.parse(m.value?.toString() ?? "{}") as { identity?: string; firstSeen?: string | null };
      const at = putAt.get(doc.identity ?? "");
      if (at === undefined) continue;
      latenciesAll.push(m.timestampMs - at);
      if (at < steadyFrom) continue;
      latencies.push(m.timestampMs - at);
      if (killedAt !== undefined && at >= killedAt - 5_000 && at <= killedAt + 30_000)
        latenciesNear.push(m.timestampMs - at);
      const received = doc.firstSeen ? Date.parse(doc.firstSeen) : Number.NaN;
      alertedAt.set(doc.identity ?? "", m.timestampMs);
      if (Number.isFinite(received)) {
        receivedAt.set(doc.identity ?? "", received);
        toReceipt.push(received - at);
        fromReceipt.push(m.timestampMs - received);
      }
    }
  },
});
await alertsConsumer.started;

// One payload = one CloudWatch Logs DATA_MESSAGE of 100 events, as the subscription would deliver.
const templates = await loadTemplates();
const catalog = new RuleSet((await builtinRules()).rules);
const quiet = templates.filter((t) => catalog.match(t).length === 0);
const loud = templates.filter((t) => catalog.match(t).length > 0);
const alertingShare = Number(values.alerting) / 100;
const perPayload = 100;
const ticksPerSecond = Number(values.ticks);
const payloadsPerTick = Math.max(1, Math.round(rate / perPayload / ticksPerSecond));
const tickMs = 1000 / ticksPerSecond;
const plannedStart = Date.now() + 2_000;
console.error(
  `building ${seconds * ticksPerSecond * payloadsPerTick} payloads (${quiet.length} quiet and ${loud.length} alerting templates)`,
);
const ticks: Array<Array<{ Data: Uint8Array; PartitionKey: string }>> = [];
let seq = 0;
for (let tick = 0; tick < seconds * ticksPerSecond; tick++) {
  const second = Math.floor(tick / ticksPerSecond);
  const eventTime = new Date(plannedStart + second * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const payloads = [];
  for (let p = 0; p < payloadsPerTick; p++) {
    const logEvents = [];
    for (let i = 0; i < perPayload; i++) {
      const alerting = (seq * 7919) % 10_000 < alertingShare * 10_000;
      if (alerting) alertingIdentities.add(`111111111111:${run}-${seq}`);
      const pool = alerting ? loud : quiet;
      const template = pool[seq % pool.length] as CloudTrailRecord;
      const event = { ...template, eventID: `${run}-${seq}`, recipientAccountId: "111111111111", eventTime };
      logEvents.push({ id: String(seq++), timestamp: plannedStart + second * 1000, message: JSON.stringify(event) });
    }
    const message = {
      messageType: "DATA_MESSAGE",
      owner: "111111111111",
      logGroup: "bench",
      logStream: "bench",
      subscriptionFilters: ["bench"],
      logEvents,
    };
    payloads.push({ Data: gzipSync(JSON.stringify(message)), PartitionKey: `${seq}` });
  }
  ticks.push(payloads);
}

// Each service's resident memory, read from its own metrics once a second: the peak is reported.
const peakRss = new Map<ServiceProcess, number>();
const sampleRss = () => {
  for (const s of services) {
    metricValue(s.port, "trailstream_process_resident_memory_bytes")
      .then((rss) => peakRss.set(s, Math.max(peakRss.get(s) ?? 0, rss)))
      .catch(() => {});
  }
};
let sent = 0;
const started = Date.now();
steadyFrom = started + warmupMs;
// Who used the two cores over the steady state: the tail moves with it. Processes are those running
// when it starts (an enricher restarted by --kill-enricher-at is not counted after its restart).
let steadyCpu: ReturnType<typeof cpuShares> | undefined;
setTimeout(() => {
  const pidsOf = (name: string) => services.filter((s) => s.name === name).flatMap((s) => s.child.pid ?? []);
  steadyCpu = cpuShares({
    ingester: pidsOf("ingester"),
    enricher: pidsOf("enricher"),
    alerter: pidsOf("alerter"),
    Kafka: kafkaBrokers(),
    Redis: processesWhere((p) => p.cmdline.startsWith("redis-server")),
    "kinesis-local": processesWhere((p) => p.cwd.includes("kinesis-local")),
    "this bench": [process.pid],
  });
}, warmupMs).unref();
console.error(`putting ${rate} events/s for ${seconds} s into ${stream} (logs in ${logDir})`);
for (const [tick, payloads] of ticks.entries()) {
  // Each tick is due at its own time from the start, so a slow put is caught up, not carried over.
  const due = started + tick * tickMs;
  if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
  const victim = enrichers[0];
  if (killAtSecond !== null && tick === killAtSecond * ticksPerSecond && victim) {
    killedAt = Date.now();
    void victim
      .kill()
      .then(() => new Promise((r) => setTimeout(r, Number(values["restart-after-ms"]))))
      .then(() => victim.restart());
  }
  for (let i = 0; i < payloads.length; i += 100) {
    const chunk = payloads.slice(i, i + 100);
    const result = await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: chunk }));
    if ((result.FailedRecordCount ?? 0) > 0)
      throw new Error(`kinesis-local refused ${result.FailedRecordCount} records`);
  }
  if (tick % ticksPerSecond === 0) sampleRss();
  const now = Date.now();
  const first = sent;
  sent += payloads.length * perPayload;
  for (let k = first; k < sent; k++) putAt.set(`111111111111:${run}-${k}`, now);
  const behind = Date.now() - (due + tickMs);
  if (behind > 0 && tick % (10 * ticksPerSecond) === 0) console.error(`tick ${tick}: behind the rate by ${behind} ms`);
}
const putSeconds = (Date.now() - started) / 1000;
const cpuOverSteadyState = steadyCpu?.stop();
// Let the pipeline drain, then read the figures.
const eventsOut = async () => {
  let out = 0;
  for (const e of enrichers) out += await metricValue(e.port, "trailstream_enricher_events_out_total").catch(() => 0);
  return out;
};
let last = -1;
for (let i = 0; i < 120; i++) {
  await new Promise((r) => setTimeout(r, 1000));
  const now = await eventsOut();
  if (now === last && now >= sent) break;
  last = now;
}
await alertsConsumer.close();
await stageConsumer.close();
const stages = { ingester: [] as number[], enricher: [] as number[], commitAndAlerter: [] as number[] };
for (const [identity, alerted] of alertedAt) {
  const received = receivedAt.get(identity);
  const raw = sentAt.raw.get(identity);
  const events = sentAt.events.get(identity);
  if (received === undefined || raw === undefined || events === undefined) continue;
  stages.ingester.push(raw - received);
  stages.enricher.push(events - raw);
  stages.commitAndAlerter.push(alerted - events);
}
// The enricher's own view of the run (its metrics, warm-up included): how long its transactions, its
// batches and its Redis round trips took on average, and how many records a transaction carried.
const enricherView = async (e: ServiceProcess) => {
  const mean = async (histogram: string) => {
    const count = await metricValue(e.port, `${histogram}_count`);
    return count > 0 ? ((await metricValue(e.port, `${histogram}_sum`)) / count) * 1_000 : Number.NaN;
  };
  const transactions = await metricValue(e.port, "trailstream_enricher_transaction_duration_seconds_count");
  const recordsIn = await metricValue(e.port, "trailstream_enricher_records_in_total");
  // The transactions' tail, from the histogram's buckets: how many took longer than 50 and 100 ms.
  const over = async (seconds: string) =>
    transactions -
    (await metricValue(e.port, "trailstream_enricher_transaction_duration_seconds_bucket", { le: seconds }));
  return (
    `${e.name}: ${transactions} transactions of ${(recordsIn / transactions).toFixed(0)} records on average, ` +
    `transaction ${(await mean("trailstream_enricher_transaction_duration_seconds")).toFixed(1)} ms ` +
    `(${await over("0.05")} over 50 ms, ${await over("0.1")} over 100 ms), ` +
    `batch ${(await mean("trailstream_enricher_batch_duration_seconds")).toFixed(1)} ms, ` +
    `Redis round trip ${(await mean("trailstream_enricher_redis_roundtrip_seconds")).toFixed(1)} ms (means)`
  );
};
const enricherViews = await Promise.all(enrichers.map((e) => enricherView(e).catch((error) => `${e.name}: ${error}`)));
for (const s of services) await s.stop();
// kinesis-local holds at most 50 shards across all streams: give these back.
await kinesis.send(new DeleteStreamCommand({ StreamName: stream, EnforceConsumerDeletion: true }));

const percentiles = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const pct = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  return `p50 ${pct(50)} ms, p95 ${pct(95)} ms, p99 ${pct(99)} ms, max ${sorted.at(-1)} ms`;
};
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}`,
);
console.log(`put in ${ticksPerSecond} steps a second, ${payloadsPerTick * perPayload} events a step`);
console.log(
  `put ${sent} events in ${putSeconds.toFixed(0)} s (${Math.round(sent / putSeconds)} events/s offered; target ${rate}); ${latenciesAll.length} alerts`,
);
console.log(
  `whole run, the first ${values.warmup} s included: put → alert ${percentiles(latenciesAll)} (${latenciesAll.length} alerts)`,
);
console.log(
  `steady state, after the first ${values.warmup} s (${latencies.length} alerts): added latency, Kinesis put → alert on the alerts topic: ${percentiles(latencies)}`,
);
console.log(
  `  put → ingester receipt (kinesis-local, ${values["fan-out"] ? "enhanced fan-out" : "polling"}): ${percentiles(toReceipt)}`,
);
console.log(`  ingester receipt → alert (Kafka, enricher, alerter): ${percentiles(fromReceipt)}`);
console.log(`    receipt → sent to the raw topic (ingester): ${percentiles(stages.ingester)}`);
console.log(`    raw sent → events sent (enricher's fetch, claims, produce): ${percentiles(stages.enricher)}`);
console.log(`    events sent → alert (enricher's commit, alerter): ${percentiles(stages.commitAndAlerter)}`);
for (const view of enricherViews) console.log(`  ${view}`);
if (killedAt !== undefined) {
  console.log(
    `enricher 0 of ${enrichers.length} killed (SIGKILL) ${killAtSecond} s in, started again ${values["restart-after-ms"]} ms later; the alerts of events put from 5 s before the kill to 30 s after: ${percentiles(
      latenciesNear,
    )}`,
  );
}
if (cpuOverSteadyState) {
  const { shares, machineBusy } = cpuOverSteadyState;
  console.log(
    `cores used over the steady state: ${Object.entries(shares)
      .map(([name, cores]) => `${name} ${cores.toFixed(2)}`)
      .join(", ")}; the machine ${(machineBusy * 100).toFixed(0)} % busy (${cpus().length} cores)`,
  );
}
console.log(
  `peak resident memory: ${services.map((s) => `${s.name} ${((peakRss.get(s) ?? Number.NaN) / 2 ** 20).toFixed(0)} MiB`).join(", ")}`,
);
console.log(
  `load average at the end: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
process.exit(0);
