// The whole pipeline for the fault campaign: ingester, enricher and alerter as separate processes
// (test/support/service-process.ts, the end-to-end test's launcher), several replicas of each, fed by
// S3 notifications on SQS; live readers of the events, alerts and DLQ topics (read_committed) that
// count records by key; and the verdict, counted by identity against the estate's truth.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import {
  type BatchConsumer,
  consumerGroupLag,
  type createKafka,
  ensureTopics,
  startBatchConsumer,
} from "@trailstream/kafka";
import type { AwsClients } from "../../scripts/pipeline/feed.ts";
import { type ServiceName, type ServiceProcess, startServiceProcess } from "../../test/support/service-process.ts";
import type { CampaignEstate } from "./estate.ts";

export type Kafka = ReturnType<typeof createKafka>;
export const SERVICES: readonly ServiceName[] = ["ingester", "enricher", "alerter"];

export interface PipelineOptions {
  run: string;
  kafkaBrokers: string;
  redisUrl: string;
  awsEndpoint: string;
  region: string;
  queueUrl: string;
  replicas: number;
  logDir: string;
  partitions?: number;
  /** Settings per service on top of the campaign's. */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
}

export interface Pipeline {
  partitions: number;
  topics: { raw: string; events: string; alerts: string; dlq: string };
  groups: { enricher: string; alerter: string };
  replicas: Record<ServiceName, ServiceProcess[]>;
  /** SIGTERM to every replica; the exit codes, by service. */
  stop(): Promise<Record<ServiceName, Array<number | null>>>;
  /** SIGKILL to whatever still runs (cleanup). */
  kill(): Promise<void>;
}

export async function startPipeline(kafka: Kafka, o: PipelineOptions): Promise<Pipeline> {
  const topics = {
    raw: `raw.${o.run}`,
    events: `events.${o.run}`,
    alerts: `alerts.${o.run}`,
    dlq: `dlq.${o.run}`,
  };
  const groups = { enricher: `${o.run}-enricher`, alerter: `${o.run}-alerter` };
  await ensureTopics(
    kafka,
    Object.values(topics).map((topic) => ({ topic, partitions: o.partitions ?? 4 })),
  );
  const common = {
    KAFKA_BROKERS: o.kafkaBrokers,
    REDIS_URL: o.redisUrl,
    TOPIC_RAW: topics.raw,
    TOPIC_EVENTS: topics.events,
    TOPIC_ALERTS: topics.alerts,
    TOPIC_DLQ: topics.dlq,
    AWS_REGION: o.region,
    AWS_ENDPOINT_URL: o.awsEndpoint,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    LOG_LEVEL: "warn",
  };
  const env: Record<ServiceName, Record<string, string>> = {
    ingester: {
      ...common,
      SQS_QUEUE_URLS: o.queueUrl,
      SQS_WAIT_SECONDS: "1",
      // A killed replica's messages come back this soon (the live ones renew theirs).
      SQS_VISIBILITY_TIMEOUT_SECONDS: "20",
      REDIS_KEY_PREFIX: `${o.run}:ingester:`,
      INTEGRITY: "false",
      ...o.env?.ingester,
    },
    enricher: {
      ...common,
      ENRICHER_GROUP_ID: groups.enricher,
      DEDUP_KEY_PREFIX: `${o.run}:dedup:`,
      DEDUP_TTL: "2h",
      DEDUP_SHARDS_PER_HOUR: "4096",
      ...o.env?.enricher,
    },
    alerter: {
      ...common,
      ALERTER_GROUP_ID: groups.alerter,
      ALERTER_KEY_PREFIX: `${o.run}:alerter:`,
      // The alerts topic is the sink judged; Alertmanager has its own campaign (bench/fault-alerts.ts).
      ALERTMANAGER_URL: "",
      // One alert per rule and group for the whole run, so "once per group" is exact.
      ALERT_SUPPRESS_DEFAULT: "24h",
      ALERT_FLOOD_PER_MINUTE: "0",
      ...o.env?.alerter,
    },
  };
  const replicas = { ingester: [], enricher: [], alerter: [] } as Record<ServiceName, ServiceProcess[]>;
  for (const name of SERVICES) {
    for (let i = 0; i < o.replicas; i++) {
      const logDir = join(o.logDir, `${name}-${i + 1}`);
      await mkdir(logDir, { recursive: true });
      replicas[name].push(await startServiceProcess(name, env[name], { logDir }));
    }
  }
  const all = () => SERVICES.flatMap((n) => replicas[n]);
  await Promise.all(all().map((s) => s.ready(120_000)));
  return {
    partitions: o.partitions ?? 4,
    topics,
    groups,
    replicas,
    async stop() {
      const codes = { ingester: [], enricher: [], alerter: [] } as Record<ServiceName, Array<number | null>>;
      await Promise.all(
        SERVICES.map(async (n) => {
          codes[n] = await Promise.all(replicas[n].map((s) => s.stop()));
        }),
      );
      return codes;
    },
    async kill() {
      await Promise.all(all().map((s) => s.kill().catch(() => {})));
    },
  };
}

