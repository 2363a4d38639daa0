import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DLQ_REASONS,
  decodeEnvelope,
  ENVELOPE_REJECT_REASONS,
  enrichedEnvelopeText,
  ORIGIN_KINDS,
  originLabel,
  rejectedRecordLetter,
} from "../src/index.ts";
import { realRecords } from "./support.ts";

const record = { eventID: "e-1", recipientAccountId: "111122223333", eventName: "StopLogging" };
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

test("an envelope decodes with its identity, origin and enrichment; unknown origin kinds pass through", () => {
  const ok = decodeEnvelope(bytes({ v: 1, event: record, origin: { kind: "s3", bucket: "b" }, enrichment: { x: 1 } }));
  assert.ok(ok.ok);
  assert.equal(ok.identity, "111122223333:e-1");
  assert.deepEqual(ok.envelope.origin, { kind: "s3", bucket: "b" });
  assert.deepEqual(ok.envelope.enrichment, { x: 1 });
  const newer = decodeEnvelope(JSON.stringify({ v: 1, event: record, origin: { kind: "kinesis-firehose" } }));
  assert.ok(newer.ok, "a kind a newer writer added is carried, not refused");
  assert.equal(originLabel(newer.envelope.origin.kind), "other");
  for (const kind of ORIGIN_KINDS) assert.equal(originLabel(kind), kind);
});

test("every way a value can be wrong has its reason, and each reason is in both readers' registries", () => {
  const cases: [Buffer | string | null, string][] = [
    [null, "empty"],
    [Buffer.alloc(0), "empty"],
    [Buffer.from([0xff, 0xfe, 0x7b]), "utf8"],
    ["{nope", "json"],
    ["[1,2]", "shape"],
    [JSON.stringify({ v: 2, event: record, origin: { kind: "s3" } }), "version"],
    [JSON.stringify({ v: 1, event: record }), "shape"],
    [JSON.stringify({ v: 1, event: record, origin: { kind: 3 } }), "shape"],
    [JSON.stringify({ v: 1, event: record, origin: { kind: "s3", bucket: ["b"] } }), "shape"],
    [JSON.stringify({ v: 1, event: "a string", origin: { kind: "s3" } }), "shape"],
    [JSON.stringify({ v: 1, event: { ...record, readOnly: "yes" }, origin: { kind: "s3" } }), "field"],
    [JSON.stringify({ v: 1, event: { eventName: "X" }, origin: { kind: "s3" } }), "missing-event-id"],
    [
      `{"v":1,"event":{"eventID":"e","recipientAccountId":"1","x":${"[".repeat(300)}${"]".repeat(300)}},"origin":{"kind":"s3"}}`,
      "too-deep",
    ],
  ];
  const seen = new Set<string>();
  for (const [value, reason] of cases) {
    const out = decodeEnvelope(value);
    assert.ok(!out.ok, `${String(value)} is refused`);
    assert.equal(out.reason, reason, String(value));
    assert.ok(out.message.length > 0);
    seen.add(out.reason);
  }
  assert.deepEqual([...seen].sort(), [...ENVELOPE_REJECT_REASONS].sort(), "every reject reason is reachable");
  for (const reason of ENVELOPE_REJECT_REASONS) {
    assert.ok((DLQ_REASONS.enricher as readonly string[]).includes(reason));
    assert.ok((DLQ_REASONS.alerter as readonly string[]).includes(reason));
  }
});

test("a refused value keeps what it can show: the identity and origin of a wrong-version envelope", () => {
  const out = decodeEnvelope(bytes({ v: 7, event: record, origin: { kind: "file", key: "k" } }));
  assert.ok(!out.ok);
  assert.equal(out.identity, "111122223333:e-1");
  assert.deepEqual(out.origin, { kind: "file", key: "k" });
});

test("a rejected record's letter carries its bytes as text, else base64, and leaves out giants", () => {
  const base = { stage: "enricher" as const, reason: "json" as const, message: "m", nowMs: 0 };
  const text = rejectedRecordLetter({ ...base, value: Buffer.from("{nope") });
  assert.deepEqual([text.payload, text.payloadEncoding, text.at], ["{nope", "utf8", "1970-01-01T00:00:00.000Z"]);
  const binary = rejectedRecordLetter({ ...base, reason: "utf8", value: Buffer.from([0xff, 0x00]) });
  assert.deepEqual([binary.payload, binary.payloadEncoding], ["/wA=", "base64"]);
  const giant = rejectedRecordLetter({ ...base, value: Buffer.alloc(100, 120), maxBytes: 99 });
  assert.equal(giant.payload, undefined);
  assert.match(giant.message, /100 bytes left out/);
  assert.equal(rejectedRecordLetter({ ...base, reason: "empty", value: null }).payload, undefined);
});

