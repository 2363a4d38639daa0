// The full-size enricher crash run: 200,000 raw records (about 30 % copies), two enrichers in one
// group, one of them killed with SIGKILL at random moments and restarted each time, then frozen
// (SIGSTOP) past the session timeout and resumed as a zombie, then run to the end and stopped with
// SIGTERM. Same assertions as test/integration/enricher-crash.test.ts: every identity exactly once
// on the events topic read with read_committed. Exits 1 when they fail.
//   eval "$(deploy/local/stack env)"
//   node bench/enricher-crash.ts [--records 200000] [--kills 10] [--instances 2] [--freezes 2] [--seed N]
import { parseArgs } from "node:util";
import { crashRun, crashRunProblems } from "../test/support/enricher-crash.ts";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "200000" },
    kills: { type: "string", default: "10" },
    instances: { type: "string", default: "2" },
    freezes: { type: "string", default: "2" },
    seed: { type: "string", default: String(Date.now() % 100_000) },
  },
});
const result = await crashRun({
  kafkaBrokers: (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(","),
  redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  total: Number(values.records),
  kills: Number(values.kills),
  instances: Number(values.instances),
  freezes: Number(values.freezes),
  seed: Number(values.seed),
  log: (line) => console.error(line),
});
const problems = crashRunProblems(result);
console.log(
  JSON.stringify(
    {
      seed: Number(values.seed),
      records: result.truth.records.length,
      unique: result.truth.identities.size,
      copies: result.truth.copies,
      kills: result.kills,
      lagAtKill: result.lagAtKill.map(String),
      eventsOnTopic: [...result.events.values()].reduce((n, e) => n + e.count, 0),
      distinctIdentities: result.events.size,
      dlqRecords: result.dlqRecords,
      notes: result.notes,
      seconds: Math.round(result.seconds),
      problems,
    },
    null,
    2,
  ),
);
process.exitCode = problems.length === 0 ? 0 : 1;
