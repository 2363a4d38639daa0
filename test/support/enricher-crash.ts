// The enricher crash run, shared by test/integration/enricher-crash.test.ts (small) and
// bench/enricher-crash.ts (full size): raw records trickle in while the enricher, a child process,
// is killed with SIGKILL at random moments and restarted each time; then it runs to the end and is
// stopped with SIGTERM. The caller asserts on what the events topic (read_committed) holds.
import { loadSettings as loadEnricherSettings } from "@trailstream/enricher";
import { openRedis, redisSettings } from "@trailstream/redis";
import { bucketKey, claimHour, identityDigest, ownerToken } from "../../services/enricher/src/claims.ts";
import {
  consumerGroupLag,
  createKafka,
  type EnricherChild,
  ensureTopics,
  produceRaw,
  type RawTruth,
  random,
  rawRecords,
  spawnEnricher,
  waitForLag0,
} from "./enricher.ts";
import { uniqueName } from "./servers.ts";
import { type KeyCount, readTopic } from "./topic-reader.ts";

export interface CrashRunOptions {
  kafkaBrokers: string[];
  redisUrl: string;
  total: number;
  kills: number;
  /** Enrichers running at once in the group (default 1); each kill hits one of them. */
  instances?: number;
  /** After the kills, how many times an instance is frozen (SIGSTOP) past its session timeout, then resumed. */
  freezes?: number;
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
  events: Map<string, KeyCount>;
  dlqRecords: number;
  /** Exit codes of the enrichers stopped with SIGTERM at the end (0 each). */
  exitCodes: Array<number | null>;
  /** For a few identities missing from the events topic: where they were in raw, who holds their claim. */
  lost: string[];
  /** The last log lines of each enricher that did not exit 0 on SIGTERM: why it did not. */
  failedStops: string[];
  /** What the surviving enrichers answered on /readyz (status) and /metrics, before SIGTERM. */
  health: Array<{ readyz: number; reasons: string; metrics: string }>;
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
    KAFKA_MAX_BYTES_PER_PARTITION: "16384",
    SHUTDOWN_GRACE_MS: "20000",
  };
  // A backlog from the start, then a burst of records for each life, so kills land mid-work.
  const backlog = Math.floor(truth.records.length * 0.4);
  await produceRaw(kafka, topics.raw, truth.records.slice(0, backlog), { chunk: 2_000 });
  const rest = truth.records.slice(backlog);
  const burst = Math.ceil(rest.length / (o.kills + (o.freezes ?? 0) + 1));
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
  const waitAssigned = async (child: EnricherChild, ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    const assigned = await Promise.race([
      child.assigned.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), ms);
      }),
    ]);
    clearTimeout(timer);
    return assigned;
  };
  const instances = o.instances ?? 1;
  const alive: EnricherChild[] = [];
  const startedAt = new Map<EnricherChild, number>();
  const spawned: EnricherChild[] = [];
  const health: Array<{ readyz: number; reasons: string; metrics: string }> = [];
  const exitCodes: Array<number | null> = [];
  const failedStops: string[] = [];
  const spawnOne = async () => {
    const child = await spawnEnricher(env);
    spawned.push(child);
    startedAt.set(child, Date.now());
    alive.push(child);
    return child;
  };
  try {
    for (let n = 0; n < instances; n++) await spawnOne();
    for (let i = 0; i < o.kills; i++) {
      const victimIndex = Math.floor(rnd() * alive.length);
      const victim = alive[victimIndex];
      if (!victim) throw new Error("no enricher to kill");
      // Mostly while consuming; one time in five anywhere from start-up on (joining, fencing).
      const duringStartup = rnd() < 0.2;
      if (!duringStartup && !(await waitAssigned(victim, 60_000))) {
        for (const c of alive) c.child.kill("SIGKILL");
        throw new Error(
          `enricher ${i} was not assigned partitions within 60 s:\n${victim.lines.slice(-20).join("\n")}`,
        );
      }
      await produceBurst();
      const wait = duringStartup ? Math.floor(rnd() * 3_000) : Math.floor(rnd() * 200);
      await new Promise((r) => setTimeout(r, wait));
      const lag = await consumerGroupLag(kafka, groupId, topics.raw).catch(() => -1n);
      victim.child.kill("SIGKILL");
      await victim.exited();
      alive.splice(victimIndex, 1);
      count(victim.lines);
      killedAfterMs.push(Date.now() - (startedAt.get(victim) ?? 0));
      lagAtKill.push(lag);
      log(
        `kill ${i + 1}/${o.kills} ${duringStartup ? "at any moment" : "once assigned"}, ${wait} ms after a burst, ` +
          `${lag} records not yet committed`,
      );
      await spawnOne();
    }

    // Zombies: an instance frozen (SIGSTOP) mid-work for longer than its session timeout loses its
    // partitions to the other instance, which fences its producers; then it wakes up (SIGCONT) with
    // whatever it had in flight, and must not get any of it committed.
    for (let i = 0; i < (o.freezes ?? 0); i++) {
      const victimIndex = Math.floor(rnd() * alive.length);
      const victim = alive[victimIndex];
      if (!victim || alive.length < 2) throw new Error("freezing needs two instances");
      for (const child of alive) await waitAssigned(child, 60_000);
      await produceBurst();
      const wait = Math.floor(rnd() * 150);
      await new Promise((r) => setTimeout(r, wait));
      const lag = await consumerGroupLag(kafka, groupId, topics.raw).catch(() => -1n);
      victim.child.kill("SIGSTOP");
      await new Promise((r) => setTimeout(r, 6_000 + 6_000));
      victim.child.kill("SIGCONT");
      if (process.env.CRASH_DEBUG) {
        await new Promise((r) => setTimeout(r, 4_000));
        for (const c of alive)
          log(
            `${c === victim ? "ZOMBIE" : "OTHER"}:\n${c.lines
              .filter((l) => /assigned|replays|aborted|moving|producer ready|not aware|rebalanc/i.test(l))
              .slice(-25)
              .map((l) => l.slice(0, 300))
              .join("\n")}`,
          );
      }
      log(
        `freeze ${i + 1}/${o.freezes}: an instance stopped for 12 s, ${wait} ms after a burst (${lag} not committed)`,
      );
    }

    // The survivors (and the last replacements) finish the work, then stop on SIGTERM.
    for (const child of alive) await waitAssigned(child, 60_000);
    while (sent < rest.length) await produceBurst();
    await waitForLag0(kafka, groupId, topics.raw, 300_000);
    for (const child of alive) {
      try {
        const port = child.port;
        const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
        const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
        health.push({ readyz: readyz.status, reasons: (await readyz.text()).trim(), metrics: await metrics.text() });
      } catch (error) {
        health.push({
          readyz: 0,
          reasons: `no answer (${String(error)}); exit code ${child.child.exitCode}`,
          metrics: "",
        });
      }
    }
    for (const child of alive) {
      child.child.kill("SIGTERM");
      const code = await child.exited();
      exitCodes.push(code);
      count(child.lines);
      if (code !== 0)
        failedStops.push(
          child.lines
            .slice(-12)
            .map((l) => l.slice(0, 400))
            .join("\n"),
        );
    }
    log(`the last enrichers caught up and stopped on SIGTERM with exit codes ${exitCodes.join(", ")}`);
    for (const child of alive) {
      const stopped = child.lines.find((l) => l.includes("stopped consuming"));
      const slow = child.lines.filter((l) => l.includes("stopping is slow"));
      if (stopped)
        log(
          `stop steps: ${JSON.stringify((JSON.parse(stopped) as { ms?: unknown }).ms)}${slow.length ? `, slow: ${slow.length}` : ""}`,
        );
    }
  } finally {
    // Whatever happened, no enricher outlives the run.
    for (const child of spawned) {
      if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill("SIGKILL");
    }
  }

  const events = (
    await readTopic(kafka, topics.events, (r) =>
      r.quiet({ keys: truth.identities.size, idleMs: 2_000, timeoutMs: 300_000 }),
    )
  ).keyCounts();
  const dlq = await readTopic(kafka, topics.dlq, (r) => r.quiet({ keys: truth.bad, idleMs: 500 }));
  const missing = [...truth.identities].filter((id) => !events.has(id));
  const lost = missing.length > 0 ? await explainMissing(o, topics, env, missing.slice(0, 5), spawned) : [];
  return {
    truth,
    kills: killedAfterMs.length,
    killedAfterMs,
    lagAtKill,
    events,
    dlqRecords: dlq.length,
    exitCodes,
    failedStops,
    lost,
    health,
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
  if (missing.length > 0) problems.push(`${missing.length} identities missing, e.g.\n${r.lost.join("\n")}`);
  const extra = [...r.events.keys()].filter((k) => !r.truth.identities.has(k));
  if (extra.length > 0) problems.push(`${extra.length} unexpected keys on the events topic`);
  if (r.dlqRecords !== r.truth.bad) problems.push(`${r.dlqRecords} DLQ records for ${r.truth.bad} bad raw records`);
  if (r.exitCodes.some((c) => c !== 0)) {
    problems.push(
      `the last enrichers exited with ${r.exitCodes} on SIGTERM; their last lines:\n${r.failedStops.join("\n---\n")}`,
    );
  }
  for (const h of r.health) {
    if (h.readyz !== 200) problems.push(`a caught-up enricher answered ${h.readyz} on /readyz: ${h.reasons}`);
    if (!h.metrics.includes("trailstream_enricher_records_in_total"))
      problems.push("/metrics lacks the enricher's metrics");
  }
  return problems;
}

