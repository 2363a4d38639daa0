// Benchmark of RuleSet.match: events per second with the built-in rules (CIS + SigmaHQ CloudTrail),
// and with ten times as many rules, over real Stratus Red Team records.
//   node bench/rules.ts [--records DIR] [--seconds 1] [--rounds 5]
// Three tenfold sets: clones of every rule under new ids (the worst case: every event that hit a
// rule now hits ten), new rules for other events (the usual case: a bigger catalog), and the
// built-in rules without the index (every rule evaluated on every event) for comparison.
import { readdir, readFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { builtinRules, compileSigmaRule, type Rule, RuleSet } from "@trailstream/rules";

const { values } = parseArgs({
  options: {
    records: {
      type: "string",
      default: new URL("../packages/bucket-tree/templates/stratus", import.meta.url).pathname,
    },
    seconds: { type: "string", default: "1" },
    rounds: { type: "string", default: "5" },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

async function loadRecords(dir: string): Promise<unknown[]> {
  try {
    const out: unknown[] = [];
    for (const name of (await readdir(dir)).filter((n) => n.endsWith(".json")).sort()) {
      out.push(...(JSON.parse(await readFile(join(dir, name), "utf8")) as unknown[]));
    }
    return out;
  } catch {
    // Without the shared data, the few records the tests keep.
    const file = new URL("../packages/rules/test/fixtures/stratus-records.json", import.meta.url);
    return Object.values(JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>);
  }
}

const records = await loadRecords(values.records);
// Fresh objects, as the alerter sees them: nothing cached on a record survives from a warm-up pass.
const pool = Array.from({ length: 20 }, () => structuredClone(records)).flat();
const { rules: builtin, failures } = await builtinRules();
if (failures.length > 0) console.error(`rules not loaded: ${failures.map((f) => f.file).join(", ")}`);

const clones = (n: number): Rule[] =>
  Array.from({ length: n }, (_, k) => builtin.map((r) => ({ ...r, id: `${r.id}#${k + 1}` }))).flat();
const others = (n: number): Rule[] =>
  Array.from({ length: n }, (_, i) =>
    compileSigmaRule(
      `title: other ${i}\nid: other-${i}\ndetection:\n    s:\n        eventSource: svc${i % 50}.amazonaws.com\n        eventName: Call${i}\n    condition: s\n`,
    ),
  );

/** The same rules with no index: every rule is evaluated on every event. */
class Linear {
  readonly rules: Rule[];
  constructor(rules: Rule[]) {
    this.rules = rules;
  }
  match(record: unknown): Rule[] {
    return this.rules.filter((r) => r.matches(record));
  }
  candidates(): Rule[] {
    return this.rules;
  }
}

interface Matcher {
  match(record: unknown): Rule[];
  candidates(record: unknown): Rule[];
}

function prepare(name: string, rules: number, set: Matcher) {
  let matches = 0;
  for (const r of pool) matches += set.match(r).length; // warm-up
  const candidates = records.reduce<number>((n, r) => n + set.candidates(r).length, 0) / records.length;
  return { name, rules, set, candidates, matchesPerPass: matches / 20, samples: [] as number[] };
}

function timeOnce(set: Matcher): number {
  let events = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() - start < budget) {
    for (const r of pool) set.match(r);
    events += pool.length;
  }
  return events / (Number(process.hrtime.bigint() - start) / 1e9);
}

const prepared = [
  prepare("built-in (CIS + Sigma)", builtin.length, new RuleSet(builtin)),
  prepare("10x: built-in + 9 clones of each", builtin.length * 10, new RuleSet([...builtin, ...clones(9)])),
  prepare(
    "10x: built-in + rules for other events",
    builtin.length * 10,
    new RuleSet([...builtin, ...others(builtin.length * 9)]),
  ),
  prepare("built-in, no index (linear)", builtin.length, new Linear(builtin)),
  prepare("10x clones, no index (linear)", builtin.length * 10, new Linear([...builtin, ...clones(9)])),
];
// Rounds interleave the rows, so that a noisy neighbour slows every row alike; the median is shown.
for (let round = 0; round < rounds; round++) for (const p of prepared) p.samples.push(timeOnce(p.set));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const rows = prepared.map((p) => ({ ...p, eventsPerSecond: median(p.samples) }));

const k = (n: number) => `${Math.round(n / 1000).toLocaleString("en-US")}k`;
const base = rows[0]?.eventsPerSecond ?? 1;
console.log(
  `RuleSet.match over ${records.length} Stratus records (x20 fresh copies); median of ${rounds} rounds of ${seconds}s per row`,
);
console.log(`node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? "unknown"})\n`);
console.log("| rule set | rules | candidates / event | matches / pass | events/s (median) | min - max | vs built-in |");
console.log("|---|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(
    `| ${r.name} | ${r.rules} | ${r.candidates.toFixed(1)} | ${r.matchesPerPass} | ${Math.round(r.eventsPerSecond).toLocaleString("en-US")} | ${k(Math.min(...r.samples))} - ${k(Math.max(...r.samples))} | ${(r.eventsPerSecond / base).toFixed(2)} |`,
  );
}
