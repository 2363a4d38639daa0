// Benchmark of `trailstream lookup` over an events topic: the time to answer a one-hour query (the
// CLI process, start to printed answer) when the topic holds `--hours` hours of events.
//
// 24 hours at 2,000 events/s of ~1.3 KB records would be ~225 GB, more than this machine's disk, so
// the topic holds the full rate only where the query can read: the queried hour (the hour that
// ended 12 hours ago) widened by what lookup reads around it (the clock skew it allows before the
// start, 1 min, plus the delivery delay after the end, --max-delivery-delay 10m here, plus the
// 5 min of delivery jitter given to each record), i.e. `--rate` events/s over 76 minutes; the other
// hours hold `--sparse-rate` events/s of the same records. Lookup seeks by Kafka's time index, so
// the hours outside the window are never fetched: their rate changes the topic's size, not what
// is read (the run prints both). Each record reaches Kafka up to 5 minutes after its eventTime
// (its Kafka timestamp is eventTime + U(0, 5 min)).
//
// The lookup index is written as the enricher writes it: its indexer (services/enricher/src/indexer.ts,
// with the enricher's default block settings) consumes the produced topic into `<topic>.index`
// (skipped when that topic already holds records); the run prints how long that took.
//
// Queries, each timed `--runs` times (median reported), with the index and, with `--compare`, with
// `--no-index` too (the rare query then reads the whole hour: minutes):
//   common: EventName=GetObject (40% of events), --max-results 50: a first page;
//   page 2: the same with the first page's --next-token;
//   rare:   EventName=DeleteBucket, which occurs 5 times in the hour: the whole hour is read.
//   eval "$(deploy/local/stack env)"
//   node bench/lookup.ts [--hours 24] [--rate 2000] [--sparse-rate 20] [--runs 3]
//        [--topic NAME --now MS]  (reuse a topic an earlier run kept with --keep) [--compare]
// Results: docs/benchmarks.md.
import { execFile } from "node:child_process";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { parseArgs, promisify } from "node:util";
import {
  consumerGroupLag,
  createKafka,
  deleteTopics,
  endOffsets,
  ensureTopics,
  openProducer,
} from "../packages/kafka/src/index.ts";
import { ConfigReader } from "../packages/runtime/src/index.ts";
import { ensureIndexTopic, SETTINGS, startIndexer } from "../services/enricher/src/index.ts";
import { random } from "../test/support/enricher.ts";
import { uniqueName } from "../test/support/servers.ts";

const { values } = parseArgs({
  options: {
    hours: { type: "string", default: "24" },
    rate: { type: "string", default: "2000" },
    "sparse-rate": { type: "string", default: "20" },
    runs: { type: "string", default: "3" },
    partitions: { type: "string", default: "6" },
    topic: { type: "string" },
    now: { type: "string" },
    keep: { type: "boolean", default: false },
    only: { type: "string" },
    compare: { type: "boolean", default: false },
  },
});
const hours = Number(values.hours);
const rate = Number(values.rate);
const sparseRate = Number(values["sparse-rate"]);
const runs = Number(values.runs);
const brokers = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
const HOUR = 3_600_000;
const MINUTE = 60_000;
const now = values.now ? Number(values.now) : Math.floor(Date.now() / 1_000) * 1_000;
const first = now - hours * HOUR;
const windowStart = now - 13 * HOUR;
const windowEnd = now - 12 * HOUR;
// Where the query can read: Kafka timestamps from start - 1 min (skew) to end + 10 min (delay),
// i.e. eventTimes from start - 6 min (5 min jitter) to end + 10 min.
const denseFrom = windowStart - 6 * MINUTE;
const denseTo = windowEnd + 10 * MINUTE;
const deleteBucketAt = [5, 17, 29, 41, 53].map((m) => windowStart + m * MINUTE + 1_234);
const kafka = createKafka({ brokers, clientId: "lookup-bench" });

/** Event times in order: `sparseRate` a second outside the dense window, `rate` inside it. */
function* eventTimes(): Generator<number> {
  let t = first;
  while (t < now) {
    const dense = t >= denseFrom && t < denseTo;
    const perSecond = dense ? rate : sparseRate;
    for (let j = 0; j < perSecond; j++) yield t + Math.floor((j * 1_000) / perSecond);
    t += 1_000;
  }
}

