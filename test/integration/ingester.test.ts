// The ingester against the real servers: S3 notifications on SQS (every form), CloudWatch Logs
// through moto's Kinesis, and bad inputs of every kind ending in the DLQ while the stream goes on.
// Kinesis leases across processes are in ingester-kinesis.test.ts.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import {
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  PutSubscriptionFilterCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { type Ingester, loadSettings, replayCommand, replayHelp, start as startIngester } from "@trailstream/ingester";
import { createKafka } from "@trailstream/kafka";
import { createLogger } from "@trailstream/runtime";
import { awsClients } from "../support/aws.ts";
import {
  deleteStream,
  freshRecords,
  identityOf,
  ingesterEnv,
  type Json,
  logFile,
  stratusFiles,
  stratusRecords,
  testTopics,
  trailKey,
} from "../support/ingester.ts";
import { type Endpoints, endpoints, requireReachable, uniqueName } from "../support/servers.ts";
import { type Envelope, TopicReader } from "../support/topic-reader.ts";
import { eventually } from "../support/wait.ts";

let e: Endpoints;
let aws: ReturnType<typeof awsClients>;
let kafka: ReturnType<typeof createKafka>;

before(async () => {
  e = await endpoints();
  await requireReachable("Kafka", e.kafkaBrokers[0] ?? "", "KAFKA_BROKERS");
  await requireReachable("Redis", e.redisUrl, "REDIS_URL");
  await requireReachable("moto (AWS emulator)", e.awsEndpoint, "AWS_ENDPOINT_URL");
  aws = awsClients(e);
  kafka = createKafka({ brokers: e.kafkaBrokers, clientId: "ingester-test" });
});

async function queueEmpty(queueUrl: string): Promise<void> {
  const a = await aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  assert.equal(a.Attributes?.ApproximateNumberOfMessages, "0", "no message waiting");
  assert.equal(a.Attributes?.ApproximateNumberOfMessagesNotVisible, "0", "no message in flight");
}

function s3Event(bucket: string, key: string, size?: number, eTag?: string): Json {
  return {
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: "us-east-1",
        eventTime: new Date().toISOString(),
        eventName: "ObjectCreated:Put",
        s3: {
          s3SchemaVersion: "1.0",
          bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: {
            key: encodeURIComponent(key).replace(/%2F/g, "/"),
            ...(size ? { size } : {}),
            ...(eTag ? { eTag } : {}),
          },
        },
      },
    ],
  };
}

function sns(message: Json): string {
  return JSON.stringify({
    Type: "Notification",
    MessageId: crypto.randomUUID(),
    TopicArn: "arn:aws:sns:us-east-1:111122223333:cloudtrail-notices",
    Message: JSON.stringify(message),
    Timestamp: new Date().toISOString(),
  });
}

/** Every record is on the raw topic, exactly as written, under its identity, from an S3 origin. */
function assertDelivered(raw: TopicReader, records: readonly Json[], bucket: string): void {
  const missing = records.filter((r) => raw.envelopes(identityOf(r)).length === 0);
  assert.equal(missing.length, 0, `${missing.length} of ${records.length} records missing`);
  for (const r of records) {
    const copies = raw.envelopes(identityOf(r));
    const mine = copies.find((c) => c.origin.bucket === bucket) ?? copies[0];
    assert.ok(mine);
    assert.equal(mine.v, 1);
    assert.deepEqual(mine.event, r, "the record travels exactly as in the file");
    assert.equal(mine.origin.kind, "s3");
    assert.equal(typeof mine.origin.receivedAt, "string");
  }
}

