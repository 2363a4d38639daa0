import assert from "node:assert/strict";
import { test } from "node:test";
import { type DedupVerdict, dedupBatch, enrich, eventSelectors, MemoryDedupStore } from "@trailstream/cloudtrail";
import type { ConsumedMessage } from "@trailstream/kafka";
import type { RedisCommand } from "@trailstream/redis";
import { HOUR_MS, identityDigest, ownerToken } from "../src/claims.ts";
import { RedisDedupStore } from "../src/dedup-redis.ts";
import { createMetrics } from "../src/metrics.ts";
import {
  applySelectors,
  type BatchPlan,
  claimsOf,
  decodeBatch,
  decodeMessage,
  localVerdicts,
  type PlanOptions,
  planBatch,
  pollChunks,
} from "../src/pipeline.ts";
import { loadSettings } from "../src/settings.ts";
import { event } from "./fixtures.ts";

const NOW = Date.parse("2026-11-25T10:00:00Z");
const OPTIONS: PlanOptions<ReturnType<typeof enrich>> = {
  topicEvents: "events",
  topicDlq: "dlq",
  enrich,
  nowMs: NOW,
  unchecked: false,
};

let offset = 0;
function message(value: unknown, partition = 0): ConsumedMessage {
  const raw =
    value instanceof Buffer
      ? value
      : value === null
        ? null
        : Buffer.from(typeof value === "string" ? value : JSON.stringify(value));
  return {
    topic: "raw",
    partition,
    offset: String(offset++),
    key: null,
    value: raw,
    headers: {},
    timestampMs: NOW,
  };
}

function envelope(id: string, kind = "s3", extra: Record<string, unknown> = {}) {
  return { v: 1, event: event(id, "111122223333", extra), origin: { kind, receivedAt: "2026-11-25T09:59:00Z" } };
}

const values = (plan: BatchPlan, topic: string) =>
  plan.records.filter((r) => r.topic === topic).map((r) => JSON.parse(String(r.value)) as Record<string, unknown>);

test("first copies go out enriched beside the record; later copies drop and are counted by origin", async () => {
  const batch = decodeBatch([
    message(envelope("a", "kinesis-logs")),
    message(envelope("b", "s3")),
    message(envelope("a", "s3")),
    message(envelope("a", "kinesis-eventbridge")),
  ]);
  const verdicts = await dedupBatch(new MemoryDedupStore({ ttlMs: 60_000, maxEntries: 100 }), claimsOf(batch.decoded));
  assert.deepEqual(verdicts, ["first", "first", "copy", "copy"]);
  const plan = planBatch(batch, verdicts, OPTIONS);
  const events = values(plan, "events");
  assert.deepEqual(
    plan.records.map((r) => r.key),
    ["111122223333:a", "111122223333:b"],
  );
  assert.deepEqual(
    events[0]?.origin,
    { kind: "kinesis-logs", receivedAt: "2026-11-25T09:59:00Z" },
    "first-seen origin",
  );
  assert.deepEqual(events[0]?.event, event("a"), "the record travels unchanged");
  assert.equal((events[0]?.enrichment as { category: string } | undefined)?.category, "management");
  assert.equal(events[0]?.dedup, undefined);
  assert.equal(plan.stats.unique, 2);
  assert.deepEqual(
    [...plan.stats.copiesByOrigin],
    [
      ["s3", 1],
      ["kinesis-eventbridge", 1],
    ],
  );
  assert.deepEqual(plan.stats.lagSeconds, [120, 120]);
});

test("a replayed record (its own claim) goes out again; a copy of it does not", () => {
  const batch = decodeBatch([message(envelope("r")), message(envelope("r"))]);
  const [own, other] = batch.decoded;
  assert.ok(own && other);
  const plan = planBatch(batch, ["replay", "copy"], OPTIONS);
  assert.equal(plan.records.length, 1);
  assert.equal(plan.stats.replays, 1);
  assert.equal(plan.stats.unique, 1);
});

test("the owner is partition:offset, so a replay after a crash finds its own claim", async () => {
  const store = new MemoryDedupStore({ ttlMs: 60_000, maxEntries: 100 });
  const m = message(envelope("crash"), 3);
  const first = decodeBatch([m]);
  assert.equal(first.decoded[0]?.owner, `3:${m.offset}`);
  assert.deepEqual(await dedupBatch(store, claimsOf(first.decoded)), ["first"]);
  assert.deepEqual(await dedupBatch(store, claimsOf(decodeBatch([m]).decoded)), ["replay"]);
  assert.deepEqual(await dedupBatch(store, claimsOf(decodeBatch([message(envelope("crash"), 3)]).decoded)), ["copy"]);
});

