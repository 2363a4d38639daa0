// Benchmark of the alerter: events per second from the events topic through all built-in rules
// (CIS + the shipped SigmaHQ CloudTrail rules) to alerts on the alerts topic, on the real Kafka and
// Redis (deploy/local/stack), beside the bare rule evaluation on the same events.
//   node bench/alerter.ts [--events 50000] [--attack-rate 0.02] [--callers iam-user|assumed-role]
//                         [--partitions 3] [--alertmanager] [--correlations FILE] [--denied-rate 0]
//                         [--rounds 1] [--rules-x10] [--no-anchor] [--baseline DIR] [--candidate DIR]
// The events are benign API calls with Stratus Red Team detonation records mixed in at attack-rate
// (each with a fresh eventID), written to a fresh topic first; the alerter then drains that backlog.
// --callers assumed-role makes the benign calls come from an assumed role, which SigmaHQ's
// "AWS STS AssumeRole Misuse" rule matches: every event raises an alert (the sink-bound worst case).
// --alertmanager also delivers every alert to ALERTMANAGER_URL.
// --correlations FILE runs the alerter twice over the same backlog, side by side: first with the
// built-in rules only, then with the Sigma correlation rules of FILE added (their state in Redis).
// --denied-rate makes that share of the benign calls fail with AccessDenied (food for event_count).
// Each round also runs Kafka's ConsumerPerformance on the same topic (the ceiling of reading it; off
// with --no-anchor) and, with --rules-x10, the alerter with ten times the rules (the built-in ones
// and new Sigma rules for other events): cost flat in the rule count means the same rate. Rounds
// rotate the order; the medians and their ratios are printed.
// --baseline DIR also drains the backlog, in the same rounds, with the alerter of another checkout
// of this repository (with its own `pnpm install`; for example main before a change): before and
// after side by side on the same topic.
// --candidate DIR also drains it with the alerter of a third checkout (the change under test, in a
// worktree of its own) in the same rounds, loaded as the baseline is. The `builtin` alerter shares
// its module instances (the Kafka client, the rule matcher) with this bench's producer and bare
// evaluation; on 2026-12-06 it took more CPU per event than the baseline slot in three runs, whichever
// code it held (1.6x, 1.34x with the checkouts swapped, 1.1x), and not in a fourth (0.97x): unproven
// either way, so --candidate beside --baseline compares two checkouts loaded alike.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { copyFile, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import type { CloudTrailRecord } from "@trailstream/cloudtrail";
import { createKafka, ensureTopics, openProducer } from "@trailstream/kafka";
import { BUILTIN_SIGMA_DIR, builtinRules, RuleSet } from "@trailstream/rules";
import { createLogger } from "@trailstream/runtime";
import * as alerterHere from "../services/alerter/src/index.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "50000" },
    "attack-rate": { type: "string", default: "0.02" },
    partitions: { type: "string", default: "3" },
    callers: { type: "string", default: "iam-user" },
    alertmanager: { type: "boolean", default: false },
    correlations: { type: "string" },
    "denied-rate": { type: "string", default: "0" },
    rounds: { type: "string", default: "1" },
    "rules-x10": { type: "boolean", default: false },
    "no-anchor": { type: "boolean", default: false },
    baseline: { type: "string" },
    candidate: { type: "string" },
    stratus: {
      type: "string",
      default: new URL("../packages/bucket-tree/templates/stratus", import.meta.url).pathname,
    },
  },
});
const total = Number(values.events);
const attackRate = Number(values["attack-rate"]);
const partitions = Number(values.partitions);
const deniedRate = Number(values["denied-rate"]);
const env = process.env;
const brokers = (env.KAFKA_BROKERS ?? "").split(",").filter(Boolean);
if (brokers.length === 0 || !env.REDIS_URL) {
  console.error('KAFKA_BROKERS and REDIS_URL must be set: eval "$(deploy/local/stack env)"');
  process.exit(2);
}
if (values.alertmanager && !env.ALERTMANAGER_URL) {
  console.error("--alertmanager needs ALERTMANAGER_URL");
  process.exit(2);
}

