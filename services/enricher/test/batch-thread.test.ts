import assert from "node:assert/strict";
import { test } from "node:test";
import { type DedupVerdict, eventSelectors } from "@trailstream/cloudtrail";
import type { ConsumedMessage } from "@trailstream/kafka";
import { BatchThread } from "../src/batch-thread.ts";
import { type BatchWork, type BatchWorkOptions, inlineBatchWork } from "../src/batch-work.ts";
import type { BatchPlan } from "../src/pipeline.ts";
import { event } from "./fixtures.ts";

const NOW = Date.parse("2026-11-25T10:00:00Z");

const record = (id: string, extra: Record<string, unknown> = {}) =>
  event(id, "111122223333", {
    userIdentity: { type: "IAMUser", arn: "arn:aws:iam::111122223333:user/ana", accountId: "111122223333" },
    ...extra,
  });

const envelope = (id: string, kind = "s3", extra: Record<string, unknown> = {}) =>
  JSON.stringify({ v: 1, event: record(id, extra), origin: { kind, receivedAt: "2026-11-25T09:59:00Z" } });

/**
 * A poll's records with copies, a read-only event, an unknown field, bad JSON, no value, no eventID
 * and non-ASCII text, from two partitions (`partition` and the one after it, alternating), as a poll
 * across partitions is decoded in one go.
 */
function poll(partition = 2): ConsumedMessage[] {
  const values: (string | null)[] = [
    envelope("a", "kinesis-logs"),
    envelope("b"),
    envelope("a", "s3"),
    envelope("c", "s3", { readOnly: true, eventName: "GetUser", somethingNew: { deep: [1, 2] } }),
    "{not json",
    null,
    JSON.stringify({ v: 1, event: { eventTime: "2026-11-25T09:58:00Z" }, origin: { kind: "s3" } }),
    envelope("d", "s3", { requestParameters: { userName: "zoë 🦊" } }),
    `  ${envelope("e")}\n`,
    "",
  ];
  return values.map((v, i) => ({
    topic: "raw",
    partition: partition + (i % 2),
    offset: String(1000 + i),
    key: null,
    value: v === null ? null : Buffer.from(v),
    headers: {},
    timestampMs: NOW,
  }));
}

const OPTIONS: BatchWorkOptions = {
  topicEvents: "events",
  topicDlq: "dlq",
  maxRecordBytes: 1_000_000,
  eventSelectors: undefined,
};

/** The plan as text, whichever thread wrote it (one writes strings, the other buffers of the same bytes). */
const shown = (plan: BatchPlan) => ({
  records: plan.records.map((r) => ({ topic: r.topic, key: r.key, value: String(r.value) })),
  stats: plan.stats,
});

async function both(
  options: BatchWorkOptions,
  verdictsFor: (n: number) => DedupVerdict[] | null,
): Promise<[unknown, unknown]> {
  const thread = new BatchThread(options);
  const works: BatchWork[] = [inlineBatchWork(options), thread];
  try {
    const out: unknown[] = [];
    for (const work of works) {
      const decoded = await work.decode(poll());
      const plan = await decoded.plan(verdictsFor(decoded.claims.length), NOW);
      out.push({ claims: decoded.claims, plan: shown(plan) });
    }
    return [out[0], out[1]];
  } finally {
    await thread.close();
  }
}

test("the batch thread gives the same claims, records, dead letters and stats as the event loop", async () => {
  const [inline, threaded] = await both(OPTIONS, (n) =>
    Array.from({ length: n }, (_, i): DedupVerdict => (i === 2 ? "copy" : i === 3 ? "replay" : "first")),
  );
  assert.deepEqual(threaded, inline);
  const { claims, plan } = inline as { claims: { owner: string }[]; plan: ReturnType<typeof shown> };
  assert.equal(claims[0]?.owner, "2:1000", "owners are partition:offset");
  assert.equal(claims[1]?.owner, "3:1001", "each record keeps its own partition");
  assert.ok(
    plan.records.some((r) => r.topic === "dlq"),
    "the bad records are dead-lettered",
  );
  assert.ok(
    plan.records.some((r) => r.value.includes("zoë 🦊")),
    "non-ASCII text crosses intact",
  );
});

test("unchecked (Redis down, pass mode) and event selectors give the same on the batch thread", async () => {
  const [inline, threaded] = await both(OPTIONS, () => null);
  assert.deepEqual(threaded, inline);
  const selectors = eventSelectors([
    {
      Name: "writes",
      FieldSelectors: [
        { Field: "eventCategory", Equals: ["Management"] },
        { Field: "readOnly", Equals: ["false"] },
      ],
    },
  ]);
  const [inlineSelected, threadSelected] = await both({ ...OPTIONS, eventSelectors: selectors }, (n) =>
    Array.from({ length: n }, (): DedupVerdict => "first"),
  );
  assert.deepEqual(threadSelected, inlineSelected);
  const plan = (inlineSelected as { plan: ReturnType<typeof shown> }).plan;
  assert.ok(plan.stats.selection && plan.stats.selection.dropped > 0, "the read-only event was dropped");
});

test("a batch given up before its plan is released, and the thread goes on with the next", async () => {
  const thread = new BatchThread(OPTIONS);
  try {
    const given = await thread.decode(poll());
    given.release();
    await assert.rejects(given.plan([], NOW), /no decoded batch/, "a released batch is gone from the thread");
    const decoded = await thread.decode(poll(3));
    const plan = await decoded.plan(
      decoded.claims.map((): DedupVerdict => "first"),
      NOW,
    );
    assert.equal(plan.records.filter((r) => r.topic === "events").length, 6, "a, b, a again, c, d and e all first");
  } finally {
    await thread.close();
  }
});

test("a batch thread that dies again and again hands the work to the event loop, and says so", async () => {
  const selectors = eventSelectors([
    { Name: "all", FieldSelectors: [{ Field: "eventCategory", Equals: ["Management"] }] },
  ]);
  // A document the worker cannot compile: it dies as it starts, every time.
  const broken = { ...selectors, document: { kind: "advanced", selectors: null } } as unknown as typeof selectors;
  const heard: string[] = [];
  const thread = new BatchThread({ ...OPTIONS, eventSelectors: broken }, (message) => heard.push(message));
  try {
    let decoded: Awaited<ReturnType<BatchThread["decode"]>> | undefined;
    for (let attempt = 0; attempt < 20 && !decoded; attempt++) {
      decoded = await thread.decode(poll()).catch(() => undefined);
      if (!decoded) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(decoded, "a batch is decoded in the end");
    assert.ok(
      heard.some((m) => /died 3 times in a row/.test(m)),
      `the move to the event loop is told: ${heard.join("; ")}`,
    );
    const inline = await inlineBatchWork({ ...OPTIONS, eventSelectors: selectors }).decode(poll());
    assert.deepEqual(decoded.claims, inline.claims, "the event loop uses the selectors as compiled there");
  } finally {
    await thread.close();
  }
});
