// Benchmark of the enricher: raw records per second through dedup, enrichment and transactions,
// beside Kafka's own ConsumerPerformance tool reading the same topic on the same broker (the ceiling
// for consuming alone) and a Kafka Streams exactly-once dedup app (bench/kstreams-dedup, built here
// with Maven), in rotating order each round; and Redis memory per tracked identity, measured on a
// private redis-server.
//   eval "$(deploy/local/stack env)"
//   node bench/enricher.ts [--records 200000] [--partitions 4] [--runs 3] [--max-bytes-per-partition B] [--no-streams]
//   node bench/enricher.ts --lookup-index [...] the enricher with its lookup index writer (LOOKUP_INDEX=on, the
//                                              default) beside it without (off, as in the other rows), each round;
//                                              time until the raw group's lag is 0, then until the index's is
//   node bench/enricher.ts --baseline DIR [...] also another checkout's enricher (a worktree with its
//                                              dependencies installed, e.g. main before a change) in each
//                                              round, beside this one's
//   node bench/enricher.ts --candidate DIR [...] also a third checkout's enricher (the change under test in a
//                                              worktree of its own), loaded as the baseline is: compare these two
//   node bench/enricher.ts --pipe-alone [...]  also packages/kafka's transactional pipe with no work in each round: it
//                                              copies each raw record to a topic of its own, one transaction per
//                                              poll as the enricher does, with no decoding and no Redis (the
//                                              ceiling the enricher's Kafka layer sets on this machine)
//   node bench/enricher.ts --decode-threads N [...] DECODE_THREADS for every enricher of the run (default: the
//                                              enricher's own default)
//   node bench/enricher.ts --selectors [...]   also the enricher with 20 advanced EVENT_SELECTORS in each round,
//                                              beside it without (the last selector keeps every management
//                                              event: each record is tested against up to 20 and the output
//                                              is the same as without selectors)
// Results: docs/benchmarks.md.

import { execFile } from "node:child_process";
import { existsSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs, promisify } from "node:util";
import { eventSelectors } from "../packages/cloudtrail/src/index.ts";
import { startTransactionalPipe } from "../packages/kafka/src/index.ts";
import { openRedis, redisSettings, replyList, replyNumber, replyText } from "../packages/redis/src/index.ts";
import { createLogger } from "../packages/runtime/src/index.ts";
import { applySelectors, decodeBatch, loadSettings, start as startEnricher } from "../services/enricher/src/index.ts";
import {
  consumerGroupLag,
  createKafka,
  ensureTopics,
  freePort,
  PrivateRedis,
  produceRaw,
  rawRecords,
  waitForLag0,
} from "../test/support/enricher.ts";
import { uniqueName } from "../test/support/servers.ts";
import { busyShare, cpuSecondsOf, kafkaBrokers, machineCpuSeconds, ownThreads } from "./process-cpu.ts";

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    records: { type: "string", default: "200000" },
    partitions: { type: "string", default: "4" },
    runs: { type: "string", default: "3" },
    "no-streams": { type: "boolean", default: false },
    "max-bytes-per-partition": { type: "string", default: "1048576" },
    selectors: { type: "boolean", default: false },
    "lookup-index": { type: "boolean", default: false },
    baseline: { type: "string", default: "" },
    candidate: { type: "string", default: "" },
    "pipe-alone": { type: "boolean", default: false },
    "decode-threads": { type: "string", default: "" },
  },
});
const total = Number(values.records);
const partitions = Number(values.partitions);
const runs = Number(values.runs);
const brokers = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
const kafkaLibs = process.env.KAFKA_LIBS ?? `${process.env.HOME}/.cache/trailstream/kafka-4.1.2/libs`;