async function stratusRecords(dir: string): Promise<CloudTrailRecord[]> {
  const out: CloudTrailRecord[] = [];
  try {
    for (const name of (await readdir(dir)).filter((n) => n.endsWith(".json")).sort()) {
      out.push(...(JSON.parse(await readFile(join(dir, name), "utf8")) as CloudTrailRecord[]));
    }
  } catch {
    const file = new URL("../packages/rules/test/fixtures/stratus-records.json", import.meta.url);
    out.push(...Object.values(JSON.parse(await readFile(file, "utf8")) as Record<string, CloudTrailRecord>));
  }
  return out;
}

const BENIGN: [string, string][] = [
  ["ec2.amazonaws.com", "DescribeInstances"],
  ["s3.amazonaws.com", "GetObject"],
  ["s3.amazonaws.com", "PutObject"],
  ["sts.amazonaws.com", "AssumeRole"],
  ["kms.amazonaws.com", "Decrypt"],
  ["lambda.amazonaws.com", "Invoke"],
  ["dynamodb.amazonaws.com", "GetItem"],
  ["logs.amazonaws.com", "PutLogEvents"],
  ["iam.amazonaws.com", "GetRole"],
  ["ssm.amazonaws.com", "GetParameter"],
];

let seq = 0;
function benign(): CloudTrailRecord {
  const [eventSource, eventName] = BENIGN[seq++ % BENIGN.length] ?? ["ec2.amazonaws.com", "DescribeInstances"];
  const account = String(100000000000 + (seq % 7));
  return {
    eventVersion: "1.09",
    userIdentity:
      values.callers === "assumed-role"
        ? {
            type: "AssumedRole",
            principalId: "AROAEXAMPLE:app",
            arn: `arn:aws:sts::${account}:assumed-role/app-role/i-0abc${seq % 50}`,
            accountId: account,
            accessKeyId: "ASIAEXAMPLE",
            sessionContext: {
              sessionIssuer: { type: "Role", arn: `arn:aws:iam::${account}:role/app-role`, userName: "app-role" },
            },
          }
        : {
            type: "IAMUser",
            principalId: "AIDAEXAMPLE",
            arn: `arn:aws:iam::${account}:user/app-${seq % 50}`,
            accountId: account,
            accessKeyId: "AKIAEXAMPLE",
            userName: `app-${seq % 50}`,
          },
    eventTime: new Date().toISOString(),
    eventSource,
    eventName,
    awsRegion: "eu-west-1",
    sourceIPAddress: `10.0.${seq % 250}.${seq % 200}`,
    userAgent: "aws-sdk-js/3.600.0",
    requestParameters: { bucketName: "data", key: `objects/${seq}` },
    responseElements: null,
    requestID: randomUUID(),
    eventID: randomUUID(),
    readOnly: eventName.startsWith("Get") || eventName.startsWith("Describe"),
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: "Management",
    ...((seq * deniedRate) % 1 > ((seq + 1) * deniedRate) % 1 ? { errorCode: "AccessDenied" } : {}),
  };
}

const attacks = await stratusRecords(values.stratus);
const events: CloudTrailRecord[] = [];
let attackCount = 0;
for (let i = 0; i < total; i++) {
  if (attacks.length > 0 && (i * attackRate) % 1 > ((i + 1) * attackRate) % 1) {
    const base = attacks[attackCount++ % attacks.length] as CloudTrailRecord;
    events.push({ ...structuredClone(base), eventID: randomUUID(), eventTime: new Date().toISOString() });
  } else events.push(benign());
}

// The bare evaluation on the same events, for comparison.
const { rules } = await builtinRules();
const set = new RuleSet(rules);
const bySource = { cis: 0, sigma: 0, custom: 0 };
for (const r of rules) bySource[r.source]++;
let evalMatches = 0;
const evalStart = performance.now();
for (const e of events) evalMatches += set.match(e).length;
const evalSeconds = (performance.now() - evalStart) / 1_000;

