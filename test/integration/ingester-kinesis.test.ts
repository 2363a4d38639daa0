// Kinesis shard leases across ingester processes (kinesis-local, 4 shards): two replicas split the
// shards; one killed with SIGKILL has its shards taken over once its leases expire; a replica that
// joins gets its share; a reshard (SplitShard, MergeShards) mid-stream finishes parents before
// children; SIGTERM hands the leases back at once. In every case every identity put into the
// stream reaches the raw topic (copies allowed, losses never). Every test runs twice: polling
// (GetRecords) and enhanced fan-out (a registered consumer, SubscribeToShard over HTTP/2 on
// kinesis-local's TLS port).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordsCommand,
  type Shard,
  SplitShardCommand,
} from "@aws-sdk/client-kinesis";
import { loadSettings, start as startIngester } from "@trailstream/ingester";
import { createKafka } from "@trailstream/kafka";
import { openRedis, type RedisStore, redisSettings, replyList, replyMap } from "@trailstream/redis";
import { createLogger } from "@trailstream/runtime";
import { ensureConsumer, subscribeToShard } from "../../services/ingester/src/sources/kinesis/fanout.ts";
import { awsClients } from "../support/aws.ts";
import {
  deleteStream,
  freshRecords,
  type IngesterProcess,
  identityOf,
  ingesterEnv,
  type Json,
  kinesisPayloads,
  metricsPortOf,
  spawnIngester,
  stratusRecords,
  testTopics,
} from "../support/ingester.ts";
import { type Endpoints, endpoints, requireReachable, uniqueName } from "../support/servers.ts";
import { TopicReader } from "../support/topic-reader.ts";
import { eventually } from "../support/wait.ts";

let e: Endpoints;
let kinesis: KinesisClient;
let kafka: ReturnType<typeof createKafka>;
let redis: RedisStore;
let templates: Json[];
const processes: IngesterProcess[] = [];

before(async () => {
  e = await endpoints();
  await requireReachable("Kafka", e.kafkaBrokers[0] ?? "", "KAFKA_BROKERS");
  await requireReachable("Redis", e.redisUrl, "REDIS_URL");
  await requireReachable("kinesis-local", e.kinesisEndpoint, "AWS_ENDPOINT_URL_KINESIS");
  kinesis = awsClients(e).kinesis;
  kafka = createKafka({ brokers: e.kafkaBrokers, clientId: "ingester-kinesis-test" });
  redis = openRedis(redisSettings(e.redisUrl));
  await redis.connected();
  templates = await stratusRecords();
});

after(async () => {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  await redis?.close();
});

async function activeStream(stream: string): Promise<void> {
  await eventually(async () => {
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    assert.equal(s.StreamDescriptionSummary?.StreamStatus, "ACTIVE");
  }, 30_000);
}