function record(i: number, timeMs: number, name: string, rnd: () => number): string {
  const eventID = `${i.toString(16).padStart(8, "0")}-4f1e-4b2a-9c1d-${Math.floor(rnd() * 1e12)
    .toString(16)
    .padStart(12, "0")}`;
  const event = {
    eventVersion: "1.11",
    userIdentity: {
      type: "AssumedRole",
      principalId: `AROAEXAMPLE${i % 97}:session-${i % 13}`,
      arn: `arn:aws:sts::111122223333:assumed-role/app-${i % 11}/session-${i % 13}`,
      accountId: "111122223333",
      accessKeyId: `ASIAEXAMPLE${(i % 1000).toString().padStart(4, "0")}`,
      sessionContext: { attributes: { creationDate: "2026-11-25T08:00:00Z", mfaAuthenticated: "false" } },
    },
    eventTime: new Date(timeMs).toISOString().replace(/\.\d{3}Z$/, "Z"),
    eventSource: "s3.amazonaws.com",
    eventName: name,
    awsRegion: "eu-west-1",
    sourceIPAddress: `198.51.100.${i % 250}`,
    userAgent: "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64 prompt/off command/s3.cp",
    requestParameters: {
      bucketName: `bucket-${i % 40}`,
      key: `path/to/object-${i}.json`,
      Host: "s3.eu-west-1.amazonaws.com",
    },
    responseElements: null,
    requestID: `REQ${i.toString(36).toUpperCase()}`,
    eventID,
    readOnly: name.startsWith("Get") || name.startsWith("Describe") || name === "Decrypt",
    resources: [
      { type: "AWS::S3::Object", ARN: `arn:aws:s3:::bucket-${i % 40}/path/to/object-${i}.json` },
      { accountId: "111122223333", type: "AWS::S3::Bucket", ARN: `arn:aws:s3:::bucket-${i % 40}` },
    ],
    eventType: "AwsApiCall",
    managementEvent: false,
    recipientAccountId: "111122223333",
    eventCategory: "Data",
    tlsDetails: {
      tlsVersion: "TLSv1.3",
      cipherSuite: "TLS_AES_128_GCM_SHA256",
      clientProvidedHostHeader: "s3.eu-west-1.amazonaws.com",
    },
  };
  return JSON.stringify({
    v: 1,
    event,
    origin: { kind: "s3", bucket: "trail", key: "k", receivedAt: event.eventTime },
    enrichment: { identity: `111122223333:${eventID}` },
  });
}

let topic = values.topic;
if (topic === undefined) {
  topic = `${uniqueName("lookup-bench")}.events`;
  await ensureTopics(kafka, [
    {
      topic,
      partitions: Number(values.partitions),
      // The broker keeps 24 h by Kafka timestamp; the oldest records are stamped 24 h ago.
      config: { "retention.ms": String(7 * 24 * HOUR), "max.message.bytes": String(8 * 1024 * 1024) },
    },
  ]);
  // GetObject 40%, then the others; DeleteBucket only at deleteBucketAt.
  const names = ["GetObject", "GetObject", "PutObject", "DescribeInstances", "AssumeRole", "Decrypt"];
  const rnd = random(11);
  const producer = await openProducer(kafka, { maxRequestBytes: 4 * 1024 * 1024 });
  const started = performance.now();
  let i = 0;
  let bytes = 0;
  let dense = 0;
  let chunk: { key: string; value: string; timestampMs: number }[] = [];
  const inFlight = new Set<Promise<void>>();
  let nextDelete = 0;
  const flush = async () => {
    const p = producer.send(topic as string, chunk).finally(() => inFlight.delete(p));
    inFlight.add(p);
    chunk = [];
    if (inFlight.size >= 3) await Promise.race(inFlight);
  };
  for (const timeMs of eventTimes()) {
    let name = names[i % names.length] as string;
    const d = deleteBucketAt[nextDelete];
    if (d !== undefined && timeMs >= d) {
      name = "DeleteBucket";
      nextDelete++;
    }
    const value = record(i, timeMs, name, rnd);
    bytes += value.length;
    if (timeMs >= denseFrom && timeMs < denseTo) dense++;
    chunk.push({
      key: `111122223333:${i}`,
      value,
      timestampMs: Math.min(now, timeMs + Math.floor(rnd() * 5 * MINUTE)),
    });
    i++;
    if (chunk.length >= 12_000) await flush();
    if (i % 1_000_000 === 0)
      console.error(`${i} events, ${((performance.now() - started) / 1_000).toFixed(0)} s, load ${loadavg()[0]}`);
  }
  if (chunk.length > 0) await flush();
  await Promise.all(inFlight);
  await producer.close();
  console.error(
    `produced ${i} events (${(bytes / 1024 ** 3).toFixed(2)} GiB; ${dense} of them in the dense ${(denseTo - denseFrom) / MINUTE} min) ` +
      `over ${hours} h in ${((performance.now() - started) / 1_000).toFixed(0)} s into ${topic}; --now ${now}`,
  );
}

