// The pure parts of enhanced fan-out: event-stream framing (split anywhere, checksums checked),
// SubscribeToShard events and exceptions, and the SigV4 headers' shape.
import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32 } from "node:zlib";
import { EventStreamDecoder, FanOutError, shardEvent, signedHeaders } from "../src/sources/kinesis/fanout.ts";

/** An event-stream message with string headers, framed as AWS frames it. */
function frame(headers: Record<string, string>, payload: string): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name);
    const v = Buffer.from(value);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(v.length);
    parts.push(Buffer.from([n.length]), n, Buffer.from([7]), len, v);
  }
  const h = Buffer.concat(parts);
  const body = Buffer.from(payload);
  const total = 12 + h.length + body.length + 4;
  const prelude = Buffer.alloc(8);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(h.length, 4);
  const preludeCrc = Buffer.alloc(4);
  preludeCrc.writeUInt32BE(crc32(prelude));
  const withoutCrc = Buffer.concat([prelude, preludeCrc, h, body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(withoutCrc));
  return Buffer.concat([withoutCrc, crc]);
}

const event = (body: object) =>
  frame(
    { ":message-type": "event", ":event-type": "SubscribeToShardEvent", ":content-type": "application/json" },
    JSON.stringify(body),
  );

test("messages split across chunks at any byte come out whole, in order", () => {
  const one = event({
    Records: [{ SequenceNumber: "1", Data: Buffer.from("hello").toString("base64"), PartitionKey: "a" }],
    ContinuationSequenceNumber: "1",
    MillisBehindLatest: 0,
  });
  const two = event({ Records: [], ContinuationSequenceNumber: null, ChildShards: [{ ShardId: "shardId-2" }] });
  const bytes = Buffer.concat([one, two]);
  for (const cut of [1, 5, 12, one.length - 1, one.length, one.length + 3]) {
    const d = new EventStreamDecoder();
    const got = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))].map(shardEvent);
    assert.equal(got.length, 2, `cut at ${cut}`);
    assert.equal(Buffer.from(got[0]?.records[0]?.Data ?? []).toString(), "hello");
    assert.equal(got[0]?.continuationSequenceNumber, "1");
    assert.deepEqual(got[1]?.childShards, ["shardId-2"]);
    assert.equal(got[1]?.continuationSequenceNumber, null, "a closed shard read to its end");
  }
});

test("a damaged message is refused, and an exception in the stream becomes its error", () => {
  const bad = event({ Records: [] });
  bad.writeUInt8(bad.readUInt8(bad.length - 1) ^ 0xff, bad.length - 1);
  assert.throws(() => new EventStreamDecoder().push(bad), /checksum/);
  const [exception] = new EventStreamDecoder().push(
    frame(
      { ":message-type": "exception", ":exception-type": "ResourceInUseException" },
      JSON.stringify({ message: "Another active subscription exists" }),
    ),
  );
  assert.ok(exception);
  assert.throws(
    () => shardEvent(exception),
    (e: unknown) => e instanceof FanOutError && e.name === "ResourceInUseException" && /Another active/.test(e.message),
  );
  const [initial] = new EventStreamDecoder().push(
    frame({ ":message-type": "event", ":event-type": "initial-response" }, "{}"),
  );
  assert.equal(initial && shardEvent(initial), null, "the initial response carries no records");
});

test("SigV4: the signed headers, the scope and a signature that changes with the body", () => {
  const url = new URL("https://kinesis.eu-west-1.amazonaws.com/");
  const creds = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "token" };
  const at = new Date("2026-12-06T04:00:00Z");
  const h = signedHeaders(url, "SubscribeToShard", "{}", "eu-west-1", creds, at);
  assert.equal(h["x-amz-date"], "20261206T040000Z");
  assert.equal(h["x-amz-target"], "Kinesis_20131202.SubscribeToShard");
  assert.equal(h["x-amz-security-token"], "token");
  assert.match(
    h.authorization ?? "",
    /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261206\/eu-west-1\/kinesis\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
  );
  const other = signedHeaders(url, "SubscribeToShard", '{"a":1}', "eu-west-1", creds, at);
  assert.notEqual(other.authorization, h.authorization);
  assert.equal(signedHeaders(url, "SubscribeToShard", "{}", "eu-west-1", creds, at).authorization, h.authorization);
});
