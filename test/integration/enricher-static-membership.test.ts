// Static group membership (KAFKA_GROUP_INSTANCE_ID): an enricher killed with SIGKILL and started
// again under the same id, as Kubernetes restarts a container in its pod, takes its partitions back
// without a rebalance: the other member keeps its own throughout, and nothing waits for the killed
// member's session (60 s here) to expire. The events topic still holds every event once.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  createKafka,
  type EnricherChild,
  ensureTopics,
  type Kafka,
  produceRaw,
  rawRecords,
  spawnEnricher,
  waitForLag0,
} from "../support/enricher.ts";
import { endpoints, requireReachable, uniqueName } from "../support/servers.ts";
import { readTopic } from "../support/topic-reader.ts";

let kafka: Kafka;
let brokers: string[];
let redisUrl: string;
const children: EnricherChild[] = [];

before(async () => {
  const e = await endpoints();
  await requireReachable("Kafka", e.kafkaBrokers[0] ?? "", "KAFKA_BROKERS");
  brokers = e.kafkaBrokers;
  redisUrl = e.redisUrl;
  kafka = createKafka({ brokers, clientId: "static-membership-test" });
});

after(async () => {
  for (const c of children) await c.stop().catch(() => {});
});

/** Each "partitions assigned" line the child logged, as its partition list. */
function assignments(child: EnricherChild): number[][] {
  return child.lines
    .filter((l) => l.includes('"partitions assigned"'))
    .map((l) => (JSON.parse(l) as { partitions: number[] }).partitions);
}

async function waitFor(what: string, done: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!done()) {
    if (Date.now() > until) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("a member killed and started again under its instance id takes its partitions back without a rebalance", async () => {
  const name = uniqueName("enr-static");
  const topics = { raw: `${name}.raw`, events: `${name}.events`, dlq: `${name}.dlq` };
  const groupId = `${name}-group`;
  await ensureTopics(kafka, [
    { topic: topics.raw, partitions: 4 },
    { topic: topics.events, partitions: 4 },
    { topic: topics.dlq, partitions: 1 },
  ]);
  const truth = rawRecords({ total: 4_000, copyShare: 0.3, spread: 400, seed: 11 });
  const env = (instance: string): Record<string, string> => ({
    KAFKA_BROKERS: brokers.join(","),
    KAFKA_CLIENT_ID: `static-${instance}`,
    KAFKA_GROUP_INSTANCE_ID: `${name}-${instance}`,
    // A session far longer than the test waits: a member that had to be dropped and replaced by a
    // new one would hold everything up past every bound below.
    KAFKA_SESSION_TIMEOUT_MS: "60000",
    REDIS_URL: redisUrl,
    TOPIC_RAW: topics.raw,
    TOPIC_EVENTS: topics.events,
    TOPIC_DLQ: topics.dlq,
    ENRICHER_GROUP_ID: groupId,
    DEDUP_KEY_PREFIX: `${name}:dedup:`,
    LOOKUP_INDEX: "false",
    LOG_LEVEL: "info",
  });
  const a = await spawnEnricher(env("a"));
  children.push(a);
  await a.assigned;
  const b = await spawnEnricher(env("b"));
  children.push(b);
  await waitFor("the group's split between a and b", () => (assignments(b).at(-1)?.length ?? 0) > 0, 30_000);
  await waitFor("a's share after b joined", () => (assignments(a).at(-1)?.length ?? 0) < 4, 30_000);
  const aHeld = assignments(a).at(-1) ?? [];
  const bHeld = assignments(b).at(-1) ?? [];
  const bJoins = assignments(b).length;

  const half = Math.floor(truth.records.length / 2);
  await produceRaw(kafka, topics.raw, truth.records.slice(0, half), { chunk: 1_000 });
  await waitForLag0(kafka, groupId, topics.raw, 30_000);

  await a.kill();
  const before = a.lines.length;
  await a.restart();
  await waitFor(
    "the restarted member's assignment",
    () => a.lines.slice(before).some((l) => l.includes('"partitions assigned"')),
    30_000,
  );
  await produceRaw(kafka, topics.raw, truth.records.slice(half), { chunk: 1_000 });
  // Well inside the 60 s session: the restarted member reads its partitions at once.
  await waitForLag0(kafka, groupId, topics.raw, 30_000);

  assert.deepEqual(assignments(a).at(-1), aHeld, "the restarted member got its own partitions back");
  assert.equal(assignments(b).length, bJoins, `b was not rebalanced: ${JSON.stringify(assignments(b))}`);
  assert.deepEqual(assignments(b).at(-1), bHeld);

  const events = (
    await readTopic(kafka, topics.events, (r) => r.until((x) => x.keyCounts().size >= truth.identities.size))
  ).keyCounts();
  const twice = [...events.values()].filter((k) => k.count > 1).length;
  const missing = [...truth.identities].filter((id) => !events.has(id)).length;
  assert.equal(missing, 0, "every event is on the events topic");
  assert.equal(twice, 0, "and once");
});