// The index, written by the enricher's indexer with the enricher's defaults.
const indexTopic = `${topic}.index`;
const indexed = await endOffsets(kafka, indexTopic).catch(() => []);
let indexing: { seconds: number; blocks: number; recordsPerSecond: number; load1: number[] } | undefined;
if (indexed.reduce((n, p) => n + p.offset, 0n) === 0n) {
  await ensureIndexTopic(kafka, topic, indexTopic);
  const groupId = `${topic}.indexer.${Date.now()}`;
  const total = (await endOffsets(kafka, topic)).reduce((n, p) => n + Number(p.offset), 0);
  const load1 = [loadavg()[0] ?? 0];
  const t = performance.now();
  const indexer = await startIndexer(kafka, {
    eventsTopic: topic,
    indexTopic,
    groupId,
    blockRecords: SETTINGS.lookupIndexBlockRecords.read(new ConfigReader({})),
    blockAgeMs: SETTINGS.lookupIndexBlockAgeMs.read(new ConfigReader({})),
  });
  for (;;) {
    const lag = await consumerGroupLag(kafka, groupId, topic);
    if (lag === 0n) break;
    console.error(`indexing: ${lag} records to go, ${indexer.blocksWritten()} blocks, load ${loadavg()[0]}`);
    load1.push(loadavg()[0] ?? 0);
    await new Promise((r) => setTimeout(r, 10_000));
  }
  const seconds = (performance.now() - t) / 1_000;
  indexing = {
    seconds: Number(seconds.toFixed(0)),
    blocks: indexer.blocksWritten(),
    recordsPerSecond: Math.round(total / seconds),
    load1: load1.map((l) => Number(l.toFixed(2))),
  };
  await indexer.stop();
  console.error(`indexed ${total} records in ${seconds.toFixed(0)} s: ${JSON.stringify(indexing)}`);
}

const main = resolve(import.meta.dirname, "../services/cli/src/main.ts");
interface Answer {
  Events: { EventTime?: string }[];
  NextToken?: string;
}
async function timed(args: string[]): Promise<{ seconds: number; answer: Answer; stats: unknown }> {
  const t = performance.now();
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    [
      main,
      "lookup",
      "--topic",
      topic as string,
      "--max-delivery-delay",
      "10m",
      "--stats",
      "--start-time",
      new Date(windowStart).toISOString(),
      "--end-time",
      new Date(windowEnd).toISOString(),
      ...args,
    ],
    { env: { PATH: process.env.PATH ?? "", KAFKA_BROKERS: brokers.join(",") }, maxBuffer: 256 * 1024 * 1024 },
  );
  const stats: unknown = JSON.parse(stderr.trim().split("\n").at(-1) ?? "null");
  return { seconds: (performance.now() - t) / 1_000, answer: JSON.parse(stdout) as Answer, stats };
}

const common = ["--lookup-attributes", "AttributeKey=EventName,AttributeValue=GetObject", "--max-results", "50"];
const firstPage = await timed(common);
const token = firstPage.answer.NextToken;
if (token === undefined) throw new Error("the common query gave no NextToken");
const base: [string, string[]][] = [
  ["common: EventName=GetObject, first page of 50", common],
  ["page 2: the same with --next-token", [...common, "--next-token", token]],
  [
    "rare: EventName=DeleteBucket (5 in the hour)",
    ["--lookup-attributes", "AttributeKey=EventName,AttributeValue=DeleteBucket"],
  ],
];
const queries: [string, string[]][] = values.compare
  ? base.flatMap(([q, a]): [string, string[]][] => [
      [q, a],
      [`${q}, --no-index`, [...a, "--no-index"]],
    ])
  : base;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const results = [];
for (const [query, args] of queries) {
  if (values.only && !query.startsWith(values.only)) continue;
  const seconds: number[] = [];
  const loads: number[] = [];
  let answer: Answer = { Events: [] };
  let stats: unknown;
  for (let r = 0; r < runs; r++) {
    loads.push(loadavg()[0] ?? 0);
    const x = await timed(args);
    seconds.push(x.seconds);
    answer = x.answer;
    stats = x.stats;
    console.error(
      `${query}: ${x.seconds.toFixed(2)} s, ${x.answer.Events.length} events, load ${loads.at(-1)}, ${JSON.stringify(x.stats)}`,
    );
  }
  results.push({
    query,
    seconds: seconds.map((s) => Number(s.toFixed(2))),
    median: Number(median(seconds).toFixed(2)),
    events: answer.Events.length,
    newest: answer.Events[0]?.EventTime,
    oldest: answer.Events.at(-1)?.EventTime,
    nextToken: answer.NextToken !== undefined,
    stats,
    load1: loads.map((l) => Number(l.toFixed(2))),
  });
}
const records = (await endOffsets(kafka, topic)).reduce((n, p) => n + Number(p.offset), 0);
console.log(
  JSON.stringify(
    {
      topic,
      now,
      records,
      window: [new Date(windowStart).toISOString(), new Date(windowEnd).toISOString()],
      indexing,
      results,
    },
    null,
    2,
  ),
);
if (values.keep) console.error(`kept ${topic}: --topic ${topic} --now ${now}`);
else await deleteTopics(kafka, [topic, indexTopic]);
