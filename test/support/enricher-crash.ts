// The enricher crash run, shared by test/integration/enricher-crash.test.ts (small) and
// bench/enricher-crash.ts (full size): raw records trickle in while the enricher, a child process,
// is killed with SIGKILL at random moments and restarted each time; then it runs to the end and is
// stopped with SIGTERM. The caller asserts on what the events topic (read_committed) holds.
import {
  consumerGroupLag,
  createKafka,
  ensureTopics,
  produceRaw,
  type RawTruth,
  type ReadRecord,
  random,
  rawRecords,
  readTopic,
  spawnEnricher,
  waitForLag0,
} from "./enricher.ts";
import { uniqueName } from "./servers.ts";

export interface CrashRunOptions {
  kafkaBrokers: string[];
  redisUrl: string;
  total: number;
  kills: number;
  partitions?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface CrashRunResult {
  truth: RawTruth;
  kills: number;
  /** How long each killed process had run, in ms. */
  killedAfterMs: number[];
  /** The group's uncommitted records when each kill came (work in flight or waiting). */
  lagAtKill: bigint[];
  events: Map<string, ReadRecord>;
  dlqRecords: number;
  finalExitCode: number | null;
  /** Position resets and aborted transactions logged by the children. */
  notes: { positionResets: number; aborted: number; replays: number };
  seconds: number;
}

export async function crashRun(o: CrashRunOptions): Promise<CrashRunResult> {
  const log = o.log ?? (() => {});
  const started = Date.now();
  const kafka = createKafka({ brokers: o.kafkaBrokers, clientId: "enricher-crash-run" });
  const name = uniqueName("enr-crash");
  const topics = { raw: `${name}.raw`, events: `${name}.events`, dlq: `${name}.dlq` };
  const partitions = o.partitions ?? 4;
  const groupId = `${name}-group`;
  await ensureTopics(kafka, [
    { topic: topics.raw, partitions },
    { topic: topics.events, partitions },
    { topic: topics.dlq, partitions: 1 },
  ]);
  const truth = rawRecords({
    total: o.total,
    copyShare: 0.3,
    spread: Math.floor(o.total / 5),
    bad: 20,
    seed: o.seed ?? 7,
  });
  const env: Record<string, string> = {
    KAFKA_BROKERS: o.kafkaBrokers.join(","),
    KAFKA_CLIENT_ID: "enricher-crash",
    REDIS_URL: o.redisUrl,
    TOPIC_RAW: topics.raw,
    TOPIC_EVENTS: topics.events,
    TOPIC_DLQ: topics.dlq,
    ENRICHER_GROUP_ID: groupId,
    DEDUP_KEY_PREFIX: `${name}:dedup:`,
    DEDUP_TTL: "30m",
    METRICS_PORT: "0",
    LOG_LEVEL: "info",
    // The broker's minimum: a killed member is dropped from the group this soon.
    KAFKA_SESSION_TIMEOUT_MS: "6000",
    KAFKA_TRANSACTION_TIMEOUT_MS: "60000",
    // Small fetches: more transactions per second, so kills land in more places.
    KAFKA_MAX_BYTES_PER_PARTITION: "32768",
    SHUTDOWN_GRACE_MS: "20000",
  };
  // A backlog from the start, then a burst of records for each life, so kills land mid-work.
  const backlog = Math.floor(truth.records.length * 0.4);
  await produceRaw(kafka, topics.raw, truth.records.slice(0, backlog), { chunk: 2_000 });
  const rest = truth.records.slice(backlog);
  const burst = Math.ceil(rest.length / (o.kills + 1));
  let sent = 0;
  const produceBurst = async () => {
    const next = rest.slice(sent, sent + burst);
    sent += next.length;
    await produceRaw(kafka, topics.raw, next, { chunk: 1_000 });
  };

  const rnd = random(o.seed ?? 7);
  const killedAfterMs: number[] = [];
  const lagAtKill: bigint[] = [];
  const notes = { positionResets: 0, aborted: 0, replays: 0 };
  const count = (lines: string[]) => {
    for (const line of lines) {
      if (line.includes("moving forward")) notes.positionResets++;
      if (line.includes("transaction aborted")) notes.aborted++;
      const replays = /"replays":(\d+).*written again after a crash/.exec(line);
      if (replays) notes.replays += Number(replays[1]);
    }
  };
  for (let i = 0; i < o.kills; i++) {
    const child = spawnEnricher(env);
    const since = Date.now();
    // Mostly while consuming; one time in five anywhere from start-up on (joining, fencing).
    const duringStartup = rnd() < 0.2;
    if (!duringStartup) {
      let timer: NodeJS.Timeout | undefined;
      const assigned = await Promise.race([
        child.assigned.then(() => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), 60_000);
        }),
      ]);
      clearTimeout(timer);
      if (!assigned) {
        child.child.kill("SIGKILL");
        throw new Error(`enricher ${i} was not assigned partitions within 60 s:\n${child.lines.slice(-20).join("\n")}`);
      }
    }
    await produceBurst();
    const wait = duringStartup ? Math.floor(rnd() * 6_000) : Math.floor(rnd() * 1_200);
    await new Promise((r) => setTimeout(r, wait));
    const lag = await consumerGroupLag(kafka, groupId, topics.raw).catch(() => -1n);
    child.child.kill("SIGKILL");
    await child.exited;
    count(child.lines);
    killedAfterMs.push(Date.now() - since);
    lagAtKill.push(lag);
    log(
      `kill ${i + 1}/${o.kills} ${duringStartup ? `${wait} ms after start` : `after ${wait} ms of consuming`}, ` +
        `${lag} records not yet committed`,
    );
  }

  const last = spawnEnricher(env);
  await last.assigned;
  while (sent < rest.length) await produceBurst();
  await waitForLag0(kafka, groupId, topics.raw, 300_000);
  last.child.kill("SIGTERM");
  const finalExitCode = await last.exited;
  count(last.lines);
  log(`the last enricher caught up and stopped on SIGTERM with exit code ${finalExitCode}`);

  const events = await readTopic(kafka, topics.events, {
    expect: truth.identities.size,
    idleMs: 2_000,
    timeoutMs: 300_000,
  });
  const dlq = await readTopic(kafka, topics.dlq, { expect: truth.bad, idleMs: 500 });
  return {
    truth,
    kills: killedAfterMs.length,
    killedAfterMs,
    lagAtKill,
    events,
    dlqRecords: [...dlq.values()].reduce((n, r) => n + r.count, 0),
    finalExitCode,
    notes,
    seconds: (Date.now() - started) / 1_000,
  };
}

/** What the crash run must show: every identity exactly once, every bad record dead-lettered once. */
export function crashRunProblems(r: CrashRunResult): string[] {
  const problems: string[] = [];
  const doubles = [...r.events].filter(([, e]) => e.count !== 1);
  if (doubles.length > 0) {
    problems.push(
      `${doubles.length} identities written more than once, e.g. ${doubles.slice(0, 3).map(([k, e]) => `${k} ×${e.count}`)}`,
    );
  }
  const missing = [...r.truth.identities].filter((id) => !r.events.has(id));
  if (missing.length > 0) problems.push(`${missing.length} identities missing, e.g. ${missing.slice(0, 3)}`);
  const extra = [...r.events.keys()].filter((k) => !r.truth.identities.has(k));
  if (extra.length > 0) problems.push(`${extra.length} unexpected keys on the events topic`);
  if (r.dlqRecords !== r.truth.bad) problems.push(`${r.dlqRecords} DLQ records for ${r.truth.bad} bad raw records`);
  if (r.finalExitCode !== 0) problems.push(`the last enricher exited with ${r.finalExitCode} on SIGTERM`);
  return problems;
}
