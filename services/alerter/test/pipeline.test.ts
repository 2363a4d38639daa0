import assert from "node:assert/strict";
import { test } from "node:test";
import type { SinkKind } from "@trailstream/cloudtrail";
import { applyPolicy, decideAlert, MemoryWindowStore, type Rule, RuleSet } from "@trailstream/rules";
import type { AlertDocument } from "../src/alert.ts";
import { CriticalSinkError } from "../src/deliver.ts";
import { createMetrics } from "../src/metrics.ts";
import { type DeadLetterOut, type PipelineDeps, processBatch } from "../src/pipeline.ts";
import { PermanentError } from "../src/retry.ts";
import type { Sink } from "../src/sinks/sink.ts";
import { MemoryAlertState } from "../src/state-memory.ts";
import { claimVerdict } from "../src/state-redis.ts";
import { cloudTrailRecord, message, rule } from "./fixtures.ts";

function recordingSink(kind: SinkKind = "webhook", unit: "alert" | "batch" = "alert"): Sink & { got: AlertDocument[] } {
  const got: AlertDocument[] = [];
  return { kind, target: "http://127.0.0.1", unit, got, deliver: async (alerts) => void got.push(...alerts) };
}

function deps(rules: Rule[], sinks: Sink[], state = new MemoryAlertState()) {
  const dlq: DeadLetterOut[] = [];
  const d: PipelineDeps = {
    rules: new RuleSet(rules),
    state,
    sinks,
    policy: { retries: 2, baseMs: 1, maxMs: 1 },
    deadLetter: async (letters) => void dlq.push(...letters),
    metrics: createMetrics(),
    hooks: { sleep: async () => {} },
  };
  return { d, dlq };
}

const at = (iso: string) => ({ eventTime: iso });

test("decisions with an in-memory store: a threshold fires once when reached, then suppresses its window", async () => {
  const store = new MemoryWindowStore();
  const r = rule({ threshold: { count: 3, windowMs: 60_000, groupBy: ["sourceIPAddress"] } });
  const record = (ip: string) => cloudTrailRecord({ sourceIPAddress: ip });
  const t0 = Date.parse("2026-03-01T12:00:00Z");
  const reasons: string[] = [];
  for (let i = 0; i < 5; i++) reasons.push((await decideAlert(r, record("10.0.0.1"), store, t0 + i * 1_000)).reason);
  assert.deepEqual(reasons, ["below-threshold", "below-threshold", "fire", "suppressed", "suppressed"]);
  // Another group counts on its own; after the window the group may fire again.
  assert.equal((await decideAlert(r, record("10.0.0.2"), store, t0 + 5_000)).reason, "below-threshold");
  const later = t0 + 120_000;
  const again: string[] = [];
  for (let i = 0; i < 3; i++) again.push((await decideAlert(r, record("10.0.0.1"), store, later + i)).reason);
  assert.deepEqual(again, ["below-threshold", "below-threshold", "fire"]);
});

test("decisions with an in-memory store: suppression without a threshold lets one alert per group per window", async () => {
  const store = new MemoryWindowStore();
  const r = rule({ suppress: { windowMs: 600_000, groupBy: ["userIdentity.arn"] } });
  const t0 = Date.now();
  const alice = cloudTrailRecord();
  const bob = cloudTrailRecord({ userIdentity: { type: "IAMUser", arn: "arn:aws:iam::1:user/bob" } });
  assert.equal((await decideAlert(r, alice, store, t0)).fire, true);
  assert.equal((await decideAlert(r, alice, store, t0 + 1)).reason, "suppressed");
  assert.equal((await decideAlert(r, bob, store, t0 + 2)).fire, true);
});

