// Micro-benchmark of the topic decoder the enricher and the alerter share (decodeEnvelope, no I/O):
// nanoseconds per record to turn a Kafka value into a checked envelope, on two sets of values:
//   events  the real CloudTrail records of the Stratus Red Team detonation logs the project carries
//           (packages/bucket-tree/templates/stratus, as bench/alerter.ts), each as the enricher writes
//           it to cloudtrail.events (with its real enrichment)
//   raw     the enricher bench's generated cloudtrail.raw values (test/support/enricher.ts, 30 % copies,
//           0.5 % refused: cut short or without an identity)
// beside the floor of the same values (UTF-8 decode + JSON.parse alone) and, with --baseline DIR,
// another checkout's decodeEnvelope (for example main before a change) in the same rounds, in
// alternating order; both must give the same outcome for every value.
//   node bench/decode.ts [--records 200000] [--rounds 7] [--baseline DIR] [--data DIR]
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import * as here from "../packages/cloudtrail/src/index.ts";
import { rawRecords } from "../test/support/enricher.ts";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "200000" },
    rounds: { type: "string", default: "7" },
    baseline: { type: "string" },
    data: { type: "string", default: resolve(import.meta.dirname, "../packages/bucket-tree/templates/stratus") },
  },
});
const perRound = Number(values.records);
const rounds = Number(values.rounds);

type Decode = typeof here.decodeEnvelope;
const baseline: Decode | undefined = values.baseline
  ? ((await import(join(resolve(values.baseline), "packages/cloudtrail/src/index.ts"))) as typeof here).decodeEnvelope
  : undefined;

function stratusRecords(): here.CloudTrailRecord[] {
  return readdirSync(values.data)
    .filter((n) => n.endsWith(".json"))
    .sort()
    .flatMap((n) => JSON.parse(readFileSync(join(values.data, n), "utf8")) as here.CloudTrailRecord[]);
}

const receivedAt = new Date().toISOString();
const sets: Record<string, Buffer[]> = {
  events: stratusRecords().map((event) =>
    Buffer.from(JSON.stringify({ v: 1, event, origin: { kind: "file", receivedAt }, enrichment: here.enrich(event) })),
  ),
  raw: rawRecords({ total: 20_000, copyShare: 0.3, spread: 1_000, bad: 100 }).records.map((r) => Buffer.from(r.value)),
};

const utf8 = new TextDecoder("utf-8", { fatal: true });
const variants: [string, (value: Buffer) => unknown][] = [
  ["decodeEnvelope", here.decodeEnvelope],
  ...(baseline ? ([["baseline", baseline]] as [string, Decode][]) : []),
  [
    "utf8 + JSON.parse",
    (value) => {
      try {
        return JSON.parse(utf8.decode(value));
      } catch {
        return true; // a value cut short: refused as json by the decoders too
      }
    },
  ],
];

for (const [name, values] of Object.entries(sets)) {
  if (baseline) {
    for (const value of values) assert.deepEqual(here.decodeEnvelope(value), baseline(value), `${name}: same outcome`);
  }
  const accepted = values.filter((v) => here.decodeEnvelope(v).ok).length;
  const bytes = Math.round(values.reduce((n, v) => n + v.length, 0) / values.length);
  const ns = new Map<string, number[]>(variants.map(([v]) => [v, []]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const [variant, decode] = variants[(round + k) % variants.length] as (typeof variants)[number];
      let sink = 0;
      const start = process.hrtime.bigint();
      for (let i = 0; i < perRound; i++) if (decode(values[i % values.length] as Buffer)) sink++;
      const took = Number(process.hrtime.bigint() - start) / perRound;
      if (sink !== perRound) throw new Error("unreachable");
      ns.get(variant)?.push(took);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const m = Object.fromEntries([...ns].map(([v, xs]) => [v, Math.round(median(xs))]));
  const line = [
    `${name}: ${values.length} values of ${bytes} B (${accepted} accepted), medians of ${rounds} rounds of ${perRound}:`,
    ...variants.map(([v]) => `${v} ${m[v]} ns`),
    ...(baseline ? [`baseline/decodeEnvelope ${((m.baseline ?? 0) / (m.decodeEnvelope ?? 1)).toFixed(2)}x`] : []),
    `decodeEnvelope over the floor ${((m.decodeEnvelope ?? 0) - (m["utf8 + JSON.parse"] ?? 0)).toString()} ns`,
    `(load ${loadavg()[0]?.toFixed(1)})`,
  ];
  console.log(line.join("; "));
}