const kafka = createKafka({ brokers, clientId: "enricher-bench" });
const name = uniqueName("enr-bench");
const raw = `${name}.raw`;
await ensureTopics(kafka, [{ topic: raw, partitions }]);
// The enricher runs in this process, so this process's heap is its heap: the raw records (about
// 300 MB) and the truth's sets are kept only as long as they are needed, or every major collection
// while the enricher runs would mark them again, a cost the enricher does not have as a service.
// Only the selectors' cost (--selectors) reads the records again.
const { unique, copies, bytes, selectorRecords } = await (async () => {
  const truth = rawRecords({ total, copyShare: 0.3, spread: Math.floor(total / 5), seed: 3 });
  const bytes = truth.records.reduce((n, r) => n + r.key.length + r.value.length, 0);
  console.error(
    `producing ${total} raw records (${(bytes / 1024 ** 2).toFixed(0)} MiB, ${truth.copies} copies) into ${raw}`,
  );
  await produceRaw(kafka, raw, truth.records, { chunk: 2_000 });
  return {
    unique: truth.identities.size,
    copies: truth.copies,
    bytes,
    selectorRecords: values.selectors ? truth.records : [],
  };
})();

async function consumerPerformance(): Promise<{ recordsPerSecond: number; mbPerSecond: number; seconds: number }> {
  const args = [
    "-Xms256m",
    "-Xmx512m",
    "-cp",
    `${kafkaLibs}/*`,
    "org.apache.kafka.tools.ConsumerPerformance",
    "--bootstrap-server",
    brokers.join(","),
    "--topic",
    raw,
    "--messages",
    String(total),
    "--group",
    uniqueName("perf"),
    "--timeout",
    "30000",
    "--hide-header",
  ];
  const { stdout } = await run("java", args, { maxBuffer: 1 << 20 });
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
  // rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const line = stdout.trim().split("\n").at(-1) ?? "";
  const f = line.split(",").map((s) => s.trim());
  const consumed = Number(f[4]);
  if (consumed < total) throw new Error(`ConsumerPerformance read ${consumed} of ${total}: ${line}`);
  return { recordsPerSecond: Number(f[9]), mbPerSecond: Number(f[8]), seconds: Number(f[7]) / 1_000 };
}

/** A run's rate from its group join until its lag is 0, and its CPU per raw record by thread. */
interface PipeRun extends ReturnType<typeof cpuPerRecord> {
  recordsPerSecond: number;
  seconds: number;
}

interface EnricherRun extends PipeRun {
  eventsPerSecond: number;
  redisRoundTripMs: number;
  batchMs: number;
  /** `used_memory` growth per unique identity claimed. */
  usedMemoryPerKey: number;
  /** Mean `MEMORY USAGE` of the claim hashes. */
  memoryUsagePerKey: number;
  keys: number;
  /** With the lookup index: seconds from the start until the indexer's group had indexed every event. */
  indexedSeconds?: number;
}

const cpuNote = (r: { recordsPerSecond: number; cpuMicrosPerRecord?: number } & Partial<PipeRun>) =>
  r.loopCpuMicrosPerRecord !== undefined
    ? `, CPU per record ${r.loopCpuMicrosPerRecord.toFixed(1)} µs on the event loop, ` +
      `${r.workerThreadsCpuMicrosPerRecord?.toFixed(1)} on worker threads, ${r.v8HelpersCpuMicrosPerRecord?.toFixed(1)} ` +
      `on V8's helpers, ${r.processCpuMicrosPerRecord?.toFixed(1)} µs in all; the brokers ` +
      `${r.brokersCpuMicrosPerRecord?.toFixed(1)} µs, Redis ${r.redisCpuMicrosPerRecord?.toFixed(1)} µs; ` +
      `the machine ${((r.machineBusyShare ?? 0) * 100).toFixed(0)} % busy`
    : r.cpuMicrosPerRecord !== undefined
      ? `, CPU per record ${r.cpuMicrosPerRecord.toFixed(1)} µs in all the JVM's threads`
      : "";

/**
 * CPU seconds so far of this process's threads, from /proc (Linux): the event loop (the main
 * thread), worker threads (Node names them WorkerThread: the enricher's batch thread), V8's helper
 * threads (V8Worker: concurrent marking, parallel scavenges, compilers) and all of them; and of
 * the Kafka brokers, the run's redis-server (when given) and the machine: what else took the cores.
 */
function cpuReading(redisPid?: number) {
  return {
    ...threadCpuSeconds(),
    brokers: brokerCpuSeconds(),
    redis: cpuSecondsOf(redisPid),
    machine: machineCpuSeconds(),
  };
}

const brokerCpuSeconds = () => kafkaBrokers().reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);