test("the alerter's state counts an event once however often it comes, and keeps its own suppression claim", async () => {
  const state = new MemoryAlertState();
  const r = rule({ threshold: { count: 2, windowMs: 60_000, groupBy: [] } });
  const e1 = cloudTrailRecord();
  const t = Date.now();
  assert.equal((await decideAlert(r, e1, state.forEvent("a:1"), t)).reason, "below-threshold");
  assert.equal((await decideAlert(r, e1, state.forEvent("a:1"), t)).reason, "below-threshold", "same event again");
  assert.equal((await decideAlert(r, e1, state.forEvent("a:2"), t)).reason, "fire");
  assert.equal((await decideAlert(r, e1, state.forEvent("a:2"), t)).reason, "fire", "the claim is its own");
  assert.equal((await decideAlert(r, e1, state.forEvent("a:3"), t)).reason, "suppressed");
  assert.equal(claimVerdict(null, "0:1"), "new");
  assert.equal(claimVerdict("0:1", "0:1"), "again");
  assert.equal(claimVerdict("done:0:1", "0:1"), "done");
  assert.equal(claimVerdict("1:9", "0:1"), "copy");
});

test("a batch: matches become alerts in every sink; other events pass", async () => {
  const kafka = recordingSink("kafka", "batch");
  const hook = recordingSink();
  const { d, dlq } = deps([rule()], [kafka, hook]);
  const hit = cloudTrailRecord();
  const miss = cloudTrailRecord({ eventName: "DescribeTrails" });
  const result = await processBatch(0, [message(hit, 0), message(miss, 1)], d);
  assert.equal(result.events, 2);
  assert.equal(result.alerts.length, 1);
  assert.equal(kafka.got.length, 1);
  assert.equal(hook.got[0]?.identity, `111122223333:${hit.eventID}`);
  assert.equal(dlq.length, 0);
  const text = await d.metrics?.registry.metrics();
  assert.match(
    text ?? "",
    /trailstream_alerter_alerts_total\{rule="test-stop-logging",severity="high",service="alerter"\} 1/,
  );
  assert.match(text ?? "", /trailstream_alerter_event_lag_seconds_count\{service="alerter"\} 1/);
});

test("a batch that comes again raises nothing twice once done; a copy at another offset raises nothing", async () => {
  const sink = recordingSink();
  const state = new MemoryAlertState();
  const { d } = deps([rule()], [sink], state);
  const record = cloudTrailRecord();
  await processBatch(0, [message(record, 7)], d);
  await processBatch(0, [message(record, 7)], d); // re-delivered after a crash before the commit
  await processBatch(1, [message(record, 3, 1)], d); // a copy that slipped through dedup
  assert.equal(sink.got.length, 1);
});

test("a batch that died before its alerts were durable raises them again when it comes again", async () => {
  const state = new MemoryAlertState();
  const r = rule({ suppress: { windowMs: 600_000, groupBy: [] } });
  const record = cloudTrailRecord();
  const failing: Sink = {
    kind: "kafka",
    target: "topic alerts",
    unit: "batch",
    critical: true,
    deliver: async () => {
      throw new Error("broker gone");
    },
  };
  await assert.rejects(processBatch(0, [message(record, 7)], deps([r], [failing], state).d), CriticalSinkError);
  const sink = recordingSink("kafka", "batch");
  await processBatch(0, [message(record, 7)], deps([r], [sink], state).d);
  assert.equal(sink.got.length, 1, "the suppression claim was this event's own: the alert is not lost");
});

test("thresholds and suppression hold within and across batches", async () => {
  const sink = recordingSink();
  const state = new MemoryAlertState();
  const r = rule({ threshold: { count: 3, windowMs: 300_000, groupBy: ["userIdentity.arn"] } });
  const { d } = deps([r], [sink], state);
  const base = Date.now() - 60_000;
  const ev = (i: number) => cloudTrailRecord(at(new Date(base + i * 1_000).toISOString()));
  await processBatch(0, [message(ev(0), 0), message(ev(1), 1)], d);
  assert.equal(sink.got.length, 0);
  await processBatch(1, [message(ev(2), 0), message(ev(3), 1), message(ev(4), 2)], d);
  assert.equal(sink.got.length, 1);
  assert.equal(sink.got[0]?.count, 3);
});

