// Fault campaign, the alert path (issue 16): N matching events in a minute through a running
// alerter (its own process, default settings) reach a PRIVATE Alertmanager as a bounded number of
// alerts, and Alertmanager's memory stays flat.
//   eval "$(deploy/local/stack env)"; node bench/fault-alerts.ts [--events 100000] [--seconds 60]
//        [--accounts 5000] [--partitions 6] [--rounds 2]
// Kafka and Redis are the shared servers (fresh topics and a fresh Redis key prefix); Alertmanager is
// started here on a free port (Debian's prometheus-alertmanager, as deploy/local/stack starts it: a
// null receiver, no gossip) and stopped by its pid, so the shared one is never touched.
// The events are Stratus Red Team detonation records that the default catalog alerts on, each with a
// fresh eventID, from --accounts accounts, eventTime = when sent, produced evenly over --seconds.
// The bound: per rule, ALERT_FLOOD_PER_MINUTE (60) single alerts per minute of event time, the rest
// folded into one summary alert whose labels do not hold the account; single alerts are labelled by
// (rule, account), suppressed per (rule, account) for ALERT_SUPPRESS_DEFAULT (15m). So Alertmanager
// holds at most, per rule, min(accounts, 60 x minutes) + 1 alerts, whatever the event rate.
// Each round sends the same load again (new events, new minutes); Alertmanager's RSS is read from
// /proc before the first round, every second during each and after each (before the alerts are listed).
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { CloudTrailRecord } from "@trailstream/cloudtrail";
import { consumerGroupLag, createKafka, ensureTopics, openProducer } from "@trailstream/kafka";
import { loadRuleCatalog, RuleSet } from "@trailstream/rules";
import { freePort, metricValue, startServiceProcess } from "../test/support/service-process.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "100000" },
    seconds: { type: "string", default: "60" },
    accounts: { type: "string", default: "5000" },
    partitions: { type: "string", default: "6" },
    rounds: { type: "string", default: "2" },
    stratus: {
      type: "string",
      default: new URL("../packages/bucket-tree/templates/stratus", import.meta.url).pathname,
    },
  },
});
const total = Number(values.events);
const seconds = Number(values.seconds);
const accounts = Number(values.accounts);
const partitions = Number(values.partitions);
const rounds = Number(values.rounds);
const FLOOD_PER_MINUTE = 60;
const env = process.env;
const brokers = (env.KAFKA_BROKERS ?? "").split(",").filter(Boolean);
if (brokers.length === 0 || !env.REDIS_URL) {
  console.error('KAFKA_BROKERS and REDIS_URL must be set: eval "$(deploy/local/stack env)"');
  process.exit(2);
}

// --- a private Alertmanager ------------------------------------------------------------------

interface PrivateAlertmanager {
  url: string;
  child: ChildProcess;
  rssBytes(): Promise<number>;
  /** Go's heap in use (go_memstats_heap_inuse_bytes): what the alerts themselves take. */
  heapBytes(): Promise<number>;
  alerts(): Promise<{ labels: Record<string, string> }[]>;
  stop(): Promise<void>;
}