test("an enriched value written from the raw text reads as, and for JSON.stringify's text equals, writing the whole envelope", () => {
  const enrichment = { principal: { type: "IAMUser", name: 'alice "quoted"' }, category: "write" };
  for (const [i, event] of realRecords().entries()) {
    const envelope = { v: 1, event, origin: { kind: "s3", bucket: "b", key: `k${i}` } };
    const text = JSON.stringify(envelope);
    const out = decodeEnvelope(Buffer.from(text));
    assert.ok(out.ok);
    assert.equal(out.rawText, text);
    for (const unchecked of [false, true]) {
      const whole = JSON.stringify({ ...envelope, enrichment, ...(unchecked ? { dedup: "unchecked" } : {}) });
      assert.equal(enrichedEnvelopeText(text, enrichment, unchecked), whole);
    }
    // Another writer's spacing (pretty-printed, trailing newline): the same value, read back.
    const spaced = `${JSON.stringify(envelope, null, 2)}\n\t `;
    const spacedOut = decodeEnvelope(spaced);
    assert.ok(spacedOut.ok && spacedOut.rawText === spaced);
    assert.deepEqual(JSON.parse(enrichedEnvelopeText(spaced, enrichment, false)), { ...envelope, enrichment });
  }
});

test("no raw text is offered for a value with members beyond v, event and origin", () => {
  for (const extra of [{ enrichment: { x: 1 } }, { dedup: "unchecked" }, { note: "added by another producer" }]) {
    const out = decodeEnvelope(bytes({ v: 1, event: record, origin: { kind: "s3" }, ...extra }));
    assert.ok(out.ok);
    assert.equal(out.rawText, undefined, JSON.stringify(extra));
  }
});

test("read without its enrichment, an events value gives the same event, origin and identity; refusals are the same", () => {
  const values: string[] = [];
  for (const [i, event] of realRecords().entries()) {
    const raw = JSON.stringify({ v: 1, event, origin: { kind: "kinesis-logs", stream: `s${i}` } });
    values.push(enrichedEnvelopeText(raw, { principal: { name: "x" }, category: "write" }, i % 2 === 0));
  }
  // A member named enrichment inside the event, and an envelope written with its enrichment first.
  const nested = { ...record, requestParameters: { a: 1, enrichment: { b: 2 } } };
  values.push(JSON.stringify({ v: 1, event: nested, origin: { kind: "s3" }, enrichment: { c: 3 } }));
  values.push(JSON.stringify({ v: 1, enrichment: { c: 3 }, event: nested, origin: { kind: "s3" } }));
  values.push(JSON.stringify({ v: 1, event: record, enrichment: { c: 3 }, origin: { kind: "s3" } }));
  for (const value of values) {
    const whole = decodeEnvelope(value);
    const lean = decodeEnvelope(Buffer.from(value), { readEnrichment: false });
    assert.ok(whole.ok && lean.ok, value.slice(0, 80));
    assert.equal(lean.identity, whole.identity);
    assert.deepEqual(lean.envelope.event, whole.envelope.event);
    assert.deepEqual(lean.envelope.origin, whole.envelope.origin);
  }
  const good = values[0] ?? "";
  const refused = [
    good.slice(0, -1), // cut short after the enrichment's last member
    good.slice(0, good.lastIndexOf(',"enrichment":') + 20), // cut short inside it
    good.replace('"v":1', '"v":2'),
    good.replace('"kind":"kinesis-logs"', '"kind":7'),
    JSON.stringify({ v: 1, event: { eventName: "x" }, origin: { kind: "s3" }, enrichment: {} }),
  ];
  for (const value of refused) {
    const whole = decodeEnvelope(value);
    const lean = decodeEnvelope(value, { readEnrichment: false });
    assert.ok(!whole.ok && !lean.ok, value.slice(-60));
    assert.equal(lean.reason, whole.reason);
    assert.equal(lean.message, whole.message);
  }
});