test("a sink that stays down: bounded retries, then the DLQ with the reason; the other sinks still get it", async () => {
  let attempts = 0;
  const down: Sink = {
    kind: "webhook",
    target: "http://127.0.0.1:9",
    unit: "alert",
    deliver: async () => {
      attempts++;
      throw new Error("connection refused");
    },
  };
  const good = recordingSink("alertmanager", "batch");
  const { d, dlq } = deps([rule()], [down, good]);
  const records = [cloudTrailRecord(), cloudTrailRecord(), cloudTrailRecord()];
  const result = await processBatch(
    0,
    records.map((r, i) => message(r, i)),
    d,
  );
  assert.equal(result.alerts.length, 3);
  assert.equal(good.got.length, 3);
  assert.equal(attempts, 3, "one retry schedule (1 + 2 retries) for the whole batch, not per alert");
  assert.equal(dlq.length, 3);
  for (const { key, letter } of dlq) {
    assert.equal(letter.stage, "alerter");
    assert.equal(letter.reason, "sink-webhook");
    assert.match(letter.message, /connection refused/);
    const payload = JSON.parse(letter.payload ?? "{}") as AlertDocument;
    assert.equal(payload.identity, key);
    assert.equal(letter.origin?.kind, "s3");
  }
  assert.deepEqual(
    dlq.map((l) => l.letter.attempts),
    [3, 0, 0],
  );
});

test("a permanent refusal goes to the DLQ without retries; undecodable records are dead-lettered too", async () => {
  let attempts = 0;
  const refusing: Sink = {
    kind: "alertmanager",
    target: "http://127.0.0.1:9094",
    unit: "batch",
    deliver: async () => {
      attempts++;
      throw new PermanentError("POST answered 400: bad labels");
    },
  };
  const { d, dlq } = deps([rule()], [refusing]);
  const garbage = { ...message(cloudTrailRecord(), 1), value: Buffer.from("not json") };
  await processBatch(0, [message(cloudTrailRecord(), 0), garbage], d);
  assert.equal(attempts, 1);
  assert.deepEqual(dlq.map((l) => l.letter.reason).sort(), ["json", "sink-alertmanager"]);
  const json = dlq.find((l) => l.letter.reason === "json");
  assert.deepEqual([json?.letter.payload, json?.letter.payloadEncoding], ["not json", "utf8"]);
});

test("a slow sink cannot hold a batch past its deadline; with concurrency it delivers in parallel", async () => {
  let clock = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const delivered: string[] = [];
  const slow: Sink = {
    kind: "slack",
    target: "https://hooks.slack.com",
    unit: "alert",
    deliver: async (alerts) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      clock += 1_000; // each call takes "a second"
      inFlight--;
      for (const a of alerts) delivered.push(a.identity);
    },
  };
  const { d, dlq } = deps([rule()], [slow]);
  d.hooks = { sleep: async () => {}, concurrency: 2, deadlineMs: 3_500, clock: () => clock };
  const records = Array.from({ length: 10 }, () => cloudTrailRecord());
  await processBatch(
    0,
    records.map((r, i) => message(r, i)),
    d,
  );
  assert.equal(maxInFlight, 2);
  assert.ok(delivered.length >= 4 && delivered.length <= 6, String(delivered.length));
  assert.equal(delivered.length + dlq.length, 10);
  assert.ok(dlq.every((l) => /deadline \(3500 ms\) passed/.test(l.letter.message)));
});

test("Redis down: the batch fails before any sink is called (not committed, it comes again)", async () => {
  const sink = recordingSink();
  const state = new MemoryAlertState();
  state.claimMatches = async () => {
    throw new Error("The client is closed");
  };
  const { d } = deps([rule()], [sink], state);
  await assert.rejects(processBatch(0, [message(cloudTrailRecord(), 0)], d), /client is closed/);
  assert.equal(sink.got.length, 0);
  const text = await d.metrics?.registry.metrics();
  assert.match(text ?? "", /trailstream_alerter_redis_errors_total\{service="alerter"\} 1/);
});

