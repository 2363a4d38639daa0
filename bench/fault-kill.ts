// Fault campaign, kill -9 (issue 16): the sample estate (three overlapping trails, so about 1.5
// records per event) through the whole pipeline, S3 notifications on SQS -> ingester -> raw ->
// enricher -> events -> alerter -> alerts, with REPLICAS replicas of each service, while each
// service is killed with SIGKILL KILLS times at random moments and restarted at once. The files
// arrive in bursts, one before each kill, so every kill lands with work in flight. Then everything
// drains, every replica stops on SIGTERM, and the topics (read_committed) are counted by identity
// against the input: 0 lost, 0 twice on the events topic, every alert group raised exactly once
// (suppression is set longer than the run). Exits 1 when any of that fails. With --rate the bursts
// are paced to that many events/s and each kill comes at a random moment within its burst's share
// of the feed, so the kills spread over the whole run instead of its first minutes.
//   eval "$(deploy/local/stack env)"
//   node bench/fault-kill.ts [--events 1000000] [--kills 20] [--replicas 2] [--max-wait-ms 4000] [--seed N]
//     [--rate EVENTS_PER_S [--spread]] [--drain-timeout-s 1800]
// --spread (with --rate) puts a burst's files one by one, evenly over its interval, instead of at its
// start, so the pipeline always has work and a kill at any moment lands on work in flight.
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createKafka } from "@trailstream/kafka";
import { awsClients, prepareBuckets, putFiles } from "../scripts/pipeline/feed.ts";
import { random } from "../test/support/enricher.ts";
import { campaignEstate } from "./fault/estate.ts";
import {
  openReaders,
  progress,
  SERVICES,
  startPipeline,
  verdict,
  verdictProblems,
  waitDrained,
} from "./fault/pipeline.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    kills: { type: "string", default: "20" },
    replicas: { type: "string", default: "2" },
    "max-wait-ms": { type: "string", default: "4000" },
    rate: { type: "string", default: "0" },
    spread: { type: "boolean", default: false },
    "drain-timeout-s": { type: "string", default: "1800" },
    seed: { type: "string", default: String(Date.now() % 100_000) },
    "keep-logs": { type: "boolean", default: false },
  },
});
const env = process.env;
const need = (name: string): string => {
  const v = env[name];
  if (!v) {
    console.error(`${name} is not set: eval "$(deploy/local/stack env)"`);
    process.exit(2);
  }
  return v;
};
const kafkaBrokers = need("KAFKA_BROKERS");
const redisUrl = need("REDIS_URL");
const awsEndpoint = need("AWS_ENDPOINT_URL");
const region = env.AWS_REGION ?? "us-east-1";
const seed = Number(values.seed);
const killsPerService = Number(values.kills);
const log = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

const run = `fk-${Date.now().toString(36)}`;
const started = Date.now();
const loads: number[] = [loadavg()[0] ?? 0];
log(`writing the estate (about ${values.events} events)`);
const estate = await campaignEstate({ run, events: Number(values.events), seed });
log(
  `${estate.files.length} files, ${estate.records} records, ${estate.identities.size} identities, ` +
    `${estate.alertKeys.size} alert groups`,
);
const kafka = createKafka({ brokers: kafkaBrokers.split(","), clientId: "fault-kill" });
const aws = awsClients({ endpoint: awsEndpoint, region });
const queueUrl = await prepareBuckets(aws, [...new Set(estate.files.map((f) => f.bucket))], run);
const logDir = await mkdtemp(join(tmpdir(), `${run}-logs-`));
const pipeline = await startPipeline(kafka, {
  run,
  kafkaBrokers,
  redisUrl,
  awsEndpoint,
  region,
  queueUrl,
  replicas: Number(values.replicas),
  logDir,
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void pipeline.kill().finally(() => process.exit(130));
  });
}
const readers = await openReaders(kafka, pipeline.topics);
log(`pipeline up (${values.replicas} replicas of each service), logs in ${logDir}`);

