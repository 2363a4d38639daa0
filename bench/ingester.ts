// Benchmark of the ingester against the real servers on this machine (Kafka, Redis, moto,
// kinesis-local), with the ingester as its own process, as deployed:
//   S3 path:      gzipped log files in a moto bucket, S3 notifications on SQS  -> raw topic
//   files path:   the same files from local disk (`replay`): the ceiling without moto's S3 and SQS
//   Kinesis path: CloudWatch Logs subscription payloads, EventBridge events and bare records
//                 pre-loaded in a 4-shard kinesis-local stream                  -> raw topic
// Throughput is read from the ingester's own /metrics (records acknowledged by Kafka), from the
// first notification sent / the process start to the last record acknowledged.
// --only kinesis-modes reads one pre-loaded stream in polling and in fan-out mode side by side
// (records/s), then puts one record every 250 ms and measures put -> ingester receipt (latency).
//   node bench/ingester.ts [--files 100] [--per-file 1000] [--kinesis-records 20000] [--only s3|files|kinesis|kinesis-core|kinesis-modes]
//                            [--files-in-flight 8] [--kinesis-page 1000] [--rounds 1] [--no-anchor] [--integrity] [--baseline DIR]
// The S3 run is paired with Kafka's ProducerPerformance writing the same records (idempotent,
// acks=all), in --rounds rounds of alternating order; the ratio of the medians is printed.
// --integrity pairs it instead with itself under INTEGRITY=true (every log file hashed while it is
// decoded, its hash kept for the digests to judge): the cost of validation on the S3 path (issue 15).
// --baseline DIR adds another checkout's ingester (e.g. /work/main before a change) to every round
// of the S3 run, on the same files: the change's own ratio, measured side by side on a shared machine.
// Each S3 run also reports the ingester process's CPU time (every thread, from /proc), which the
// other work on a shared machine moves far less than records/s.
// INGESTER_NODE_OPTIONS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") is the ingesters' NODE_OPTIONS.
// INGESTER_SETTINGS (e.g. "DECODE_THREADS=2,KAFKA_LINGER_MS=0") adds settings to this checkout's S3
// ingester only, not the baseline's: a setting measured against the defaults in the same rounds.
import { execFile } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs, promisify } from "node:util";
import { gzipSync } from "node:zlib";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { createKafka, ensureTopics, openProducer } from "@trailstream/kafka";
import { openRedis, redisSettings } from "@trailstream/redis";
import { createLogger, createRegistry } from "@trailstream/runtime";
import { createMetrics } from "../services/ingester/src/metrics.ts";
import { Sink } from "../services/ingester/src/sink.ts";
import { KinesisSource } from "../services/ingester/src/sources/kinesis/source.ts";
import { awsClients } from "../test/support/aws.ts";
import {
  deleteStream,
  freshRecords,
  type IngesterProcess,
  ingesterEnv,
  type Json,
  kinesisPayloads,
  logFile,
  metricsPortOf,
  ROOT,
  spawnIngester,
  stratusRecords,
  trailKey,
} from "../test/support/ingester.ts";
import { endpoints, uniqueName } from "../test/support/servers.ts";
import { type Envelope, TopicReader } from "../test/support/topic-reader.ts";
import { cpuSecondsOf } from "./process-cpu.ts";

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    files: { type: "string", default: "100" },
    "per-file": { type: "string", default: "1000" },
    "kinesis-records": { type: "string", default: "20000" },
    only: { type: "string" },
    rounds: { type: "string", default: "1" },
    "no-anchor": { type: "boolean", default: false },
    integrity: { type: "boolean", default: false },
    "files-in-flight": { type: "string", default: "8" },
    baseline: { type: "string", default: "" },
    "kinesis-page": { type: "string", default: "1000" },
  },
});
const fileCount = Number(values.files);
const perFile = Number(values["per-file"]);
const kinesisRecords = Number(values["kinesis-records"]);
const only = values.only;

const e = await endpoints();
const aws = awsClients(e);
const kafka = createKafka({ brokers: e.kafkaBrokers, clientId: "bench-ingester" });
const templates = await stratusRecords();
const lines: string[] = [];

async function rawTopic(): Promise<{ raw: string; dlq: string }> {
  const raw = uniqueName("bench-raw");
  const dlq = uniqueName("bench-dlq");
  await ensureTopics(kafka, [
    { topic: raw, partitions: 6 },
    { topic: dlq, partitions: 1 },
  ]);
  return { raw, dlq };
}

