// The enricher killed with SIGKILL at random moments, at least 10 times, restarted each time, while
// raw records keep coming: the events topic, read with read_committed, holds every identity exactly
// once. The full-size run (200,000 records) is bench/enricher-crash.ts, with the same assertions.
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

test("20,000 raw records, 10 kill -9 of the enricher: every identity exactly once on the events topic", async () => {
  const result = await crashRun({
    kafkaBrokers: brokers,
    redisUrl,
    total: 20_000,
    kills: 10,
    seed: Date.now() % 100_000,
    log: (line) => console.log(`# ${line}`),
  });
  assert.equal(result.kills, 10);
  const problems = crashRunProblems(result);
  assert.deepEqual(problems, [], problems.join("\n"));
  assert.equal(result.events.size, result.truth.identities.size);
  const midWork = result.lagAtKill.filter((lag) => lag > 0n).length;
  assert.ok(midWork >= 5, `most kills land while records wait to be committed (${midWork} of ${result.kills})`);
  console.log(
    `# ${result.truth.records.length} records, ${result.kills} kills, ${result.notes.positionResets} position resets, ` +
      `${result.notes.aborted} aborted transactions, ${result.notes.replays} records written again after a crash, ` +
      `${result.seconds.toFixed(0)} s`,
  );
});
