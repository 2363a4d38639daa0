// The system demo behind `pnpm demo` (scripts/demo-system sets up the servers first). See that
// script for what it shows. Everything it starts, it stops on Ctrl-C.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadTemplates, writeBucketTree } from "@trailstream/bucket-tree";
import { eventIdentity, isGlobalServiceEvent } from "@trailstream/cloudtrail";
import { freePort, metricValue, type ServiceProcess, startServiceProcess } from "../test/support/service-process.ts";
import { plantedEvents, trailsFor } from "./pipeline/estate.ts";
import {
  awsClients,
  prepareBuckets,
  prepareLogSubscription,
  putFiles,
  putLogEvents,
  treeFiles,
  treeRecords,
} from "./pipeline/feed.ts";

const { values } = parseArgs({
  options: {
    windows: { type: "string", default: "6" },
    events: { type: "string", default: "20" },
    every: { type: "string", default: "15" },
    "prometheus-port": { type: "string", default: "9096" },
    "stop-after": { type: "string" },
    pictures: { type: "boolean", default: false },
  },
});
const windows = Number(values.windows);
const every = Number(values.every) * 1000;
const env = process.env;
const required = ["KAFKA_BROKERS", "REDIS_URL", "AWS_ENDPOINT_URL", "ALERTMANAGER_URL"] as const;
for (const name of required) if (!env[name]) throw new Error(`${name} is not set: run pnpm demo (scripts/demo-system)`);
const alertmanager = env.ALERTMANAGER_URL ?? "";
const root = new URL("..", import.meta.url).pathname;
const out = join(root, ".out", "demo-system");
const run = `demo-${Date.now().toString(36)}`;
const say = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${line}\n`);

await rm(out, { recursive: true, force: true });
await mkdir(join(out, "prometheus"), { recursive: true });

// An estate of three overlapping trails, one five-minute window at a time, each written just
// before it is delivered so its events are minutes old, as CloudTrail's would be. Planted events
// ride in the first window.
const now = Date.now();
const planted = plantedEvents(new Date(now - 2 * 60_000));
const templates = await loadTemplates();
const trails = trailsFor(run);
async function writeWindow(w: number) {
  const dir = join(out, "buckets", `window-${w}`);
  const truth = await writeBucketTree({
    outDir: dir,
    templates,
    isGlobalService: isGlobalServiceEvent,
    trails,
    windows: 1,
    eventsPerWindow: Number(values.events),
    repeatEvery: 9,
    // A new seed each run: the same eventIDs again would be copies to the enricher's dedup window.
    seed: (now % 1_000_000) * 100 + w,
    start: new Date(Date.now() - 5 * 60_000),
    planted: w === 0 ? planted.map((p) => p.record) : [],
  });
  return { truth, files: await treeFiles(dir) };
}
const first = await writeWindow(0);
const files = first.files;
say(
  `Each five-minute window: about ${first.truth.files} files of three overlapping trails, ${first.truth.uniqueIdentities} unique events and ${first.truth.copiesCollapsed} copies (.out/demo-system/buckets)`,
);

const aws = awsClients({ endpoint: env.AWS_ENDPOINT_URL ?? "", region: env.AWS_REGION ?? "us-east-1" });
const queueUrl = await prepareBuckets(aws, [...new Set(files.map((f) => f.bucket))], run);
const logGroup = `/aws/cloudtrail/${run}`;
await prepareLogSubscription(aws, logGroup, run);

const ports = { ingester: await freePort(), enricher: await freePort(), alerter: await freePort() };
const common = {
  KAFKA_BROKERS: env.KAFKA_BROKERS ?? "",
  REDIS_URL: env.REDIS_URL ?? "",
  AWS_REGION: env.AWS_REGION ?? "us-east-1",
  LOG_LEVEL: "warn",
};
const services: ServiceProcess[] = [];
const children: ChildProcess[] = [];
let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  say("Stopping the services and Prometheus");
  await Promise.all(services.map((s) => s.stop().catch(() => null)));
  for (const c of children) c.kill("SIGTERM");
  process.exit(code);
}
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));
// A failure part way must not leave services or Prometheus running.
process.on("uncaughtException", (error) => {
  process.stderr.write(`demo failed: ${error.stack ?? error.message}\n`);
  void stopAll(1);
});
process.on("unhandledRejection", (error) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  void stopAll(1);
});

services.push(
  await startServiceProcess(
    "ingester",
    {
      ...common,
      SQS_QUEUE_URLS: queueUrl,
      SQS_WAIT_SECONDS: "2",
      KINESIS_STREAMS: run,
      // The CloudWatch Logs subscription delivers into moto's own Kinesis.
      AWS_ENDPOINT_URL_KINESIS: env.AWS_ENDPOINT_URL ?? "",
      KINESIS_START_POSITION: "trim_horizon",
    },
    { logDir: out, port: ports.ingester },
  ),
  await startServiceProcess("enricher", { ...common, DEDUP_TTL: "2h" }, { logDir: out, port: ports.enricher }),
  await startServiceProcess(
    "alerter",
    { ...common, ALERTMANAGER_URL: alertmanager },
    { logDir: out, port: ports.alerter },
  ),
);
await Promise.all(services.map((s) => s.ready()));
say(
  `Services ready: ingester :${ports.ingester}, enricher :${ports.enricher}, alerter :${ports.alerter} (logs in .out/demo-system/)`,
);

// A Prometheus that scrapes them and evaluates trailstream's alert rules, sending to Alertmanager.
const promPort = Number(values["prometheus-port"]);
const prometheusUrl = `http://127.0.0.1:${promPort}`;
await writeFile(
  join(out, "prometheus", "prometheus.yml"),
  [
    "global: { scrape_interval: 5s, evaluation_interval: 5s }",
    `rule_files: ["${join(root, "deploy", "prometheus")}/*.yaml"]`,
    `alerting: { alertmanagers: [ { static_configs: [ { targets: ["${new URL(alertmanager).host}"] } ] } ] }`,
    "scrape_configs:",
    ...Object.entries(ports).map(
      ([name, port]) => `  - { job_name: trailstream-${name}, static_configs: [ { targets: ["127.0.0.1:${port}"] } ] }`,
    ),
    "",
  ].join("\n"),
);
const prometheus = spawn(
  "prometheus",
  [
    `--config.file=${join(out, "prometheus", "prometheus.yml")}`,
    `--storage.tsdb.path=${join(out, "prometheus", "data")}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
  ],
  { stdio: ["ignore", "ignore", "pipe"] },
);
children.push(prometheus);
let promLog = "";
prometheus.stderr?.on("data", (d: Buffer) => {
  promLog = (promLog + d.toString()).slice(-4000);
});
for (let i = 0; ; i++) {
  if (prometheus.exitCode !== null) throw new Error(`Prometheus exited: ${promLog}`);
  if (
    await fetch(`${prometheusUrl}/-/ready`).then(
      (r) => r.ok,
      () => false,
    )
  )
    break;
  if (i > 100) throw new Error(`Prometheus did not get ready on ${prometheusUrl}: ${promLog}`);
  await new Promise((r) => setTimeout(r, 300));
}
say(`Prometheus at ${prometheusUrl} (PROMETHEUS_URL for scripts/pictures), Alertmanager at ${alertmanager}`);

// Alerts as Alertmanager receives them.
const shown = new Set<string>();
const demoIdentities = new Set<string>();
async function printNewAlerts(): Promise<void> {
  const listed = (await (await fetch(`${alertmanager}/api/v2/alerts`)).json()) as Array<{
    fingerprint: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  }>;
  for (const a of listed) {
    if (shown.has(a.fingerprint)) continue;
    const identity = a.annotations.event_identity;
    const ours = identity ? demoIdentities.has(identity) : a.labels.alertname?.startsWith("Trailstream");
    if (!ours) continue;
    shown.add(a.fingerprint);
    const who = a.annotations.principal ? ` by ${a.annotations.principal}` : "";
    const credit = a.annotations.author ? ` [Sigma ${a.annotations.sigma_id} by ${a.annotations.author}]` : "";
    say(`ALERT ${a.labels.severity ?? ""} ${a.annotations.title ?? a.labels.alertname}${who}${credit}`);
  }
}

async function query(expr: string): Promise<number | null> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await response.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
  const value = body.data?.result?.[0]?.value[1];
  return value === undefined || value === "NaN" ? null : Number(value);
}
const lagQuery = (metric: string, q: number) => `histogram_quantile(${q}, sum by (le) (rate(${metric}_bucket[2m])))`;
async function printStatus(): Promise<void> {
  const [ingested, unique, copies, alerts] = await Promise.all([
    metricValue(ports.ingester, "trailstream_ingester_records_total"),
    metricValue(ports.enricher, "trailstream_enricher_events_out_total"),
    metricValue(ports.enricher, "trailstream_enricher_copies_collapsed_total"),
    metricValue(ports.alerter, "trailstream_alerter_alerts_total"),
  ]);
  const bySource = await Promise.all(
    ["s3", "kinesis-logs"].map(
      async (k) =>
        `${k} ${await metricValue(ports.enricher, "trailstream_enricher_copies_collapsed_total", { origin_kind: k })}`,
    ),
  );
  const lags = await Promise.all(
    (["ingester", "enricher", "alerter"] as const).map(async (stage) => {
      const metric = `trailstream_${stage}_event_lag_seconds`;
      const [p50, p99] = await Promise.all([query(lagQuery(metric, 0.5)), query(lagQuery(metric, 0.99))]);
      const s = (v: number | null) => (v === null ? "-" : `${Math.round(v)}s`);
      return `${stage} p50 ${s(p50)} p99 ${s(p99)}`;
    }),
  );
  say(
    `records in ${ingested}, unique out ${unique}, copies collapsed ${copies} (${bySource.join(", ")}), alerts ${alerts}`,
  );
  say(`event lag (now - eventTime, budget 300s): ${lags.join("; ")}`);
}

// Deliver the windows over time, as CloudTrail would: the Kinesis path first, the S3 files later.
const plantedIds = new Set(planted.map((p) => eventIdentity(p.record) ?? ""));
let statusTick = 0;
const ticker = setInterval(() => {
  printNewAlerts().catch(() => {});
  if (++statusTick % 5 === 0) printStatus().catch(() => {});
}, 2_000);
for (let w = 0; w < windows; w++) {
  const windowFiles = w === 0 ? first.files : (await writeWindow(w)).files;
  const records = await treeRecords(windowFiles);
  for (const r of records) demoIdentities.add(eventIdentity(r) ?? "");
  const unique = [...new Map(records.map((r) => [eventIdentity(r), r])).values()];
  await putLogEvents(aws, logGroup, unique);
  await putFiles(aws, windowFiles);
  const plantedHere = unique.filter((r) => plantedIds.has(eventIdentity(r) ?? "")).length;
  say(
    `Window ${w + 1} of ${windows}: ${unique.length} events through CloudWatch Logs to Kinesis, ${windowFiles.length} files into S3 (${records.length} records)${plantedHere ? `, ${plantedHere} planted (3 must alert, 3 near misses must not)` : ""}`,
  );
  await new Promise((r) => setTimeout(r, every));
}
say("Every window delivered. Watching; Ctrl-C stops everything the demo started.");
if (values["stop-after"]) {
  await new Promise((r) => setTimeout(r, Number(values["stop-after"]) * 1000));
  clearInterval(ticker);
  await printNewAlerts();
  await printStatus();
  if (values.pictures) {
    // The overview dashboard's panels over this run, into docs/images/ (scripts/pictures).
    const minutes = Math.ceil((Date.now() - now) / 60_000) + 1;
    say(`Drawing the overview's panels over the last ${minutes} minutes into docs/images/`);
    const draw = spawn(join(root, "scripts", "pictures"), ["--range", `${minutes}m`], {
      env: { ...process.env, PROMETHEUS_URL: prometheusUrl },
      stdio: "inherit",
    });
    await new Promise((resolve) => draw.once("exit", resolve));
  }
  await stopAll(0);
}