function threadCpuSeconds(): { loop: number; workers: number; v8: number; all: number } {
  const seconds = { loop: 0, workers: 0, v8: 0, all: 0 };
  for (const { tid, name, seconds: t } of ownThreads()) {
    seconds.all += t;
    if (tid === process.pid) seconds.loop += t;
    else if (name === "WorkerThread") seconds.workers += t;
    else if (name === "V8Worker") seconds.v8 += t;
  }
  return seconds;
}

/** CPU per record of each group of threads and process between two readings of cpuReading, in µs. */
function cpuPerRecord(before: ReturnType<typeof cpuReading>, after: ReturnType<typeof cpuReading>) {
  const per = (k: "loop" | "workers" | "v8" | "all" | "brokers" | "redis") => ((after[k] - before[k]) * 1e6) / total;
  return {
    loopCpuMicrosPerRecord: per("loop"),
    workerThreadsCpuMicrosPerRecord: per("workers"),
    v8HelpersCpuMicrosPerRecord: per("v8"),
    processCpuMicrosPerRecord: per("all"),
    brokersCpuMicrosPerRecord: per("brokers"),
    redisCpuMicrosPerRecord: per("redis"),
    machineBusyShare: busyShare(before.machine, after.machine),
  };
}

/** 20 advanced selectors of the kinds teams write; the data ones turn every record away, the last keeps every management event. */
const mgmt = { Field: "eventCategory", Equals: ["Management"] };
const TWENTY_SELECTORS = JSON.stringify({
  AdvancedEventSelectors: [
    ...Array.from({ length: 8 }, (_, i) => ({
      Name: `s3 writes ${i}`,
      FieldSelectors: [
        { Field: "eventCategory", Equals: ["Data"] },
        { Field: "resources.type", Equals: ["AWS::S3::Object"] },
        { Field: "eventName", Equals: ["PutObject", "DeleteObject", "CopyObject"] },
        { Field: "resources.ARN", StartsWith: [`arn:aws:s3:::bucket-${i}/`, `arn:aws:s3:::logs-${i}/`] },
      ],
    })),
    ...Array.from({ length: 5 }, (_, i) => ({
      Name: `lambda ${i}`,
      FieldSelectors: [
        { Field: "eventCategory", Equals: ["Data"] },
        { Field: "resources.type", Equals: ["AWS::Lambda::Function"] },
        { Field: "resources.ARN", NotStartsWith: [`arn:aws:lambda:eu-west-1:111122223333:function:test-${i}`] },
      ],
    })),
    ...Array.from({ length: 6 }, (_, i) => ({
      Name: `management ${i}`,
      FieldSelectors: [
        mgmt,
        { Field: "readOnly", Equals: [i < 3 ? "true" : "false"] },
        {
          Field: "eventSource",
          NotEquals: i % 2 ? ["kms.amazonaws.com"] : ["kms.amazonaws.com", "rdsdata.amazonaws.com"],
        },
      ],
    })),
    { Name: "every management event", FieldSelectors: [mgmt] },
  ],
});

/** The enricher under test: this checkout's, or (--baseline DIR) another checkout's, e.g. main before a change. */
interface EnricherModule {
  loadSettings: typeof loadSettings;
  start: typeof startEnricher;
}
const thisEnricher: EnricherModule = { loadSettings, start: startEnricher };
const baseline: EnricherModule | undefined = values.baseline
  ? ((await import(resolve(values.baseline, "services/enricher/src/index.ts"))) as EnricherModule)
  : undefined;
// --candidate DIR: the change under test from a worktree of its own, loaded as the baseline is. This
// checkout's enricher shares its Kafka module with the bench's producer (test/support/enricher.ts);
// on 2026-12-06 it ran slower than the baseline both ways round (0.87x, and 0.64x with the
// checkouts swapped), though not in the next run (1.02x): --candidate beside --baseline loads both alike.
const candidate: EnricherModule | undefined = values.candidate
  ? ((await import(resolve(values.candidate, "services/enricher/src/index.ts"))) as EnricherModule)
  : undefined;

