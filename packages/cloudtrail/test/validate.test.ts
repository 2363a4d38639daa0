// The decoders' one-pass check (isCarriableRecord, and the origin check in decodeEnvelope) against the
// checks it stands in for: it may say no where they say yes (they then run and accept), never yes
// where they refuse; and every refusal keeps its reason and sentence.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeEnvelope, deeperThan, MAX_RECORD_DEPTH, validateRecord } from "../src/index.ts";
import { isCarriableRecord } from "../src/validate.ts";

const base = { eventID: "e-1", recipientAccountId: "111122223333", eventName: "StopLogging" };
const envelope = (event: unknown, origin: unknown = { kind: "s3" }) => JSON.stringify({ v: 1, event, origin });

/** A chain of `levels` containers (arrays and objects by `pattern`), innermost holding `leaf`. */
function chain(levels: number, pattern: (level: number) => "array" | "object" = () => "array", leaf: unknown = 1) {
  let v: unknown = leaf;
  for (let level = levels; level >= 1; level--) v = pattern(level) === "array" ? [v] : { k: v };
  return v;
}

/** A small seeded PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function reasonOf(text: string): string {
  const out = decodeEnvelope(text);
  return out.ok ? "ok" : out.reason;
}

test("the depth bound is exact: containers 256 levels down pass, 257 are too deep, by arrays, objects or both", () => {
  // The record is level 1, so a field holding a chain of n containers reaches level n + 1.
  const patterns: ((level: number) => "array" | "object")[] = [
    () => "array",
    () => "object",
    (level) => (level % 2 ? "array" : "object"),
  ];
  for (const pattern of patterns) {
    const fits = { ...base, x: chain(MAX_RECORD_DEPTH - 1, pattern) };
    const over = { ...base, x: chain(MAX_RECORD_DEPTH, pattern) };
    assert.equal(deeperThan(fits, MAX_RECORD_DEPTH), false);
    assert.equal(deeperThan(over, MAX_RECORD_DEPTH), true);
    assert.equal(isCarriableRecord(fits), true);
    assert.equal(isCarriableRecord(over), false);
    assert.equal(reasonOf(envelope(fits)), "ok");
    assert.equal(reasonOf(envelope(over)), "too-deep");
  }
  // An empty container at the bound counts as deep as a full one.
  assert.equal(reasonOf(envelope({ ...base, x: chain(MAX_RECORD_DEPTH - 1, () => "array", []) })), "too-deep");
  assert.equal(reasonOf(envelope({ ...base, x: chain(MAX_RECORD_DEPTH - 1, () => "object", {}) })), "too-deep");
  assert.equal(reasonOf(envelope({ ...base, x: chain(MAX_RECORD_DEPTH - 2, () => "object", {}) })), "ok");
});

test("a deep branch is found wherever it hides in a wide record: last key, last element, behind thousands of siblings", () => {
  const wide: Record<string, unknown> = { ...base };
  for (let i = 0; i < 5_000; i++) wide[`k${i}`] = { a: [i, { b: "[[[[" }], c: null };
  assert.equal(reasonOf(envelope(wide)), "ok");
  assert.equal(reasonOf(envelope({ ...wide, zz: chain(MAX_RECORD_DEPTH) })), "too-deep");
  const elements: unknown[] = Array.from({ length: 5_000 }, (_, i) => ({ i }));
  assert.equal(reasonOf(envelope({ ...base, list: [...elements, chain(MAX_RECORD_DEPTH - 2)] })), "ok");
  assert.equal(reasonOf(envelope({ ...base, list: [...elements, chain(MAX_RECORD_DEPTH - 1)] })), "too-deep");
  // Deep inside a known field the checks also read.
  const identity = { type: "IAMUser", sessionContext: chain(MAX_RECORD_DEPTH - 1, () => "object") };
  assert.equal(reasonOf(envelope({ ...base, userIdentity: identity })), "too-deep");
});

test("adversarial depth: a hundred thousand levels are refused as too deep, without overflowing the stack", () => {
  for (const [open, close] of [
    ["[", "]"],
    ['{"a":', "}"],
  ] as const) {
    const text = `{"v":1,"origin":{"kind":"s3"},"event":{"eventID":"e","recipientAccountId":"1","x":${open.repeat(100_000)}1${close.repeat(100_000)}}}`;
    const out = decodeEnvelope(text);
    assert.ok(!out.ok);
    assert.equal(out.reason, "too-deep");
    assert.equal(out.message, `the record is nested deeper than ${MAX_RECORD_DEPTH} levels (at $.event)`);
  }
  // Brackets in strings are text, not nesting; nesting outside the event (the enrichment) is not checked.
  assert.equal(reasonOf(envelope({ ...base, x: "[".repeat(10_000) })), "ok");
  assert.equal(reasonOf(JSON.stringify({ v: 1, event: base, origin: { kind: "s3" }, enrichment: chain(1_000) })), "ok");
});

test("a seeded sweep of random trees near the bound: the one-pass check agrees with deeperThan on every one", () => {
  const rnd = random(14);
  const tree = (levels: number): unknown => {
    // A spine of `levels` containers with random siblings along it, some reaching one level past
    // the spine's end (the container built at step `level` has `level` - 1 levels of spine below it).
    let v: unknown = rnd() < 0.5 ? [] : {};
    for (let level = 2; level <= levels; level++) {
      const siblings: unknown[] = Array.from({ length: Math.floor(rnd() * 3) }, () =>
        rnd() < 0.3 ? chain(Math.floor(rnd() * (level + 1))) : rnd() < 0.5 ? "s" : null,
      );
      const at = Math.floor(rnd() * (siblings.length + 1));
      siblings.splice(at, 0, v);
      v = rnd() < 0.5 ? siblings : Object.fromEntries(siblings.map((s, i) => [`f${i}`, s]));
    }
    return v;
  };
  let deep = 0;
  for (let i = 0; i < 300; i++) {
    const record = { ...base, x: tree(MAX_RECORD_DEPTH - 4 + Math.floor(rnd() * 8)) };
    const tooDeep = deeperThan(record, MAX_RECORD_DEPTH);
    if (tooDeep) deep++;
    assert.equal(isCarriableRecord(record), !tooDeep, `tree ${i}`);
    assert.equal(reasonOf(envelope(record)), tooDeep ? "too-deep" : "ok", `tree ${i}`);
  }
  assert.ok(deep > 50 && deep < 250, `both sides of the bound are tried (${deep} of 300 too deep)`);
});

test("every known field with every kind of value: accepted exactly when its type is right, refused with the same sentence", () => {
  const samples: [string, unknown][] = [
    ["undefined", undefined],
    ["null", null],
    ["empty", ""],
    ["string", "s"],
    ["number", 0],
    ["boolean", false],
    ["array", []],
    ["object", {}],
  ];
  const allowed: Record<string, string[]> = {
    string: ["undefined", "null", "empty", "string"],
    object: ["undefined", "null", "object"],
    boolean: ["undefined", "null", "boolean"],
    identity: ["string"],
  };
  const fields: [string, keyof typeof allowed][] = [
    ...[
      "eventVersion",
      "eventTime",
      "eventSource",
      "eventName",
      "awsRegion",
      "sourceIPAddress",
      "userAgent",
      "errorCode",
      "errorMessage",
      "requestID",
      "eventType",
      "eventCategory",
      "sharedEventID",
      "vpcEndpointId",
    ].map((f) => [f, "string"] as [string, "string"]),
    ["userIdentity", "object"],
    ["addendum", "object"],
    ["readOnly", "boolean"],
    ["managementEvent", "boolean"],
    ["eventID", "identity"],
    ["recipientAccountId", "identity"],
  ];
  for (const [field, kind] of fields) {
    for (const [name, value] of samples) {
      const record: Record<string, unknown> = { ...base, [field]: value };
      if (value === undefined) delete record[field];
      const expected = (allowed[kind] ?? []).includes(name) && !(kind === "identity" && value === "");
      assert.equal(isCarriableRecord(record), expected, `${field} = ${name}`);
      const checked = validateRecord(record, "$.event");
      assert.equal(checked.ok, expected, `${field} = ${name}`);
      const out = decodeEnvelope(envelope(record));
      assert.equal(out.ok, expected, `${field} = ${name}`);
      if (!checked.ok && !out.ok) {
        assert.equal(out.reason, kind === "identity" ? "missing-event-id" : "field");
        assert.equal(out.message, checked.error.message);
        assert.match(out.message, new RegExp(`^${field} `));
      }
    }
  }
  // Not an object at all.
  for (const value of [null, [], "x", 1]) assert.equal(isCarriableRecord(value), false);
});

test("every origin field with every kind of value: the one-pass origin check agrees with the field-by-field one", () => {
  const fields = [
    "kind",
    "bucket",
    "key",
    "account",
    "region",
    "stream",
    "shardId",
    "sequenceNumber",
    "logGroup",
    "receivedAt",
  ];
  for (const field of fields) {
    for (const value of [undefined, null, "", "s", 0, true, [], {}]) {
      const origin: Record<string, unknown> = { kind: "s3", bucket: "b", [field]: value };
      if (value === undefined) delete origin[field];
      const expected =
        field === "kind" ? typeof value === "string" && value !== "" : value === undefined || typeof value === "string";
      const out = decodeEnvelope(envelope(base, origin));
      assert.equal(out.ok, expected, `origin.${field} = ${JSON.stringify(value)}`);
      if (!out.ok) {
        assert.equal(out.reason, "shape");
        assert.match(out.message, new RegExp(`^origin\\.${field} is `));
        assert.equal(out.identity, "111122223333:e-1");
      }
    }
  }
  // An origin that is not an object, and the envelope's own version, keep their reasons.
  assert.equal(reasonOf(envelope(base, ["s3"])), "shape");
  assert.equal(reasonOf(JSON.stringify({ v: "1", event: base, origin: { kind: "s3" } })), "version");
});
