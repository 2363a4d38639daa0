// Fault campaign, outages (issue 16): the sample estate fed at a steady rate through the whole
// pipeline (S3 notifications on SQS -> ingester -> enricher -> alerter) on servers of the run's own
// (test/support/private-servers.ts: a redis-server, a KRaft Kafka broker, a throttling proxy in front of
// moto; the shared servers are never stopped), while, one after the other:
//   - Redis is stopped for REDIS_DOWN_S seconds (SHUTDOWN SAVE, then started on its snapshot),
//   - the Kafka broker is restarted (SIGTERM, controlled shutdown, and started again),
//   - the proxy answers THROTTLE_SHARE of the ingester's S3 and SQS requests with 503 SlowDown /
//     ThrottlingException for THROTTLE_S seconds.
// For each, the time from recovery (Redis answering, the broker ready, throttling over) until every
// stage is back under one batch: SQS backlog, the enricher's lag on raw, the alerter's on events,
// each under BATCH records. Then everything drains and is counted by identity against the input: 0
// lost, 0 twice on the events topic, every alert group once. Exits 1 when any of that fails.
//   eval "$(deploy/local/stack env)"      # moto (behind the proxy) and the Kafka jars
//   node bench/fault-outages.ts [--rate 500] [--redis-down-s 60] [--throttle-s 60] [--throttle-share 0.3] [--batch 1000]
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createKafka } from "@trailstream/kafka";
import { awsClients, prepareBuckets, putFiles } from "../scripts/pipeline/feed.ts";
import { random } from "../test/support/enricher.ts";
import { PrivateKafka, PrivateRedis, ThrottlingProxy } from "../test/support/private-servers.ts";
import { campaignEstate } from "./fault/estate.ts";
import {
  openReaders,
  type Progress,
  progress,
  startPipeline,
  verdict,
  verdictProblems,
  waitDrained,
} from "./fault/pipeline.ts";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "500" },
    "redis-down-s": { type: "string", default: "60" },
    "throttle-s": { type: "string", default: "60" },
    "throttle-share": { type: "string", default: "0.3" },
    batch: { type: "string", default: "1000" },
    replicas: { type: "string", default: "1" },
    seed: { type: "string", default: String(Date.now() % 100_000) },
    "keep-logs": { type: "boolean", default: false },
    // Which faults to run, in this order: a subset runs faster when looking into one of them.
    phases: { type: "string", default: "redis,broker,throttle" },
  },
});
const awsEndpoint = process.env.AWS_ENDPOINT_URL;
if (!awsEndpoint) {
  console.error('AWS_ENDPOINT_URL (moto) is not set: eval "$(deploy/local/stack env)"');
  process.exit(2);
}
const region = process.env.AWS_REGION ?? "us-east-1";
const rate = Number(values.rate);
const redisDownS = Number(values["redis-down-s"]);
const throttleS = Number(values["throttle-s"]);
const batch = Number(values.batch);
const seed = Number(values.seed);
const only = new Set(values.phases.split(",").map((p) => p.trim()));
const SETTLE_S = 40;
const log = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const run = `fo-${Date.now().toString(36)}`;
const started = Date.now();
const loads: number[] = [loadavg()[0] ?? 0];
// Enough input to keep the feed going through every phase; the estate has about 1.5 records per event.
// The broker takes up to a minute to stop and start on a loaded machine.
const plannedS =
  20 +
  (only.has("redis") ? redisDownS + SETTLE_S : 0) +
  (only.has("broker") ? 60 + SETTLE_S : 0) +
  (only.has("throttle") ? throttleS + SETTLE_S : 0);
const estate = await campaignEstate({ run, events: Math.ceil((rate * plannedS) / 1.47), eventsPerWindow: 250, seed });
// Delivery order, as the trails deliver them: each window's files from every trail together.
const stamp = (key: string) => /_(\d{8}T\d{4}Z)_/.exec(key)?.[1] ?? "";
const files = [...estate.files].sort((a, b) => stamp(a.key).localeCompare(stamp(b.key)));
const recordsPerFile = estate.records / files.length;
log(
  `${files.length} files, ${estate.records} records, ${estate.identities.size} identities, ${estate.alertKeys.size} alert groups`,
);

const dir = await mkdtemp(join(tmpdir(), `${run}-`));
const redis = await PrivateRedis.create(join(dir, "redis"));
await redis.start();
const broker = await PrivateKafka.create(join(dir, "kafka"));
await broker.start();
const proxy = await ThrottlingProxy.start(awsEndpoint, random(seed));
log(`private Redis ${redis.url}, Kafka ${broker.brokers}, throttling proxy ${proxy.url} -> ${awsEndpoint}`);

