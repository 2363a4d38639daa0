// The enricher killed with SIGKILL at random moments, at least 10 times, restarted each time, while
// raw records keep coming; then frozen (SIGSTOP) past its session timeout and resumed, a zombie
// whose partitions another instance took over. The events topic, read with read_committed, holds
// every identity exactly once. The full-size run (200,000 records) is bench/enricher-crash.ts, with the same assertions.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { crashRun, crashRunProblems } from "../support/enricher-crash.ts";
import { endpoints, requireReachable } from "../support/servers.ts";

let brokers: string[];
let redisUrl: string;

before(async () => {
  const e = await endpoints();
  brokers = e.kafkaBrokers;
  redisUrl = e.redisUrl;
  await requireReachable("Kafka", brokers[0] ?? "", "KAFKA_BROKERS");
  await requireReachable("Redis", redisUrl, "REDIS_URL");
});

test("20,000 raw records, 10 kill -9 and 2 zombie freezes of two enrichers: every identity exactly once", async () => {
  // Two instances in one group: a kill also moves partitions between live instances (rebalance,
  // fencing by the next owner, the position check), not only to the restarted process.
  const result = await crashRun({
    kafkaBrokers: brokers,
    redisUrl,
    total: 20_000,
    kills: 10,
    instances: 2,
    freezes: 2,
    seed: Date.now() % 100_000,
    log: (line) => console.log(`# ${line}`),
  });
  console.log(
    `# ${result.truth.records.length} records, ${result.kills} kills, ${result.notes.positionResets} position resets, ` +
      `${result.notes.aborted} aborted transactions, ${result.notes.replays} records written again after a crash, ` +
      `${result.seconds.toFixed(0)} s`,
  );
  assert.equal(result.kills, 10);
  const problems = crashRunProblems(result);
  assert.deepEqual(problems, [], problems.join("\n"));
  assert.equal(result.events.size, result.truth.identities.size);
  // Not vacuous: kills landed with work in flight, some between a batch's Redis claims and its commit.
  const midWork = result.lagAtKill.filter((lag) => lag > 0n).length;
  assert.ok(midWork >= 3, `kills land while records wait to be committed (${midWork} of ${result.kills})`);
  assert.ok(result.notes.replays > 0, "some batches were claimed in Redis, killed before commit, and replayed");
});