async function shards(stream: string): Promise<Shard[]> {
  return (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
}

/** Puts records into the stream in small batches until stopped; remembers every identity it put. */
class Feeder {
  readonly sent: Json[] = [];
  #running = true;
  #loop: Promise<void> | undefined;
  readonly #stream: string;
  constructor(stream: string) {
    this.#stream = stream;
  }
  async put(count: number): Promise<void> {
    const records = freshRecords(templates, count, uniqueName("k"));
    let entries = kinesisPayloads(records, "/aws/cloudtrail/test").map((data) => ({
      Data: data,
      PartitionKey: Math.random().toString(36).slice(2),
    }));
    for (let attempt = 0; entries.length > 0; attempt++) {
      try {
        const out = await kinesis.send(new PutRecordsCommand({ StreamName: this.#stream, Records: entries }));
        entries = entries.filter((_, i) => out.Records?.[i]?.ErrorCode);
      } catch (error) {
        if (attempt > 50) throw error;
      }
      if (entries.length > 0) await new Promise((r) => setTimeout(r, 200));
    }
    this.sent.push(...records);
  }
  start(everyMs: number, count: number): void {
    this.#loop = (async () => {
      while (this.#running) {
        await this.put(count);
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
  }
  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}

async function leaseOwners(
  prefix: string,
  stream: string,
  shardIds: readonly string[],
): Promise<Map<string, string | null>> {
  const values = replyList(await redis.command(["MGET", ...shardIds.map((s) => `${prefix}{${stream}}:lease:${s}`)]));
  return new Map(shardIds.map((s, i) => [s, values[i] ?? null]));
}

function count(owners: Map<string, string | null>, owner: string): number {
  return [...owners.values()].filter((o) => o === owner).length;
}

function assertAllArrived(raw: TopicReader, sent: readonly Json[]): void {
  const missing = sent.filter((r) => raw.envelopes(identityOf(r)).length === 0);
  assert.equal(missing.length, 0, `${missing.length} of ${sent.length} identities missing from raw`);
  for (const r of sent.slice(0, 50)) assert.deepEqual(raw.envelopes(identityOf(r))[0]?.event, r);
}

type Mode = "polling" | "fan-out";
const MODES: Mode[] = ["polling", "fan-out"];

/** The settings of a consumer mode: fan-out goes to kinesis-local's HTTP/2 TLS port (the plain one, -1). */
function modeEnv(mode: Mode): Record<string, string> {
  if (mode === "polling") return { KINESIS_CONSUMER_MODE: "polling" };
  const plain = new URL(e.kinesisEndpoint);
  const tls = process.env.KINESIS_FANOUT_ENDPOINT ?? `https://${plain.hostname}:${Number(plain.port) - 1}`;
  return {
    KINESIS_CONSUMER_MODE: "fan-out",
    KINESIS_CONSUMER_NAME: uniqueName("consumer"),
    KINESIS_FANOUT_ENDPOINT: tls,
    // kinesis-local's certificate is self-signed (CN "Unknown").
    KINESIS_FANOUT_TLS_VERIFY: "false",
    // Shorter subscriptions than the five minutes of AWS, so the tests cross renewals.
    KINESIS_SUBSCRIPTION_RENEW: "20s",
  };
}

/** An ingester reading `stream` into the test's topics, in a consumer mode. */
function streamEnv(
  stream: string,
  topics: { raw: string; dlq: string },
  mode: Record<string, string>,
  extra: Record<string, string> = {},
): Record<string, string> {
  return ingesterEnv(e, {
    TOPIC_RAW: topics.raw,
    TOPIC_DLQ: topics.dlq,
    KINESIS_STREAMS: stream,
    AWS_ENDPOINT_URL_KINESIS: e.kinesisEndpoint,
    LOG_LEVEL: "info",
    ...extra,
    ...mode,
  });
}

/** Every record in raw is one that was put, and every copy of an identity holds the same event. */
function assertOnlyCopies(raw: TopicReader, sent: readonly Json[]): void {
  const wanted = new Set(sent.map(identityOf));
  for (const key of raw.keys()) {
    assert.ok(wanted.has(key), `raw holds ${key}, which was never put`);
    const [head, ...rest] = raw.envelopes(key);
    const first = JSON.stringify(head?.event);
    for (const env of rest) assert.equal(JSON.stringify(env.event), first);
  }
}

function tail(p: IngesterProcess): string {
  return `${p.id}:\n${p.output.slice(-15).join("\n")}`;
}

for (const mode of MODES) {
  test(`${mode}: two replicas split 4 shards; SIGKILL one and the other takes its shards; nothing is lost`, async () => {
    const stream = uniqueName("leases");
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 4 }));
    await activeStream(stream);
    const shardIds = (await shards(stream)).map((s) => s.ShardId ?? "");
    const topics = await testTopics(kafka);
    const raw = await TopicReader.open(kafka, topics.raw);
    const env = streamEnv(stream, topics, modeEnv(mode));
    const prefix = env.REDIS_KEY_PREFIX ?? "";
    const feeder = new Feeder(stream);
    try {
      await feeder.put(200);
      const a = await spawnIngester("replica-a", env);
      const b = await spawnIngester("replica-b", env);
      processes.push(a, b);
      feeder.start(300, 30);

      const split = await eventually(
        async () => {
          const owners = await leaseOwners(prefix, stream, shardIds);
          assert.equal(count(owners, "replica-a"), 2, `a holds 2: ${JSON.stringify([...owners])}`);
          assert.equal(count(owners, "replica-b"), 2, `b holds 2: ${JSON.stringify([...owners])}`);
          return owners;
        },
        30_000,
        250,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${tail(a)}\n${tail(b)}`);
      });
      // Both read: records from each replica's shards reach raw.
      await eventually(async () => assertAllArrived(raw, feeder.sent.slice(0, 200)), 30_000, 250).catch(
        (error: unknown) => {
          throw new Error(`${String(error)}\n${tail(a)}\n${tail(b)}`);
        },
      );

      // Health endpoints of a replica: alive, ready, and its leases in /metrics.
      const port = metricsPortOf(a);
      assert.ok(port, "replica a logged its metrics port");
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
      await eventually(
        async () => {
          const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          assert.match(metrics, new RegExp(`trailstream_ingester_leases_held\\{stream="${stream}"[^}]*\\} 2`));
          assert.match(metrics, /trailstream_ingester_event_lag_seconds_bucket\{[^}]*source="kinesis-/);
        },
        15_000,
        250,
      );

      // Kill -9 in the middle of the stream: its leases expire (3 s) and b takes all four.
      a.child.kill("SIGKILL");
      await a.exited();
      await eventually(
        async () => {
          const owners = await leaseOwners(prefix, stream, shardIds);
          assert.equal(count(owners, "replica-b"), 4, `b holds all: ${JSON.stringify([...owners])}`);
        },
        20_000,
        250,
      );
      assert.ok(split.size === 4);
      await new Promise((r) => setTimeout(r, 1_000));
      await feeder.stop();
      await eventually(async () => assertAllArrived(raw, feeder.sent), 30_000, 500).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${tail(b)}`);
      });
      // Repeats are whole copies of records put, which the enricher's dedup absorbs (records after
      // the killed replica's last checkpoints, read again by the other): nothing else, nothing foreign.
      assertOnlyCopies(raw, feeder.sent);
      if (mode === "fan-out")
        assert.ok(
          a.output.some((l) => l.includes("reading the stream with enhanced fan-out")),
          tail(a),
        );

      // SIGTERM: b stops taking work, checkpoints, hands its leases back and exits 0.
      b.child.kill("SIGTERM");
      assert.equal(await b.exited(), 0, tail(b));
      const owners = await leaseOwners(prefix, stream, shardIds);
      assert.equal(count(owners, "replica-b"), 0, "leases released on SIGTERM");
      const checkpoints = Object.fromEntries(
        replyMap(await redis.command(["HGETALL", `${prefix}{${stream}}:checkpoints`])),
      );
      assert.equal(Object.keys(checkpoints).length, 4, "every shard has a checkpoint");
    } finally {
      await feeder.stop();
      await raw.close();
      for (const p of processes) if (p.child.exitCode === null) p.child.kill("SIGKILL");
      await deleteStream(kinesis, stream);
    }
  });

  test(`${mode}: a replica that joins gets its share; a reshard mid-stream reads parents before children; nothing is lost`, async () => {
    const stream = uniqueName("reshard");
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 4 }));
    await activeStream(stream);
    const topics = await testTopics(kafka);
    const raw = await TopicReader.open(kafka, topics.raw);
    const env = streamEnv(stream, topics, modeEnv(mode));
    const prefix = env.REDIS_KEY_PREFIX ?? "";
    const feeder = new Feeder(stream);
    try {
      const c = await spawnIngester("replica-c", env);
      processes.push(c);
      feeder.start(250, 30);
      const initial = (await shards(stream)).map((s) => s.ShardId ?? "");
      await eventually(
        async () => assert.equal(count(await leaseOwners(prefix, stream, initial), "replica-c"), 4),
        20_000,
        250,
      );
      const d = await spawnIngester("replica-d", env);
      processes.push(d);
      await eventually(
        async () => {
          const owners = await leaseOwners(prefix, stream, initial);
          assert.equal(count(owners, "replica-c"), 2, JSON.stringify([...owners]));
          assert.equal(count(owners, "replica-d"), 2, JSON.stringify([...owners]));
        },
        30_000,
        250,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${tail(c)}\n${tail(d)}`);
      });

      // Split shard 0, then merge shards 2 and 3, while records keep coming.
      const [s0, , s2, s3] = await shards(stream);
      assert.ok(s0?.ShardId && s2?.ShardId && s3?.ShardId);
      const start = BigInt(s0.HashKeyRange?.StartingHashKey ?? "0");
      const end = BigInt(s0.HashKeyRange?.EndingHashKey ?? "0");
      await kinesis.send(
        new SplitShardCommand({
          StreamName: stream,
          ShardToSplit: s0.ShardId,
          NewStartingHashKey: ((start + end) / 2n).toString(),
        }),
      );
      await activeStream(stream);
      await new Promise((r) => setTimeout(r, 1_500));
      await kinesis.send(
        new MergeShardsCommand({ StreamName: stream, ShardToMerge: s2.ShardId, AdjacentShardToMerge: s3.ShardId }),
      );
      await activeStream(stream);
      await new Promise((r) => setTimeout(r, 3_000));
      await feeder.stop();

      await eventually(async () => assertAllArrived(raw, feeder.sent), 45_000, 500).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${tail(c)}\n${tail(d)}`);
      });
      const after = await shards(stream);
      const checkpoints = Object.fromEntries(
        replyMap(await redis.command(["HGETALL", `${prefix}{${stream}}:checkpoints`])),
      );
      for (const parent of [s0.ShardId, s2.ShardId, s3.ShardId]) {
        assert.equal(checkpoints[parent], "SHARD_END", `${parent} read to its end`);
      }
      // Parents before children: every record read from a child was received after the last record
      // read from its parent(s).
      const received = new Map<string, { first: string; last: string }>();
      for (const key of raw.keys()) {
        for (const env of raw.envelopes(key)) {
          const shard = String(env.origin.shardId);
          const at = String(env.origin.receivedAt);
          const r = received.get(shard);
          if (!r) received.set(shard, { first: at, last: at });
          else {
            if (at < r.first) r.first = at;
            if (at > r.last) r.last = at;
          }
        }
      }
      const children = after.filter((s) => s.ParentShardId);
      assert.ok(children.length >= 3, "the split made two children and the merge one");
      let compared = 0;
      for (const child of children) {
        const got = received.get(child.ShardId ?? "");
        if (!got) continue; // a child that received no record
        for (const parent of [child.ParentShardId, child.AdjacentParentShardId]) {
          const p = parent ? received.get(parent) : undefined;
          if (!p) continue;
          assert.ok(
            p.last <= got.first,
            `${parent} (last ${p.last}) finished before ${child.ShardId} (first ${got.first})`,
          );
          compared++;
        }
      }
      assert.ok(compared > 0, "records were read from parents and children alike");

      for (const p of [c, d]) p.child.kill("SIGTERM");
      assert.deepEqual(await Promise.all([c.exited(), d.exited()]), [0, 0]);
    } finally {
      await feeder.stop();
      await raw.close();
      for (const p of processes) if (p.child.exitCode === null) p.child.kill("SIGKILL");
      await deleteStream(kinesis, stream);
    }
  });

  test(`${mode}: KINESIS_START_POSITION=latest skips what was in the stream before and reads what comes after`, async () => {
    const stream = uniqueName("latest");
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
    await activeStream(stream);
    const topics = await testTopics(kafka);
    const raw = await TopicReader.open(kafka, topics.raw);
    const feeder = new Feeder(stream);
    await feeder.put(60);
    const before = [...feeder.sent];
    const env = streamEnv(stream, topics, modeEnv(mode), { KINESIS_START_POSITION: "latest", LOG_LEVEL: "error" });
    const ingester = await startIngester(loadSettings(env), { log: createLogger("ingester", "error") });
    try {
      const prefix = env.REDIS_KEY_PREFIX ?? "";
      // The start point is pinned in Redis before the first read, so a takeover starts there too.
      await eventually(async () => {
        const checkpoints = Object.fromEntries(
          replyMap(await redis.command(["HGETALL", `${prefix}{${stream}}:checkpoints`])),
        );
        assert.equal(Object.keys(checkpoints).length, 2);
      }, 15_000);
      await new Promise((r) => setTimeout(r, 1_000));
      await feeder.put(60);
      const afterStart = feeder.sent.slice(before.length);
      await eventually(async () => assertAllArrived(raw, afterStart), 30_000, 250);
      const old = before.filter((r) => raw.envelopes(identityOf(r)).length > 0);
      assert.equal(old.length, 0, "nothing from before the start was read");
    } finally {
      await ingester.stop();
      await raw.close();
      await deleteStream(kinesis, stream);
    }
  });
}