const load = loadavg()[0]?.toFixed(1);
const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const topics = {
  events: `bench-alerter-events-${id}`,
  alerts: `bench-alerter-alerts-${id}`,
  dlq: `bench-alerter-dlq-${id}`,
};
const kafka = createKafka({ brokers, clientId: "bench-alerter" });
await ensureTopics(kafka, [
  { topic: topics.events, partitions },
  { topic: topics.alerts, partitions: 3 },
  { topic: topics.dlq, partitions: 1 },
]);
const producer = await openProducer(kafka);
const produceStart = performance.now();
const receivedAt = new Date().toISOString();
for (let i = 0; i < events.length; i += 1_000) {
  await producer.send(
    topics.events,
    events.slice(i, i + 1_000).map((e) => ({
      key: `${e.recipientAccountId}:${e.eventID}`,
      value: JSON.stringify({ v: 1, event: e, origin: { kind: "file", receivedAt }, enrichment: {} }),
    })),
  );
}
const produceSeconds = (performance.now() - produceStart) / 1_000;
await producer.close();

const rounds = Number(values.rounds);
const kafkaLibs = env.KAFKA_LIBS ?? `${env.HOME}/.cache/trailstream/kafka-4.1.2/libs`;

/** Kafka's own consumer reading the same topic: records/s of its fetch phase (group join left out). */
async function consumerPerformance(): Promise<number> {
  const args = [
    ...["-Xms256m", "-Xmx512m", "-cp", `${kafkaLibs}/*`, "org.apache.kafka.tools.ConsumerPerformance"],
    ...["--bootstrap-server", brokers.join(","), "--topic", topics.events, "--messages", String(total)],
    ...["--group", `bench-alerter-perf-${id}-${Math.random().toString(36).slice(2, 8)}`, "--timeout", "30000"],
    "--hide-header",
  ];
  const { stdout } = await promisify(execFile)("java", args, { maxBuffer: 1 << 20 });
  const f = (stdout.trim().split("\n").at(-1) ?? "").split(",").map((x) => x.trim());
  if (Number(f[4]) < total) throw new Error(`ConsumerPerformance read ${f[4]} of ${total}`);
  return Number(f[9]);
}

/** The shipped Sigma rules plus nine times as many new rules for events no built-in rule names. */
async function tenfoldSigmaDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "bench-alerter-rules-"));
  for (const name of (await readdir(BUILTIN_SIGMA_DIR)).filter((n) => /\.ya?ml$/.test(n))) {
    await copyFile(join(BUILTIN_SIGMA_DIR, name), join(dir, name));
  }
  for (let i = 0; i < rules.length * 9; i++) {
    await writeFile(
      join(dir, `other-${i}.yml`),
      `title: other ${i}\nid: bench-other-${i}\nlogsource:\n    product: aws\n    service: cloudtrail\n` +
        `detection:\n    s:\n        eventSource: svc${i % 50}.amazonaws.com\n        eventName: Call${i}\n    condition: s\nlevel: low\n`,
    );
  }
  const loaded = (await builtinRules({ sigmaDir: dir })).rules.length;
  if (loaded !== rules.length * 10)
    throw new Error(`the tenfold rule set loads ${loaded} rules, not ${rules.length * 10}`);
  return dir;
}
const x10Dir = values["rules-x10"] ? await tenfoldSigmaDir() : undefined;

type AlerterModule = typeof alerterHere;
const baseline: AlerterModule | undefined = values.baseline
  ? ((await import(join(values.baseline, "services/alerter/src/index.ts"))) as AlerterModule)
  : undefined;
const candidate: AlerterModule | undefined = values.candidate
  ? ((await import(join(values.candidate, "services/alerter/src/index.ts"))) as AlerterModule)
  : undefined;

