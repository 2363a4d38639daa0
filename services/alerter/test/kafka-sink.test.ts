import assert from "node:assert/strict";
import { test } from "node:test";
import { rejectedRecordLetter } from "@trailstream/cloudtrail";
import type { OutgoingMessage, Producer } from "@trailstream/kafka";
import { boundEvent, buildAlert, decodeEvent, MAX_EVENT_BYTES } from "../src/alert.ts";
import { kafkaSink } from "../src/sinks/kafka.ts";
import { cloudTrailRecord, envelope, rule } from "./fixtures.ts";

test("the Kafka sink sends every alert, keyed by rule and group (the producer bounds the requests)", async () => {
  const sent: { topic: string; messages: readonly OutgoingMessage[] }[] = [];
  const producer: Producer = {
    send: async (topic, messages) => void sent.push({ topic, messages }),
    close: async () => {},
  };
  const decoded = decodeEvent(JSON.stringify(envelope(cloudTrailRecord())), "0:1");
  assert.ok(decoded.ok);
  const doc = buildAlert(rule(), decoded.event, { group: "", count: 1 }, Date.now());
  await kafkaSink(producer, "alerts").deliver(Array.from({ length: 400 }, () => doc));
  assert.equal(
    sent.reduce((n, s) => n + s.messages.length, 0),
    400,
  );
  for (const s of sent) {
    assert.equal(s.topic, "alerts");
    assert.equal(s.messages[0]?.key, "test-stop-logging");
  }
});

test("a huge event is cut to its summary fields in the alert; undecodable giants stay out of the DLQ payload", () => {
  const big = cloudTrailRecord({ requestParameters: { policy: "p".repeat(200_000) } });
  const decoded = decodeEvent(JSON.stringify(envelope(big)), "0:1");
  assert.ok(decoded.ok);
  const doc = buildAlert(rule(), decoded.event, { group: "", count: 1 }, Date.now());
  assert.equal(doc.eventTruncated, true);
  assert.equal(doc.event.requestParameters, undefined);
  assert.equal(doc.event.eventName, "StopLogging");
  assert.ok(JSON.stringify(doc).length < MAX_EVENT_BYTES + 4_096);
  assert.equal(boundEvent(cloudTrailRecord()), null, "ordinary events are kept whole");
  const letter = rejectedRecordLetter({
    stage: "alerter",
    reason: "json",
    message: "record 0:9 is not JSON",
    value: Buffer.alloc(600_000, 120),
    nowMs: Date.now(),
  });
  assert.equal(letter.payload, undefined);
  assert.match(letter.message, /600000 bytes left out/);
});
