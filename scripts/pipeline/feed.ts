// Feeds a generated bucket tree into the AWS emulator the way CloudTrail would: each file put into
// its trail's bucket (whose notifications go to an SQS queue), and the same events through a
// CloudWatch Logs subscription into a Kinesis stream. Used by the end-to-end test and the demo.
import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  PutSubscriptionFilterCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from "@aws-sdk/client-kinesis";
import {
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { CloudTrailRecord } from "@trailstream/cloudtrail";
import { listLogFiles } from "@trailstream/ingester/local-files";

export interface AwsEndpoint {
  endpoint: string;
  region: string;
}

export function awsClients({ endpoint, region }: AwsEndpoint) {
  const common = { region, endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } };
  return {
    s3: new S3Client({ ...common, forcePathStyle: true }),
    sqs: new SQSClient(common),
    logs: new CloudWatchLogsClient(common),
    // The emulators answer HTTP/1.1; the Kinesis client would speak HTTP/2.
    kinesis: new KinesisClient({ ...common, requestHandler: new NodeHttpHandler() }),
  };
}
export type AwsClients = ReturnType<typeof awsClients>;

export interface TreeFile {
  bucket: string;
  key: string;
  path: string;
}

/** The gzipped files of a tree whose first folder level is the bucket, in path order. */
export async function treeFiles(root: string): Promise<TreeFile[]> {
  const files = (await listLogFiles([root])).filter((f) => f.unreadable === undefined && f.key.endsWith(".json.gz"));
  return files.map((f) => {
    const [bucket = "", ...rest] = f.key.split("/");
    return { bucket, key: rest.join("/"), path: f.path };
  });
}

/** Every record of the tree's files, in file order (copies included). */
export async function treeRecords(files: readonly TreeFile[]): Promise<CloudTrailRecord[]> {
  const out: CloudTrailRecord[] = [];
  for (const f of files) {
    const body = JSON.parse(gunzipSync(await readFile(f.path)).toString("utf8")) as { Records: CloudTrailRecord[] };
    out.push(...body.Records);
  }
  return out;
}

/** One queue that every bucket of the estate notifies of new objects. Returns the queue's URL. */
export async function prepareBuckets(aws: AwsClients, buckets: readonly string[], queueName: string): Promise<string> {
  const queue = await aws.sqs.send(
    new CreateQueueCommand({ QueueName: queueName, Attributes: { VisibilityTimeout: "60" } }),
  );
  const queueUrl = queue.QueueUrl ?? "";
  const attributes = await aws.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
  );
  const queueArn = attributes.Attributes?.QueueArn ?? "";
  for (const bucket of buckets) {
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await aws.s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: { QueueConfigurations: [{ QueueArn: queueArn, Events: ["s3:ObjectCreated:*"] }] },
      }),
    );
  }
  return queueUrl;
}

/** Puts files into their buckets; returns when each was put (ms since epoch), by bucket/key. */
export async function putFiles(aws: AwsClients, files: readonly TreeFile[]): Promise<Map<string, number>> {
  const putAt = new Map<string, number>();
  for (const f of files) {
    await aws.s3.send(new PutObjectCommand({ Bucket: f.bucket, Key: f.key, Body: await readFile(f.path) }));
    putAt.set(`${f.bucket}/${f.key}`, Date.now());
  }
  return putAt;
}

/** A log group subscribed to a new Kinesis stream, as CloudTrail's CloudWatch Logs delivery would be. */
export async function prepareLogSubscription(aws: AwsClients, logGroup: string, stream: string): Promise<string> {
  await aws.kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
  let arn = "";
  for (let i = 0; i < 100 && !arn; i++) {
    const summary = await aws.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (summary.StreamDescriptionSummary?.StreamStatus === "ACTIVE")
      arn = summary.StreamDescriptionSummary.StreamARN ?? "";
    else await new Promise((r) => setTimeout(r, 100));
  }
  if (!arn) throw new Error(`Kinesis stream ${stream} did not become active`);
  await aws.logs.send(new CreateLogGroupCommand({ logGroupName: logGroup }));
  await aws.logs.send(
    new PutSubscriptionFilterCommand({
      logGroupName: logGroup,
      filterName: "to-trailstream",
      filterPattern: "",
      destinationArn: arn,
      roleArn: "arn:aws:iam::111111111111:role/cwl-to-kinesis",
    }),
  );
  return arn;
}

/** Writes records to the log group (one log stream per account and region, as CloudTrail does). */
export async function putLogEvents(
  aws: AwsClients,
  logGroup: string,
  records: readonly CloudTrailRecord[],
  batch = 50,
): Promise<Map<string, number>> {
  const putAt = new Map<string, number>();
  const byStream = new Map<string, CloudTrailRecord[]>();
  // CloudWatch Logs takes the events of one request in time order.
  const sorted = [...records].sort((a, b) => String(a.eventTime).localeCompare(String(b.eventTime)));
  for (const r of sorted) {
    const name = `${r.recipientAccountId}_CloudTrail_${r.awsRegion}`;
    byStream.set(name, [...(byStream.get(name) ?? []), r]);
  }
  for (const [logStream, list] of byStream) {
    await aws.logs
      .send(new CreateLogStreamCommand({ logGroupName: logGroup, logStreamName: logStream }))
      .catch((error: unknown) => {
        // A later window writes to the streams an earlier one created.
        if (!(error instanceof Error && error.name === "ResourceAlreadyExistsException")) throw error;
      });
    for (let i = 0; i < list.length; i += batch) {
      const chunk = list.slice(i, i + batch);
      await aws.logs.send(
        new PutLogEventsCommand({
          logGroupName: logGroup,
          logStreamName: logStream,
          logEvents: chunk.map((r) => ({
            timestamp: Date.parse(String(r.eventTime)) || Date.now(),
            message: JSON.stringify(r),
          })),
        }),
      );
      const now = Date.now();
      for (const r of chunk) putAt.set(`${r.recipientAccountId}:${r.eventID}`, now);
    }
  }
  return putAt;
}