async function recordsAcked(p: IngesterProcess): Promise<number> {
  const port = metricsPortOf(p);
  if (!port) return 0;
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^trailstream_ingester_records_total\{[^}]*\} (\d+(?:\.\d+)?)/gm)) sum += Number(m[1]);
  return sum;
}

/** Waits until the ingester reports `total` records acknowledged; returns seconds since `start`. */
async function waitFor(p: IngesterProcess, total: number, start: number, what: string): Promise<number> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const n = await recordsAcked(p).catch(() => 0);
    if (n >= total) return (performance.now() - start) / 1000;
    if (n !== last) {
      last = n;
      lastChange = Date.now();
    }
    if (Date.now() - lastChange > 60_000)
      throw new Error(`${what}: stuck at ${n} of ${total}\n${p.output.slice(-20).join("\n")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function started(p: IngesterProcess): Promise<void> {
  while (!metricsPortOf(p)) {
    if (p.child.exitCode !== null) throw new Error(`ingester exited\n${p.output.join("\n")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(p: IngesterProcess): Promise<void> {
  p.child.kill("SIGTERM");
  await p.exited();
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

// Files: fileCount gzipped log files of perFile records each, fresh identities.
const files: { key: string; body: Buffer; records: Json[] }[] = [];
if (only === undefined || only === "s3" || only === "files") {
  for (let i = 0; i < fileCount; i++) {
    const records = freshRecords(templates, perFile, uniqueName(`b${i}`));
    files.push({ key: trailKey("111122223333", "us-east-1"), body: logFile(records), records });
  }
}
const totalFileRecords = fileCount * perFile;
const gzBytes = files.reduce((n, f) => n + f.body.length, 0);
const rawBytes = files.reduce((n, f) => n + JSON.stringify({ Records: f.records }).length, 0);

const kafkaLibs = process.env.KAFKA_LIBS ?? `${process.env.HOME}/.cache/trailstream/kafka-4.1.2/libs`;

/**
 * Kafka's ProducerPerformance on the same records (one JSON record a line), idempotent, acks=all:
 * the ceiling of writing them with no gunzip or parse. Returns its records/s.
 */
async function producerPerformance(): Promise<number> {
  const topics = await rawTopic();
  const payloads = join(ROOT, ".out", "bench", "ingester-payloads.txt");
  await mkdir(dirname(payloads), { recursive: true });
  await writeFile(payloads, `${files.flatMap((f) => f.records.map((r) => JSON.stringify(r))).join("\n")}\n`);
  const { stdout } = await promisify(execFile)(
    "java",
    [
      ...["-Xms256m", "-Xmx512m", "-cp", `${kafkaLibs}/*`, "org.apache.kafka.tools.ProducerPerformance"],
      ...["--topic", topics.raw, "--num-records", String(totalFileRecords), "--throughput", "-1"],
      ...["--payload-file", payloads, "--producer-props", `bootstrap.servers=${e.kafkaBrokers.join(",")}`],
      ...["acks=all", "enable.idempotence=true"],
    ],
    { maxBuffer: 16 << 20 },
  );
  // "N records sent, X records/sec (Y MB/sec), ..." is its last line.
  const m = /records sent, ([\d.]+) records\/sec/.exec(stdout.trim().split("\n").at(-1) ?? "");
  if (!m) throw new Error(`ProducerPerformance said: ${stdout.slice(-500)}`);
  return Number(m[1]);
}

if (only === undefined || only === "s3") {
  const bucket = uniqueName("bench-trail");
  await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  console.error(`uploading ${files.length} files (${(gzBytes / 1024 ** 2).toFixed(1)} MiB gzipped) to moto`);
  for (let i = 0; i < files.length; i += 8) {
    await Promise.all(
      files.slice(i, i + 8).map((f) => aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: f.key, Body: f.body }))),
    );
  }
  const extraSettings = Object.fromEntries(
    (process.env.INGESTER_SETTINGS ?? "")
      .split(",")
      .filter((s) => s.includes("="))
      .map((s) => [s.slice(0, s.indexOf("=")).trim(), s.slice(s.indexOf("=") + 1).trim()]),
  );
  // CPU seconds of the ingester process (all its threads, startup not counted) from the first
  // notification to the last record acknowledged: on a shared machine this moves far less with the
  // load than records/s does.
  const s3Cpu: number[] = [];
  const baselineCpu: number[] = [];
  const baselineCli = values.baseline ? resolve(values.baseline, "services/cli/src/main.ts") : undefined;
  const s3Run = async (integrity = false, cli?: string): Promise<number> => {
    const queueUrl =
      (await aws.sqs.send(new CreateQueueCommand({ QueueName: uniqueName("bench-notices") }))).QueueUrl ?? "";
    const topics = await rawTopic();
    const p = await spawnIngester(
      "bench-s3",
      ingesterEnv(e, {
        TOPIC_RAW: topics.raw,
        TOPIC_DLQ: topics.dlq,
        SQS_QUEUE_URLS: queueUrl,
        LOG_LEVEL: "info",
        SQS_WAIT_SECONDS: "2",
        MAX_FILES_IN_FLIGHT: values["files-in-flight"],
        INTEGRITY: String(integrity),
        ...(integrity ? { TOPIC_INTEGRITY: uniqueName("integrity") } : {}),
        ...(process.env.INGESTER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.INGESTER_NODE_OPTIONS } : {}),
        ...(cli ? {} : extraSettings),
      }),
      cli,
    );
    await started(p);
    const cpuBefore = cpuSecondsOf(p.child.pid);
    const start = performance.now();
    for (let i = 0; i < files.length; i += 10) {
      await aws.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: files.slice(i, i + 10).map((f, k) => ({
            Id: String(k),
            MessageBody: JSON.stringify({
              Records: [
                {
                  eventSource: "aws:s3",
                  eventName: "ObjectCreated:Put",
                  s3: { bucket: { name: bucket }, object: { key: f.key, size: f.body.length } },
                },
              ],
            }),
          })),
        }),
      );
    }
    const seconds = await waitFor(p, totalFileRecords, start, "s3");
    const cpu = cpuSecondsOf(p.child.pid) - cpuBefore;
    if (!integrity) (cli ? baselineCpu : s3Cpu).push(cpu);
    await stop(p);
    lines.push(
      `| sqs-s3 (moto S3 + SQS -> Kafka)${integrity ? ", INTEGRITY=true" : ""}${cli ? `, ingester of ${values.baseline}` : ""} | ${files.length} files x ${perFile} | ${fmt(totalFileRecords / seconds)} | ${(gzBytes / 1024 ** 2 / seconds).toFixed(2)} | ${(rawBytes / 1024 ** 2 / seconds).toFixed(1)} | ${seconds.toFixed(1)} |`,
    );
    console.error(lines.at(-1));
    return totalFileRecords / seconds;
  };
  // Rounds alternate which goes first; the ratio of the medians is the figure.
  const s3Rates: number[] = [];
  const anchorRates: number[] = [];
  const validatedRates: number[] = [];
  const baselineRates: number[] = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    const order = round % 2 === 0 ? ["s3", "baseline", "anchor"] : ["anchor", "baseline", "s3"];
    for (const which of order) {
      if (which === "s3") s3Rates.push(await s3Run());
      else if (which === "baseline") {
        if (baselineCli) baselineRates.push(await s3Run(false, baselineCli));
      } else if (values.integrity) validatedRates.push(await s3Run(true));
      else if (!values["no-anchor"]) {
        anchorRates.push(await producerPerformance());
        console.error(
          `ProducerPerformance, the same ${fmt(totalFileRecords)} records: ${fmt(anchorRates.at(-1) ?? 0)} records/s`,
        );
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? Number.NaN;
  if (validatedRates.length > 0) {
    lines.push(
      `S3 path with and without validation (${values.rounds} rounds): INTEGRITY=false ${s3Rates.map(fmt).join(", ")}; ` +
        `INTEGRITY=true ${validatedRates.map(fmt).join(", ")} records/s; ratio of the medians ${(median(validatedRates) / median(s3Rates)).toFixed(3)}`,
    );
    console.error(lines.at(-1));
  }
  if (baselineRates.length > 0) {
    lines.push(
      `S3 path beside ${values.baseline}'s (${values.rounds} rounds): this checkout ${s3Rates.map(fmt).join(", ")}; ` +
        `baseline ${baselineRates.map(fmt).join(", ")} records/s; ratio of the medians ${(median(s3Rates) / median(baselineRates)).toFixed(2)}` +
        (anchorRates.length > 0
          ? `; baseline over ProducerPerformance ${(median(baselineRates) / median(anchorRates)).toFixed(2)}`
          : ""),
    );
    console.error(lines.at(-1));
  }
  if (s3Cpu.length > 0) {
    const ms = (xs: number[]) => xs.map((x) => (x * 1000).toFixed(0)).join(", ");
    lines.push(
      `ingester CPU during the S3 runs, ms: this checkout ${ms(s3Cpu)}` +
        (baselineCpu.length > 0
          ? `; baseline ${ms(baselineCpu)}; ratio of the medians ${(median(s3Cpu) / median(baselineCpu)).toFixed(2)}`
          : ""),
    );
    console.error(lines.at(-1));
  }
  if (anchorRates.length > 0) {
    lines.push(
      `S3 path beside ProducerPerformance (${values.rounds} rounds): sqs-s3 ${s3Rates.map(fmt).join(", ")}; ` +
        `ProducerPerformance ${anchorRates.map(fmt).join(", ")} records/s; ratio of the medians ${(median(s3Rates) / median(anchorRates)).toFixed(2)}`,
    );
    console.error(lines.at(-1));
  }
}

if (only === undefined || only === "files") {
  const dir = join(ROOT, ".out", "bench", "ingester-files");
  await rm(dir, { recursive: true, force: true });
  for (const f of files) {
    await mkdir(join(dir, dirname(f.key)), { recursive: true });
    await writeFile(join(dir, f.key), f.body);
  }
  const topics = await rawTopic();
  const script = `import { replayCommand } from "@trailstream/ingester"; process.exitCode = await replayCommand(["--quiet", "--topic", ${JSON.stringify(topics.raw)}, "--dlq-topic", ${JSON.stringify(topics.dlq)}, ${JSON.stringify(dir)}]);`;
  const start = performance.now();
  await run(process.execPath, ["--input-type=module", "-e", script], {
    cwd: join(ROOT, "services", "ingester"),
    env: { ...process.env, KAFKA_BROKERS: e.kafkaBrokers.join(",") },
  });
  const seconds = (performance.now() - start) / 1000;
  lines.push(
    `| files (local disk -> Kafka, \`replay\`, incl. start) | ${files.length} files x ${perFile} | ${fmt(totalFileRecords / seconds)} | ${(gzBytes / 1024 ** 2 / seconds).toFixed(2)} | ${(rawBytes / 1024 ** 2 / seconds).toFixed(1)} | ${seconds.toFixed(1)} |`,
  );
  console.error(lines.at(-1));
  await rm(dir, { recursive: true, force: true });
}

/** CloudWatch Logs subscription payloads only, `perPayload` log events each (CloudWatch Logs batches). */
function logsPayloads(records: readonly Json[], perPayload: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < records.length; i += perPayload) {
    const chunk = records.slice(i, i + perPayload);
    out.push(
      gzipSync(
        JSON.stringify({
          messageType: "DATA_MESSAGE",
          owner: "111122223333",
          logGroup: "/aws/cloudtrail/bench",
          logStream: "111122223333_CloudTrail_us-east-1",
          subscriptionFilters: ["to-kinesis"],
          logEvents: chunk.map((r, k) => ({ id: String(i + k), timestamp: Date.now(), message: JSON.stringify(r) })),
        }),
      ),
    );
  }
  return out;
}