async function enricherRun(
  i: number,
  selectors = false,
  lookupIndex = false,
  module: EnricherModule = thisEnricher,
): Promise<EnricherRun> {
  const redis = new PrivateRedis(await freePort());
  await redis.start();
  const client = openRedis(redisSettings(redis.url, { commandTimeoutMs: 30_000 }));
  await client.connected();
  try {
    const usedBefore = usedMemory(replyText(await client.command(["INFO", "memory"])) ?? "");
    const tag = `${i}${selectors ? "s" : ""}${lookupIndex ? "x" : ""}${module === thisEnricher ? "" : module === candidate ? "c" : "b"}`;
    const topics = { events: `${name}.events.${tag}`, dlq: `${name}.dlq.${tag}` };
    await ensureTopics(kafka, [
      { topic: topics.events, partitions },
      { topic: topics.dlq, partitions: 1 },
    ]);
    const groupId = `${name}-group-${tag}`;
    const config = module.loadSettings({
      KAFKA_BROKERS: brokers.join(","),
      REDIS_URL: redis.url,
      TOPIC_RAW: raw,
      TOPIC_EVENTS: topics.events,
      TOPIC_DLQ: topics.dlq,
      ENRICHER_GROUP_ID: groupId,
      DEDUP_TTL: "24h",
      KAFKA_MAX_BYTES_PER_PARTITION: values["max-bytes-per-partition"],
      ...(selectors ? { EVENT_SELECTORS: TWENTY_SELECTORS } : {}),
      LOOKUP_INDEX: lookupIndex ? "true" : "false",
      ...(values["decode-threads"] ? { DECODE_THREADS: values["decode-threads"] } : {}),
    });
    // The enricher logs to stdout, where the result goes: only fatal lines.
    const enricher = await module.start(config, { log: createLogger("enricher", "fatal") });
    await enricher.started;
    const start = performance.now();
    const cpuBefore = cpuReading(redis.pid);
    await waitForLag0(kafka, groupId, raw, 600_000);
    const seconds = (performance.now() - start) / 1_000;
    const cpuAfter = cpuReading(redis.pid);
    let indexedSeconds: number | undefined;
    if (lookupIndex) {
      // The indexer commits up to its last block (the open ones are written a block age, 1 min,
      // later), and not past the commit marker that ends each transactional partition: done when
      // at most one offset per partition is left.
      const deadline = Date.now() + 600_000;
      while ((await consumerGroupLag(kafka, `${groupId}.index`, topics.events)) > BigInt(partitions)) {
        if (Date.now() > deadline) throw new Error("the lookup indexer did not catch up in 10 min");
        await new Promise((r) => setTimeout(r, 250));
      }
      indexedSeconds = (performance.now() - start) / 1_000;
    }
    const histogramMean = async (h: typeof enricher.metrics.redisSeconds) => {
      const v = (await h.get()).values;
      const sum = v.find((x) => x.metricName?.endsWith("_sum"))?.value ?? 0;
      const count = v.find((x) => x.metricName?.endsWith("_count"))?.value ?? 1;
      return (sum / count) * 1_000;
    };
    const redisRoundTripMs = await histogramMean(enricher.metrics.redisSeconds);
    const batchMs = await histogramMean(enricher.metrics.batchSeconds);
    await enricher.stop();

    const keys = replyNumber(await client.command(["DBSIZE"]));
    const usedAfter = usedMemory(replyText(await client.command(["INFO", "memory"])) ?? "");
    let sampled = 0;
    let sampledBytes = 0;
    let cursor = "0";
    do {
      const [next, batch] = (await client.command(["SCAN", cursor, "COUNT", "1000"])) as [string, string[]];
      cursor = next;
      for (const key of replyList(batch)) {
        if (key === null) continue;
        sampledBytes += replyNumber(await client.command(["MEMORY", "USAGE", key])) || 0;
        sampled++;
      }
    } while (cursor !== "0" && sampled < 2_000);
    return {
      recordsPerSecond: total / seconds,
      eventsPerSecond: unique / seconds,
      seconds,
      redisRoundTripMs,
      batchMs,
      usedMemoryPerKey: (usedAfter - usedBefore) / unique,
      memoryUsagePerKey: sampledBytes / sampled,
      keys,
      ...(indexedSeconds === undefined ? {} : { indexedSeconds }),
      ...cpuPerRecord(cpuBefore, cpuAfter),
    };
  } finally {
    await client.close();
    await redis.kill();
  }
}

/**
 * packages/kafka's transactional pipe with no work: each raw record copied as it is (key and value)
 * to a topic of its own, one transaction per poll with the consumed offsets, the Kafka settings the
 * enricher runs with. What the enricher adds to this is its decoding, Redis and enrichment.
 */
