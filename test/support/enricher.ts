// Support for the enricher's integration tests and benchmarks: raw records with copies spread over
// time and origins (and the truth about them), producing them (read them back with ./topic-reader.ts),
// a private redis-server, and the enricher as a child process.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { consumerGroupLag, createKafka, ensureTopics, openProducer } from "../../packages/kafka/src/index.ts";
import { type ServiceProcess, startServiceProcess } from "./service-process.ts";

export type Kafka = ReturnType<typeof createKafka>;
export { consumerGroupLag, createKafka, ensureTopics };

export const ROOT = resolve(import.meta.dirname, "../..");
const KINDS = ["s3", "kinesis-logs", "kinesis-eventbridge", "kinesis-raw", "file"] as const;

/** A small seeded PRNG (mulberry32), so a failing run can be repeated. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RawRecord {
  key: string;
  value: string;
}

export interface RawTruth {
  records: RawRecord[];
  /** Every identity that must come out once. */
  identities: Set<string>;
  /** Records that are copies of an identity seen earlier in the stream. */
  copies: number;
  /** Copies by the copy's origin kind (the first-seen copy is the one kept). */
  copiesByKind: Map<string, number>;
  /** The origin kind of each identity's first copy. */
  firstKind: Map<string, string>;
  /** Undecodable records, bound for the DLQ. */
  bad: number;
}

const NAMES = [
  ["iam.amazonaws.com", "CreateUser", false],
  ["s3.amazonaws.com", "GetObject", true],
  ["ec2.amazonaws.com", "DescribeInstances", true],
  ["sts.amazonaws.com", "AssumeRole", false],
  ["kms.amazonaws.com", "Decrypt", true],
  ["signin.amazonaws.com", "ConsoleLogin", false],
] as const;

/**
 * `total` raw records of which about `copyShare` are copies: each copy lands up to `spread` records
 * after its event's first copy (copies of one event arrive minutes apart in real life), with a
 * random origin kind. `bad` undecodable records are mixed in.
 */
export function rawRecords(options: {
  total: number;
  copyShare: number;
  spread: number;
  bad?: number;
  seed?: number;
}): RawTruth {
  const rnd = random(options.seed ?? 1);
  const bad = options.bad ?? 0;
  const copies = Math.round(options.total * options.copyShare);
  const unique = options.total - copies - bad;
  const baseMs = Date.now();
  // Extra copies per event: most have none, some one, a few up to three.
  const extra = new Array<number>(unique).fill(0);
  for (let i = 0; i < copies; i++) {
    const e = Math.floor(rnd() * unique);
    if ((extra[e] ?? 0) >= 3) {
      i--;
      continue;
    }
    extra[e] = (extra[e] ?? 0) + 1;
  }
  const placed: Array<{ at: number; key: string; value: string }> = [];
  const truth: RawTruth = {
    records: [],
    identities: new Set(),
    copies: 0,
    copiesByKind: new Map(),
    firstKind: new Map(),
    bad,
  };
  for (let e = 0; e < unique; e++) {
    const account = `1111222233${String(e % 7).padStart(2, "0")}`;
    const eventID = `${(e * 2654435761) >>> 0}-${e.toString(16).padStart(8, "0")}-4000-8000-${Math.floor(rnd() * 1e12)
      .toString(16)
      .padStart(12, "0")}`;
    const identity = `${account}:${eventID}`;
    truth.identities.add(identity);
    const [source, name, readOnly] = NAMES[e % NAMES.length] ?? NAMES[0];
    const event = {
      eventVersion: "1.11",
      userIdentity: {
        type: "AssumedRole",
        principalId: `AROAEXAMPLE${e % 97}:session-${e % 13}`,
        arn: `arn:aws:sts::${account}:assumed-role/app-${e % 11}/session-${e % 13}`,
        accountId: account,
        accessKeyId: `ASIAEXAMPLE${(e % 1000).toString().padStart(4, "0")}`,
        sessionContext: { attributes: { creationDate: "2026-11-25T08:00:00Z", mfaAuthenticated: "false" } },
      },
      eventTime: new Date(baseMs - Math.floor(rnd() * 600_000)).toISOString(),
      eventSource: source,
      eventName: name,
      awsRegion: "us-east-1",
      sourceIPAddress: `198.51.100.${e % 250}`,
      userAgent: "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
      requestParameters: { resource: `arn:aws:example:::thing/${e}` },
      responseElements: null,
      requestID: `req-${e}`,
      eventID,
      readOnly,
      eventType: "AwsApiCall",
      managementEvent: true,
      recipientAccountId: account,
      eventCategory: "Management",
    };
    const first = Math.floor((e / unique) * options.total);
    const n = 1 + (extra[e] ?? 0);
    for (let c = 0; c < n; c++) {
      const kind = KINDS[Math.floor(rnd() * KINDS.length)] ?? "s3";
      const at = c === 0 ? first : first + 1 + Math.floor(rnd() * options.spread);
      const origin = {
        kind,
        ...(kind === "s3"
          ? { bucket: `trail-bucket-${c}`, key: `AWSLogs/${account}/CloudTrail/us-east-1/f${e % 50}.json.gz` }
          : {}),
        ...(kind.startsWith("kinesis") ? { stream: `trail-stream-${c}`, shardId: "shardId-000000000000" } : {}),
        receivedAt: new Date(baseMs).toISOString(),
      };
      placed.push({ at: at + c / 10, key: identity, value: JSON.stringify({ v: 1, event, origin }) });
    }
  }
  for (let b = 0; b < bad; b++) {
    const at = Math.floor(rnd() * options.total);
    const value =
      b % 2 === 0
        ? `{"v":1,"event":{"eventID":"broken-${b}"`
        : JSON.stringify({
            v: 1,
            event: { eventName: "NoIdentity", eventID: `no-account-${b}` },
            origin: { kind: "file" },
          });
    placed.push({ at, key: `bad-${b}`, value });
  }
  placed.sort((a, b) => a.at - b.at);
  // The truth follows stream order: the first record of an identity is its first copy.
  const seen = new Set<string>();
  for (const p of placed) {
    truth.records.push({ key: p.key, value: p.value });
    if (!truth.identities.has(p.key)) continue;
    const kind = (JSON.parse(p.value) as { origin: { kind: string } }).origin.kind;
    if (seen.has(p.key)) {
      truth.copies++;
      truth.copiesByKind.set(kind, (truth.copiesByKind.get(kind) ?? 0) + 1);
    } else {
      seen.add(p.key);
      truth.firstKind.set(p.key, kind);
    }
  }
  return truth;
}

