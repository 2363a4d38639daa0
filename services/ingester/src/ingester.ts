// Wires one ingester from its configuration: AWS clients, Kafka producer, Redis, the sources.
// The service shell (packages/runtime's runService) adds the process around it.

import { readFile } from "node:fs/promises";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { createKafka, ensureTopics, openProducer, type Producer, topicValueBound } from "@trailstream/kafka";
import { describeRedisSettings, openRedis } from "@trailstream/redis";
import { createRegistry, fatalSignal, type Logger, type RunningService } from "@trailstream/runtime";
import type { Registry } from "prom-client";
import { http1Handler } from "./http1.ts";
import { Integrity } from "./integrity/integrity.ts";
import {
  cloudTrailClients,
  keysFromJson,
  ListPublicKeysSource,
  type PublicKeySource,
} from "./integrity/public-keys.ts";
import { createMetrics, type IngesterMetrics } from "./metrics.ts";
import { Semaphore } from "./semaphore.ts";
import type { IngesterConfig } from "./settings.ts";
import { Sink } from "./sink.ts";
import { KinesisSource } from "./sources/kinesis/source.ts";
import type { Source } from "./sources/source.ts";
import { EncodePool } from "./sources/sqs-s3/encode-pool.ts";
import { SqsS3Source } from "./sources/sqs-s3/source.ts";

export interface Ingester extends RunningService {
  metrics: IngesterMetrics;
  kinesis: KinesisSource[];
  sqs: SqsS3Source[];
  integrity: Integrity | undefined;
  ready(): string[];
  /** Stop taking work, finish or hand back what is in flight within `drainMs`, flush, close. */
  stop(drainMs?: number): Promise<void>;
}

export interface IngesterDeps {
  log: Logger;
  /** Where the metrics are registered (the service shell's registry); a fresh one when absent. */
  registry?: Registry;
}

