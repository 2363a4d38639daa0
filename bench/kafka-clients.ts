// packages/kafka's client THROUGH its own interface (openProducer, startBatchConsumer,
// startTransactionalPipe), beside Kafka's own tools on the same records, in one run, rounds
// interleaved (issue 14 item 1, decision 0001). At 4f8fbf2 the package had kafkajs beside
// @platformatic/kafka and `--clients kafkajs,platformatic` measured both; this is how the client
// was chosen (docs/decisions/0001-kafka-client.md). Since then @platformatic/kafka is the only one.
//   (a) produce: idempotent acks=all, N records sent in calls of 2,000 (openProducer.send), into
//       a fresh topic; anchor ProducerPerformance with the same payloads, acks=all, idempotence on;
//   (b) consume: a fresh group reads the ProducerPerformance topic, offsets committed after each
//       handled batch (startBatchConsumer); anchor ConsumerPerformance (its fetch.nMsg.sec);
//   (c) exactly-once copy of that topic into a new one (startTransactionalPipe: read_committed,
//       output and offsets in one transaction per poll across partitions); anchor TransactionalMessageCopier --group-mode
//       --use-group-metadata --transaction-size 500, timed between its first and last status
//       lines. Each copy's output is counted with a read_committed reader (readRanges).
// Clients' rates are timed from the group join (`started`) to the N-th record.
// @confluentinc/kafka-javascript was not in: it does not install from the registry without a hand
// build (docs/decisions/0001-kafka-client.md).
//
//   eval "$(deploy/local/stack env)"
//   node bench/kafka-clients.ts [--records 150000] [--rounds 3] [--partitions 4]
//                              [--only produce,consume,eos] [--out results.json]
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import {
  createKafka,
  deleteTopics,
  endOffsets,
  ensureTopics,
  type KafkaClient,
  type OutgoingMessage,
  openProducer,
  readRanges,
  startBatchConsumer,
  startTransactionalPipe,
} from "../packages/kafka/src/index.ts";
import { stratusRecords } from "../test/support/ingester.ts";

const run = promisify(execFile);
const { values: opt } = parseArgs({
  options: {
    records: { type: "string", default: "150000" },
    partitions: { type: "string", default: "4" },
    rounds: { type: "string", default: "3" },
    batch: { type: "string", default: "2000" },
    only: { type: "string", default: "produce,consume,eos" },
    "txn-size": { type: "string", default: "500" },
    out: { type: "string", default: "" },
  },
});
const N = Number(opt.records);
const P = Number(opt.partitions);
const ROUNDS = Number(opt.rounds);
const BATCH = Number(opt.batch);
const CLIENTS = ["platformatic"];
const STEPS = new Set(opt.only.split(","));
const BROKERS = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
const KAFKA_LIBS = process.env.KAFKA_LIBS ?? `${process.env.HOME}/.cache/trailstream/kafka-4.1.2/libs`;
const JVM = ["-Xms256m", "-Xmx512m", "-cp", `${KAFKA_LIBS}/*`];
const RUN = `kclients-${Date.now().toString(36)}`;
const log = (...a: unknown[]) => console.error(new Date().toISOString().slice(11, 19), ...a);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const kafkaClients = new Map(CLIENTS.map((c) => [c, createKafka({ brokers: BROKERS, clientId: `bench-${c}` })]));
const kafkaOf = (c: string): KafkaClient => {
  const k = kafkaClients.get(c);
  if (!k) throw new Error(`no client ${c}`);
  return k;
};
const admin = createKafka({ brokers: BROKERS, clientId: "bench-admin" });

// --- payloads: real CloudTrail records (the Stratus detonations), a fresh eventID each --------------
const templates = await stratusRecords();
const PAYLOADS: Buffer[] = [];
for (let i = 0; i < 2000; i++) {
  PAYLOADS.push(Buffer.from(JSON.stringify({ ...(templates[i % templates.length] as object), eventID: randomUUID() })));
}
const payload = (i: number) => PAYLOADS[i % PAYLOADS.length] as Buffer;
const MEAN_BYTES = PAYLOADS.reduce((n, b) => n + b.length, 0) / PAYLOADS.length;
const work = mkdtempSync(join(tmpdir(), "kafka-clients-bench-"));
const payloadFile = join(work, "payloads.ndjson");
writeFileSync(payloadFile, PAYLOADS.map((b) => b.toString()).join("\n"));

const created: string[] = [];
async function topic(name: string): Promise<string> {
  await ensureTopics(admin, [{ topic: name, partitions: P }]);
  created.push(name);
  return name;
}
async function total(name: string): Promise<number> {
  return (await endOffsets(admin, name)).reduce((n, p) => n + Number(p.offset), 0);
}
/** Records a read_committed reader sees in the topic. */
async function committedRecords(name: string): Promise<number> {
  const ends = await endOffsets(admin, name);
  let n = 0;
  await readRanges(
    admin,
    name,
    ends.map((e) => ({ partition: e.partition, from: 0n, to: e.offset })),
    {
      handle: (m) => {
        n += m.length;
      },
      idleMs: 3_000,
    },
  );
  return n;
}