async function drain(
  variant: string,
  round: number,
  extra: { ruleFiles?: string; sigmaDir?: string },
  alerterModule: AlerterModule = alerterHere,
) {
  const { loadSettings, start: startAlerter } = alerterModule;
  const name = `${variant}-r${round}`;
  const config = loadSettings({
    KAFKA_BROKERS: brokers.join(","),
    REDIS_URL: env.REDIS_URL,
    TOPIC_EVENTS: topics.events,
    TOPIC_ALERTS: `${topics.alerts}-${name}`,
    TOPIC_DLQ: topics.dlq,
    ALERTER_GROUP_ID: `bench-alerter-${id}-${name}`,
    ALERTER_KEY_PREFIX: `bench-alerter-${id}-${name}:`,
    RULES_BUILTIN: "true",
    ...(extra.ruleFiles ? { RULE_FILES: extra.ruleFiles } : {}),
    ...(extra.sigmaDir ? { SIGMA_DIR: extra.sigmaDir } : {}),
    ALERT_DEDUP_TTL: "10m",
    ...(values.alertmanager ? { ALERTMANAGER_URL: env.ALERTMANAGER_URL } : {}),
  });
  let processed = 0;
  let alerts = 0;
  let correlationAlerts = 0;
  let matches = 0;
  let firstBatchAt = 0;
  let lastBatchAt = 0;
  // The process's CPU time over the same span (all its threads): CPU per event moves less with the
  // machine's load than events/s, and CPU over wall time says how much of the drain was waiting.
  let firstCpu = process.cpuUsage();
  let lastCpu = firstCpu;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const startAt = performance.now();
  const alerter = await startAlerter(config, {
    log: createLogger("alerter", env.BENCH_LOG_LEVEL ?? "warn"),
    onBatch: (r) => {
      if (firstBatchAt === 0) {
        firstBatchAt = performance.now();
        firstCpu = process.cpuUsage();
      }
      processed += r.events;
      alerts += r.alerts.length;
      correlationAlerts += r.alerts.filter((a) => a.correlation).length;
      matches += r.matches;
      lastBatchAt = performance.now();
      lastCpu = process.cpuUsage();
      if (processed >= total) done();
    },
  });
  await alerter.started;
  const joinedAt = performance.now();
  await finished;
  await alerter.stop();
  const seconds = (lastBatchAt - firstBatchAt) / 1_000;
  const cpuMicros = lastCpu.user + lastCpu.system - firstCpu.user - firstCpu.system;
  return {
    variant,
    matches,
    alerts,
    correlationAlerts,
    startSeconds: Number(((joinedAt - startAt) / 1_000).toFixed(2)),
    drainSeconds: Number(seconds.toFixed(2)),
    eventsPerSecond: Math.round(total / seconds),
    cpuMicrosPerEvent: Number((cpuMicros / total).toFixed(2)),
    systemMicrosPerEvent: Number(((lastCpu.system - firstCpu.system) / total).toFixed(2)),
    cpuOverWall: Number((cpuMicros / 1e6 / seconds).toFixed(2)),
  };
}

