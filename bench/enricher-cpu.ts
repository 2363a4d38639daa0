// Micro-benchmark of the enricher's own CPU per raw record, no I/O: decode a batch (decodeBatch), then
// plan it with every record a first copy (planBatch: enrich and write the events value), on the
// enricher bench's generated raw values (test/support/enricher.ts). With --baseline DIR the same
// steps from another checkout (for example main before a change) run in the same rounds, in
// alternating order, on the same values; both must write the same records. CPU time (user + system
// of this process) per record, so the other work on shared cores moves it less than wall time would.
//   node bench/enricher-cpu.ts [--records 20000] [--rounds 9] [--baseline DIR]
import assert from "node:assert/strict";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { enrich } from "../packages/cloudtrail/src/index.ts";
import type { ConsumedMessage } from "../packages/kafka/src/index.ts";
import * as here from "../services/enricher/src/pipeline.ts";
import { rawRecords } from "../test/support/enricher.ts";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "20000" },
    rounds: { type: "string", default: "9" },
    baseline: { type: "string" },
  },
});
const total = Number(values.records);
const rounds = Number(values.rounds);

type Pipeline = typeof here;
type Enrich = typeof enrich;
const variants: [string, Pipeline, Enrich][] = [["this checkout", here, enrich]];
if (values.baseline) {
  const dir = resolve(values.baseline);
  const pipeline = (await import(join(dir, "services/enricher/src/pipeline.ts"))) as Pipeline;
  const cloudtrail = (await import(join(dir, "packages/cloudtrail/src/index.ts"))) as { enrich: Enrich };
  variants.push([`baseline ${dir}`, pipeline, cloudtrail.enrich]);
}

const messages: ConsumedMessage[] = rawRecords({ total, copyShare: 0, spread: 1_000 }).records.map((r, i) => ({
  topic: "cloudtrail.raw",
  partition: 0,
  offset: String(i),
  key: Buffer.from(r.key),
  value: Buffer.from(r.value),
  timestampMs: Date.now(),
  headers: {},
}));
const BATCH = 1_000;

function once(pipeline: Pipeline, enrichOne: Enrich): string[] {
  const out: string[] = [];
  for (let i = 0; i < messages.length; i += BATCH) {
    const batch = pipeline.decodeBatch(messages.slice(i, i + BATCH));
    const verdicts = batch.decoded.map(() => "first" as const);
    const plan = pipeline.planBatch(batch, verdicts, {
      topicEvents: "cloudtrail.events",
      topicDlq: "cloudtrail.dlq",
      enrich: enrichOne,
      nowMs: 0,
      unchecked: false,
    });
    for (const r of plan.records) out.push(String(r.value));
  }
  return out;
}

// Same output first (the event values as JSON: the key order may differ, the content may not).
const reference = once(here, enrich).map((v) => JSON.parse(v) as unknown);
for (const [name, pipeline, enrichOne] of variants.slice(1)) {
  const theirs = once(pipeline, enrichOne);
  assert.equal(theirs.length, reference.length, `${name} wrote another number of records`);
  theirs.forEach((v, i) => {
    assert.deepEqual(JSON.parse(v), reference[i], `${name} wrote another value for record ${i}`);
  });
}

const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  for (const [name, pipeline, enrichOne] of order) {
    const before = process.cpuUsage();
    once(pipeline, enrichOne);
    const used = process.cpuUsage(before);
    samples.get(name)?.push(((used.user + used.system) * 1_000) / messages.length);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
console.log(`${messages.length} raw records, batches of ${BATCH}, ${rounds} rounds, load ${loadavg()[0]?.toFixed(1)}`);
for (const [name, xs] of samples) {
  console.log(
    `${name}: median ${median(xs).toFixed(0)} ns CPU per record (rounds ${xs.map((x) => x.toFixed(0)).join(", ")})`,
  );
}
if (variants.length > 1) {
  const [mine, theirs] = [...samples.values()];
  console.log(`this checkout / baseline, CPU per record: ${(median(mine ?? []) / median(theirs ?? [])).toFixed(2)}x`);
}