/** Produces records in order, `chunk` at a time, waiting `pauseMs` between chunks (a trickle). */
export async function produceRaw(
  kafka: Kafka,
  topic: string,
  records: readonly RawRecord[],
  options: { chunk?: number; pauseMs?: number; stop?: () => boolean } = {},
): Promise<void> {
  const producer = await openProducer(kafka);
  try {
    const chunk = options.chunk ?? 2_000;
    for (let i = 0; i < records.length; i += chunk) {
      if (options.stop?.()) return;
      await producer.send(topic, records.slice(i, i + chunk));
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  } finally {
    await producer.close();
  }
}

/** Waits until the group has committed every offset of the topic. */
export async function waitForLag0(kafka: Kafka, groupId: string, topic: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lag = -1n;
  while (Date.now() < deadline) {
    lag = await consumerGroupLag(kafka, groupId, topic).catch(() => -1n);
    if (lag === 0n) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`group ${groupId} still lags ${lag} records on ${topic} after ${timeoutMs} ms`);
}

export { freePort } from "./service-process.ts";

/** A private, memory-only redis-server, so a test can kill and restart it without touching the shared one. */
export class PrivateRedis {
  readonly port: number;
  #child: ChildProcess | undefined;

  constructor(port: number) {
    this.port = port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The server's process id while it runs (for the benches' CPU readings). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<void> {
    const child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    this.#child = child;
    const lines = createInterface({ input: child.stdout ?? process.stdin });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("redis-server did not start within 10 s")), 10_000);
      child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}`)));
      lines.on("line", (line) => {
        if (/Ready to accept connections/.test(line)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** SIGKILL: the data is gone (no persistence). */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
    this.#child = undefined;
  }
}

/** An enricher (startServiceProcess), with when it got partitions and its log lines in one list. */
export type EnricherChild = ServiceProcess & {
  /** Resolves when the child logged a partition assignment that is not empty. */
  readonly assigned: Promise<void>;
  readonly lines: string[];
};

/** `trailstream enricher` as its own process with `env` alone, on a port of its own. */
export async function spawnEnricher(env: Record<string, string>): Promise<EnricherChild> {
  const { METRICS_PORT: _any, ...settings } = env;
  const p = await startServiceProcess("enricher", settings, { inheritEnv: false });
  return Object.defineProperties(p, {
    assigned: { value: p.logged((l) => l.includes('"partitions assigned"') && !l.includes('"partitions":[]')) },
    lines: { get: () => [...p.stdout, ...p.stderr] },
  }) as EnricherChild;
}