/** A live read_committed reader of a topic from its start: how many times each key came. */
export class KeyCounter {
  readonly counts = new Map<string, number>();
  readonly values: string[] = [];
  records = 0;
  lastAt = Date.now();
  /** The last offset counted, by partition. */
  readonly #last = new Map<number, bigint>();
  #consumer: BatchConsumer | undefined;

  static async open(kafka: Kafka, topic: string, options: { keepValues?: boolean } = {}): Promise<KeyCounter> {
    const counter = new KeyCounter();
    counter.#consumer = await startBatchConsumer(kafka, {
      groupId: `reader-${topic}-${Date.now().toString(36)}`,
      topics: [topic],
      fromBeginning: true,
      readCommitted: true,
      handle: async (batch) => {
        // The reader's own group may see a batch again (a broker restart, a rebalance): each
        // offset counts once, so what is counted twice is on the topic twice.
        const seen = counter.#last.get(batch.partition) ?? -1n;
        for (const m of batch.messages) {
          if (BigInt(m.offset) <= seen) continue;
          counter.#last.set(batch.partition, BigInt(m.offset));
          counter.records++;
          const key = m.key?.toString("utf8") ?? "";
          counter.counts.set(key, (counter.counts.get(key) ?? 0) + 1);
          if (options.keepValues) counter.values.push(m.value?.toString("utf8") ?? "");
        }
        // A fetch that holds only a transaction marker comes as an empty batch: not news.
        if (batch.messages.length === 0) return;
        counter.lastAt = Date.now();
      },
    });
    await counter.#consumer.started;
    return counter;
  }

  close(): Promise<void> {
    return this.#consumer?.close() ?? Promise.resolve();
  }
}

export interface Readers {
  events: KeyCounter;
  alerts: KeyCounter;
  dlq: KeyCounter;
  close(): Promise<void>;
}

export async function openReaders(kafka: Kafka, topics: Pipeline["topics"]): Promise<Readers> {
  const [events, alerts, dlq] = await Promise.all([
    KeyCounter.open(kafka, topics.events),
    KeyCounter.open(kafka, topics.alerts, { keepValues: true }),
    KeyCounter.open(kafka, topics.dlq, { keepValues: true }),
  ]);
  return {
    events,
    alerts,
    dlq,
    close: async () => {
      await Promise.all([events.close(), alerts.close(), dlq.close()]);
    },
  };
}

export interface Progress {
  /** Distinct identities on the events topic. */
  identities: number;
  /**
   * Raw records the enricher group has not committed, events the alerter group has not. The events
   * topic is written in transactions: each partition ends with a commit marker that kafkajs never
   * hands over nor commits past, so a caught-up alerter group shows a lag of up to one per partition.
   */
  enricherLag: bigint;
  alerterLag: bigint;
  /** SQS messages waiting or in flight. */
  queued: number;
}

export async function progress(kafka: Kafka, aws: AwsClients, p: Pipeline, r: Readers, queueUrl: string) {
  const [enricherLag, alerterLag, attributes] = await Promise.all([
    consumerGroupLag(kafka, p.groups.enricher, p.topics.raw).catch(() => -1n),
    consumerGroupLag(kafka, p.groups.alerter, p.topics.events).catch(() => -1n),
    aws.sqs
      .send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      )
      .then((a) => a.Attributes)
      .catch(() => undefined),
  ]);
  const queued =
    attributes === undefined
      ? -1
      : Number(attributes.ApproximateNumberOfMessages ?? 0) +
        Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  return { identities: r.events.counts.size, enricherLag, alerterLag, queued } satisfies Progress;
}