type Drained = Awaited<ReturnType<typeof drain>>;
type Step = [string, (round: number) => Promise<Drained | number>];
const correlationFile = values.correlations;
const steps: Step[] = [["builtin", (r) => drain("builtin", r, {})]];
if (baseline) steps.push(["baseline", (r) => drain("baseline", r, {}, baseline)]);
if (candidate) steps.push(["candidate", (r) => drain("candidate", r, {}, candidate)]);
if (!values["no-anchor"]) steps.push(["ConsumerPerformance", () => consumerPerformance()]);
if (x10Dir) steps.push(["x10", (r) => drain("x10", r, { sigmaDir: x10Dir })]);
if (correlationFile) steps.push(["correlations", (r) => drain("correlations", r, { ruleFiles: correlationFile })]);
const byStep = new Map<string, (Drained | number)[]>(steps.map(([n]) => [n, []]));
for (let round = 0; round < rounds; round++) {
  // Rotate the order, so no variant always runs first (cold broker caches) or last.
  for (let k = 0; k < steps.length; k++) {
    const [stepName, runStep] = steps[(round + k) % steps.length] as Step;
    const got = await runStep(round);
    byStep.get(stepName)?.push(got);
    const rate = typeof got === "number" ? got : got.eventsPerSecond;
    const cpu =
      typeof got === "number"
        ? ""
        : `, ${got.cpuMicrosPerEvent} µs CPU per event (${got.systemMicrosPerEvent} system), CPU/wall ${got.cpuOverWall}`;
    console.error(
      `round ${round + 1}: ${stepName} ${Math.round(rate)} events/s${cpu} (load ${loadavg()[0]?.toFixed(1)})`,
    );
  }
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const rateOf = (x: Drained | number): number => (typeof x === "number" ? x : x.eventsPerSecond);
const medianOf = (stepName: string): number | undefined => {
  const xs = byStep.get(stepName) ?? [];
  return xs.length === 0 ? undefined : Math.round(median(xs.map(rateOf)));
};
const plain = byStep.get("builtin")?.[0] as Drained;
const plainRate = medianOf("builtin") as number;
const anchorRate = medianOf("ConsumerPerformance");
const x10Rate = medianOf("x10");
const correlatedRate = medianOf("correlations");
const baselineRate = medianOf("baseline");
const candidateRate = medianOf("candidate");
const correlated = byStep.get("correlations")?.[0] as Drained | undefined;
const { matches, alerts } = plain;
const result = {
  events: total,
  attackRecords: attackCount,
  rules: rules.length,
  bySource,
  matches,
  alerts,
  callers: values.callers,
  deniedRate,
  sinks: values.alertmanager ? "kafka+alertmanager" : "kafka",
  partitions,
  rounds,
  startSeconds: plain.startSeconds,
  drainSeconds: plain.drainSeconds,
  eventsPerSecond: plainRate,
  perRound: Object.fromEntries([...byStep].map(([k, xs]) => [k, xs.map((x) => Math.round(rateOf(x)))])),
  cpuMicrosPerEventPerRound: Object.fromEntries(
    [...byStep].flatMap(([k, xs]) =>
      typeof xs[0] === "number" ? [] : [[k, xs.map((x) => (x as Drained).cpuMicrosPerEvent)]],
    ),
  ),
  ...(anchorRate
    ? { consumerPerformance: anchorRate, overConsumerPerformance: Number((plainRate / anchorRate).toFixed(2)) }
    : {}),
  ...(x10Rate
    ? {
        x10Rules: rules.length * 10,
        x10EventsPerSecond: x10Rate,
        x10OverBuiltin: Number((x10Rate / plainRate).toFixed(2)),
      }
    : {}),
  ...(baselineRate
    ? {
        baseline: values.baseline,
        baselineEventsPerSecond: baselineRate,
        overBaseline: Number((plainRate / baselineRate).toFixed(2)),
      }
    : {}),
  ...(candidateRate
    ? {
        candidate: values.candidate,
        candidateEventsPerSecond: candidateRate,
        ...(baselineRate ? { candidateOverBaseline: Number((candidateRate / baselineRate).toFixed(2)) } : {}),
      }
    : {}),
  ...(correlated && correlatedRate
    ? {
        withCorrelations: { ...correlated, eventsPerSecond: correlatedRate },
        correlationCostRatio: Number((plainRate / correlatedRate).toFixed(2)),
      }
    : {}),
  produceEventsPerSecond: Math.round(total / produceSeconds),
  bareEvaluationEventsPerSecond: Math.round(total / evalSeconds),
  bareEvaluationMatches: evalMatches,
  cpus: cpus().length,
  loadAverageAtStart: Number(load),
  loadAverageAtEnd: Number(loadavg()[0]?.toFixed(1)),
  node: process.version,
};
console.log(JSON.stringify(result));
console.error(
  `${total} events (${attackCount} Stratus records), ${rules.length} rules (${bySource.cis} CIS, ${bySource.sigma} Sigma): ` +
    `${result.eventsPerSecond} events/s through the alerter (${matches} matches, ${alerts} alerts, sinks ${result.sinks}); ` +
    (anchorRate ? `ConsumerPerformance ${anchorRate} events/s (ratio ${result.overConsumerPerformance}); ` : "") +
    (baselineRate ? `the baseline's alerter ${baselineRate} events/s (ratio ${result.overBaseline}); ` : "") +
    (candidateRate
      ? `the candidate's alerter ${candidateRate} events/s` +
        (baselineRate ? ` (${result.candidateOverBaseline}x the baseline's); ` : "; ")
      : "") +
    (x10Rate ? `with ${rules.length * 10} rules ${x10Rate} events/s (ratio ${result.x10OverBuiltin}); ` : "") +
    `bare evaluation ${result.bareEvaluationEventsPerSecond} events/s` +
    (correlated
      ? `; with the correlation rules of ${values.correlations}: ${correlatedRate} events/s (${correlated.correlationAlerts} correlation alerts)`
      : ""),
);
process.exit(0);
