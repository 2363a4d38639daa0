// Redis memory per tracked identity: the enricher's claims (RedisDedupStore: hashes per event hour
// and shard, a 16-byte digest as field, the owner as value) beside the anchor's naive form
// (../shared/anchors/redis-memory `string-set`: `SET dedup:<account>:<eventID> <owner> NX PX 24h`),
// one private redis-server per scheme, in the same run. Identities are real-shaped (a 12-digit
// account among 7, a UUID v4 eventID) with event times spread evenly over 24 hours: the steady
// state of a 24 h window. Both schemes send batches of claims as one pipeline each, through the
// same client (packages/redis) the enricher uses.
//   node bench/redis-claims.ts [--identities 1000000] [--batch 2000] [--shards-per-hour N/24/80] [--rounds 1]
// Results: docs/benchmarks.md. A private server, not the stack's: other tests write to that one at
// the same time, and `used_memory` is the whole server's.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { openRedis, type RedisStore, redisSettings, replyNumber, replyText } from "../packages/redis/src/index.ts";
import { HOUR_MS } from "../services/enricher/src/claims.ts";
import { RedisDedupStore } from "../services/enricher/src/dedup-redis.ts";
import { freePort, PrivateRedis } from "../test/support/enricher.ts";
import { cpuSecondsOf } from "./process-cpu.ts";

const { values } = parseArgs({
  options: {
    identities: { type: "string", default: "1000000" },
    batch: { type: "string", default: "2000" },
    "shards-per-hour": { type: "string", default: "" },
    rounds: { type: "string", default: "1" },
  },
});
const N = Number(values.identities);
const BATCH = Number(values.batch);
// The sizing rule of docs/enricher.md: about 80 identities per hash (under the 128 of
// hash-max-listpack-entries with room for the spread), as a power of two.
const SHARDS = Number(values["shards-per-hour"]) || 2 ** Math.round(Math.log2(N / 24 / 80));
const ROUNDS = Number(values.rounds);
const WINDOW_MS = 24 * HOUR_MS;
const NOW = Date.now();

interface Identity {
  identity: string;
  owner: string;
  eventTimeMs: number;
}

function identities(): Identity[] {
  const accounts = Array.from({ length: 7 }, (_, i) => `1234567890${String(i).padStart(2, "0")}`);
  const out: Identity[] = [];
  for (let i = 0; i < N; i++) {
    const b = randomBytes(16);
    b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
    b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
    const h = b.toString("hex");
    const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    out.push({
      identity: `${accounts[i % accounts.length]}:${uuid}`,
      owner: `${i % 4}:${1_000_000 + i}`,
      eventTimeMs: NOW - WINDOW_MS + Math.floor((i * WINDOW_MS) / N),
    });
  }
  return out;
}

type Claim = (client: RedisStore, batch: Identity[]) => Promise<void>;

const SCHEMES: Record<string, Claim> = {
  "naive SET per identity (anchor string-set; trailstream before)": async (client, batch) => {
    await client.batch(
      batch.map((x) => ["SET", `dedup:${x.identity}`, x.owner, "NX", "PX", String(WINDOW_MS)] as const),
    );
  },
  [`trailstream claims: a script per hash, HSETNX digest16 into ${SHARDS} hashes per hour, owner token as value`]:
    async (client, batch) => {
      const store = new RedisDedupStore({
        redis: client,
        keyPrefix: "dedup:",
        shardsPerHour: SHARDS,
        windowMs: WINDOW_MS,
        now: () => NOW,
      });
      const owners = await store.claim(batch);
      if (owners.some((o) => o !== null)) throw new Error("a fresh identity found a claim: the layout collides");
    },
};

const usedMemory = (info: string) => Number(/used_memory:(\d+)/.exec(info)?.[1]);

interface Row {
  scheme: string;
  bytesPerIdentity: number;
  keys: number;
  encodings: Record<string, number>;
  claimsPerSecond: number;
  /** CPU per identity claimed: redis-server's, and this process's (the client), in µs. */
  redisCpuMicros: number;
  clientCpuMicros: number;
}

async function measure(scheme: string, claim: Claim, all: Identity[]): Promise<Row> {
  const redis = new PrivateRedis(await freePort());
  await redis.start();
  const client = openRedis(redisSettings(redis.url, { commandTimeoutMs: 60_000 }));
  await client.connected();
  const info = async () => replyText(await client.command(["INFO", "memory"])) ?? "";
  try {
    const before = usedMemory(await info());
    const started = performance.now();
    const redisCpu = cpuSecondsOf(redis.pid);
    const clientCpu = process.cpuUsage();
    for (let i = 0; i < all.length; i += BATCH) await claim(client, all.slice(i, i + BATCH));
    const seconds = (performance.now() - started) / 1_000;
    const redisCpuMicros = ((cpuSecondsOf(redis.pid) - redisCpu) * 1e6) / all.length;
    const { user, system } = process.cpuUsage(clientCpu);
    const clientCpuMicros = (user + system) / all.length;
    const after = usedMemory(await info());
    const keys = replyNumber(await client.command(["DBSIZE"]));
    const encodings: Record<string, number> = {};
    for (let i = 0; i < 50; i++) {
      const key = replyText(await client.command(["RANDOMKEY"]));
      if (key === null) break;
      const encoding = replyText(await client.command(["OBJECT", "ENCODING", key])) ?? "none";
      encodings[encoding] = (encodings[encoding] ?? 0) + 1;
    }
    return {
      scheme,
      bytesPerIdentity: Math.round(((after - before) / all.length) * 10) / 10,
      keys,
      encodings,
      claimsPerSecond: Math.round(all.length / seconds),
      redisCpuMicros: Math.round(redisCpuMicros * 100) / 100,
      clientCpuMicros: Math.round(clientCpuMicros * 100) / 100,
    };
  } finally {
    await client.close();
    await redis.kill();
  }
}

const version = /v=(\S+)/.exec(execFileSync("redis-server", ["--version"]).toString())?.[1];
const rows: Row[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const all = identities();
  for (const [scheme, claim] of Object.entries(SCHEMES)) {
    const row = await measure(scheme, claim, all);
    console.error(JSON.stringify(row));
    rows.push(row);
  }
}
console.log(
  JSON.stringify(
    {
      machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 1024 ** 3), node: process.version },
      redis: version,
      identities: N,
      batch: BATCH,
      rows,
    },
    null,
    2,
  ),
);
