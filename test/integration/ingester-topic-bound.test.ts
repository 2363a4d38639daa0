// The ingester's size cap comes from the raw topic itself: a topic created with a small
// max.message.bytes gets its oversize records dead-lettered as too-large, and the rest of the file
// (and the stream) goes on. Without reading the topic's bound the broker refuses the whole batch and
// the file comes back again and again.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { type Ingester, loadSettings, start as startIngester } from "@trailstream/ingester";
import { createKafka, ensureTopics } from "@trailstream/kafka";
import { createLogger } from "@trailstream/runtime";
import { awsClients } from "../support/aws.ts";
import {
  freshRecords,
  identityOf,
  ingesterEnv,
  type Json,
  logFile,
  stratusRecords,
  trailKey,
} from "../support/ingester.ts";
import { type Endpoints, endpoints, requireReachable, uniqueName } from "../support/servers.ts";
import { TopicReader } from "../support/topic-reader.ts";
import { eventually } from "../support/wait.ts";

const TOPIC_MAX = 20_000;

let e: Endpoints;
let ingester: Ingester | undefined;
let raw: TopicReader | undefined;
let dlq: TopicReader | undefined;

before(async () => {
  e = await endpoints();
  await requireReachable("Kafka", e.kafkaBrokers[0] ?? "", "KAFKA_BROKERS");
  await requireReachable("Redis", e.redisUrl, "REDIS_URL");
  await requireReachable("moto (AWS emulator)", e.awsEndpoint, "AWS_ENDPOINT_URL");
});

after(async () => {
  await ingester?.stop();
  await Promise.all([raw?.close(), dlq?.close()]);
});

function s3Notice(bucket: string, key: string): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: "us-east-1",
        eventTime: new Date().toISOString(),
        eventName: "ObjectCreated:Put",
        s3: { bucket: { name: bucket }, object: { key } },
      },
    ],
  });
}

test("a raw topic with a small max.message.bytes: an oversize record is dead-lettered as too-large and the stream moves on", async () => {
  const aws = awsClients(e);
  const kafka = createKafka({ brokers: e.kafkaBrokers, clientId: "ingester-topic-bound-test" });
  const topics = { raw: uniqueName("raw-small"), dlq: uniqueName("dlq") };
  await ensureTopics(kafka, [
    { topic: topics.raw, partitions: 3, config: { "max.message.bytes": String(TOPIC_MAX) } },
    { topic: topics.dlq, partitions: 1 },
  ]);
  [raw, dlq] = await Promise.all([TopicReader.open(kafka, topics.raw), TopicReader.open(kafka, topics.dlq)]);
  const bucket = uniqueName("trail-bound");
  await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const queueUrl = (await aws.sqs.send(new CreateQueueCommand({ QueueName: uniqueName("notices") }))).QueueUrl ?? "";

  // KAFKA_MAX_MESSAGE_BYTES stays at its default (1,000,000): only the topic says 20,000.
  ingester = await startIngester(
    loadSettings(
      ingesterEnv(e, {
        TOPIC_RAW: topics.raw,
        TOPIC_DLQ: topics.dlq,
        SQS_QUEUE_URLS: queueUrl,
        S3_RETRY_BASE_SECONDS: "1",
        LOG_LEVEL: "error",
      }),
    ),
    { log: createLogger("ingester", "error") },
  );

  const templates = await stratusRecords();
  const before = freshRecords(templates, 30, uniqueName("before"));
  const oversize = { ...freshRecords(templates, 1, uniqueName("big"))[0], padding: "x".repeat(TOPIC_MAX * 2) };
  const afterwards = freshRecords(templates, 30, uniqueName("after"));
  const account = String(before[0]?.recipientAccountId);
  const firstKey = trailKey(account, "us-east-1");
  await aws.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: firstKey,
      Body: logFile([...before, oversize, ...before.slice(0, 3)]),
    }),
  );
  await aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: s3Notice(bucket, firstKey) }));
  // A second file after the first: the stream moves on past the oversize record.
  const secondKey = trailKey(account, "us-east-1");
  await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: secondKey, Body: logFile(afterwards) }));
  await aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: s3Notice(bucket, secondKey) }));

  const bigIdentity = identityOf(oversize as Json);
  await eventually(
    async () => {
      const missing = [...before, ...afterwards].filter((r) => (raw?.envelopes(identityOf(r)).length ?? 0) === 0);
      assert.equal(missing.length, 0, `${missing.length} records not on the raw topic`);
      const letter = ((dlq?.values ?? []) as Json[]).find((l) => l.reason === "too-large");
      assert.ok(letter, "a too-large dead letter");
      assert.match(String(letter.message), new RegExp(bigIdentity));
      assert.equal(letter.key, firstKey, "the letter says which file the record came from");
    },
    60_000,
    250,
  );
  assert.equal(raw?.envelopes(bigIdentity).length, 0, "the oversize record is not on the raw topic");
  await eventually(
    async () => {
      const a = await aws.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      assert.equal(a.Attributes?.ApproximateNumberOfMessages, "0");
      assert.equal(a.Attributes?.ApproximateNumberOfMessagesNotVisible, "0", "both notices acknowledged");
    },
    30_000,
    500,
  );
  const dlqMetric = await ingester.metrics.registry.getSingleMetricAsString("trailstream_ingester_dlq_records_total");
  assert.match(dlqMetric, /reason="too-large"[^}]*\} 1\b/);
});
