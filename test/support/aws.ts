// AWS SDK clients pointed at the local emulators: moto for S3, SQS, SNS, CloudWatch Logs and the
// Kinesis that CloudWatch Logs subscriptions write to; kinesis-local for a fuller Kinesis.
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { Endpoints } from "./servers.ts";

export function awsClients(e: Endpoints) {
  const common = { region: e.region, credentials: { accessKeyId: "test", secretAccessKey: "test" } };
  return {
    s3: new S3Client({ ...common, endpoint: e.awsEndpoint, forcePathStyle: true }),
    sqs: new SQSClient({ ...common, endpoint: e.awsEndpoint }),
    logs: new CloudWatchLogsClient({ ...common, endpoint: e.awsEndpoint }),
    // The Kinesis client speaks HTTP/2 by default (for SubscribeToShard); the emulators answer HTTP/1.1.
    motoKinesis: new KinesisClient({ ...common, endpoint: e.awsEndpoint, requestHandler: new NodeHttpHandler() }),
    kinesis: new KinesisClient({ ...common, endpoint: e.kinesisEndpoint, requestHandler: new NodeHttpHandler() }),
  };
}
