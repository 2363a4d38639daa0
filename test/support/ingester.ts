// Support for the ingester's integration tests: CloudTrail log files built from the Stratus
// detonation records (real CloudTrail, anonymised), the raw and DLQ topics of a test (read them with
// ./topic-reader.ts), and ingester processes spawned as the deployment runs them.
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { DeleteStreamCommand, type KinesisClient } from "@aws-sdk/client-kinesis";
import { ensureTopics, type KafkaClient } from "@trailstream/kafka";
import type { Endpoints } from "./servers.ts";
import { uniqueName } from "./servers.ts";
import { type ServiceProcess, startServiceProcess } from "./service-process.ts";

const env = process.env;
export const ROOT = resolve(import.meta.dirname, "../..");
// The repository's own copy of the Stratus detonation logs (packages/bucket-tree/templates/NOTICE.md).
export const STRATUS_DIR = env.STRATUS_DIR ?? resolve(ROOT, "packages/bucket-tree/templates/stratus");

export type Json = Record<string, unknown>;

/** Every Stratus file's records, by technique file name. */
export async function stratusFiles(): Promise<{ name: string; records: Json[] }[]> {
  const names = (await readdir(STRATUS_DIR)).filter((n) => n.endsWith(".json")).sort();
  return Promise.all(
    names.map(async (name) => ({
      name,
      records: JSON.parse(await readFile(join(STRATUS_DIR, name), "utf8")) as Json[],
    })),
  );
}

export async function stratusRecords(): Promise<Json[]> {
  return (await stratusFiles()).flatMap((f) => f.records);
}

/** A log file as CloudTrail writes it: gzipped `{"Records":[...]}`. */
export function logFile(records: readonly Json[]): Buffer {
  return gzipSync(Buffer.from(JSON.stringify({ Records: records })));
}

/** `AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_UNIQUE.json.gz` */
export function trailKey(
  account: string,
  region: string,
  options: { kind?: "log" | "digest" | "insight"; prefix?: string } = {},
): string {
  const now = new Date();
  const d = now.toISOString();
  const [yyyy, mm, dd] = [d.slice(0, 4), d.slice(5, 7), d.slice(8, 10)];
  const stamp = `${yyyy}${mm}${dd}T${d.slice(11, 13)}${d.slice(14, 16)}Z`;
  const folder = { log: "CloudTrail", digest: "CloudTrail-Digest", insight: "CloudTrail-Insight" }[
    options.kind ?? "log"
  ];
  const unique = Math.random().toString(36).slice(2, 18);
  const name =
    options.kind === "digest"
      ? `${account}_CloudTrail-Digest_${region}_trail_${region}_${stamp}.json.gz`
      : `${account}_${folder}_${region}_${stamp}_${unique}.json.gz`;
  return `${options.prefix ? `${options.prefix}/` : ""}AWSLogs/${account}/${folder}/${region}/${yyyy}/${mm}/${dd}/${name}`;
}

export function identityOf(record: Json): string {
  return `${String(record.recipientAccountId)}:${String(record.eventID)}`;
}

/** Copies of Stratus records with fresh eventIDs, as many as asked (for volume). */
export function freshRecords(templates: readonly Json[], count: number, tag = uniqueName("ev")): Json[] {
  return Array.from({ length: count }, (_, i) => {
    const t = templates[i % templates.length] ?? {};
    return { ...t, eventID: `${tag}-${i}`, eventTime: new Date().toISOString().replace(/\.\d+Z$/, "Z") };
  });
}

/** A raw and a DLQ topic of the test's own, created up front so readers can subscribe at once. */
export async function testTopics(kafka: KafkaClient, partitions = 3): Promise<{ raw: string; dlq: string }> {
  const raw = uniqueName("raw");
  const dlq = uniqueName("dlq");
  await ensureTopics(kafka, [
    { topic: raw, partitions },
    { topic: dlq, partitions: 1 },
  ]);
  return { raw, dlq };
}