interface Figures {
  recordsPerSecond: number;
  seconds: number;
  [k: string]: number;
}

// --- Kafka's own tools ----------------------------------------------------------------------------
async function producerPerformance(name: string): Promise<Figures> {
  const { stdout } = await run(
    "java",
    [
      ...JVM,
      "org.apache.kafka.tools.ProducerPerformance",
      ...["--topic", name, "--num-records", String(N), "--throughput", "-1", "--payload-file", payloadFile],
      ...["--producer-props", `bootstrap.servers=${BROKERS.join(",")}`, "acks=all", "enable.idempotence=true"],
    ],
    { maxBuffer: 16 << 20 },
  );
  const line =
    stdout
      .trim()
      .split("\n")
      .filter((l) => l.includes("records sent"))
      .at(-1) ?? "";
  const m = /([\d.]+) records\/sec/.exec(line);
  if (!m) throw new Error(`ProducerPerformance: ${stdout.slice(-500)}`);
  return { recordsPerSecond: Number(m[1]), seconds: N / Number(m[1]) };
}

async function consumerPerformance(name: string): Promise<Figures> {
  const { stdout } = await run(
    "java",
    [
      ...JVM,
      "org.apache.kafka.tools.ConsumerPerformance",
      ...["--bootstrap-server", BROKERS.join(","), "--topic", name, "--messages", String(N)],
      ...["--group", `${RUN}-cp-${randomUUID().slice(0, 8)}`, "--timeout", "60000", "--hide-header"],
    ],
    { maxBuffer: 1 << 20 },
  );
  // start.time, end.time, MB, MB.sec, nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const f = (stdout.trim().split("\n").at(-1) ?? "").split(",").map((s) => s.trim());
  if (Number(f[4]) < N) throw new Error(`ConsumerPerformance read ${f[4]} of ${N}`);
  return { recordsPerSecond: Number(f[9]), seconds: Number(f[7]) / 1000 };
}

async function transactionalCopier(input: string): Promise<Figures> {
  const output = await topic(`${input}-tmc`);
  const groupId = `${RUN}-tmc-${randomUUID().slice(0, 8)}`;
  const t0 = performance.now();
  const { stdout } = await run(
    "java",
    [
      ...JVM,
      "org.apache.kafka.tools.TransactionalMessageCopier",
      ...["--broker-list", BROKERS.join(","), "--input-topic", input, "--input-partition", "0"],
      ...["--output-topic", output, "--consumer-group", groupId, "--transactional-id", `${groupId}-txn`],
      ...["--transaction-size", opt["txn-size"], "--group-mode", "--use-group-metadata", "--max-messages", String(N)],
    ],
    { maxBuffer: 64 << 20 },
  );
  const wall = (performance.now() - t0) / 1000;
  // Status lines carry "time": "yyyy/MM/dd HH:mm:ss:SSS" (local time).
  const times = stdout
    .trim()
    .split("\n")
    .map((l) => {
      try {
        const m = /^(\d+)\/(\d+)\/(\d+) (\d+):(\d+):(\d+):(\d+)$/.exec(String(JSON.parse(l).time));
        if (!m) return Number.NaN;
        const [y, mo, d, h, mi, sec, ms] = m.slice(1).map(Number) as [
          number,
          number,
          number,
          number,
          number,
          number,
          number,
        ];
        return new Date(y, mo - 1, d, h, mi, sec, ms).getTime();
      } catch {
        return Number.NaN;
      }
    })
    .filter((t) => t > 0);
  const copied = await committedRecords(output);
  if (copied < N) throw new Error(`TransactionalMessageCopier's output holds ${copied} of ${N}`);
  const span = times.length > 1 ? (Math.max(...times) - Math.min(...times)) / 1000 : wall;
  return { recordsPerSecond: N / span, seconds: span, wallSeconds: wall, outputCommitted: copied };
}

// --- the clients, through packages/kafka ---------------------------------------------------------------
async function produce(kafka: KafkaClient, name: string): Promise<Figures> {
  const producer = await openProducer(kafka);
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const messages: OutgoingMessage[] = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) messages.push({ key: null, value: payload(j) });
    await producer.send(name, messages);
  }
  const s = (performance.now() - t0) / 1000;
  await producer.close();
  if ((await total(name)) < N) throw new Error(`${name} holds fewer than ${N}`);
  return { recordsPerSecond: N / s, seconds: s };
}

