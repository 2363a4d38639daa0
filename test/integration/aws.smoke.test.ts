import assert from "node:assert/strict";
import { before, test } from "node:test";
import { gunzipSync } from "node:zlib";
import {
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  PutSubscriptionFilterCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { awsClients } from "../support/aws.ts";
import { type Endpoints, endpoints, requireReachable, uniqueName } from "../support/servers.ts";
import { eventually } from "../support/wait.ts";

let e: Endpoints;
let aws: ReturnType<typeof awsClients>;

before(async () => {
  e = await endpoints();
  await requireReachable("moto (AWS emulator)", e.awsEndpoint, "AWS_ENDPOINT_URL");
  await requireReachable("kinesis-local", e.kinesisEndpoint, "AWS_ENDPOINT_URL_KINESIS");
  aws = awsClients(e);
});

test("moto: an object put into a bucket with a queue notification arrives as an S3 event on SQS", async () => {
  const bucket = uniqueName("trail-bucket");
  const queue = await aws.sqs.send(new CreateQueueCommand({ QueueName: uniqueName("notices") }));
  const queueUrl = queue.QueueUrl ?? "";
  const attrs = await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
  await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await aws.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [{ QueueArn: attrs.Attributes?.QueueArn, Events: ["s3:ObjectCreated:*"] }],
      },
    }),
  );
  const key =
    "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/111122223333_CloudTrail_us-east-1_20261125T0000Z_abc.json.gz";
  await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "{}" }));

  const created = await eventually(async () => {
    const received = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const events = (received.Messages ?? [])
      .map(
        (m) =>
          JSON.parse(m.Body ?? "{}") as {
            Records?: Array<{ eventName: string; s3: { bucket: { name: string }; object: { key: string } } }>;
          },
      )
      .flatMap((body) => body.Records ?? []);
    const found = events.find((r) => r.eventName.startsWith("ObjectCreated"));
    assert.ok(found, "an ObjectCreated event is on the queue");
    return found;
  }, 15_000);
  assert.equal(created.s3.bucket.name, bucket);
  assert.equal(decodeURIComponent(created.s3.object.key.replace(/\+/g, " ")), key);
});

test("moto: a CloudWatch Logs subscription delivers gzipped DATA_MESSAGE records to its Kinesis", async () => {
  const stream = uniqueName("cwl-sub");
  const group = `/aws/cloudtrail/${uniqueName("trail")}`;
  await aws.motoKinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
  const arn = await waitForActiveStream(aws.motoKinesis, stream);
  await aws.logs.send(new CreateLogGroupCommand({ logGroupName: group }));
  await aws.logs.send(
    new CreateLogStreamCommand({ logGroupName: group, logStreamName: "111122223333_CloudTrail_us-east-1" }),
  );
  await aws.logs.send(
    new PutSubscriptionFilterCommand({
      logGroupName: group,
      filterName: "to-kinesis",
      filterPattern: "",
      destinationArn: arn,
      roleArn: "arn:aws:iam::123456789012:role/cwl-to-kinesis",
    }),
  );
  const record = {
    eventID: "5b8a9f5e-0000-4000-8000-000000000001",
    recipientAccountId: "111122223333",
    eventName: "ListBuckets",
  };
  await aws.logs.send(
    new PutLogEventsCommand({
      logGroupName: group,
      logStreamName: "111122223333_CloudTrail_us-east-1",
      logEvents: [{ timestamp: Date.now(), message: JSON.stringify(record) }],
    }),
  );

  const records = await eventually(() => readAllShards(aws.motoKinesis, stream, 1), 15_000);
  const payload = JSON.parse(gunzipSync(records[0] ?? new Uint8Array()).toString("utf8")) as {
    messageType: string;
    logGroup: string;
    logEvents: Array<{ message: string }>;
  };
  assert.equal(payload.messageType, "DATA_MESSAGE");
  assert.equal(payload.logGroup, group);
  assert.deepEqual(JSON.parse(payload.logEvents[0]?.message ?? "null"), record);
});

test("kinesis-local: records put to a stream of several shards are read back from every shard", async (t) => {
  const stream = uniqueName("multi-shard");
  await aws.kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 4 }));
  // kinesis-local holds at most 50 shards across all streams: give these back.
  t.after(() => aws.kinesis.send(new DeleteStreamCommand({ StreamName: stream, EnforceConsumerDeletion: true })));
  await waitForActiveStream(aws.kinesis, stream);
  const total = 400;
  const sent = Array.from({ length: total }, (_, i) => `event-${i}`);
  for (let start = 0; start < total; start += 100) {
    const put = await aws.kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: sent.slice(start, start + 100).map((id) => ({ PartitionKey: id, Data: Buffer.from(id) })),
      }),
    );
    assert.equal(put.FailedRecordCount ?? 0, 0);
  }
  const shards = await aws.kinesis.send(new ListShardsCommand({ StreamName: stream }));
  assert.equal(shards.Shards?.length, 4);
  const perShard = await Promise.all(
    (shards.Shards ?? []).map((s) => readShard(aws.kinesis, stream, s.ShardId ?? "", 1)),
  );
  assert.ok(
    perShard.every((records) => records.length > 0),
    `every shard holds records: ${perShard.map((r) => r.length).join(", ")}`,
  );
  const read = perShard.flat().map((d) => Buffer.from(d).toString("utf8"));
  assert.deepEqual(read.sort(), [...sent].sort());
});

async function waitForActiveStream(client: KinesisClient, stream: string): Promise<string> {
  return eventually(async () => {
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    assert.equal(summary.StreamDescriptionSummary?.StreamStatus, "ACTIVE");
    return summary.StreamDescriptionSummary?.StreamARN ?? "";
  }, 30_000);
}

async function readAllShards(client: KinesisClient, stream: string, atLeast: number): Promise<Uint8Array[]> {
  const shards = await client.send(new ListShardsCommand({ StreamName: stream }));
  const all = await Promise.all((shards.Shards ?? []).map((s) => readShard(client, stream, s.ShardId ?? "", 0)));
  const records = all.flat();
  assert.ok(records.length >= atLeast, `at least ${atLeast} record(s) in ${stream}, found ${records.length}`);
  return records;
}

/** Reads a shard from its start until `atLeast` records came, or a few empty reads in a row. */
async function readShard(
  client: KinesisClient,
  stream: string,
  shardId: string,
  atLeast: number,
): Promise<Uint8Array[]> {
  const start = await client.send(
    new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" }),
  );
  let iterator = start.ShardIterator;
  const records: Uint8Array[] = [];
  for (let emptyReads = 0; iterator && emptyReads < 10; ) {
    const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    const data = (page.Records ?? []).map((r) => r.Data ?? new Uint8Array());
    records.push(...data);
    emptyReads = data.length === 0 ? emptyReads + 1 : 0;
    if (data.length === 0 && records.length >= atLeast && emptyReads >= 2) break;
    if (data.length === 0) await new Promise((r) => setTimeout(r, 250));
    iterator = page.NextShardIterator;
  }
  return records;
}