export async function start(config: IngesterConfig, deps: IngesterDeps): Promise<Ingester> {
  const logger = deps.log;
  const metrics = createMetrics(deps.registry ?? createRegistry("ingester"));
  const { fatal, fail } = fatalSignal();
  logger.info(
    {
      kafkaBrokers: config.kafka.brokers,
      redis: describeRedisSettings(config.redis),
      topicRaw: config.topicRaw,
      topicDlq: config.topicDlq,
      queues: config.sqsQueueUrls,
      streams: config.kinesisStreams,
      workerId: config.workerId,
    },
    "starting",
  );

  const kafka = createKafka(config.kafka, logger);
  await ensureTopics(kafka, [
    { topic: config.topicRaw, partitions: config.topicPartitions },
    { topic: config.topicDlq, partitions: Math.min(3, config.topicPartitions) },
    ...(config.integrityEnabled
      ? [{ topic: config.topicIntegrity, partitions: Math.min(3, config.topicPartitions) }]
      : []),
  ]);
  // The cap is the smaller of KAFKA_MAX_MESSAGE_BYTES and what the topic itself accepts, so a topic
  // created with a smaller max.message.bytes dead-letters a large record instead of refusing its batch.
  const [raw, dlq] = await Promise.all([
    topicValueBound(kafka, config.topicRaw, config.kafkaMaxMessageBytes),
    topicValueBound(kafka, config.topicDlq, config.kafkaMaxMessageBytes),
  ]);
  logger.info(
    {
      topic: config.topicRaw,
      maxMessageBytes: raw.topicMaxMessageBytes ?? "unknown",
      maxRecordBytes: raw.maxValueBytes,
      dlqMaxRecordBytes: dlq.maxValueBytes,
    },
    "raw topic size bound",
  );
  const producer: Producer = await openProducer(kafka);
  const redis = openRedis(config.redis, {
    onUp: () => logger.info("Redis connected"),
    onDown: (reason) => logger.warn({ error: reason }, "Redis connection lost: reconnecting"),
  });
  await redis.connected();
  const sink = new Sink(producer, {
    topicRaw: config.topicRaw,
    topicDlq: config.topicDlq,
    batchRecords: config.kafkaBatchRecords,
    lingerMs: config.kafkaLingerMs,
    batchBytes: Math.min(config.kafkaBatchBytes, raw.maxValueBytes),
    maxMessageBytes: raw.maxValueBytes,
    dlqMaxMessageBytes: dlq.maxValueBytes,
    metrics,
  });

  const common = { region: config.region };
  const s3 = new S3Client({
    ...common,
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
    forcePathStyle: config.s3ForcePathStyle,
  });
  const sqsClient = new SQSClient({ ...common, ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}) });
  const kinesisClient = new KinesisClient({
    ...common,
    ...(config.kinesisEndpoint ? { endpoint: config.kinesisEndpoint } : {}),
    ...(config.kinesisHttpVersion === "1.1" ? { requestHandler: http1Handler() } : {}),
  });

  let keys: PublicKeySource | undefined;
  let listKeys: ListPublicKeysSource | undefined;
  if (config.integrityEnabled) {
    const file = config.integrityPublicKeysFile;
    if (file) keys = keysFromJson(JSON.parse(await readFile(file, "utf8")), file);
    else {
      listKeys = new ListPublicKeysSource(cloudTrailClients(config.cloudtrailEndpoint));
      keys = listKeys;
    }
  }
  const integrity =
    config.integrityEnabled && keys
      ? new Integrity({
          redis,
          redisPrefix: config.redisPrefix,
          keys,
          producer,
          topic: config.topicIntegrity,
          tickMs: config.integrityTickMs,
          missingGraceMs: config.integrityMissingGraceMs,
          unreferencedGraceMs: config.integrityUnreferencedGraceMs,
          stoppedAfterMs: config.integrityStoppedAfterMs,
          metrics,
          log: logger.child({ part: "integrity" }),
        })
      : undefined;

  const slots = new Semaphore(config.maxFilesInFlight);
  const encoder = new EncodePool(config.sqsQueueUrls.length > 0 ? config.decodeThreads : 0);
  const sqs = config.sqsQueueUrls.map(
    (queueUrl) =>
      new SqsS3Source({
        sqs: sqsClient,
        s3,
        queueUrl,
        waitSeconds: config.sqsWaitSeconds,
        visibilitySeconds: config.sqsVisibilitySeconds,
        slots,
        s3MaxAttempts: config.s3MaxAttempts,
        maxReceives: config.sqsMaxReceives,
        s3RetryBaseSeconds: config.s3RetryBaseSeconds,
        fileSkipWindowMs: config.fileSkipWindowMs,
        redis,
        redisPrefix: config.redisPrefix,
        maxDecompressedBytes: config.maxDecompressedBytes,
        maxRecordBytes: config.maxRecordBytes,
        batchRecords: config.kafkaBatchRecords,
        encoder,
        sink,
        ...(integrity ? { integrity } : {}),
        metrics,
        log: logger.child({ source: "sqs-s3" }),
        onStoppedForGood: fail,
      }),
  );
  const kinesis = config.kinesisStreams.map(
    (stream) =>
      new KinesisSource({
        client: kinesisClient,
        stream,
        redis,
        redisPrefix: config.redisPrefix,
        workerId: config.workerId,
        leaseDurationMs: config.leaseDurationMs,
        leaseRenewMs: config.leaseRenewMs,
        shardSyncMs: config.shardSyncMs,
        idleMs: config.kinesisIdleMs,
        maxRecords: config.kinesisMaxRecords,
        startPosition: config.kinesisStartPosition,
        startTimestamp: config.kinesisStartTimestamp,
        consumerMode: config.kinesisConsumerMode,
        consumerName: config.kinesisConsumerName,
        subscriptionMs: config.kinesisSubscriptionMs,
        fanOut: {
          endpoint: config.kinesisFanOutEndpoint,
          region: config.region,
          credentials: async () => {
            const c = await kinesisClient.config.credentials();
            return {
              accessKeyId: c.accessKeyId,
              secretAccessKey: c.secretAccessKey,
              ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
            };
          },
          verifyTls: config.kinesisFanOutTlsVerify,
        },
        sink,
        metrics,
        log: logger.child({ source: "kinesis" }),
      }),
  );

  const sources: Source[] = [...sqs, ...kinesis];
  let stopping = false;
  for (const source of sources) source.start();
  integrity?.start();
  logger.info("ingester running");

  let stopped: Promise<void> | undefined;
  const stop = (drainMs = Math.floor(config.shutdownGraceMs / 2)) => {
    stopped ??= (async () => {
      stopping = true;
      await Promise.all(sources.map((s) => s.stop(drainMs)));
      await sink.flush();
      await encoder.close();
      await integrity?.stop();
      listKeys?.close();
      await producer.close();
      await redis.close();
      for (const c of [s3, sqsClient, kinesisClient]) c.destroy();
      logger.info("ingester stopped");
    })();
    return stopped;
  };
  const ready = () => [
    ...(stopping ? ["stopping"] : []),
    ...(redis.ready() ? [] : ["redis not connected"]),
    ...sink.notReady(),
    ...sources.flatMap((s) => s.ready()),
  ];
  return { metrics, kinesis, sqs, integrity, ready, stop, fatal };
}