async function until(done: () => boolean, limitMs: number, what: string): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: timed out`);
    await sleep(5);
  }
}

async function consume(kafka: KafkaClient, name: string): Promise<Figures> {
  let n = 0;
  let batches = 0;
  let t1 = 0;
  const consumer = await startBatchConsumer(kafka, {
    groupId: `${RUN}-c-${randomUUID().slice(0, 8)}`,
    topics: [name],
    fromBeginning: true,
    handle: async (batch) => {
      n += batch.messages.length;
      batches++;
      if (n >= N && !t1) t1 = performance.now();
    },
  });
  await consumer.started;
  const t0 = performance.now();
  await until(() => t1 > 0, 300_000, "consume");
  await consumer.close();
  const s = (t1 - t0) / 1000;
  return { recordsPerSecond: n / s, seconds: s, batches, meanBatch: Math.round(n / batches) };
}

async function eos(kafka: KafkaClient, input: string, who: string): Promise<Figures> {
  const output = await topic(`${input}-${who}-eos`);
  let n = 0;
  let transactions = 0;
  let t1 = 0;
  const groupId = `${RUN}-eos-${who}-${randomUUID().slice(0, 8)}`;
  const pipe = await startTransactionalPipe(kafka, {
    groupId,
    inputTopic: input,
    transactionalIdPrefix: groupId,
    fromBeginning: true,
    partitionsConsumedConcurrently: P,
    handle: async (batch) => ({
      records: batch.messages.map((m) => ({ topic: output, key: null, value: m.value ?? Buffer.alloc(0) })),
      committed: () => {
        n += batch.messages.length;
        transactions++;
        if (n >= N && !t1) t1 = performance.now();
      },
    }),
  });
  await pipe.started;
  const t0 = performance.now();
  await until(() => t1 > 0, 600_000, "eos");
  await pipe.close();
  const s = (t1 - t0) / 1000;
  const copied = await committedRecords(output);
  if (copied !== N) log(`WARNING: ${who} eos output holds ${copied} committed records, expected ${N}`);
  return { recordsPerSecond: n / s, seconds: s, partitionBatches: transactions, outputCommitted: copied };
}

// --- rounds ---------------------------------------------------------------------------------------------
type Row = { round: number; step: string; who: string; load: number; recordsPerSecond: number } & Record<
  string,
  unknown
>;
const results: Row[] = [];
const record = (round: number, step: string, who: string, r: Figures) => {
  const load = loadavg()[0] ?? 0;
  results.push({ round, step, who, ...r, load });
  log(
    `round ${round} ${step} ${who}: ${Math.round(r.recordsPerSecond).toLocaleString("en")} records/s (load ${load.toFixed(1)})`,
  );
};
log(`${RUN}: ${N} records of ${MEAN_BYTES.toFixed(0)} B mean, ${P} partitions, clients ${CLIENTS.join(", ")}`);

for (let round = 1; round <= ROUNDS; round++) {
  const order = CLIENTS.map((_, i) => CLIENTS[(i + round - 1) % CLIENTS.length] as string);
  const ppTopic = await topic(`${RUN}-r${round}-pp`);
  if (STEPS.has("produce")) {
    record(round, "produce", "ProducerPerformance", await producerPerformance(ppTopic));
    for (const c of order) record(round, "produce", c, await produce(kafkaOf(c), await topic(`${RUN}-r${round}-${c}`)));
  } else {
    await producerPerformance(ppTopic);
  }
  if ((await total(ppTopic)) < N) throw new Error(`${ppTopic} holds fewer than ${N} records`);
  if (STEPS.has("consume")) {
    record(round, "consume", "ConsumerPerformance", await consumerPerformance(ppTopic));
    for (const c of order) record(round, "consume", c, await consume(kafkaOf(c), ppTopic));
  }
  if (STEPS.has("eos")) {
    record(round, "eos", "TransactionalMessageCopier", await transactionalCopier(ppTopic));
    for (const c of order) record(round, "eos", c, await eos(kafkaOf(c), ppTopic, c));
  }
  await deleteTopics(admin, created.splice(0)).catch((e: Error) => log(`delete topics: ${e.message}`));
}

// --- summary -----------------------------------------------------------------------------------------------
const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
};
const ANCHOR: Record<string, string> = {
  produce: "ProducerPerformance",
  consume: "ConsumerPerformance",
  eos: "TransactionalMessageCopier",
};
const summary = [];
for (const step of ["produce", "consume", "eos"]) {
  const rows = results.filter((r) => r.step === step);
  if (rows.length === 0) continue;
  const anchorMedian = median(rows.filter((r) => r.who === ANCHOR[step]).map((r) => r.recordsPerSecond));
  for (const who of [ANCHOR[step] as string, ...CLIENTS]) {
    const mine = rows.filter((r) => r.who === who);
    if (mine.length === 0) continue;
    const rps = mine.map((r) => r.recordsPerSecond);
    summary.push({
      step,
      who,
      rounds: mine.length,
      median: Math.round(median(rps)),
      min: Math.round(Math.min(...rps)),
      max: Math.round(Math.max(...rps)),
      ratioToAnchor: Math.round((median(rps) / anchorMedian) * 1000) / 1000,
      load: mine.map((r) => Math.round(r.load * 10) / 10),
    });
  }
}
const report = {
  run: RUN,
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  records: N,
  meanRecordBytes: Math.round(MEAN_BYTES),
  partitions: P,
  summary,
  results,
};
if (opt.out) writeFileSync(opt.out, JSON.stringify(report, null, 2));
console.log(JSON.stringify(summary, null, 2));
process.exit(0);