async function startAlertmanager(dir: string): Promise<PrivateAlertmanager> {
  const port = await freePort();
  const config = join(dir, "alertmanager.yml");
  await writeFile(config, 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n');
  const child = spawn(
    "prometheus-alertmanager",
    [
      `--config.file=${config}`,
      `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
    ],
    { stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error("prometheus-alertmanager exited at start (is it installed?)");
    const ok = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error("the private Alertmanager was not ready within 30 s");
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    child,
    async rssBytes() {
      const status = await readFile(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) * 1024;
    },
    async heapBytes() {
      const text = await (await fetch(`${url}/metrics`)).text();
      return Number(/^go_memstats_heap_inuse_bytes (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
    },
    async alerts() {
      const r = await fetch(`${url}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true`);
      return (await r.json()) as { labels: Record<string, string> }[];
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}

// --- the load ----------------------------------------------------------------------------------

async function stratusRecords(dir: string): Promise<CloudTrailRecord[]> {
  const out: CloudTrailRecord[] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith(".json")).sort()) {
    out.push(...(JSON.parse(await readFile(join(dir, name), "utf8")) as CloudTrailRecord[]));
  }
  return out;
}

// The alerter's own catalog (built-in rules, default policy): the templates it alerts on.
const catalog = await loadRuleCatalog({ builtin: true, customFiles: [] });
const ruleSet = new RuleSet(catalog.rules);
const templates = (await stratusRecords(values.stratus)).filter((r) => ruleSet.match(r).length > 0);
if (templates.length === 0) throw new Error("no Stratus record matches a built-in rule");
// The rules follow from the template alone (a fresh eventID, account and time change no match).
const templateRules = templates.map((r) => ruleSet.match(r).map((rule) => rule.id));
const matchedRules = new Set(templateRules.flat());

function matchingEvent(i: number, at: string): CloudTrailRecord {
  const t = templates[i % templates.length] as CloudTrailRecord;
  const account = String(200000000000 + ((i * 7919) % accounts));
  const e = structuredClone(t) as CloudTrailRecord & { userIdentity?: Record<string, unknown> };
  e.eventID = randomUUID();
  e.eventTime = at;
  e.recipientAccountId = account;
  if (e.userIdentity && typeof e.userIdentity === "object") e.userIdentity.accountId = account;
  return e;
}

const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const dir = await mkdtemp(join(tmpdir(), `trailstream-fault-alerts-${run}-`));
const topics = {
  events: `fault-alerts-events-${run}`,
  alerts: `fault-alerts-alerts-${run}`,
  dlq: `fault-alerts-dlq-${run}`,
};
const group = `fault-alerts-${run}`;
const kafka = createKafka({ brokers, clientId: "bench-fault-alerts" });
await ensureTopics(kafka, [
  { topic: topics.events, partitions },
  { topic: topics.alerts, partitions: 3 },
  { topic: topics.dlq, partitions: 1 },
]);

const am = await startAlertmanager(dir);
let alerter: Awaited<ReturnType<typeof startServiceProcess>> | undefined;
try {
  alerter = await startServiceProcess(
    "alerter",
    {
      KAFKA_BROKERS: brokers.join(","),
      REDIS_URL: env.REDIS_URL ?? "",
      ALERTER_KEY_PREFIX: `fault-alerts:${run}:`,
      TOPIC_EVENTS: topics.events,
      TOPIC_ALERTS: topics.alerts,
      TOPIC_DLQ: topics.dlq,
      TOPIC_PARTITIONS: String(partitions),
      ALERTER_GROUP_ID: group,
      ALERTMANAGER_URL: am.url,
      LOG_LEVEL: "warn",
    },
    { logDir: dir },
  );
  await alerter.ready();
  const port = alerter.port;
  await new Promise((r) => setTimeout(r, 2_000));
  const rssStart = await am.rssBytes();
  const heapStart = await am.heapBytes();
  const producer = await openProducer(kafka);
  const receivedAt = new Date().toISOString();
  const minutes = new Set<number>();
  const accountsByRule = new Map<string, Set<string>>();
  const perRound: string[] = [];
  let sent = 0;
  const sends: Promise<void>[] = [];
  for (let round = 1; round <= rounds; round++) {
    // Evenly over `seconds`: one slice every 100 ms, each stamped with the time it is sent.
    const slices = seconds * 10;
    const roundStart = performance.now();
    const rss: number[] = [];
    for (let s = 0; s < slices; s++) {
      const at = new Date().toISOString();
      minutes.add(Math.floor(Date.parse(at) / 60_000));
      const n = Math.floor(((s + 1) * total) / slices) - Math.floor((s * total) / slices);
      const batch = Array.from({ length: n }, () => {
        const e = matchingEvent(sent, at);
        for (const id of templateRules[sent % templates.length] ?? []) {
          const set = accountsByRule.get(id) ?? new Set<string>();
          set.add(String(e.recipientAccountId));
          accountsByRule.set(id, set);
        }
        sent++;
        return e;
      });
      // Not awaited one by one: a produce's round trip must not set the pace (the idempotent
      // producer keeps each partition's order); the round waits for all of them at its end.
      sends.push(
        producer.send(
          topics.events,
          batch.map((e) => ({
            key: `${e.recipientAccountId}:${e.eventID}`,
            value: JSON.stringify({ v: 1, event: e, origin: { kind: "file", receivedAt }, enrichment: {} }),
          })),
        ),
      );
      if (s % 10 === 0) rss.push(await am.rssBytes());
      const wait = roundStart + ((s + 1) * seconds * 1_000) / slices - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await Promise.all(sends.splice(0));
    const producedIn = (performance.now() - roundStart) / 1_000;
    // Drained: the alerter's group has read and committed everything.
    const drainStart = performance.now();
    while ((await consumerGroupLag(kafka, group, topics.events)) > 0n) {
      if (performance.now() - drainStart > 300_000) throw new Error("the alerter did not drain within 5 minutes");
      await new Promise((r) => setTimeout(r, 500));
    }
    const drainedAfter = (performance.now() - drainStart) / 1_000;
    await new Promise((r) => setTimeout(r, 2_000));
    const rssAfter = await am.rssBytes();
    const heapAfter = await am.heapBytes();
    const held = (await am.alerts()).length;
    perRound.push(
      `round ${round}: ${total} events in ${producedIn.toFixed(1)} s (drained ${drainedAfter.toFixed(1)} s after the last), ` +
        `Alertmanager RSS during max ${(Math.max(...rss) / 2 ** 20).toFixed(1)} MiB, after ${(rssAfter / 2 ** 20).toFixed(1)} MiB (heap in use ${(heapAfter / 2 ** 20).toFixed(1)} MiB), ${held} alerts held`,
    );
  }
  await producer.close();

  const rssEnd = await am.rssBytes();
  const alerts = await am.alerts();
  const byRule = new Map<string, { single: number; summary: number }>();
  for (const a of alerts) {
    const c = byRule.get(a.labels.alertname ?? "?") ?? { single: 0, summary: 0 };
    if (a.labels.flood === "true") c.summary++;
    else c.single++;
    byRule.set(a.labels.alertname ?? "?", c);
  }
  const m = minutes.size;
  let bound = 0;
  for (const id of matchedRules) bound += Math.min(accountsByRule.get(id)?.size ?? 0, FLOOD_PER_MINUTE * m) + 1;
  const matches = await metricValue(port, "trailstream_alerter_rule_matches_total");
  const posted = await metricValue(port, "trailstream_alerter_sink_alerts_delivered_total", { sink: "alertmanager" });
  const flood = await metricValue(port, "trailstream_alerter_decisions_total", { result: "flood" });
  const suppressed = await metricValue(port, "trailstream_alerter_decisions_total", { result: "suppressed" });

  console.log(`fault-alerts: ${cpus().length} cores, load ${loadavg()[0]?.toFixed(1)}, run ${run}`);
  console.log(
    `input: ${rounds} x ${total} events (${sent} in all) over ${seconds} s each, ${templates.length} Stratus templates matching ${matchedRules.size} rules, ${accounts} accounts, ${m} minutes of event time`,
  );
  for (const line of perRound) console.log(line);
  console.log(
    `alerter: ${matches} rule matches, ${suppressed} suppressed, ${flood} folded into summaries, ${posted} alerts posted to Alertmanager`,
  );
  console.log(
    `Alertmanager: ${alerts.length} alerts held (bound ${bound} = sum over the ${matchedRules.size} rules of min(accounts, ${FLOOD_PER_MINUTE} x ${m} minutes) + 1 summary)`,
  );
  for (const [rule, c] of [...byRule.entries()].sort())
    console.log(`  ${rule}: ${c.single} single, ${c.summary} summary`);
  console.log(
    `Alertmanager RSS: ${(rssStart / 2 ** 20).toFixed(1)} MiB (heap in use ${(heapStart / 2 ** 20).toFixed(1)} MiB) before, ${(rssEnd / 2 ** 20).toFixed(1)} MiB after (${(((rssEnd - rssStart) / rssStart) * 100).toFixed(0)} %)`,
  );
  if (alerts.length > bound) {
    console.error(`FAILED: ${alerts.length} alerts in Alertmanager, over the bound of ${bound}`);
    process.exitCode = 1;
  }
} finally {
  await alerter?.stop();
  await am.stop();
}