/** The environment of an ingester against the test servers, quick to react (short waits and leases). */
export function ingesterEnv(e: Endpoints, settings: Record<string, string>): Record<string, string> {
  return {
    KAFKA_BROKERS: e.kafkaBrokers.join(","),
    REDIS_URL: e.redisUrl,
    AWS_REGION: e.region,
    AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID ?? "test",
    AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY ?? "test",
    AWS_ENDPOINT_URL: e.awsEndpoint,
    METRICS_PORT: "0",
    LOG_LEVEL: "warn",
    SQS_WAIT_SECONDS: "1",
    KINESIS_IDLE_MS: "200",
    LEASE_DURATION: "3s",
    LEASE_RENEW_INTERVAL: "500ms",
    KINESIS_SHARD_SYNC_INTERVAL: "2s",
    SHUTDOWN_GRACE_MS: "10000",
    REDIS_KEY_PREFIX: `${uniqueName("test-ingester")}:`,
    // Integrity has its own test (integrity.test.ts); elsewhere digests are only recognised by key.
    INTEGRITY: "false",
    ...settings,
  };
}

/** An ingester replica (startServiceProcess), with its INGESTER_ID and its log lines in one list. */
export type IngesterProcess = ServiceProcess & { readonly id: string; readonly output: string[] };

/** `trailstream ingester` as its own process with `env` alone, INGESTER_ID `id`, on a port of its own. */
export async function spawnIngester(
  id: string,
  env: Record<string, string>,
  /** Another checkout's `trailstream` entry point (a benchmark's baseline). */
  cli?: string,
): Promise<IngesterProcess> {
  const { METRICS_PORT: _any, ...settings } = env;
  const p = await startServiceProcess(
    "ingester",
    { ...settings, INGESTER_ID: id },
    { inheritEnv: false, ...(cli ? { cli } : {}) },
  );
  return Object.defineProperties(p, {
    id: { value: id },
    output: { get: () => [...p.stdout, ...p.stderr] },
  }) as IngesterProcess;
}

/** Its metrics port once it serves /metrics; undefined before. */
export function metricsPortOf(p: IngesterProcess): number | undefined {
  return p.stdout.some((l) => l.includes('"serving /metrics, /healthz and /readyz"')) ? p.port : undefined;
}

/** CloudWatch Logs subscription payloads, EventBridge events and bare records, as Kinesis data. */
export function kinesisPayloads(records: readonly Json[], logGroup: string): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < records.length; ) {
    const form = (i / 10) % 3;
    if (form < 1) {
      const chunk = records.slice(i, i + 10);
      i += chunk.length;
      out.push(
        gzipSync(
          JSON.stringify({
            messageType: "DATA_MESSAGE",
            owner: "111122223333",
            logGroup,
            logStream: "111122223333_CloudTrail_us-east-1",
            subscriptionFilters: ["to-kinesis"],
            logEvents: chunk.map((r, k) => ({
              id: `${Date.now()}${k}`,
              timestamp: Date.now(),
              message: JSON.stringify(r),
            })),
          }),
        ),
      );
    } else if (form < 2) {
      for (const r of records.slice(i, i + 10)) {
        out.push(
          Buffer.from(
            JSON.stringify({
              version: "0",
              id: crypto.randomUUID(),
              "detail-type": "AWS API Call via CloudTrail",
              source: "aws.iam",
              account: r.recipientAccountId,
              time: r.eventTime,
              region: "us-east-1",
              resources: [],
              detail: r,
            }),
          ),
        );
      }
      i += 10;
    } else {
      for (const r of records.slice(i, i + 10)) out.push(Buffer.from(JSON.stringify(r)));
      i += 10;
    }
  }
  return out;
}

/** Deletes a test's stream: kinesis-local allows 50 shards over all streams, and others share it. */
export async function deleteStream(client: KinesisClient, stream: string): Promise<void> {
  try {
    await client.send(new DeleteStreamCommand({ StreamName: stream, EnforceConsumerDeletion: true }));
  } catch {
    // already gone
  }
}