describe("ingester: sqs-s3 source", () => {
  let ingester: Ingester;
  let raw: TopicReader;
  let dlq: TopicReader;
  let queueUrl: string;
  let bucket: string;
  let quiet: string;

  before(async () => {
    const topics = await testTopics(kafka);
    [raw, dlq] = await Promise.all([TopicReader.open(kafka, topics.raw), TopicReader.open(kafka, topics.dlq)]);
    bucket = uniqueName("trail-a");
    quiet = uniqueName("trail-b");
    const queue = await aws.sqs.send(new CreateQueueCommand({ QueueName: uniqueName("notices") }));
    queueUrl = queue.QueueUrl ?? "";
    const attrs = await aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
    );
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await aws.s3.send(new CreateBucketCommand({ Bucket: quiet }));
    await aws.s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          QueueConfigurations: [{ QueueArn: attrs.Attributes?.QueueArn, Events: ["s3:ObjectCreated:*"] }],
        },
      }),
    );
    const env = ingesterEnv(e, {
      TOPIC_RAW: topics.raw,
      TOPIC_DLQ: topics.dlq,
      SQS_QUEUE_URLS: queueUrl,
      S3_MAX_ATTEMPTS: "2",
      S3_RETRY_BASE_SECONDS: "1",
      MAX_FILES_IN_FLIGHT: "4",
      LOG_LEVEL: "error",
    });
    ingester = await startIngester(loadSettings(env), { log: createLogger("ingester", "error") });
  });

  after(async () => {
    await ingester?.stop();
    await Promise.all([raw?.close(), dlq?.close()]);
  });

  test("log files put into a bucket with a queue notification arrive record for record; the queue ends empty", async () => {
    const files = await stratusFiles();
    const groups = [files.slice(0, 12), files.slice(12, 24), files.slice(24)];
    const all: Json[] = [];
    for (const group of groups) {
      const records = group.flatMap((f) => f.records);
      all.push(...records);
      const account = String(records[0]?.recipientAccountId);
      await aws.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: trailKey(account, "us-east-1"), Body: logFile(records) }),
      );
    }
    // Digest and insight files are recognised by their key and not read as logs (a digest is not
    // {"Records":[...]}; read as a log it would end in the DLQ).
    const digestKey = trailKey("111122223333", "us-east-1", { kind: "digest" });
    await aws.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: digestKey,
        Body: gzipSync(JSON.stringify({ awsAccountId: "111122223333", logFiles: [] })),
      }),
    );
    const insightKey = trailKey("111122223333", "us-east-1", { kind: "insight" });
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: insightKey, Body: gzipSync("not a log") }));

    await eventually(async () => assertDelivered(raw, all, bucket), 60_000, 250);
    assert.equal(all.length, 310);
    await eventually(() => queueEmpty(queueUrl), 30_000, 500);
    const dlqKeys = dlq.values.map((v) => (v as Json).key);
    assert.ok(
      !dlqKeys.includes(digestKey) && !dlqKeys.includes(insightKey),
      "digest and insight files are not read as logs",
    );
    const metrics = await ingester.metrics.registry.getSingleMetricAsString("trailstream_ingester_notifications_total");
    assert.match(metrics, /kind="s3"/);
    assert.match(metrics, /kind="s3-test"/, "the test event S3 sent when notifications were set up was acknowledged");
  });

  test("SNS-wrapped notices, CloudTrail's SNS notice with several keys and EventBridge Object Created", async () => {
    const templates = await stratusRecords();
    const batches = [0, 1, 2, 3].map(() => freshRecords(templates, 40));
    const keys: string[] = [];
    for (const records of batches) {
      const key = trailKey("123456789012", "eu-west-1");
      keys.push(key);
      await aws.s3.send(new PutObjectCommand({ Bucket: quiet, Key: key, Body: logFile(records) }));
    }
    const [k0, k1, k2, k3] = keys as [string, string, string, string];
    const bodies = [
      sns(s3Event(quiet, k0)),
      sns({ s3Bucket: quiet, s3ObjectKey: [k1, k2] }),
      JSON.stringify({
        version: "0",
        id: crypto.randomUUID(),
        "detail-type": "Object Created",
        source: "aws.s3",
        account: "123456789012",
        time: new Date().toISOString(),
        region: "eu-west-1",
        resources: [`arn:aws:s3:::${quiet}`],
        detail: { version: "0", bucket: { name: quiet }, object: { key: k3, size: 1 }, reason: "PutObject" },
      }),
    ];
    for (const body of bodies) await aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    await eventually(async () => assertDelivered(raw, batches.flat(), quiet), 60_000, 250);
    for (const [i, key] of keys.entries()) {
      const first = batches[i]?.[0];
      assert.ok(first);
      assert.equal(raw.envelopes(identityOf(first))[0]?.origin.key, key);
    }
    await eventually(() => queueEmpty(queueUrl), 30_000, 500);
    const metrics = await ingester.metrics.registry.getSingleMetricAsString("trailstream_ingester_notifications_total");
    for (const kind of ["sns-s3", "cloudtrail-sns", "eventbridge-s3"])
      assert.match(metrics, new RegExp(`kind="${kind}"`));
  });

  test("a byte-identical file (same ETag and size) is skipped unread and counted", async () => {
    const templates = await stratusRecords();
    const records = freshRecords(templates, 25);
    const body = logFile(records);
    const first = trailKey("123456789012", "us-west-2");
    const put = await aws.s3.send(new PutObjectCommand({ Bucket: quiet, Key: first, Body: body }));
    await aws.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(s3Event(quiet, first)) }),
    );
    await eventually(async () => assertDelivered(raw, records, quiet), 30_000, 250);
    await eventually(() => queueEmpty(queueUrl), 30_000, 250);
    const skippedBefore = await skipped();

    // The second trail's copy: same bytes, another key; one notice with ETag and size, one without.
    const second = trailKey("123456789012", "us-west-2", { prefix: "other-trail" });
    const third = trailKey("123456789012", "us-west-2", { prefix: "third-trail" });
    await aws.s3.send(new PutObjectCommand({ Bucket: quiet, Key: second, Body: body }));
    await aws.s3.send(new PutObjectCommand({ Bucket: quiet, Key: third, Body: body }));
    const eTag = put.ETag?.replace(/"/g, "");
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(s3Event(quiet, second, body.length, eTag)),
      }),
    );
    await aws.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: sns({ s3Bucket: quiet, s3ObjectKey: [third] }) }),
    );
    await eventually(async () => assert.equal(await skipped(), skippedBefore + 2), 30_000, 250);
    await eventually(() => queueEmpty(queueUrl), 30_000, 250);
    const copies = records.flatMap((r) => raw.envelopes(identityOf(r))).filter((c) => c.origin.key !== first);
    assert.equal(copies.length, 0, "nothing of the identical files was sent");
  });

  async function skipped(): Promise<number> {
    const m = await ingester.metrics.registry
      .getSingleMetric("trailstream_ingester_skipped_identical_files_total")
      ?.get();
    return m?.values[0]?.value ?? 0;
  }

  test("bad inputs end in the DLQ with their reason, are deleted, and the stream goes on", async () => {
    const templates = await stratusRecords();
    const send = (body: string) => aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const tag = uniqueName("bad");

    // Notifications that are not notifications.
    await send(`${tag} this is not JSON`);
    await send(JSON.stringify({ tag, hello: "world" }));

    // A corrupt gzip file: a good start, then cut short.
    const good = freshRecords(templates, 30);
    const corruptKey = trailKey("123456789012", "us-east-2");
    const whole = logFile(good);
    await aws.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: corruptKey, Body: whole.subarray(0, Math.floor(whole.length / 2)) }),
    );

    // A file with one record that has no eventID: that record is dead-lettered, the rest go on.
    const mixed = freshRecords(templates, 20);
    const { eventID: _dropped, ...noId } = mixed[5] ?? {};
    const mixedRecords = [...mixed.slice(0, 5), noId, ...mixed.slice(6)];
    const mixedKey = trailKey("123456789012", "us-east-2");
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: mixedKey, Body: logFile(mixedRecords) }));

    // A notice for an object that does not exist: retried with backoff, then dead-lettered.
    const missingKey = trailKey("123456789012", "ap-south-1");
    await send(JSON.stringify(s3Event(quiet, missingKey)));

    // And the stream keeps going.
    const after = freshRecords(templates, 15);
    await aws.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: trailKey("123456789012", "us-east-2"), Body: logFile(after) }),
    );

    const letters = () => dlq.values as Json[];
    const find = (pred: (l: Json) => boolean) => letters().find(pred);
    await eventually(
      async () => {
        assert.ok(
          find((l) => l.reason === "notification-json" && String(l.payload).startsWith(tag)),
          "not JSON",
        );
        assert.ok(
          find((l) => l.reason === "notification-unknown-envelope" && String(l.payload).includes(tag)),
          "unknown envelope",
        );
        assert.ok(
          find((l) => l.reason === "gzip" && l.key === corruptKey && l.bucket === bucket),
          "corrupt gzip",
        );
        assert.ok(
          find((l) => l.reason === "missing-event-id" && l.key === mixedKey),
          "record without eventID",
        );
        const missing = find((l) => l.reason === "missing-object" && l.key === missingKey);
        assert.ok(missing, "missing object");
        assert.equal(missing.attempts, 2);
        assert.equal(missing.bucket, quiet);
      },
      60_000,
      500,
    );
    for (const l of letters()) {
      assert.equal(l.v, 1);
      assert.equal(l.stage, "ingester");
      assert.equal(typeof l.message, "string");
    }
    await eventually(
      async () => assertDelivered(raw, [...mixedRecords.filter((r) => r.eventID), ...after], bucket),
      30_000,
    );
    await eventually(() => queueEmpty(queueUrl), 30_000, 500);
    const dlqMetric = await ingester.metrics.registry.getSingleMetricAsString("trailstream_ingester_dlq_records_total");
    assert.match(dlqMetric, /reason="missing-object"/);
  });
});

