// Benchmark of `trailstream lookup` over an events topic: the time to answer a one-hour query
// (the CLI process, start to printed answer) when the topic holds `--hours` hours of events at
// `--per-hour` events an hour, each reaching Kafka up to 5 minutes after its eventTime. The query
// seeks the hour by Kafka's time index, so it reads the hour (plus --max-delivery-delay), never
// the rest: the figure scales with the events in the hour, reported as events read per second.
//   eval "$(deploy/local/stack env)"
//   node bench/lookup.ts [--hours 24] [--per-hour 20000] [--runs 3]
// Results: docs/benchmarks.md.
import { execFile } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { resolve } from "node:path";
import { parseArgs, promisify } from "node:util";
import { createKafka, ensureTopics, openProducer } from "../packages/kafka/src/index.ts";
import { random } from "../test/support/enricher.ts";
import { uniqueName } from "../test/support/servers.ts";

const { values } = parseArgs({
  options: {
    hours: { type: "string", default: "24" },
    "per-hour": { type: "string", default: "20000" },
    runs: { type: "string", default: "3" },
    partitions: { type: "string", default: "6" },
  },
});
const hours = Number(values.hours);
const perHour = Number(values["per-hour"]);
const runs = Number(values.runs);
const brokers = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
const HOUR = 3_600_000;
const now = Math.floor(Date.now() / 1_000) * 1_000;
const first = now - hours * HOUR;
const kafka = createKafka({ brokers, clientId: "lookup-bench" });
const topic = `${uniqueName("lookup-bench")}.events`;
await ensureTopics(kafka, [{ topic, partitions: Number(values.partitions) }]);

// An event of about the size CloudTrail writes (~1.3 KB with the envelope).
const rnd = random(11);
const names = ["GetObject", "PutObject", "DescribeInstances", "AssumeRole", "Decrypt", "DeleteBucket"];
const total = hours * perHour;
let bytes = 0;
let probe = "";
const producer = await openProducer(kafka);
const started = performance.now();
for (let i = 0; i < total; ) {
  const chunk: { key: string; value: string; timestampMs: number }[] = [];
  for (let j = 0; j < 2_000 && i < total; j++, i++) {
    const timeMs = first + Math.floor((i / total) * hours * HOUR);
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
      eventName: names[i % names.length],
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
      readOnly: i % 3 !== 0,
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
    const value = JSON.stringify({
      v: 1,
      event,
      origin: { kind: "s3", bucket: "trail", key: "k", receivedAt: event.eventTime },
      enrichment: { identity: `111122223333:${eventID}` },
    });
    bytes += value.length;
    // The probe: an event in the middle of the queried hour, looked up by its id.
    if (timeMs >= now - 12 * HOUR - HOUR / 2 && !probe) probe = eventID;
    chunk.push({
      key: `111122223333:${eventID}`,
      value,
      timestampMs: Math.min(now, timeMs + Math.floor(rnd() * 300_000)),
    });
  }
  await producer.send(topic, chunk);
}
await producer.close();
const produceSeconds = (performance.now() - started) / 1_000;
console.error(
  `produced ${total} events (${(bytes / 1024 ** 2).toFixed(0)} MiB) over ${hours} h in ${produceSeconds.toFixed(0)} s into ${topic}`,
);

const main = resolve(import.meta.dirname, "../services/cli/src/main.ts");
const windowStart = now - 13 * HOUR;
const windowEnd = now - 12 * HOUR;
async function timed(attribute: string): Promise<{ seconds: number; events: number; nextToken: boolean }> {
  const t = performance.now();
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      main,
      "lookup",
      "--topic",
      topic,
      "--max-delivery-delay",
      "10m",
      "--lookup-attributes",
      attribute,
      "--start-time",
      new Date(windowStart).toISOString(),
      "--end-time",
      new Date(windowEnd).toISOString(),
    ],
    { env: { PATH: process.env.PATH ?? "", KAFKA_BROKERS: brokers.join(",") }, maxBuffer: 64 * 1024 * 1024 },
  );
  const seconds = (performance.now() - t) / 1_000;
  const answer = JSON.parse(stdout) as { Events: unknown[]; NextToken?: string };
  return { seconds, events: answer.Events.length, nextToken: answer.NextToken !== undefined };
}
const results: { query: string; seconds: number[]; events: number }[] = [];
for (const [query, attribute] of [
  ["EventId (one event)", `AttributeKey=EventId,AttributeValue=${probe}`],
  ["ReadOnly=true (a page of 50)", "AttributeKey=ReadOnly,AttributeValue=true"],
] as const) {
  const seconds: number[] = [];
  let events = 0;
  for (let r = 0; r < runs; r++) {
    const x = await timed(attribute);
    seconds.push(x.seconds);
    events = x.events;
    console.error(`${query}: ${x.seconds.toFixed(2)} s, ${x.events} events`);
  }
  results.push({ query, seconds, events });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
// The hour plus the delivery slack read: the events whose Kafka time falls in it.
const read = Math.round(perHour * (1 + 10 / 60 + 1 / 60));
const worst = Math.max(...results.map((r) => median(r.seconds)));
console.log(
  JSON.stringify(
    {
      machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 1024 ** 3) },
      hours,
      perHour,
      total,
      megabytes: bytes / 1024 ** 2,
      results: results.map((r) => ({ ...r, median: median(r.seconds) })),
      eventsReadPerQuery: read,
      eventsReadPerSecond: read / worst,
      extrapolatedSecondsAt2000PerSecond: (2_000 * 3_600 * (1 + 11 / 60)) / (read / worst),
    },
    null,
    2,
  ),
);