test("undecodable records go to the DLQ with the reason and the original bytes", () => {
  const bad = [
    message(null),
    message(Buffer.from([0xff, 0xfe, 0x00])),
    message("{not json"),
    message([1, 2]),
    message({ v: 2, event: event("x"), origin: { kind: "s3" } }),
    message({ v: 1, event: event("y") }),
    message({ v: 1, event: { eventID: "z" }, origin: { kind: "s3" } }),
    message({ v: 1, event: event("w", "111122223333", { readOnly: "yes" }), origin: { kind: "file" } }),
    message({ v: 1, event: "a string", origin: { kind: "file" } }),
  ];
  const batch = decodeBatch(bad);
  assert.equal(batch.decoded.length, 0);
  const plan = planBatch(batch, [], OPTIONS);
  const letters = values(plan, "dlq");
  assert.deepEqual(
    letters.map((l) => l.reason),
    ["empty", "utf8", "json", "shape", "version", "shape", "missing-event-id", "field", "shape"],
  );
  for (const l of letters) {
    assert.equal(l.v, 1);
    assert.equal(l.stage, "enricher");
    assert.equal(l.at, new Date(NOW).toISOString());
    assert.match(String(l.message), /raw partition 0 offset \d+/);
  }
  assert.equal(letters[1]?.payloadEncoding, "base64");
  assert.equal(Buffer.from(String(letters[1]?.payload), "base64").toString("hex"), "fffe00");
  assert.equal(letters[2]?.payload, "{not json");
  assert.equal(plan.records[4]?.key, "111122223333:x", "the identity is the key when known");
  assert.match(String(plan.records[0]?.key), /^raw:0:\d+$/);
  assert.equal(plan.stats.in, bad.length);
  assert.equal(plan.stats.dlqByReason.get("shape"), 3);
});

test("an enrichment that throws dead-letters the record instead of failing the batch", () => {
  const batch = decodeBatch([message(envelope("e1")), message(envelope("e2"))]);
  const plan = planBatch(batch, ["first", "first"], {
    ...OPTIONS,
    enrich: (r) => {
      if (r.eventID === "e2") throw new Error("boom");
      return enrich(r);
    },
  });
  assert.equal(values(plan, "events").length, 1);
  const [letter] = values(plan, "dlq");
  assert.equal(letter?.reason, "enrich");
  assert.equal(plan.stats.dlqByReason.get("enrich"), 1);
});

test("unchecked (Redis down, pass mode): copies inside the batch still collapse, outputs are flagged", () => {
  const batch = decodeBatch([message(envelope("u")), message(envelope("v")), message(envelope("u", "kinesis-raw"))]);
  const verdicts: DedupVerdict[] = localVerdicts(batch.decoded);
  assert.deepEqual(verdicts, ["first", "first", "copy"]);
  const plan = planBatch(batch, verdicts, { ...OPTIONS, unchecked: true });
  assert.deepEqual(
    values(plan, "events").map((v) => v.dedup),
    ["unchecked", "unchecked"],
  );
  assert.equal(plan.stats.unchecked, 2);
  assert.equal(plan.stats.copiesByOrigin.get("kinesis-raw"), 1);
});

test("unknown origin kinds count as `other`, keeping metric labels bounded", () => {
  const batch = decodeBatch([message(envelope("k")), message(envelope("k", "carrier-pigeon"))]);
  const plan = planBatch(batch, localVerdicts(batch.decoded), OPTIONS);
  assert.equal(plan.stats.copiesByOrigin.get("other"), 1);
});

test("decodeMessage keeps unknown record fields as they are", () => {
  const d = decodeMessage(message(envelope("f", "s3", { somethingNew: { deep: [1, 2] } })));
  assert.ok(!("reason" in d));
  assert.deepEqual(d.envelope.event.somethingNew, { deep: [1, 2] });
});

