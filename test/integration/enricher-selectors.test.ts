// EVENT_SELECTORS through the running enricher (its own process, as deployed) on the real Kafka and
// Redis: the events topic holds exactly the identities the selectors keep, once each; a dropped
// event never reaches Redis (no claim key); /metrics counts the drops per selector and field.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { parseRedisUrl } from "@trailstream/redis";
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
const dir = mkdtempSync(join(tmpdir(), "trailstream-selectors-"));
const children: EnricherChild[] = [];

before(async () => {
  const e = await endpoints();
  brokers = e.kafkaBrokers;
  redisUrl = e.redisUrl;
  await requireReachable("Kafka", brokers[0] ?? "", "KAFKA_BROKERS");
  await requireReachable("Redis", redisUrl, "REDIS_URL");
  kafka = createKafka({ brokers, clientId: "enricher-selectors-test" });
});

after(() => {
  for (const c of children) c.child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** Management writes, plus KMS reads: what a team that watches key use might keep. */
const SELECTORS = {
  TrailName: "org-trail",
  AdvancedEventSelectors: [
    {
      Name: "management writes",
      FieldSelectors: [
        { Field: "eventCategory", Equals: ["Management"] },
        { Field: "readOnly", Equals: ["false"] },
      ],
    },
    {
      Name: "kms reads",
      FieldSelectors: [
        { Field: "eventCategory", Equals: ["Data"] },
        { Field: "resources.type", Equals: ["AWS::KMS::Key"] },
      ],
    },
  ],
};

/**
 * Dedup claims under a prefix: fields of the claim hashes (services/enricher/src/claims.ts), summed
 * over every node the URL names (each master of a Cluster holds its own share of the keys).
 */
async function redisClaims(prefix: string): Promise<number> {
  const exec = promisify(execFile);
  const target = parseRedisUrl(redisUrl);
  if (target.tls || target.kind === "sentinel")
    throw new Error("this test counts claims on plain redis:// or redis+cluster:// only");
  const auth = target.credentials.password
    ? ["--user", target.credentials.username ?? "default", "--pass", target.credentials.password]
    : [];
  const nodes = target.kind === "cluster" ? target.seeds : [target.node];
  let claims = 0;
  for (const node of nodes) {
    const cli = [
      "-h",
      node.host,
      "-p",
      String(node.port),
      ...auth,
      ...(target.kind === "single" ? ["-n", String(target.db)] : []),
    ];
    const { stdout } = await exec("redis-cli", [...cli, "--scan", "--pattern", `${prefix}*`], {
      maxBuffer: 64 * 1024 * 1024,
    });
    const keys = stdout.split("\n").filter(Boolean);
    const hlen = spawnSync("redis-cli", cli, { input: keys.map((k) => `HLEN ${k}\n`).join(""), encoding: "utf8" });
    for (const n of hlen.stdout.split("\n").filter(Boolean)) claims += Number(n.trim());
  }
  return claims;
}

test("the enricher keeps what EVENT_SELECTORS keep, claims nothing for the rest, and counts the drops", async () => {
  const name = uniqueName("sel");
  const topics = { raw: `${name}.raw`, events: `${name}.events`, dlq: `${name}.dlq` };
  await ensureTopics(kafka, [
    { topic: topics.raw, partitions: 3 },
    { topic: topics.events, partitions: 3 },
    { topic: topics.dlq, partitions: 1 },
  ]);
  const truth = rawRecords({ total: 20_000, copyShare: 0.3, spread: 4_000, bad: 10, seed: 17 });
  // What the selectors keep, from the records themselves: management events that are not read-only.
  const kept = new Set<string>();
  let droppedRecords = 0;
  for (const r of truth.records) {
    if (!truth.identities.has(r.key)) continue;
    const event = (JSON.parse(r.value) as { event: { readOnly: boolean; eventCategory: string } }).event;
    if (event.eventCategory === "Management" && event.readOnly === false) kept.add(r.key);
    else droppedRecords++;
  }
  assert.ok(kept.size > 0 && kept.size < truth.identities.size, "the estate has reads and writes");
  await produceRaw(kafka, topics.raw, truth.records);

  const file = join(dir, "selectors.json");
  writeFileSync(file, JSON.stringify(SELECTORS));
  const groupId = `${name}-group`;
  const enricher = await spawnEnricher({
    KAFKA_BROKERS: brokers.join(","),
    REDIS_URL: redisUrl,
    TOPIC_RAW: topics.raw,
    TOPIC_EVENTS: topics.events,
    TOPIC_DLQ: topics.dlq,
    ENRICHER_GROUP_ID: groupId,
    DEDUP_KEY_PREFIX: `${name}:dedup:`,
    DEDUP_TTL: "10m",
    EVENT_SELECTORS: file,
    METRICS_PORT: "0",
    KAFKA_SESSION_TIMEOUT_MS: "10000",
  });
  children.push(enricher);
  await waitForLag0(kafka, groupId, topics.raw, 180_000);

  const events = (
    await readTopic(kafka, topics.events, (r) => r.quiet({ keys: kept.size, idleMs: 2_000 }))
  ).keyCounts();
  assert.equal(events.size, kept.size, "exactly the kept identities");
  for (const identity of kept) assert.equal(events.get(identity)?.count, 1, `${identity} once`);
  assert.equal(await redisClaims(`${name}:dedup:`), kept.size, "a claim for each kept identity, none for the dropped");

  const port = enricher.port;
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (pattern: RegExp) => Number(pattern.exec(metrics)?.[1] ?? Number.NaN);
  assert.equal(value(/^trailstream_enricher_selected_out_total\{[^}]*\} (\d+)$/m), droppedRecords);
  assert.equal(
    value(
      /^trailstream_enricher_selector_rejections_total\{selector="management writes",field="readOnly"[^}]*\} (\d+)$/m,
    ),
    droppedRecords,
    "every dropped record here is a management read: the first selector turned it away on readOnly",
  );
  assert.equal(
    value(/^trailstream_enricher_selector_rejections_total\{selector="kms reads",field="eventCategory"[^}]*\} (\d+)$/m),
    droppedRecords,
  );
  assert.equal(value(/^trailstream_enricher_records_in_total\{[^}]*\} (\d+)$/m), truth.records.length);

  const exited = enricher.exited();
  enricher.child.kill("SIGTERM");
  assert.equal(await exited, 0);
  assert.ok(
    enricher.lines.some((l) =>
      l.includes('"eventSelectors":{"kind":"advanced","selectors":["management writes","kms reads"]}'),
    ),
    "the start-up log names the selectors",
  );
});

test("invalid EVENT_SELECTORS stop the enricher at start with the problem named", async () => {
  const enricher = await spawnEnricher({
    KAFKA_BROKERS: brokers.join(","),
    REDIS_URL: redisUrl,
    EVENT_SELECTORS: JSON.stringify([{ FieldSelectors: [{ Field: "eventCategory", Equals: ["Insight"] }] }]),
  });
  children.push(enricher);
  assert.equal(await enricher.exited(), 2);
  assert.match(
    enricher.lines.join("\n"),
    /EVENT_SELECTORS: InvalidEventSelectorsException: .*eventCategory Insight is for event data stores/,
  );
});