/**
 * Why an identity is missing: its records in raw (partition:offset, with the claim token each would
 * write), the token its claim in Redis holds, and what the enrichers logged about those partitions.
 */
async function explainMissing(
  o: CrashRunOptions,
  topics: { raw: string; events: string },
  env: Record<string, string>,
  ids: readonly string[],
  children: readonly EnricherChild[],
): Promise<string[]> {
  const kafka = createKafka({ brokers: o.kafkaBrokers, clientId: "enricher-crash-explain" });
  const raw = await readTopic(kafka, topics.raw, (r) => r.caughtUp(), { readCommitted: false });
  // Uncommitted reads see aborted records and those past a stuck last stable offset too.
  const uncommitted = await readTopic(kafka, topics.events, (r) => r.caughtUp(), { readCommitted: false });
  const settings = loadEnricherSettings(env);
  const layout = {
    keyPrefix: settings.dedupKeyPrefix,
    shardsPerHour: settings.dedupShardsPerHour,
    windowMs: settings.dedupTtlMs,
  };
  const redis = openRedis(redisSettings(o.redisUrl));
  const out: string[] = [];
  try {
    await redis.connected();
    for (const id of ids) {
      const copies = raw.records.filter((r) => r.key === id);
      const eventTime = (JSON.parse(copies[0]?.text ?? "{}") as { event?: { eventTime?: string } }).event?.eventTime;
      const digest = identityDigest(id);
      const bucket = bucketKey(layout, claimHour(Date.parse(eventTime ?? ""), Date.now()), digest);
      const holder = await redis.command(["HGET", bucket, digest]).catch((e: unknown) => `error ${String(e)}`);
      const where = copies.map((c) => `${c.partition}:${c.offset} (token ${ownerToken(`${c.partition}:${c.offset}`)})`);
      const written = uncommitted.records.filter((r) => r.key === id).map((r) => `${r.partition}:${r.offset}`);
      out.push(
        `${id}: raw ${where.join(", ")}; claim held by ${String(holder)}; in events read uncommitted at ${written.join(", ") || "none"}`,
      );
    }
  } finally {
    await redis.close();
  }
  const partitions = new Set(raw.records.filter((r) => ids.includes(r.key)).map((r) => r.partition));
  const notes = children.flatMap((c, n) =>
    c.lines
      .filter((l) => /assigned|aborted|moving forward|written again|crashed|failed|fenc/i.test(l))
      .map((l) => `child ${n}: ${l.slice(0, 400)}`),
  );
  out.push(`partitions ${[...partitions].join(", ")}; the enrichers said:\n${notes.slice(-60).join("\n")}`);
  return out;
}