// The bench's own client (lag, readers) logs nothing: every refused connection during the outage
// would be an error line, and the sampler records what it could not read as -1.
const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };
const kafka = createKafka({ brokers: [broker.brokers], clientId: "fault-outages" }, quiet);
const aws = awsClients({ endpoint: awsEndpoint, region });
const queueUrl = await prepareBuckets(aws, [...new Set(files.map((f) => f.bucket))], run);
const pipeline = await startPipeline(kafka, {
  run,
  kafkaBrokers: broker.brokers,
  redisUrl: redis.url,
  awsEndpoint: proxy.url,
  region,
  queueUrl,
  replicas: Number(values.replicas),
  logDir: join(dir, "logs"),
});
const cleanup = async () => {
  await pipeline.kill();
  await proxy.close();
  await broker.stop("SIGKILL");
  await redis.kill();
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}
const readers = await openReaders(kafka, pipeline.topics);
log(`pipeline up, logs in ${join(dir, "logs")}`);

// The feed: files put into S3 (moto directly, as AWS delivers them) at RATE records per second.
let fed = 0;
const feeding = (async () => {
  const feedStart = Date.now();
  let records = 0;
  for (const file of files) {
    const ahead = records / rate - (Date.now() - feedStart) / 1000;
    if (ahead > 0) await sleep(ahead * 1000);
    await putFiles(aws, [file]);
    records += recordsPerFile;
    fed++;
  }
})();

// The sampler: every stage's backlog in records, twice a second.
interface Sample extends Progress {
  at: number;
}
const samples: Sample[] = [];
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    const at = Date.now();
    const p = await Promise.race([
      progress(kafka, aws, pipeline, readers, queueUrl),
      sleep(3_000).then(() => ({ identities: -1, enricherLag: -1n, alerterLag: -1n, queued: -1 })),
    ]);
    samples.push({ at, ...p });
    await sleep(Math.max(0, 500 - (Date.now() - at)));
  }
})();
const underOneBatch = (s: Sample) =>
  s.enricherLag >= 0n &&
  s.enricherLag < BigInt(batch) &&
  s.alerterLag >= 0n &&
  // The alerter's lag counts the commit marker ending each partition (bench/fault/pipeline.ts).
  s.alerterLag < BigInt(batch + pipeline.partitions) &&
  s.queued >= 0 &&
  s.queued * recordsPerFile < batch;

interface Phase {
  fault: string;
  faultSeconds: number;
  peak: { sqsRecords: number; enricherLag: string; alerterLag: string };
  recoverySeconds: number | null;
  /** From recovery until every stage is under one batch for good (until the next fault); null: never. */
  forGoodSeconds: number | null;
  /** Per stage, from recovery until that stage is under one batch for good (until the next fault); null: never. */
  stages: { sqs: number | null; enricher: number | null; alerter: number | null };
}
const phases: Phase[] = [];
// Per stage: whether the sample knows its backlog (a lag is negative when the committed offset was
// read after the end offset, or -1 when it could not be read), and whether that is under one batch.
const stages = {
  sqs: { known: (s: Sample) => s.queued >= 0, under: (s: Sample) => s.queued * recordsPerFile < batch },
  enricher: { known: (s: Sample) => s.enricherLag >= 0n, under: (s: Sample) => s.enricherLag < BigInt(batch) },
  alerter: {
    known: (s: Sample) => s.alerterLag >= 0n,
    under: (s: Sample) => s.alerterLag < BigInt(batch + pipeline.partitions),
  },
};
/**
 * Seconds from `from` until the stages hold under one batch for good (up to the last sample), judged
 * on the samples that know every one of them; null when they never do.
 */
function underForGood(from: number, which: ReadonlyArray<keyof typeof stages>): number | null {
  const after = samples.filter((s) => s.at >= from && which.every((k) => stages[k].known(s)));
  let lastOver = -1;
  after.forEach((s, i) => {
    if (!which.every((k) => stages[k].under(s))) lastOver = i;
  });
  const first = after[lastOver + 1];
  return first ? Math.round((first.at - from) / 100) / 10 : null;
}
/** Every sample from the fault's start, for the timeline file: seconds from recovery, each stage's backlog. */
const timelines: Record<string, string[]> = {};
/** From `recoveredAt`, the first sample under one batch; null when none within 300 s. */
async function recovery(fault: string, faultStart: number, recoveredAt: number): Promise<void> {
  const deadline = recoveredAt + 300_000;
  let back: Sample | undefined;
  while (!back && Date.now() < deadline) {
    await sleep(500);
    back = samples.find((s) => s.at >= recoveredAt && underOneBatch(s));
  }
  const during = samples.filter((s) => s.at >= faultStart);
  const max = (pick: (s: Sample) => bigint) => during.reduce((m, s) => (pick(s) > m ? pick(s) : m), 0n);
  const phase: Phase = {
    fault,
    faultSeconds: Math.round((recoveredAt - faultStart) / 100) / 10,
    peak: {
      sqsRecords: Math.round(Math.max(0, ...during.map((s) => s.queued)) * recordsPerFile),
      enricherLag: String(max((s) => s.enricherLag)),
      alerterLag: String(max((s) => s.alerterLag)),
    },
    recoverySeconds: back ? Math.round((back.at - recoveredAt) / 100) / 10 : null,
    forGoodSeconds: null,
    stages: { sqs: null, enricher: null, alerter: null },
  };
  phases.push(phase);
  loads.push(loadavg()[0] ?? 0);
  await sleep(Math.max(0, SETTLE_S * 1000 - (Date.now() - recoveredAt)));
  // Judged after the settling time: which stage was the last to get under one batch for good.
  for (const stage of ["sqs", "enricher", "alerter"] as const) phase.stages[stage] = underForGood(recoveredAt, [stage]);
  phase.forGoodSeconds = underForGood(recoveredAt, ["sqs", "enricher", "alerter"]);
  timelines[fault] = samples
    .filter((s) => s.at >= faultStart)
    .map(
      (s) =>
        `${((s.at - recoveredAt) / 1000).toFixed(1)}\t${s.queued < 0 ? -1 : Math.round(s.queued * recordsPerFile)}\t${s.enricherLag}\t${s.alerterLag}\t${s.identities}`,
    );
  log(`${fault}: ${JSON.stringify(phase)}`);
}

