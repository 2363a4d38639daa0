// Benchmark of the lookup index writer at a live rate: a producer writes event-shaped records
// (real Stratus records in the events topic's envelope) at --rate a second, 20 sends a second, for
// --seconds, while the indexer of this checkout, or of --baseline DIR, reads them. Each indexer runs
// in a process of its own; the rounds alternate which goes first. Printed per run: the indexer's
// Fetch and OffsetCommit requests (counted on the Kafka client's tracing channel), its CPU, and the
// Kafka brokers' CPU over the same seconds (the stack's plain and SASL brokers; the plain one also
// serves the producer, alike in every run).
//   eval "$(deploy/local/stack env)"
//   node bench/lookup-indexer.ts [--rate 5000] [--seconds 30] [--rounds 2] [--baseline DIR]
// Results: docs/benchmarks.md.
import { spawn } from "node:child_process";
import { tracingChannel } from "node:diagnostics_channel";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadTemplates } from "@trailstream/bucket-tree";
import { cpuSecondsOf, kafkaBrokers } from "./process-cpu.ts";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "5000" },
    seconds: { type: "string", default: "30" },
    rounds: { type: "string", default: "2" },
    baseline: { type: "string", default: "" },
    // Internal: run one indexer (of the checkout DIR) on TOPIC and print what it did.
    child: { type: "string", default: "" },
    topic: { type: "string", default: "" },
  },
});
const brokers = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
const seconds = Number(values.seconds);
const here = resolve(import.meta.dirname, "..");

interface IndexerRun {
  fetches: number;
  offsetCommits: number;
  blocks: number;
  cpuMs: number;
}

if (values.child) {
  // One indexer, as the enricher starts it, with its default block settings.
  const dir = values.child;
  const { ensureIndexTopic, startIndexer } = await import(join(dir, "services/enricher/src/indexer.ts"));
  const { createKafka } = await import(join(dir, "packages/kafka/src/index.ts"));
  const requests = new Map<number, number>();
  tracingChannel("plt:kafka:connections:api").start.subscribe((m: unknown) => {
    const apiKey = (m as { apiKey: number }).apiKey;
    requests.set(apiKey, (requests.get(apiKey) ?? 0) + 1);
  });
  const kafka = createKafka({ brokers, clientId: "lookup-indexer-bench" });
  const index = `${values.topic}.index.${process.pid}`;
  await ensureIndexTopic(kafka, values.topic, index);
  const cpu = process.cpuUsage();
  const indexer = await startIndexer(kafka, {
    eventsTopic: values.topic,
    indexTopic: index,
    groupId: `${index}.group`,
    blockRecords: 2_000,
    blockAgeMs: 60_000,
  });
  await new Promise((r) => setTimeout(r, seconds * 1_000));
  const used = process.cpuUsage(cpu);
  const run: IndexerRun = {
    fetches: requests.get(1) ?? 0,
    offsetCommits: requests.get(8) ?? 0,
    blocks: indexer.blocksWritten(),
    cpuMs: Math.round((used.user + used.system) / 1_000),
  };
  console.log(JSON.stringify(run));
  await indexer.stop(2_000);
  process.exit(0);
}

const { createKafka, ensureTopics, openProducer } = await import("../packages/kafka/src/index.ts");
const kafka = createKafka({ brokers, clientId: "lookup-indexer-bench" });
const templates = (await loadTemplates()) as unknown as Record<string, unknown>[];

/** The brokers' CPU so far, ms (user + system, from /proc). */
const brokerCpuMs = (): number => kafkaBrokers().reduce((ms, pid) => ms + cpuSecondsOf(pid) * 1_000, 0);

async function produceFor(topic: string, ms: number): Promise<number> {
  const producer = await openProducer(kafka);
  const perSend = Math.round(Number(values.rate) / 20);
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) {
    const began = Date.now();
    await producer.send(
      topic,
      Array.from({ length: perSend }, (_, i) => {
        const event = { ...templates[(n + i) % templates.length], eventID: `bench-${n + i}` };
        return { key: `111122223333:bench-${n + i}`, value: JSON.stringify({ event, origin: { kind: "s3" } }) };
      }),
    );
    n += perSend;
    await new Promise((r) => setTimeout(r, Math.max(0, 50 - (Date.now() - began))));
  }
  await producer.close();
  return n;
}

async function runOnce(dir: string): Promise<IndexerRun & { brokerCpuMs: number; produced: number }> {
  const topic = `lookup-indexer-bench-${Date.now()}`;
  await ensureTopics(kafka, [{ topic, partitions: 6 }]);
  const before = brokerCpuMs();
  const child = spawn(
    process.execPath,
    [import.meta.filename, "--child", dir, "--topic", topic, "--seconds", String(seconds)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  const produced = await produceFor(topic, seconds * 1_000);
  await exited;
  const run = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as IndexerRun;
  return { ...run, brokerCpuMs: brokerCpuMs() - before, produced };
}

const checkouts = values.baseline ? [here, resolve(values.baseline)] : [here];
console.log(
  `| round | checkout | records | Fetch requests | OffsetCommit requests | blocks | indexer CPU ms | broker CPU ms |`,
);
console.log(`| --- | --- | --- | --- | --- | --- | --- | --- |`);
for (let round = 1; round <= Number(values.rounds); round++) {
  const order = round % 2 === 1 ? checkouts : [...checkouts].reverse();
  for (const dir of order) {
    const r = await runOnce(dir);
    console.log(
      `| ${round} | ${dir} | ${r.produced} | ${r.fetches} | ${r.offsetCommits} | ${r.blocks} | ${r.cpuMs} | ${r.brokerCpuMs} |`,
    );
  }
}
process.exit(0);
