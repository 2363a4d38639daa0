// Sigma correlation rules through the running alerter on the real Kafka and Redis: one rule of each
// type (event_count, value_count, temporal, temporal_ordered, and a chain), the events sent in a
// shuffled order to two replicas that are then stopped and replaced half way (the state lives in
// Redis), and the verdicts compared with `scan`'s, which judges the same events in memory.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { consumerGroupLag, createKafka, ensureTopics, openProducer, type Producer } from "@trailstream/kafka";
import { loadRuleFile, RuleSet } from "@trailstream/rules";
import type { AlertDocument } from "../../services/alerter/src/index.ts";
import { AlertTally } from "../../services/cli/src/scan/alerts.ts";
import { type AlerterProcess, spawnAlerter } from "../support/alerter.ts";
import { CORRELATION_FILE, correlationEstate, shuffle } from "../support/correlation-estate.ts";
import { endpoints, requireReachable, uniqueName } from "../support/servers.ts";
import { readTopic } from "../support/topic-reader.ts";
import { eventually } from "../support/wait.ts";

let brokers: string[];
let redisUrl: string;
let kafka: ReturnType<typeof createKafka>;
let producer: Producer;
const processes: AlerterProcess[] = [];

before(async () => {
  const e = await endpoints();
  brokers = e.kafkaBrokers;
  redisUrl = e.redisUrl;
  await requireReachable("Kafka", brokers[0] ?? "", "KAFKA_BROKERS");
  await requireReachable("Redis", redisUrl, "REDIS_URL");
  kafka = createKafka({ brokers, clientId: "alerter-correlation-test" });
  producer = await openProducer(kafka);
});

after(async () => {
  await Promise.all(processes.map((p) => p.stop().catch(() => null)));
  await producer?.close();
});

test("the alerter raises each correlation for its group, across replicas and a restart, as scan does", async () => {
  const t = {
    events: uniqueName("corr-events"),
    alerts: uniqueName("corr-alerts"),
    dlq: uniqueName("corr-dlq"),
    group: uniqueName("corr-group"),
    prefix: `${uniqueName("corr-test")}:`,
  };
  await ensureTopics(kafka, [
    { topic: t.events, partitions: 4 },
    { topic: t.alerts, partitions: 3 },
    { topic: t.dlq, partitions: 1 },
  ]);
  const env = {
    KAFKA_BROKERS: brokers.join(","),
    REDIS_URL: redisUrl,
    TOPIC_EVENTS: t.events,
    TOPIC_ALERTS: t.alerts,
    TOPIC_DLQ: t.dlq,
    ALERTER_GROUP_ID: t.group,
    ALERTER_KEY_PREFIX: t.prefix,
    RULES_BUILTIN: "false",
    RULE_FILES: CORRELATION_FILE,
    // The shuffle below sends matches up to two hours of eventTime out of order.
    CORRELATION_LATENESS: "3h",
  };
  const start = async () => {
    const p = await spawnAlerter(env);
    processes.push(p);
    return p;
  };
  const caughtUp = () =>
    eventually(async () => assert.equal(await consumerGroupLag(kafka, t.group, t.events), 0n), 60_000, 250);

  const estate = correlationEstate(Date.now() - 3 * 3_600_000);
  const records = shuffle(estate.records, 2026);
  const send = (part: typeof records) =>
    producer.send(
      t.events,
      part.map((r) => ({
        key: `${r.recipientAccountId}:${r.eventID}`,
        value: JSON.stringify({ v: 1, event: r, origin: { kind: "s3", receivedAt: new Date().toISOString() } }),
      })),
    );

  // Two replicas share the first half, then both stop; a new one takes the second half and must
  // find the first half's matches in Redis.
  const [a, b] = await Promise.all([start(), start()]);
  await Promise.all([a.ready(), b.ready()]);
  const half = Math.floor(records.length / 2);
  await send(records.slice(0, half));
  await caughtUp();
  assert.equal(await a.stop(), 0);
  assert.equal(await b.stop(), 0);
  const c = await start();
  await c.ready();
  await send(records.slice(half));
  // The first half sent again, as after a crash before the commit: nothing more may be raised.
  await send(records.slice(0, half));
  await caughtUp();

  const alerts = (await readTopic(kafka, t.alerts)).values as AlertDocument[];
  const live = alerts.map((d) => `${d.ruleId} ${d.group}`).sort();
  for (const d of alerts) {
    assert.ok(d.correlation, `${d.ruleId}: only correlations alert (the feeding rules are silent)`);
    assert.ok(d.count !== undefined && d.count >= 2);
  }

  // scan's verdict on the same events, in memory, in their time order.
  const file = await loadRuleFile(CORRELATION_FILE);
  const tally = new AlertTally(new RuleSet(file.rules), file.correlations);
  for (const r of estate.records) await tally.evaluate(r, `${r.recipientAccountId}:${r.eventID}`);
  const scanned = tally
    .report()
    .filter((e) => e.correlation)
    .flatMap((e) => (e.groups ?? []).map((g) => `${e.ruleId} ${g}`))
    .sort();

  assert.deepEqual(live, scanned, "the alerter and scan raise the same correlation alerts");
  const expected = estate.scenarios.map((s) => `${s.ruleId} ${s.fires}`).sort();
  assert.deepEqual(live, expected, "each correlation for its group, once, and none for the near misses");
});