describe("ingester: kinesis source fed by a CloudWatch Logs subscription (moto)", () => {
  test("records put to the log group arrive on raw; EventBridge and bare records too; garbage goes to the DLQ", async () => {
    const topics = await testTopics(kafka);
    const [raw, dlq] = await Promise.all([TopicReader.open(kafka, topics.raw), TopicReader.open(kafka, topics.dlq)]);
    const kinesis = aws.motoKinesis;
    const stream = uniqueName("cwl");
    const group = `/aws/cloudtrail/${uniqueName("trail")}`;
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    const arn = await eventually(async () => {
      const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
      assert.equal(s.StreamDescriptionSummary?.StreamStatus, "ACTIVE");
      return s.StreamDescriptionSummary?.StreamARN ?? "";
    }, 30_000);
    await aws.logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    const logStream = "111122223333_CloudTrail_us-east-1";
    await aws.logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: logStream }));
    await aws.logs.send(
      new PutSubscriptionFilterCommand({
        logGroupName: group,
        filterName: "to-kinesis",
        filterPattern: "",
        destinationArn: arn,
        roleArn: "arn:aws:iam::123456789012:role/cwl-to-kinesis",
      }),
    );
    const ingester = await startIngester(
      loadSettings(
        ingesterEnv(e, {
          TOPIC_RAW: topics.raw,
          TOPIC_DLQ: topics.dlq,
          KINESIS_STREAMS: stream,
          AWS_ENDPOINT_URL_KINESIS: e.awsEndpoint,
          LOG_LEVEL: "error",
        }),
      ),
      { log: createLogger("ingester", "error") },
    );
    try {
      const templates = await stratusRecords();
      const viaLogs = templates.slice(0, 60);
      await aws.logs.send(
        new PutLogEventsCommand({
          logGroupName: group,
          logStreamName: logStream,
          logEvents: viaLogs.map((r) => ({ timestamp: Date.now(), message: JSON.stringify(r) })),
        }),
      );
      const [viaBridge, bare] = [freshRecords(templates, 5), freshRecords(templates, 5)];
      const bridge = viaBridge.map((r) => ({
        version: "0",
        id: crypto.randomUUID(),
        "detail-type": "AWS API Call via CloudTrail",
        source: `aws.${String(r.eventSource).split(".")[0]}`,
        account: r.recipientAccountId,
        time: r.eventTime,
        region: "us-east-1",
        resources: [],
        detail: r,
      }));
      const garbage = `${uniqueName("garbage")} not a payload`;
      const { eventID: _gone, ...noId } = freshRecords(templates, 1)[0] ?? {};
      const notCloudTrail = {
        "detail-type": "EC2 Instance State-change Notification",
        source: "aws.ec2",
        tag: uniqueName("ec2"),
      };
      const badLogEvent = freshRecords(templates, 1)[0] ?? {};
      await aws.logs.send(
        new PutLogEventsCommand({
          logGroupName: group,
          logStreamName: logStream,
          logEvents: [
            { timestamp: Date.now(), message: "{ not json" },
            { timestamp: Date.now(), message: JSON.stringify(badLogEvent) },
          ],
        }),
      );
      await kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: [
            { PartitionKey: "bad", Data: Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5]) },
            { PartitionKey: "bad", Data: Buffer.from(JSON.stringify(noId)) },
            { PartitionKey: "bad", Data: Buffer.from(JSON.stringify(notCloudTrail)) },
          ],
        }),
      );
      await kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: [
            ...bridge.map((b) => ({ PartitionKey: "eb", Data: Buffer.from(JSON.stringify(b)) })),
            ...bare.map((r) => ({ PartitionKey: "raw", Data: Buffer.from(JSON.stringify(r)) })),
            { PartitionKey: "bad", Data: Buffer.from(garbage) },
          ],
        }),
      );
      await eventually(
        async () => {
          for (const [records, kind] of [
            [viaLogs, "kinesis-logs"],
            [viaBridge, "kinesis-eventbridge"],
            [bare, "kinesis-raw"],
          ] as const) {
            for (const r of records) {
              const env: Envelope | undefined = raw.envelopes(identityOf(r))[0];
              assert.ok(env, `${kind}: ${identityOf(r)} arrived`);
              assert.deepEqual(env.event, r);
              assert.equal(env.origin.kind, kind);
              assert.equal(env.origin.stream, stream);
              assert.equal(typeof env.origin.sequenceNumber, "string");
              if (kind === "kinesis-logs") assert.equal(env.origin.logGroup, group);
            }
          }
          const letters = dlq.values as Json[];
          const decoded = (l: Json) => Buffer.from(String(l.payload ?? ""), "base64").toString("utf8");
          assert.ok(
            letters.find((l) => l.reason === "json" && decoded(l) === garbage),
            "the garbage record is dead-lettered with its bytes",
          );
          const reasons = new Set(letters.map((l) => l.reason));
          for (const reason of ["gzip", "missing-event-id", "unknown-envelope"]) assert.ok(reasons.has(reason), reason);
          const bad = letters.find(
            (l) => l.reason === "json" && (l.origin as Json | undefined)?.kind === "kinesis-logs",
          );
          assert.ok(bad, "the log event that is not JSON is dead-lettered on its own");
          assert.ok(
            raw.envelopes(identityOf(badLogEvent)).length > 0,
            "its neighbour in the same payload went through",
          );
        },
        60_000,
        500,
      );
    } finally {
      await ingester.stop();
      await Promise.all([raw.close(), dlq.close()]);
      await deleteStream(kinesis, stream);
    }
  });
});