let exitCodes: Record<string, Array<number | null>> = {};
let baseline: { enricherLag: string; alerterLag: string; sqsRecords: number } | undefined;
try {
  await sleep(20_000);
  const warm = samples.filter((s) => s.at >= started);
  baseline = {
    enricherLag: String(warm.reduce((m, s) => (s.enricherLag > m ? s.enricherLag : m), 0n)),
    alerterLag: String(warm.reduce((m, s) => (s.alerterLag > m ? s.alerterLag : m), 0n)),
    sqsRecords: Math.round(Math.max(0, ...warm.map((s) => s.queued)) * recordsPerFile),
  };
  log(`baseline (the largest backlog while nothing fails): ${JSON.stringify(baseline)}`);

  let t = Date.now();
  if (only.has("redis")) {
    log(`Redis stopped for ${redisDownS} s`);
    await redis.stop();
    await sleep(redisDownS * 1000);
    await redis.start();
    await recovery(`Redis stopped ${redisDownS} s`, t, Date.now());
  }

  if (only.has("broker")) {
    t = Date.now();
    log("Kafka broker restart");
    await broker.stop("SIGTERM");
    log(`Kafka broker stopped after ${((Date.now() - t) / 1000).toFixed(1)} s`);
    await broker.start();
    log(`Kafka broker ready ${((Date.now() - t) / 1000).toFixed(1)} s after SIGTERM`);
    await recovery("Kafka broker restarted (SIGTERM, start)", t, Date.now());
  }

  if (only.has("throttle")) {
    t = Date.now();
    log(`throttling ${values["throttle-share"]} of S3 and SQS requests for ${throttleS} s`);
    const before = proxy.counts.throttled;
    proxy.share = Number(values["throttle-share"]);
    await sleep(throttleS * 1000);
    proxy.share = 0;
    log(`throttled ${proxy.counts.throttled - before} requests`);
    await recovery(
      `S3/SQS throttled (${Number(values["throttle-share"]) * 100} % of requests) ${throttleS} s`,
      t,
      Date.now(),
    );
  }

  await feeding;
  await waitDrained(kafka, aws, pipeline, readers, queueUrl, estate.identities.size, { timeoutMs: 900_000, log });
  exitCodes = await pipeline.stop();
} finally {
  sampling = false;
  await sampler;
  await cleanup();
}
await sleep(1_000);
await readers.close();
const v = verdict(estate, readers);
// The backlog over time around each fault: seconds from recovery (negative: during the fault),
// SQS records, the enricher's lag, the alerter's lag, identities on the events topic.
const timelineFile = join(tmpdir(), `${run}-timeline.tsv`);
await writeFile(
  timelineFile,
  Object.entries(timelines)
    .map(
      ([fault, lines]) =>
        `# ${fault}\nseconds\tsqs_records\tenricher_lag\talerter_lag\tidentities\n${lines.join("\n")}\n`,
    )
    .join("\n"),
);
const problems = verdictProblems(v);
for (const [service, codes] of Object.entries(exitCodes)) {
  if (codes.some((c) => c !== 0)) problems.push(`${service} exited with ${codes.join(", ")} on SIGTERM`);
}
const slow = phases.filter((p) => p.recoverySeconds === null || p.recoverySeconds >= 10);
console.log(
  JSON.stringify(
    {
      run,
      seed,
      machine: `${cpus().length} x ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      loadAverage: loads.map((l) => l.toFixed(1)),
      rate,
      files: files.length,
      filesFed: fed,
      records: estate.records,
      replicas: Number(values.replicas),
      batch,
      baseline,
      phases,
      throttledRequests: proxy.counts.throttled,
      forwardedRequests: proxy.counts.forwarded,
      ...v,
      exitCodes,
      seconds: Math.round((Date.now() - started) / 1000),
      problems,
      recoveryOver10s: slow.map((p) => p.fault),
    },
    null,
    2,
  ),
);
if (!values["keep-logs"] && problems.length === 0) await rm(dir, { recursive: true, force: true });
else console.error(`logs and server data kept in ${dir}`);
console.error(`the backlog timeline: ${timelineFile}`);
await rm(estate.root, { recursive: true, force: true });
process.exit(problems.length === 0 ? 0 : 1);