const rnd = random(seed);
// Each service KILLS times, in a random order.
const victims = SERVICES.flatMap((s) => Array.from({ length: killsPerService }, () => s));
for (let i = victims.length - 1; i > 0; i--) {
  const j = Math.floor(rnd() * (i + 1));
  [victims[i], victims[j]] = [victims[j] ?? "ingester", victims[i] ?? "ingester"];
}
const bursts = victims.length + 1;
const perBurst = Math.ceil(estate.files.length / bursts);
// Paced: one burst per interval, the kill at a random moment within it.
const rate = Number(values.rate);
const intervalMs = rate > 0 ? ((perBurst * estate.identities.size) / estate.files.length / rate) * 1000 : 0;
if (rate > 0) {
  log(`paced: a burst of ${perBurst} files every ${(intervalMs / 1000).toFixed(1)} s (${rate} events/s)`);
}
const kills: Array<{ service: string; replica: number; atS: number; enricherLag: string; alerterLag: string }> = [];
let put = 0;
let exitCodes: Record<string, Array<number | null>> = {};
let drainedS = 0;
let killPhaseS = 0;
try {
  const feedStarted = Date.now();
  for (const [i, service] of victims.entries()) {
    const burstAt = feedStarted + i * intervalMs;
    const burst = estate.files.slice(put, put + perBurst);
    put += burst.length;
    const spread = values.spread && rate > 0;
    const putting = spread
      ? (async () => {
          for (const [k, file] of burst.entries()) {
            const at = burstAt + (k * intervalMs) / burst.length;
            await new Promise((r) => setTimeout(r, Math.max(0, Math.floor(at - Date.now()))));
            await putFiles(aws, [file]);
          }
        })()
      : putFiles(aws, burst);
    if (!spread) await putting;
    const killAt = rate > 0 ? burstAt + rnd() * intervalMs : Date.now() + rnd() * Number(values["max-wait-ms"]);
    await new Promise((r) => setTimeout(r, Math.max(0, Math.floor(killAt - Date.now()))));
    const replica = Math.floor(rnd() * pipeline.replicas[service].length);
    const victim = pipeline.replicas[service][replica];
    if (!victim) throw new Error(`no ${service} replica ${replica}`);
    const p = await progress(kafka, aws, pipeline, readers, queueUrl);
    await victim.kill();
    kills.push({
      service,
      replica,
      atS: Math.round((Date.now() - started) / 1000),
      enricherLag: String(p.enricherLag),
      alerterLag: String(p.alerterLag),
    });
    // Restarted at once, not waited for: the next kill may find it starting up.
    void victim.restart().catch((error: unknown) => log(`${service} ${replica} did not get ready: ${String(error)}`));
    if (i % 6 === 5) loads.push(loadavg()[0] ?? 0);
    log(
      `kill ${i + 1}/${victims.length}: ${service} ${replica + 1}; ${p.identities}/${estate.identities.size} identities out, ` +
        `enricher lag ${p.enricherLag}, alerter lag ${p.alerterLag}, ${p.queued} SQS messages`,
    );
    await putting;
    if (rate > 0) await new Promise((r) => setTimeout(r, Math.max(0, burstAt + intervalMs - Date.now())));
  }
  await putFiles(aws, estate.files.slice(put));
  killPhaseS = (Date.now() - started) / 1000;
  await Promise.all(SERVICES.flatMap((s) => pipeline.replicas[s].map((r) => r.ready(180_000))));
  const drained = await waitDrained(kafka, aws, pipeline, readers, queueUrl, estate.identities.size, {
    timeoutMs: Number(values["drain-timeout-s"]) * 1000,
    log,
  });
  drainedS = (Date.now() - started) / 1000;
  log(`drained: ${JSON.stringify(drained, (_, v) => (typeof v === "bigint" ? String(v) : v))}`);
  loads.push(loadavg()[0] ?? 0);
  exitCodes = await pipeline.stop();
} finally {
  await pipeline.kill();
}
// Anything the SIGTERM drain committed last is read too.
await new Promise((r) => setTimeout(r, 3_000));
await readers.close();
const v = verdict(estate, readers);
const problems = verdictProblems(v);
for (const [service, codes] of Object.entries(exitCodes)) {
  if (codes.some((c) => c !== 0)) problems.push(`${service} exited with ${codes.join(", ")} on SIGTERM`);
}
console.log(
  JSON.stringify(
    {
      run,
      seed,
      machine: `${cpus().length} x ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      loadAverage: loads.map((l) => l.toFixed(1)),
      files: estate.files.length,
      records: estate.records,
      compressedMiB: Math.round(estate.compressedBytes / 2 ** 20),
      replicas: Number(values.replicas),
      rate: rate > 0 ? `${rate}${values.spread ? ", spread" : ""}` : "bursts as fast as they go",
      kills: Object.fromEntries(SERVICES.map((s) => [s, kills.filter((k) => k.service === s).length])),
      killsWithWorkInFlight: kills.filter((k) => k.enricherLag !== "0" || Number(k.alerterLag) > pipeline.partitions)
        .length,
      ...v,
      exitCodes,
      killPhaseSeconds: Math.round(killPhaseS),
      seconds: Math.round(drainedS),
      problems,
    },
    null,
    2,
  ),
);
if (!values["keep-logs"] && problems.length === 0) await rm(logDir, { recursive: true, force: true });
await rm(estate.root, { recursive: true, force: true });
process.exit(problems.length === 0 ? 0 : 1);