test("RedisDedupStore sends one batch, one EVALSHA per hash slot, and maps the answers to claims", async () => {
  const sent: RedisCommand[][] = [];
  const redis = {
    async batch(commands: readonly RedisCommand[]) {
      sent.push([...commands]);
      // only the held claims are answered: b (2nd) and c (3rd)
      return [[2, ownerToken("0:1"), 3, ownerToken("0:7")]];
    },
  };
  const layout = { keyPrefix: "t:", shardsPerHour: 1, windowMs: 3_600_000 };
  const store = new RedisDedupStore({ redis, ...layout, now: () => 10 * HOUR_MS });
  const eventTimeMs = 9 * HOUR_MS + 5;
  const answers = await store.claim([
    { identity: "a", owner: "0:5", eventTimeMs },
    { identity: "b", owner: "0:6", eventTimeMs },
    { identity: "c", owner: "0:7", eventTimeMs },
  ]);
  // a: taken now; b: held by another record's token; c: held by its own token (a replay)
  assert.deepEqual(answers, [null, ownerToken("0:1"), "0:7"]);
  assert.equal(sent.length, 1, "one round trip");
  // one shard: one hash, expiring a window after its hour ends, and the three claims packed
  const command = sent[0]?.[0] ?? [];
  assert.deepEqual(command.slice(2, 5), ["1", "t:{9.0}:0", String((10 * HOUR_MS + 3_600_000) / 1_000)]);
  const token = Buffer.from(ownerToken("0:5"));
  assert.deepEqual(
    (command[5] as Buffer).subarray(0, 19 + token.length),
    Buffer.concat([Buffer.from([0, 1]), identityDigest("a"), Buffer.from([token.length]), token]),
  );
});

test("config: defaults, durations, and every problem at once", () => {
  const c = loadSettings({ KAFKA_BROKERS: "k:9092", REDIS_URL: "redis://:pw@r:6379" });
  assert.equal(c.topicRaw, "cloudtrail.raw");
  assert.equal(c.topicEvents, "cloudtrail.events");
  assert.equal(c.topicDlq, "cloudtrail.dlq");
  assert.equal(c.groupId, "trailstream-enricher");
  assert.equal(c.transactionalIdPrefix, "trailstream-enricher");
  assert.equal(c.dedupTtlMs, 24 * 3_600_000);
  assert.equal(c.onRedisDown, "block");
  assert.equal(c.metricsPort, 9402);
  assert.throws(
    () =>
      loadSettings({
        REDIS_URL: "http://x",
        DEDUP_TTL: "soon",
        DEDUP_ON_REDIS_DOWN: "maybe",
        TOPIC_EVENTS: "cloudtrail.raw",
      }),
    (error: Error & { problems?: string[] }) => {
      assert.equal(error.problems?.length, 5, error.message);
      assert.doesNotMatch(error.message, /pw/);
      return true;
    },
  );
});

test("EVENT_SELECTORS drop events before any claim, counted per selector and field", async () => {
  const selectors = eventSelectors([
    {
      Name: "writes",
      FieldSelectors: [
        { Field: "eventCategory", Equals: ["Management"] },
        { Field: "readOnly", Equals: ["false"] },
      ],
    },
    {
      Name: "no kms",
      FieldSelectors: [
        { Field: "eventCategory", Equals: ["Management"] },
        { Field: "eventSource", NotEquals: ["kms.amazonaws.com"] },
      ],
    },
  ]);
  const kmsRead = { eventSource: "kms.amazonaws.com", eventName: "Decrypt", readOnly: true };
  const batch = applySelectors(
    decodeBatch([
      message(envelope("keep-1")),
      message(envelope("drop-1", "s3", kmsRead)),
      message(envelope("drop-1", "kinesis-logs", kmsRead)),
      message(envelope("keep-2", "s3", { readOnly: true })),
      message("not json"),
    ]),
    selectors,
  );
  assert.deepEqual(
    batch.decoded.map((d) => d.identity),
    ["111122223333:keep-1", "111122223333:keep-2"],
  );
  assert.deepEqual(
    claimsOf(batch.decoded).map((c) => c.identity),
    ["111122223333:keep-1", "111122223333:keep-2"],
  );
  assert.deepEqual(batch.selection, {
    dropped: 2,
    rejections: [
      [0, 2],
      [0, 2],
    ],
  });
  const store = new MemoryDedupStore({ ttlMs: 60_000, maxEntries: 100 });
  const plan = planBatch(batch, await dedupBatch(store, claimsOf(batch.decoded)), OPTIONS);
  assert.equal(plan.stats.in, 5, "dropped records are counted in");
  assert.equal(plan.stats.unique, 2);
  assert.equal(plan.stats.dlqByReason.get("json"), 1, "a record that does not decode still goes to the DLQ");

  const metrics = createMetrics(undefined, selectors);
  metrics.record(plan.stats);
  const text = await metrics.registry.metrics();
  assert.match(text, /trailstream_enricher_selected_out_total\{service="enricher"\} 2/);
  assert.match(
    text,
    /trailstream_enricher_selector_rejections_total\{selector="writes",field="readOnly",service="enricher"\} 2/,
  );
  assert.match(
    text,
    /trailstream_enricher_selector_rejections_total\{selector="no kms",field="eventSource",service="enricher"\} 2/,
  );
  assert.match(
    text,
    /trailstream_enricher_selector_rejections_total\{selector="writes",field="eventCategory",service="enricher"\} 0/,
  );
});