test("fan-out: a shard whose subscription someone else holds is polled meanwhile; nothing waits for the holder", async () => {
  // kinesis-local keeps a subscription open for as long as its holder does (a SIGKILLed replica's,
  // for half a minute and more): the replica that takes the shard is refused ("in use") until then.
  const stream = uniqueName("held");
  await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
  await activeStream(stream);
  const [shard] = await shards(stream);
  assert.ok(shard?.ShardId);
  const topics = await testTopics(kafka);
  const raw = await TopicReader.open(kafka, topics.raw);
  const fanOut = modeEnv("fan-out");
  const env = streamEnv(stream, topics, fanOut);
  const holding = new AbortController();
  const feeder = new Feeder(stream);
  try {
    const { consumerArn } = await ensureConsumer(
      kinesis,
      stream,
      fanOut.KINESIS_CONSUMER_NAME ?? "",
      new AbortController().signal,
    );
    const target = {
      endpoint: fanOut.KINESIS_FANOUT_ENDPOINT ?? "",
      region: e.region,
      credentials: async () => ({ accessKeyId: "test", secretAccessKey: "test" }),
      verifyTls: false,
    };
    const held = subscribeToShard(
      target,
      { consumerArn, shardId: shard.ShardId, start: { Type: "LATEST" } },
      async () => {},
      holding.signal,
    ).catch(() => {});
    await new Promise((r) => setTimeout(r, 500));
    const p = await spawnIngester("replica-held", env);
    processes.push(p);
    await feeder.put(100);
    // Three refusals (0.5 s, 1 s, 2 s apart) and the shard is polled: well inside the holder's time.
    await eventually(async () => assertAllArrived(raw, feeder.sent), 20_000, 250).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${tail(p)}`);
    });
    assert.ok(
      p.output.some((l) => l.includes("polling it meanwhile")),
      `the ingester was refused and polled:\n${tail(p)}`,
    );
    // Once the holder lets go, the replica subscribes again and goes on reading.
    holding.abort();
    await held;
    await feeder.put(50);
    await eventually(async () => assertAllArrived(raw, feeder.sent), 45_000, 500).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${tail(p)}`);
    });
    assertOnlyCopies(raw, feeder.sent);
    p.child.kill("SIGTERM");
    assert.equal(await p.exited(), 0, tail(p));
  } finally {
    holding.abort();
    await raw.close();
    for (const p of processes) if (p.child.exitCode === null) p.child.kill("SIGKILL");
    await deleteStream(kinesis, stream);
  }
});