async function pipeAloneRun(i: number): Promise<PipeRun> {
  const output = `${name}.pipe-out.${i}`;
  await ensureTopics(kafka, [{ topic: output, partitions }]);
  const groupId = `${name}-pipe-${i}`;
  const config = loadSettings({
    KAFKA_BROKERS: brokers.join(","),
    REDIS_URL: "redis://unused.invalid:6379", // a setting the enricher requires; the pipe opens no Redis
    TOPIC_RAW: raw,
    ENRICHER_GROUP_ID: groupId,
    KAFKA_MAX_BYTES_PER_PARTITION: values["max-bytes-per-partition"],
  });
  const pipe = await startTransactionalPipe(kafka, {
    groupId,
    inputTopic: raw,
    transactionalIdPrefix: `${groupId}.tx`,
    sessionTimeoutMs: config.sessionTimeoutMs,
    transactionTimeoutMs: config.transactionTimeoutMs,
    maxBytesPerPartition: config.maxBytesPerPartition,
    handlePoll: async (batches) => ({
      // The key as the enricher writes it (a string); the raw records all have values.
      records: batches.flatMap((b) =>
        b.messages.map((m) => ({ topic: output, key: m.key?.toString() ?? null, value: m.value ?? "" })),
      ),
    }),
  });
  try {
    await pipe.started;
    const start = performance.now();
    const cpuBefore = cpuReading();
    await waitForLag0(kafka, groupId, raw, 600_000);
    const seconds = (performance.now() - start) / 1_000;
    return { recordsPerSecond: total / seconds, seconds, ...cpuPerRecord(cpuBefore, cpuReading()) };
  } finally {
    await pipe.close();
  }
}

function usedMemory(info: string): number {
  const m = /used_memory:(\d+)/.exec(info);
  return Number(m?.[1] ?? Number.NaN);
}

const STREAMS_DIR = resolve(import.meta.dirname, "kstreams-dedup");
const STREAMS_JAR = join(STREAMS_DIR, "target/kstreams-dedup-1.jar");

const STREAMS_SOURCE = join(STREAMS_DIR, "src/main/java/trailstream/bench/Dedup.java");

/**
 * Maven, offline when its repository already has everything (the second build on), else online;
 * again when the source is newer than the jar.
 */
async function buildStreamsApp(): Promise<void> {
  if (existsSync(STREAMS_JAR) && statSync(STREAMS_JAR).mtimeMs >= statSync(STREAMS_SOURCE).mtimeMs) return;
  console.error("building bench/kstreams-dedup with Maven");
  await run("mvn", ["-q", "-o", "-B", "package"], { cwd: STREAMS_DIR }).catch(() =>
    run("mvn", ["-q", "-B", "package"], { cwd: STREAMS_DIR, maxBuffer: 16 << 20 }),
  );
}

interface StreamsRun {
  recordsPerSecond: number;
  seconds: number;
  /** The JVM's CPU time (every thread) per record over the same span as the rate. */
  cpuMicrosPerRecord: number;
  keys: number;
  rocksdbBytesPerKey: number;
}

