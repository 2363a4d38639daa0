// The sqs-s3 source against fake SQS and S3 clients: the paths the emulators cannot produce
// (access denied) and the ones that must not delete (Kafka failing).

import assert from "node:assert/strict";
import { PassThrough, Readable } from "node:stream";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { IngesterRedis } from "../src/leases.ts";
import { Semaphore } from "../src/semaphore.ts";
import { Sink } from "../src/sink.ts";
import { EncodePool } from "../src/sources/sqs-s3/encode-pool.ts";
import { SqsS3Source } from "../src/sources/sqs-s3/source.ts";
import { FakeProducer, fakeClient, silent } from "./fakes.ts";

const KEY =
  "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/111122223333_CloudTrail_us-east-1_20261125T0000Z_a.json.gz";
const notice = JSON.stringify({ s3Bucket: "trail", s3ObjectKey: [KEY] });

function setup(options: {
  s3: Record<string, (input: Record<string, unknown>) => unknown>;
  deliveries: number;
  visibilitySeconds?: number;
  maxReceives?: number;
  redis?: IngesterRedis;
  fileSkipWindowMs?: number;
}) {
  let delivered = 0;
  const sqs = fakeClient({
    ReceiveMessageCommand: async () => {
      if (delivered >= options.deliveries) {
        await new Promise((r) => setTimeout(r, 20));
        return { Messages: [] };
      }
      delivered++;
      return {
        Messages: [
          {
            MessageId: "m1",
            ReceiptHandle: `r${delivered}`,
            Body: notice,
            Attributes: { ApproximateReceiveCount: String(delivered) },
          },
        ],
      };
    },
    DeleteMessageCommand: () => ({}),
    ChangeMessageVisibilityCommand: () => ({}),
  });
  const s3 = fakeClient(options.s3);
  const producer = new FakeProducer();
  const sink = new Sink(producer, { topicRaw: "raw", topicDlq: "dlq", batchRecords: 100, lingerMs: 0 });
  const source = new SqsS3Source({
    sqs: sqs as unknown as SQSClient,
    s3: s3 as unknown as S3Client,
    queueUrl: "http://sqs/q",
    waitSeconds: 0,
    visibilitySeconds: options.visibilitySeconds ?? 30,
    slots: new Semaphore(2),
    s3MaxAttempts: 2,
    s3RetryBaseSeconds: 7,
    ...(options.maxReceives === undefined ? {} : { maxReceives: options.maxReceives }),
    fileSkipWindowMs: options.fileSkipWindowMs ?? 0,
    redis: options.redis ?? { command: async () => null, batch: async () => [], script: async () => null },
    redisPrefix: "t:",
    maxDecompressedBytes: 1 << 20,
    maxRecordBytes: 1 << 20,
    batchRecords: 100,
    encoder: new EncodePool(0),
    sink,
    log: silent,
  });
  return { sqs, s3, producer, source };
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("access denied is retried with backoff (visibility), then dead-lettered and deleted", async () => {
  const denied = Object.assign(new Error("Access Denied"), {
    name: "AccessDenied",
    $metadata: { httpStatusCode: 403 },
  });
  const { sqs, producer, source } = setup({
    deliveries: 2,
    s3: {
      GetObjectCommand: () => {
        throw denied;
      },
    },
  });
  source.start();
  await until(() => sqs.calls.some((c) => c.name === "DeleteMessageCommand"));
  await source.stop(100);
  const visibility = sqs.calls.filter((c) => c.name === "ChangeMessageVisibilityCommand");
  assert.deepEqual(
    visibility.map((c) => [c.input.ReceiptHandle, c.input.VisibilityTimeout]),
    [["r1", 7]],
    "first attempt: back in 7 s",
  );
  const deletes = sqs.calls.filter((c) => c.name === "DeleteMessageCommand").map((c) => c.input.ReceiptHandle);
  assert.deepEqual(deletes, ["r2"], "deleted after the second attempt, once the dead letter was written");
  const [letter] = producer.values("dlq") as Record<string, unknown>[];
  assert.equal(letter?.reason, "access-denied");
  assert.equal(letter?.bucket, "trail");
  assert.equal(letter?.key, KEY);
  assert.equal(letter?.attempts, 2);
});

test("when Kafka fails the message is not deleted; it comes back after a short backoff", async () => {
  const body = gzipSync(
    JSON.stringify({ Records: [{ eventID: "e1", recipientAccountId: "111122223333", eventVersion: "1.08" }] }),
  );
  const { sqs, producer, source } = setup({
    deliveries: 1,
    s3: { GetObjectCommand: () => ({ Body: Readable.from([body]), ETag: '"abc"', ContentLength: body.length }) },
  });
  producer.fail = new Error("broker down");
  source.start();
  await until(() => sqs.calls.some((c) => c.name === "ChangeMessageVisibilityCommand"));
  await source.stop(100);
  assert.equal(sqs.calls.filter((c) => c.name === "DeleteMessageCommand").length, 0);
  const change = sqs.calls.find((c) => c.name === "ChangeMessageVisibilityCommand");
  assert.ok(Number(change?.input.VisibilityTimeout) <= 2);
});

test("the records of a file reach Kafka before the message is deleted", async () => {
  const records = Array.from({ length: 250 }, (_, i) => ({
    eventID: `e${i}`,
    recipientAccountId: "111122223333",
    eventVersion: "1.08",
  }));
  const body = gzipSync(JSON.stringify({ Records: records }));
  const { sqs, producer, source } = setup({
    deliveries: 1,
    s3: { GetObjectCommand: () => ({ Body: Readable.from([body.subarray(0, 100), body.subarray(100)]) }) },
  });
  producer.delayMs = 30;
  let sentAtDelete = -1;
  const deleteHandler = sqs.send;
  sqs.send = async (command) => {
    if (command.constructor.name === "DeleteMessageCommand") sentAtDelete = producer.values("raw").length;
    return deleteHandler(command);
  };
  source.start();
  await until(() => sentAtDelete >= 0);
  await source.stop(100);
  assert.equal(sentAtDelete, 250);
});

test("on stop, a file still in progress is handed back: its message is made visible at once, not deleted", async () => {
  const body = gzipSync(
    JSON.stringify({ Records: [{ eventID: "e1", recipientAccountId: "111122223333", eventVersion: "1.08" }] }),
  );
  const slow = new PassThrough();
  slow.write(body.subarray(0, 10)); // the rest never comes
  const { sqs, source } = setup({ deliveries: 1, s3: { GetObjectCommand: () => ({ Body: slow }) } });
  source.start();
  await until(() => sqs.calls.some((c) => c.name === "ReceiveMessageCommand"));
  await new Promise((r) => setTimeout(r, 50));
  await source.stop(50);
  assert.equal(sqs.calls.filter((c) => c.name === "DeleteMessageCommand").length, 0);
  const change = sqs.calls
    .filter((c) => c.name === "ChangeMessageVisibilityCommand")
    .map((c) => c.input.VisibilityTimeout);
  assert.deepEqual(change, [0]);
});

test("while a file is still being read, the message's visibility is extended", async () => {
  const records = Array.from({ length: 40 }, (_, i) => ({
    eventID: `e${i}`,
    recipientAccountId: "111122223333",
    eventVersion: "1.08",
  }));
  const body = gzipSync(JSON.stringify({ Records: records }));
  const slow = new PassThrough();
  const { sqs, producer, source } = setup({
    deliveries: 1,
    visibilitySeconds: 2,
    s3: { GetObjectCommand: () => ({ Body: slow }) },
  });
  source.start();
  // The file arrives over 2.5 s; the visibility (2 s) is renewed every second meanwhile.
  const half = Math.floor(body.length / 2);
  slow.write(body.subarray(0, half));
  await new Promise((r) => setTimeout(r, 2_500));
  slow.end(body.subarray(half));
  await until(() => sqs.calls.some((c) => c.name === "DeleteMessageCommand"));
  await source.stop(100);
  const renewals = sqs.calls.filter(
    (c) => c.name === "ChangeMessageVisibilityCommand" && c.input.VisibilityTimeout === 2,
  );
  assert.ok(renewals.length >= 2, `renewed ${renewals.length} times`);
  assert.equal(producer.values("raw").length, 40);
});

test("a message that keeps failing is dead-lettered as processing-failed after SQS_MAX_RECEIVES and deleted", async () => {
  const broken = Object.assign(new Error("We encountered an internal error"), {
    name: "InternalError",
    $metadata: { httpStatusCode: 500 },
  });
  const { sqs, producer, source } = setup({
    deliveries: 3,
    maxReceives: 3,
    s3: {
      GetObjectCommand: () => {
        throw broken;
      },
    },
  });
  source.start();
  await until(() => sqs.calls.some((c) => c.name === "DeleteMessageCommand"));
  await source.stop(100);
  const backoffs = sqs.calls
    .filter((c) => c.name === "ChangeMessageVisibilityCommand")
    .map((c) => c.input.ReceiptHandle);
  assert.deepEqual(backoffs, ["r1", "r2"], "retried twice with backoff");
  assert.deepEqual(
    sqs.calls.filter((c) => c.name === "DeleteMessageCommand").map((c) => c.input.ReceiptHandle),
    ["r3"],
  );
  const [letter] = producer.values("dlq") as Record<string, unknown>[];
  assert.equal(letter?.reason, "processing-failed");
  assert.equal(letter?.attempts, 3);
  assert.equal(letter?.key, KEY);
  assert.match(String(letter?.message), /failed 3 receives: We encountered an internal error/);
});

test("a Redis that does not answer cannot hold the S3 path: the identical-file check gives up and the file is read", async () => {
  const body = gzipSync(
    JSON.stringify({ Records: [{ eventID: "e1", recipientAccountId: "111122223333", eventVersion: "1.08" }] }),
  );
  const { sqs, producer, source } = setup({
    deliveries: 1,
    fileSkipWindowMs: 3_600_000,
    redis: {
      command: () => new Promise(() => {}),
      batch: () => new Promise(() => {}),
      script: () => new Promise(() => {}),
    },
    s3: { GetObjectCommand: () => ({ Body: Readable.from([body]), ETag: '"abc"', ContentLength: body.length }) },
  });
  const started = Date.now();
  source.start();
  await until(() => sqs.calls.some((c) => c.name === "DeleteMessageCommand"), 8_000);
  await source.stop(100);
  assert.ok(Date.now() - started < 5_000, `${Date.now() - started} ms`);
  assert.equal(producer.values("raw").length, 1);
});

test("messages received beyond the free file slots wait for one; on stop they are handed back unread", async () => {
  const sqs = fakeClient({
    ReceiveMessageCommand: async (input) => {
      if (sqs.calls.filter((c) => c.name === "ReceiveMessageCommand").length > 1) {
        await new Promise((r) => setTimeout(r, 20));
        return { Messages: [] };
      }
      assert.equal(input.MaxNumberOfMessages, 10, "one receive asks for a batch, not one message per free slot");
      return {
        Messages: Array.from({ length: 5 }, (_, i) => ({
          MessageId: `m${i}`,
          ReceiptHandle: `r${i}`,
          Body: notice,
          Attributes: { ApproximateReceiveCount: "1" },
        })),
      };
    },
    ChangeMessageVisibilityCommand: () => ({}),
  });
  const slow = new PassThrough(); // the first file never finishes
  const s3 = fakeClient({ GetObjectCommand: () => ({ Body: slow }) });
  const producer = new FakeProducer();
  const source = new SqsS3Source({
    sqs: sqs as unknown as SQSClient,
    s3: s3 as unknown as S3Client,
    queueUrl: "http://sqs/q",
    waitSeconds: 0,
    visibilitySeconds: 30,
    slots: new Semaphore(1),
    s3MaxAttempts: 2,
    s3RetryBaseSeconds: 7,
    fileSkipWindowMs: 0,
    redis: { command: async () => null, batch: async () => [], script: async () => null },
    redisPrefix: "t:",
    maxDecompressedBytes: 1 << 20,
    maxRecordBytes: 1 << 20,
    batchRecords: 100,
    encoder: new EncodePool(0),
    sink: new Sink(producer, { topicRaw: "raw", topicDlq: "dlq", batchRecords: 100, lingerMs: 0 }),
    log: silent,
  });
  source.start();
  await until(() => s3.calls.length > 0);
  await source.stop(50);
  assert.equal(s3.calls.length, 1, "only the message holding the one slot was read");
  const handedBack = sqs.calls
    .filter((c) => c.name === "ChangeMessageVisibilityCommand" && c.input.VisibilityTimeout === 0)
    .map((c) => c.input.ReceiptHandle)
    .sort();
  assert.deepEqual(handedBack, ["r0", "r1", "r2", "r3", "r4"]);
  assert.equal(producer.sent.length, 0);
});