test("no EVENT_SELECTORS: the batch is untouched", () => {
  const batch = decodeBatch([message(envelope("a")), message(envelope("b", "s3", { readOnly: true }))]);
  assert.equal(applySelectors(batch, undefined), batch);
});

test("EVENT_SELECTORS: inline JSON or a file; invalid selectors are a configuration problem", () => {
  const base = { KAFKA_BROKERS: "k:9092", REDIS_URL: "redis://r:6379" };
  const inline = loadSettings({ ...base, EVENT_SELECTORS: '{"EventSelectors":[{"ReadWriteType":"WriteOnly"}]}' });
  assert.equal(inline.eventSelectors?.kind, "basic");
  assert.equal(loadSettings(base).eventSelectors, undefined);
  assert.throws(
    () => loadSettings({ ...base, EVENT_SELECTORS: '[{"FieldSelectors":[{"Field":"readOnly","Equals":["yes"]}]}]' }),
    /EVENT_SELECTORS: InvalidEventSelectorsException:[\s\S]*readOnly takes "true" or "false"/,
  );
  assert.throws(
    () => loadSettings({ ...base, EVENT_SELECTORS: "/nonexistent/selectors.json" }),
    /EVENT_SELECTORS: InvalidEventSelectorsException: cannot read the selectors file \/nonexistent\/selectors.json/,
  );
});

test("an enriched record over the events topic's bound goes to the DLQ as too-large; its batch goes on", () => {
  // Under the raw bound, over the events bound once enrichment copies the principal and error text.
  const big = "x".repeat(300_000);
  const batch = decodeBatch([
    message(envelope("small")),
    message(envelope("big", "s3", { errorCode: "AccessDenied", errorMessage: big, userAgent: big })),
    message(envelope("after")),
  ]);
  assert.equal(batch.rejected.length, 0, "the raw records decode");
  const plan = planBatch(batch, ["first", "first", "first"], { ...OPTIONS, maxRecordBytes: 700_000 });
  assert.deepEqual(
    values(plan, "events").map((v) => (v.event as { eventID: string }).eventID),
    ["small", "after"],
  );
  const letters = values(plan, "dlq");
  assert.equal(letters.length, 1);
  assert.equal(letters[0]?.reason, "too-large");
  assert.match(String(letters[0]?.message), /over the 700000 the events topic accepts/);
  assert.ok(plan.records.every((r) => Buffer.byteLength(String(r.value)) <= 700_000 + 1024));
});

test("a raw record nested past the depth bound is dead-lettered as too-deep, not retried", () => {
  const deep = `{"v":1,"event":{"eventID":"deep","recipientAccountId":"1","requestParameters":${"[".repeat(6000)}${"]".repeat(6000)}},"origin":{"kind":"s3","receivedAt":"2026-11-25T09:59:00Z"}}`;
  const batch = decodeBatch([message(deep), message(envelope("ok"))]);
  assert.deepEqual(
    batch.rejected.map((r) => r.reason),
    ["too-deep"],
  );
  const plan = planBatch(batch, ["first"], OPTIONS);
  assert.equal(values(plan, "dlq")[0]?.reason, "too-deep");
  assert.equal(values(plan, "events").length, 1);
});

test("pollChunks: a poll's records across partitions in fetch order, cut into near-equal chunks of at most the bound", () => {
  const message = (partition: number, offset: number): ConsumedMessage => ({
    topic: "raw",
    partition,
    offset: String(offset),
    key: null,
    value: null,
    headers: {},
    timestampMs: 0,
  });
  const batches = [
    { topic: "raw", partition: 0, messages: Array.from({ length: 1_300 }, (_, i) => message(0, i)) },
    { topic: "raw", partition: 4, messages: Array.from({ length: 801 }, (_, i) => message(4, i)) },
  ];
  const chunks = pollChunks(batches, 1_000);
  assert.deepEqual(
    chunks.map((c) => c.length),
    [701, 701, 699],
  );
  const flat = chunks.flat();
  assert.deepEqual(
    flat,
    batches.flatMap((b) => b.messages),
    "every record once, in the fetch's order",
  );
  assert.deepEqual(
    pollChunks(batches, 10_000).map((c) => c.length),
    [2_101],
    "a poll under the bound is one chunk, partitions together",
  );
  assert.deepEqual(pollChunks([], 1_000), []);
  assert.deepEqual(pollChunks([{ topic: "raw", partition: 1, messages: [] }], 1_000), []);
});