describe("ingester: files source (trailstream replay)", () => {
  test("replay sends every record of a folder of log files to raw; digest files are skipped, corrupt ones dead-lettered", async () => {
    const topics = await testTopics(kafka);
    const [raw, dlq] = await Promise.all([TopicReader.open(kafka, topics.raw), TopicReader.open(kafka, topics.dlq)]);
    const dir = await mkdtemp(join(tmpdir(), "replay-"));
    try {
      const records = await stratusRecords();
      const files: [string, Buffer][] = [
        [trailKey("111122223333", "us-east-1"), logFile(records.slice(0, 150))],
        [
          trailKey("111122223333", "us-east-1").replace(/\.gz$/, ""),
          Buffer.from(JSON.stringify({ Records: records.slice(150) })),
        ],
        [trailKey("111122223333", "us-east-1", { kind: "digest" }), gzipSync("{}")],
        [trailKey("111122223333", "us-east-2"), logFile(records.slice(0, 10)).subarray(0, 40)],
      ];
      for (const [key, body] of files) {
        await mkdir(join(dir, dirname(key)), { recursive: true });
        await writeFile(join(dir, key), body);
      }
      const code = await replayCommand(["--quiet", "--topic", topics.raw, "--dlq-topic", topics.dlq, dir], {
        KAFKA_BROKERS: e.kafkaBrokers.join(","),
      });
      assert.equal(code, 3, "exit 3: a file went to the DLQ");
      await eventually(
        async () => {
          for (const r of records) {
            const env = raw.envelopes(identityOf(r))[0];
            assert.ok(env, `${identityOf(r)} replayed`);
            assert.deepEqual(env.event, r);
            assert.equal(env.origin.kind, "file");
          }
          const letter = (dlq.values as Json[]).find((l) => l.reason === "gzip");
          assert.ok(letter, "the corrupt file is dead-lettered");
          assert.equal(letter.key, files[3]?.[0]);
        },
        30_000,
        250,
      );
      assert.match(replayHelp, /Usage: trailstream replay/);
      assert.equal(await replayCommand([], {}), 2, "no PATH: a usage error");
    } finally {
      await rm(dir, { recursive: true, force: true });
      await Promise.all([raw.close(), dlq.close()]);
    }
  });
});