async function kinesisRun(label: string, records: Json[], payloads: Buffer[]): Promise<void> {
  const stream = uniqueName("bench-stream");
  await aws.kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 4 }));
  for (;;) {
    const s = await aws.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (s.StreamDescriptionSummary?.StreamStatus === "ACTIVE") break;
    await new Promise((r) => setTimeout(r, 200));
  }
  console.error(`putting ${records.length} records in ${payloads.length} Kinesis records`);
  for (let i = 0; i < payloads.length; i += 250) {
    let entries = payloads
      .slice(i, i + 250)
      .map((Data) => ({ Data, PartitionKey: Math.random().toString(36).slice(2) }));
    while (entries.length > 0) {
      const out = await aws.kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: entries }));
      entries = entries.filter((_, k) => out.Records?.[k]?.ErrorCode);
    }
  }
  const topics = await rawTopic();
  const start = performance.now();
  const p = await spawnIngester(
    "bench-kinesis",
    ingesterEnv(e, {
      TOPIC_RAW: topics.raw,
      TOPIC_DLQ: topics.dlq,
      KINESIS_STREAMS: stream,
      AWS_ENDPOINT_URL_KINESIS: e.kinesisEndpoint,
      LOG_LEVEL: "info",
      // Production lease timing, not the tests' 3 s; kinesis-local answers big pages slowly
      // (about 1 ms per record, worse beyond a few thousand), so pages of 1,000.
      LEASE_DURATION: "30s",
      LEASE_RENEW_INTERVAL: "10s",
      KINESIS_MAX_RECORDS: values["kinesis-page"],
    }),
  );
  await started(p);
  const seconds = await waitFor(p, records.length, start, "kinesis").finally(() => stop(p));
  await deleteStream(aws.kinesis, stream);
  lines.push(
    `| ${label} | ${fmt(records.length)} records in ${fmt(payloads.length)} Kinesis records | ${fmt(records.length / seconds)} (${fmt(payloads.length / seconds)} Kinesis records/s) | - | - | ${seconds.toFixed(1)} |`,
  );
  console.error(lines.at(-1));
}