test("a built-in rule under the default policy: one alert per account per window, not one per event", async () => {
  const builtin = applyPolicy([rule({ id: "cis-like", source: "cis" })]).rules;
  const sink = recordingSink();
  const { d } = deps(builtin, [sink]);
  const t0 = Date.parse("2026-03-01T12:00:00Z");
  const records = Array.from({ length: 500 }, (_, i) =>
    cloudTrailRecord({
      eventTime: new Date(t0 + i * 1_000).toISOString(),
      recipientAccountId: i % 2 === 0 ? "111122223333" : "444455556666",
    }),
  );
  await processBatch(
    0,
    records.map((r, i) => message(r, i)),
    d,
  );
  assert.equal(sink.got.length, 2, "one per account in the 15-minute window");
  assert.deepEqual(sink.got.map((a) => a.summary.recipientAccountId).sort(), ["111122223333", "444455556666"]);
});

test("a flood past the per-minute limit becomes one summary alert per batch with its count", async () => {
  const sink = recordingSink();
  const { d } = deps([rule({ id: "noisy" })], [sink]);
  d.floodPerMinute = 10;
  const t0 = Date.parse("2026-03-01T12:00:00Z");
  const batch = (from: number) =>
    Array.from({ length: 1_000 }, (_, i) =>
      message(cloudTrailRecord({ eventTime: new Date(t0 + (from + i) * 20).toISOString() }), from + i),
    );
  await processBatch(0, batch(0), d);
  await processBatch(0, batch(1_000), d);
  const single = sink.got.filter((a) => a.kind === undefined);
  const summaries = sink.got.filter((a) => a.kind === "summary");
  assert.equal(single.length, 10);
  assert.equal(summaries.length, 2, "one per batch");
  assert.equal(summaries[1]?.count, 2_000, "events in the last minute of event time");
  assert.equal(summaries[0]?.alertId, summaries[1]?.alertId, "the same minute: the same summary, replaced");
});

test("the flood limit holds when events come out of eventTime order (partitions, late trails) and when a batch comes again", async () => {
  const sink = recordingSink();
  const { d } = deps([rule({ id: "noisy" })], [sink]);
  d.floodPerMinute = 10;
  const t0 = Date.parse("2026-03-01T12:00:00Z");
  // Newest first: every event is the earliest so far in its minute.
  const records = Array.from({ length: 600 }, (_, i) =>
    cloudTrailRecord({ eventTime: new Date(t0 + 119_900 - i * 200).toISOString() }),
  );
  const messages = records.map((r, i) => message(r, i));
  for (let i = 0; i < messages.length; i += 50) await processBatch(0, messages.slice(i, i + 50), d);
  const single = sink.got.filter((a) => a.kind === undefined);
  const perMinute = new Map<number, number>();
  for (const a of single) {
    const minute = Math.floor(Date.parse(String(a.eventTime)) / 60_000);
    perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
  }
  assert.deepEqual([...perMinute.values()], [10, 10], "ten per minute of event time, two minutes");
  const last = sink.got.filter((a) => a.kind === "summary").at(-1);
  assert.equal(last?.count, 300, "the summary counts every event of its minute");
  // The first batch again (not yet marked done elsewhere): the same events keep their places.
  const before = sink.got.length;
  const again = deps([rule({ id: "noisy" })], [recordingSink()], d.state as MemoryAlertState);
  again.d.floodPerMinute = 10;
  const redelivered = await processBatch(0, messages.slice(0, 50), again.d);
  assert.equal(sink.got.length, before);
  assert.equal(redelivered.alerts.filter((a) => a.kind === undefined).length, 0, "done before: nothing twice");
});

test("a Redis that stalls (connected, no answer) fails the batch within the step bound instead of holding it", async () => {
  const sink = recordingSink();
  const stalled = new MemoryAlertState();
  stalled.claimMatches = () => new Promise(() => {});
  const { d } = deps([rule()], [sink], stalled);
  d.redisTimeoutMs = 100;
  const started = Date.now();
  await assert.rejects(processBatch(0, [message(cloudTrailRecord(), 1)], d), /Redis step took more than 100 ms/);
  assert.ok(Date.now() - started < 2_000);
  assert.equal(sink.got.length, 0, "nothing delivered: the batch comes again");
});