/**
 * Waits until everything put in came out: every identity on the events topic, both groups caught
 * up, the queue empty, and nothing new for `quietMs` (copies in flight must be judged too).
 */
export async function waitDrained(
  kafka: Kafka,
  aws: AwsClients,
  p: Pipeline,
  r: Readers,
  queueUrl: string,
  expected: number,
  options: { timeoutMs: number; quietMs?: number; log?: (line: string) => void },
): Promise<Progress> {
  const deadline = Date.now() + options.timeoutMs;
  let last: Progress | undefined;
  let lastLog = 0;
  for (;;) {
    last = await progress(kafka, aws, p, r, queueUrl);
    const drained =
      last.identities >= expected &&
      last.enricherLag === 0n &&
      last.alerterLag <= BigInt(p.partitions) &&
      last.queued === 0;
    const quiet = Date.now() - Math.max(r.events.lastAt, r.alerts.lastAt) >= (options.quietMs ?? 5_000);
    if (drained && quiet) return last;
    if (Date.now() > deadline) {
      throw new Error(
        `not drained after ${options.timeoutMs} ms: ${JSON.stringify(last, (_, v) => (typeof v === "bigint" ? String(v) : v))}`,
      );
    }
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      options.log?.(
        `draining: ${last.identities}/${expected} identities, enricher lag ${last.enricherLag}, alerter lag ${last.alerterLag}, ${last.queued} SQS messages; ` +
          `${r.events.records} events and ${r.alerts.records} alerts read, the last ${Math.round((Date.now() - Math.max(r.events.lastAt, r.alerts.lastAt)) / 1000)} s ago`,
      );
    }
    await new Promise((res) => setTimeout(res, 1_000));
  }
}

export interface Verdict {
  identities: number;
  eventsOnTopic: number;
  missing: number;
  twice: number;
  unexpected: number;
  alertGroups: number;
  alertsOnTopic: number;
  alertGroupsLost: number;
  alertGroupsTwice: number;
  alertGroupsUnexpected: number;
  dlq: number;
  examples: string[];
}

/** Counts by identity against the input: each identity once on the events topic, each alert group once. */
export function verdict(estate: CampaignEstate, r: Readers): Verdict {
  const examples: string[] = [];
  const note = (what: string, keys: string[]) => {
    if (keys.length > 0) examples.push(`${what}: ${keys.slice(0, 3).join(", ")}`);
    return keys.length;
  };
  const counts = r.events.counts;
  const missing = note(
    "missing",
    [...estate.identities].filter((id) => !counts.has(id)),
  );
  const twice = note(
    "twice",
    [...counts].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`),
  );
  const unexpected = note(
    "unexpected",
    [...counts.keys()].filter((k) => !estate.identities.has(k)),
  );
  const alerts = r.alerts.counts;
  const lost = note(
    "alert group lost",
    [...estate.alertKeys.keys()].filter((k) => !alerts.has(k)),
  );
  const alertsTwice = note(
    "alert group twice",
    [...alerts].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`),
  );
  const alertsUnexpected = note(
    "alert group unexpected",
    [...alerts.keys()].filter((k) => !estate.alertKeys.has(k)),
  );
  return {
    identities: estate.identities.size,
    eventsOnTopic: r.events.records,
    missing,
    twice,
    unexpected,
    alertGroups: estate.alertKeys.size,
    alertsOnTopic: r.alerts.records,
    alertGroupsLost: lost,
    alertGroupsTwice: alertsTwice,
    alertGroupsUnexpected: alertsUnexpected,
    dlq: r.dlq.records,
    examples,
  };
}

export function verdictProblems(v: Verdict): string[] {
  const problems: string[] = [];
  if (v.missing > 0) problems.push(`${v.missing} identities lost`);
  if (v.twice > 0) problems.push(`${v.twice} identities twice on the events topic`);
  if (v.unexpected > 0) problems.push(`${v.unexpected} unexpected keys on the events topic`);
  if (v.alertGroupsLost > 0) problems.push(`${v.alertGroupsLost} alert groups lost`);
  if (v.alertGroupsTwice > 0) problems.push(`${v.alertGroupsTwice} alert groups alerted more than once`);
  if (v.alertGroupsUnexpected > 0) problems.push(`${v.alertGroupsUnexpected} unexpected alert groups`);
  if (v.dlq > 0) problems.push(`${v.dlq} dead letters (the input has no bad record)`);
  return problems;
}