if (only === undefined || only === "kinesis") {
  const mixed = freshRecords(templates, kinesisRecords, uniqueName("k"));
  await kinesisRun(
    "kinesis, mixed (1/3 CWL payloads of 10, 1/3 EventBridge, 1/3 bare; kinesis-local, 4 shards, incl. start)",
    mixed,
    kinesisPayloads(mixed, "/aws/cloudtrail/bench"),
  );
  const logs = freshRecords(templates, kinesisRecords * 2, uniqueName("l"));
  await kinesisRun(
    "kinesis, CloudWatch Logs payloads of 50 events (kinesis-local, 4 shards, incl. start)",
    logs,
    logsPayloads(logs, 50),
  );
}

/** The same stream read by a fresh ingester in each consumer mode: throughput, then latency. */
async function kinesisModes(): Promise<void> {
  const stream = uniqueName("bench-modes");
  await aws.kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 4 }));
  for (;;) {
    const s = await aws.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (s.StreamDescriptionSummary?.StreamStatus === "ACTIVE") break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const put = async (payloads: Buffer[]) => {
    for (let i = 0; i < payloads.length; i += 250) {
      let entries = payloads
        .slice(i, i + 250)
        .map((Data) => ({ Data, PartitionKey: Math.random().toString(36).slice(2) }));
      while (entries.length > 0) {
        const out = await aws.kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: entries }));
        entries = entries.filter((_, k) => out.Records?.[k]?.ErrorCode);
      }
    }
  };
  const backlog = freshRecords(templates, kinesisRecords * 2, uniqueName("m"));
  const payloads = logsPayloads(backlog, 50);
  await put(payloads);
  let ingested = backlog.length;
  const plain = new URL(e.kinesisEndpoint);
  for (const mode of ["polling", "fan-out"] as const) {
    const topics = await rawTopic();
    const raw = await TopicReader.open(kafka, topics.raw);
    const start = performance.now();
    const p = await spawnIngester(
      `bench-${mode}`,
      ingesterEnv(e, {
        TOPIC_RAW: topics.raw,
        TOPIC_DLQ: topics.dlq,
        KINESIS_STREAMS: stream,
        AWS_ENDPOINT_URL_KINESIS: e.kinesisEndpoint,
        LOG_LEVEL: "info",
        LEASE_DURATION: "30s",
        LEASE_RENEW_INTERVAL: "10s",
        KINESIS_MAX_RECORDS: values["kinesis-page"],
        KINESIS_CONSUMER_MODE: mode,
        KINESIS_CONSUMER_NAME: uniqueName("bench"),
        KINESIS_FANOUT_ENDPOINT:
          process.env.KINESIS_FANOUT_ENDPOINT ?? `https://${plain.hostname}:${Number(plain.port) - 1}`,
        KINESIS_FANOUT_TLS_VERIFY: "false",
      }),
    );
    try {
      await started(p);
      const seconds = await waitFor(p, ingested, start, `kinesis ${mode}`);
      // Latency: one record every 250 ms, from PutRecords returning to the ingester's receipt.
      const probes = freshRecords(templates, 40, uniqueName(`lat-${mode}`));
      const putAt = new Map<string, number>();
      for (const r of probes) {
        await put([Buffer.from(JSON.stringify(r))]);
        putAt.set(`${r.recipientAccountId}:${r.eventID}`, Date.now());
        await new Promise((res) => setTimeout(res, 250));
      }
      ingested += probes.length;
      const deadline = Date.now() + 60_000;
      while ([...putAt.keys()].some((k) => raw.envelopes(k).length === 0) && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 100));
      const lags = [...putAt]
        .map(([k, at]) => {
          const env = raw.envelopes(k)[0] as Envelope | undefined;
          return env ? Date.parse(String(env.origin.receivedAt)) - at : Number.NaN;
        })
        .filter(Number.isFinite)
        .sort((a, b) => a - b);
      const q = (f: number) => lags[Math.min(lags.length - 1, Math.floor(f * lags.length))] ?? Number.NaN;
      lines.push(
        `| kinesis ${mode}, CloudWatch Logs payloads of 50 (kinesis-local, 4 shards, incl. start) | ${fmt(backlog.length)} records in ${fmt(payloads.length)} Kinesis records | ${fmt(backlog.length / seconds)} | latency p50 ${fmt(q(0.5))} ms, p95 ${fmt(q(0.95))} ms (${lags.length} of 40) | ${seconds.toFixed(1)} |`,
      );
      console.error(lines.at(-1));
    } finally {
      await stop(p);
      await raw.close();
    }
  }
  await deleteStream(aws.kinesis, stream);
}