async function streamsRun(i: number): Promise<StreamsRun> {
  const appId = `${name}-streams-${i}`;
  const output = `${name}.streams-out.${i}`;
  await ensureTopics(kafka, [{ topic: output, partitions }]);
  const stateDir = join(tmpdir(), `${appId}-state`);
  try {
    const { stdout } = await run(
      "java",
      [
        "-Xms256m",
        "-Xmx512m",
        "-cp",
        `${STREAMS_JAR}:${join(STREAMS_DIR, "target/lib")}/*`,
        "trailstream.bench.Dedup",
        brokers.join(","),
        raw,
        output,
        appId,
        stateDir,
      ],
      { maxBuffer: 1 << 20 },
    );
    return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as StreamsRun;
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/**
 * The selectors' own cost, with no Kafka or Redis around it: the same raw records decoded (as the
 * enricher decodes them) and then matched against the 20 selectors, in batches of 500, rounds
 * alternating; per record the nanoseconds of each step. The end-to-end ratio swings with the
 * machine's load; this one does not.
 */
function selectorCost(rounds: number): {
  decodeNsPerRecord: number;
  matchNsPerRecord: number;
  matchRecordsPerSecond: number;
  kept: number;
} {
  const selectors = eventSelectors(JSON.parse(TWENTY_SELECTORS));
  const messages = selectorRecords.map((r, i) => ({
    topic: raw,
    partition: 0,
    offset: String(i),
    key: Buffer.from(r.key),
    value: Buffer.from(r.value),
    headers: {},
    timestampMs: 0,
  }));
  const decodeNs: number[] = [];
  const matchNs: number[] = [];
  let kept = 0;
  for (let round = 0; round < rounds; round++) {
    let decode = 0n;
    let match = 0n;
    kept = 0;
    for (let i = 0; i < messages.length; i += 500) {
      const t0 = process.hrtime.bigint();
      const batch = decodeBatch(messages.slice(i, i + 500));
      const t1 = process.hrtime.bigint();
      kept += applySelectors(batch, selectors).decoded.length;
      match += process.hrtime.bigint() - t1;
      decode += t1 - t0;
    }
    decodeNs.push(Number(decode) / messages.length);
    matchNs.push(Number(match) / messages.length);
  }
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  return {
    decodeNsPerRecord: mid(decodeNs),
    matchNsPerRecord: mid(matchNs),
    matchRecordsPerSecond: 1e9 / mid(matchNs),
    kept,
  };
}
const selectorStep = values.selectors ? selectorCost(5) : undefined;
if (selectorStep) {
  console.error(
    `selectors alone: ${Math.round(selectorStep.matchNsPerRecord)} ns/record (${Math.round(selectorStep.matchRecordsPerSecond)} records/s), decoding ${Math.round(selectorStep.decodeNsPerRecord)} ns/record`,
  );
}

const withStreams = !values["no-streams"];
if (withStreams) await buildStreamsApp();
const perf: Awaited<ReturnType<typeof consumerPerformance>>[] = [];
const enr: EnricherRun[] = [];
const streams: StreamsRun[] = [];
const withSelectors: EnricherRun[] = [];
const withIndex: EnricherRun[] = [];
const baselineRuns: EnricherRun[] = [];
const candidateRuns: EnricherRun[] = [];
const pipeRuns: PipeRun[] = [];
const steps: [string, (i: number) => Promise<{ recordsPerSecond: number }>, { recordsPerSecond: number }[]][] = [
  ["ConsumerPerformance", consumerPerformance, perf],
  ["enricher", enricherRun, enr],
  ...(values.selectors
    ? [["enricher, 20 selectors", (i: number) => enricherRun(i, true), withSelectors] as (typeof steps)[number]]
    : []),
  ...(values["lookup-index"]
    ? [["enricher, lookup index on", (i: number) => enricherRun(i, false, true), withIndex] as (typeof steps)[number]]
    : []),
  ...(baseline
    ? [
        [
          `enricher of ${values.baseline}`,
          (i: number) => enricherRun(i, false, false, baseline),
          baselineRuns,
        ] as (typeof steps)[number],
      ]
    : []),
  ...(candidate
    ? [
        [
          `enricher of ${values.candidate}`,
          (i: number) => enricherRun(i, false, false, candidate),
          candidateRuns,
        ] as (typeof steps)[number],
      ]
    : []),
  ...(values["pipe-alone"] ? [["the transactional pipe alone", pipeAloneRun, pipeRuns] as (typeof steps)[number]] : []),
  ...(withStreams ? [["Kafka Streams", streamsRun, streams] as (typeof steps)[number]] : []),
];
for (let i = 0; i < runs; i++) {
  // Rotate the order each round so the machine's noise falls on all alike.
  for (let k = 0; k < steps.length; k++) {
    const step = steps[(k + i) % steps.length];
    if (!step) continue;
    const [label, fn, into] = step;
    const r = await fn(i);
    into.push(r);
    console.error(
      `round ${i + 1} ${label}: ${Math.round(r.recordsPerSecond)} records/s${cpuNote(r)} (load ${loadavg()[0]?.toFixed(1)})`,
    );
  }
}
// Medians: on a shared machine single runs swing by a factor of two.
const median = <T>(xs: T[], f: (x: T) => number) => {
  const v = xs.map(f).sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[mid] ?? 0) : ((v[mid - 1] ?? 0) + (v[mid] ?? 0)) / 2;
};
const ceiling = median(perf, (p) => p.recordsPerSecond);
const enricherMedian = median(enr, (e) => e.recordsPerSecond);
const streamsMedian = withStreams ? median(streams, (k) => k.recordsPerSecond) : Number.NaN;
const last = enr.at(-1);
console.log(
  JSON.stringify(
    {
      machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 1024 ** 3) },
      records: total,
      unique,
      copies,
      megabytes: bytes / 1024 ** 2,
      partitions,
      consumerPerformance: perf,
      enricher: enr,
      kafkaStreams: streams,
      median: { consumerPerformance: ceiling, enricher: enricherMedian, kafkaStreams: streamsMedian },
      ratio: enricherMedian / ceiling,
      ratios: {
        enricherOverConsumerPerformance: enricherMedian / ceiling,
        enricherOverKafkaStreams: enricherMedian / streamsMedian,
        kafkaStreamsOverConsumerPerformance: streamsMedian / ceiling,
      },
      // CPU time per record in every thread of the process (the bench's own polling included on the
      // enricher's side): which one does less work per record, whatever the machine's load.
      cpuMicrosPerRecordMedian: {
        enricher: median(enr, (e) => e.processCpuMicrosPerRecord),
        kafkaStreams: withStreams ? median(streams, (k) => k.cpuMicrosPerRecord) : Number.NaN,
      },
      ...(values.selectors
        ? {
            enricherWith20Selectors: withSelectors,
            selectorsMedian: median(withSelectors, (e) => e.recordsPerSecond),
            selectorsRatio: median(withSelectors, (e) => e.recordsPerSecond) / enricherMedian,
            selectorsAlone: selectorStep,
            // What the selectors would cost the enricher if matching were its only extra work.
            selectorsShareOfEnricherRecordTime: (selectorStep?.matchNsPerRecord ?? 0) / (1e9 / enricherMedian),
          }
        : {}),
      ...(baseline
        ? {
            baseline: { checkout: values.baseline, runs: baselineRuns },
            baselineMedian: median(baselineRuns, (e) => e.recordsPerSecond),
            // This checkout's enricher over the baseline's, round by round and of the medians.
            overBaselineByRound: enr.map(
              (e, n) => e.recordsPerSecond / (baselineRuns[n]?.recordsPerSecond ?? Number.NaN),
            ),
            overBaseline: enricherMedian / median(baselineRuns, (e) => e.recordsPerSecond),
          }
        : {}),
      ...(candidate
        ? {
            candidate: { checkout: values.candidate, runs: candidateRuns },
            candidateMedian: median(candidateRuns, (e) => e.recordsPerSecond),
            ...(baseline
              ? {
                  candidateOverBaselineByRound: candidateRuns.map(
                    (e, n) => e.recordsPerSecond / (baselineRuns[n]?.recordsPerSecond ?? Number.NaN),
                  ),
                  candidateOverBaseline:
                    median(candidateRuns, (e) => e.recordsPerSecond) / median(baselineRuns, (e) => e.recordsPerSecond),
                }
              : {}),
          }
        : {}),
      ...(values["pipe-alone"]
        ? {
            pipeAlone: pipeRuns,
            pipeAloneMedian: median(pipeRuns, (e) => e.recordsPerSecond),
            // The enricher's rate as a share of its Kafka layer's ceiling, and that ceiling's of ConsumerPerformance.
            enricherOverPipeAlone: enricherMedian / median(pipeRuns, (e) => e.recordsPerSecond),
            pipeAloneOverConsumerPerformance: median(pipeRuns, (e) => e.recordsPerSecond) / ceiling,
          }
        : {}),
      ...(values["lookup-index"]
        ? {
            enricherWithLookupIndex: withIndex,
            lookupIndexMedian: median(withIndex, (e) => e.recordsPerSecond),
            lookupIndexRatio: median(withIndex, (e) => e.recordsPerSecond) / enricherMedian,
          }
        : {}),
      redisBytesPerIdentity: last
        ? { usedMemoryDelta: last.usedMemoryPerKey, memoryUsage: last.memoryUsagePerKey }
        : null,
    },
    null,
    2,
  ),
);