if (only === "kinesis-modes") await kinesisModes();

if (only === undefined || only === "kinesis-core") {
  // The ingester's own Kinesis path, without the emulator: the same KinesisSource (leases and
  // checkpoints in the real Redis, records to the real Kafka) reading pages served from memory by a
  // stand-in client, as fast as AWS would hand them over (page size KINESIS_MAX_RECORDS).
  const records = freshRecords(templates, kinesisRecords * 5, uniqueName("c"));
  const payloads = kinesisPayloads(records, "/aws/cloudtrail/bench");
  const shardCount = 4;
  const perShard: Buffer[][] = Array.from({ length: shardCount }, () => []);
  for (const [i, p] of payloads.entries()) perShard[i % shardCount]?.push(p);
  const page = Number(values["kinesis-page"]);
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const input = command.input;
      switch (command.constructor.name) {
        case "ListShardsCommand":
          return { Shards: perShard.map((_, i) => ({ ShardId: `shardId-${String(i).padStart(12, "0")}` })) };
        case "GetShardIteratorCommand":
          return { ShardIterator: `${String(input.ShardId)}|0` };
        default: {
          const [shardId = "", from = "0"] = String(input.ShardIterator).split("|");
          const shard = Number(shardId.slice(-12));
          const data = perShard[shard] ?? [];
          const start = Number(from);
          const end = Math.min(data.length, start + page);
          return {
            Records: data.slice(start, end).map((Data, k) => ({ Data, SequenceNumber: String(1_000_000 + start + k) })),
            NextShardIterator: `${shardId}|${end}`,
            MillisBehindLatest: end < data.length ? 1 : 0,
          };
        }
      }
    },
  };
  const topics = await rawTopic();
  const redis = openRedis(redisSettings(e.redisUrl));
  await redis.connected();
  const producer = await openProducer(kafka);
  const registry = createRegistry("bench");
  const metrics = createMetrics(registry);
  const sink = new Sink(producer, {
    topicRaw: topics.raw,
    topicDlq: topics.dlq,
    batchRecords: 500,
    lingerMs: 5,
    metrics,
  });
  const source = new KinesisSource({
    client: client as unknown as KinesisClient,
    stream: uniqueName("core"),
    redis,
    redisPrefix: `${uniqueName("bench")}:`,
    workerId: "bench",
    leaseDurationMs: 30_000,
    leaseRenewMs: 10_000,
    shardSyncMs: 30_000,
    idleMs: 1_000,
    maxRecords: page,
    startPosition: "trim_horizon",
    sink,
    metrics,
    log: createLogger("bench", "warn"),
  });
  const start = performance.now();
  source.start();
  for (;;) {
    const acked = (await metrics.records.get()).values.reduce((n, v) => n + v.value, 0);
    if (acked >= records.length) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - start) / 1000;
  await source.stop();
  await producer.close();
  await redis.close();
  lines.push(
    `| kinesis, ingester only (pages from memory, mixed payloads, 4 shards, real Redis + Kafka) | ${fmt(records.length)} records in ${fmt(payloads.length)} Kinesis records | ${fmt(records.length / seconds)} (${fmt(payloads.length / seconds)} Kinesis records/s) | - | - | ${seconds.toFixed(1)} |`,
  );
  console.error(lines.at(-1));
}

console.log(
  [
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}`,
    "| path | input | records/s | MB/s gzipped in | MB/s JSON | seconds |",
    "|---|---|---|---|---|---|",
    ...lines,
  ].join("\n"),
);
process.exit(0);
