// Benchmark of `trailstream scan`: records per second and peak memory on a generated bucket tree,
// beside the naive way (whole file in memory, one JSON.parse) measured in the same run.
//   node bench/scan.ts [--gigabytes 1] [--runs 2] [--rules]
// --rules: the scan evaluates the built-in CIS and Sigma rules, as `trailstream scan` does by default
// (without it, as `trailstream scan --no-rules`).
// The tree is cached in .out/bench/ (it is regenerated when the size asked for changes).
import { execFile } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { loadTemplates, type TreeTruth, writeBucketTree } from "@trailstream/bucket-tree";
import { isGlobalServiceEvent } from "@trailstream/cloudtrail";

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    gigabytes: { type: "string", default: "1" },
    runs: { type: "string", default: "2" },
    rules: { type: "boolean", default: false },
  },
});
const gigabytes = Number(values.gigabytes);
const runs = Number(values.runs);
const root = new URL("..", import.meta.url).pathname;
const dir = join(root, ".out", "bench", `scan-${gigabytes}g`);
const truthFile = `${dir}.truth.json`;

async function tree(): Promise<TreeTruth> {
  try {
    return JSON.parse(await readFile(truthFile, "utf8")) as TreeTruth;
  } catch {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    // Measured: a window of 400 events per account-region writes about 6.9 MB (9 account-regions,
    // each event in 1 to 3 trails); 2 % more than asked, so the tree is never under the size.
    const eventsPerWindow = 400;
    const bytesPerWindow = 6.9e6 * (eventsPerWindow / 400);
    const windows = Math.max(1, Math.ceil((gigabytes * 1.02 * 1024 ** 3) / bytesPerWindow));
    console.error(`writing ${windows} five-minute windows of ${eventsPerWindow} events per account-region into ${dir}`);
    const truth = await writeBucketTree({
      outDir: dir,
      templates: await loadTemplates(),
      isGlobalService: isGlobalServiceEvent,
      windows,
      eventsPerWindow,
      seed: 7,
    });
    await writeFile(truthFile, JSON.stringify(truth));
    return truth;
  }
}

const scanMode = values.rules ? "trailstream-rules" : "trailstream";
/** The bound of docs/benchmarks.md: 300 MB of resident memory. */
const BOUND_BYTES = 300e6;

interface Result {
  mode: string;
  files: number;
  records: number;
  unique: number;
  seconds: number;
  maxRssBytes: number;
}

const truth = await tree();
console.error(
  `tree: ${truth.files} files, ${truth.records} records, ${(truth.uncompressedBytes / 1024 ** 3).toFixed(2)} GiB uncompressed`,
);
const results: Result[] = [];
for (let i = 0; i < runs; i++) {
  // Alternate the two so machine noise falls on both alike.
  for (const mode of [scanMode, "naive"]) {
    const { stdout } = await run(process.execPath, [join(root, "bench", "scan-worker.ts"), mode, dir], {
      maxBuffer: 1 << 20,
    });
    const result = JSON.parse(stdout) as Result;
    if (mode === scanMode && (result.unique !== truth.uniqueIdentities || result.records !== truth.records)) {
      throw new Error(
        `scan disagrees with the generator: ${JSON.stringify(result)} vs ${truth.uniqueIdentities} unique`,
      );
    }
    results.push(result);
    console.error(JSON.stringify(result));
  }
}

const best = (mode: string) => {
  const mine = results.filter((r) => r.mode === mode);
  return {
    recordsPerSecond: Math.max(...mine.map((r) => r.records / r.seconds)),
    peakRssMiB: Math.max(...mine.map((r) => r.maxRssBytes)) / 1024 ** 2,
  };
};
const ts = best(scanMode);
const naive = best("naive");
const rounds = Array.from({ length: runs }, (_, i) => {
  const [mine, theirs] = [results[2 * i], results[2 * i + 1]] as [Result, Result];
  return { mine, theirs, ratio: mine.records / mine.seconds / (theirs.records / theirs.seconds) };
});
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB (${(bytes / 1e6).toFixed(0)} MB)`;
const what = values.rules
  ? "trailstream scan, built-in rules (files decoded and rules evaluated on its parse worker, dedup, alerts, report)"
  : "trailstream scan, no rules (files decoded on its parse worker, dedup, report)";
const lines = [
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}`,
  `tree: ${truth.files} files, ${truth.records} records (${truth.uniqueIdentities} unique), ${(truth.uncompressedBytes / 1024 ** 3).toFixed(2)} GiB uncompressed, ${(truth.compressedBytes / 1024 ** 2).toFixed(0)} MiB gzipped`,
  `| run | records/s (best of ${runs}) | peak RSS (MiB, worst) |`,
  "|---|---|---|",
  `| ${what} | ${Math.round(ts.recordsPerSecond).toLocaleString("en-US")} | ${ts.peakRssMiB.toFixed(0)} |`,
  `| naive: gunzip + JSON.parse whole file, Set of ids | ${Math.round(naive.recordsPerSecond).toLocaleString("en-US")} | ${naive.peakRssMiB.toFixed(0)} |`,
  `ratio (trailstream / naive): throughput ${(ts.recordsPerSecond / naive.recordsPerSecond).toFixed(2)}, peak RSS ${(ts.peakRssMiB / naive.peakRssMiB).toFixed(2)}`,
  "",
  "| round | trailstream scan, s | naive, s | ratio | scan peak RSS | naive peak RSS |",
  "|---|---|---|---|---|---|",
  ...rounds.map(
    (r, i) =>
      `| ${i + 1} | ${r.mine.seconds.toFixed(2)} | ${r.theirs.seconds.toFixed(2)} | ${r.ratio.toFixed(2)} | ${mib(r.mine.maxRssBytes)}${r.mine.maxRssBytes >= BOUND_BYTES ? " OVER 300 MB" : ""} | ${mib(r.theirs.maxRssBytes)} |`,
  ),
  `rounds' ratios: median ${median(rounds.map((r) => r.ratio)).toFixed(2)}, ${Math.min(...rounds.map((r) => r.ratio)).toFixed(2)}-${Math.max(...rounds.map((r) => r.ratio)).toFixed(2)}; scan peak RSS ${rounds.every((r) => r.mine.maxRssBytes < BOUND_BYTES) ? "under 300 MB in every round" : "OVER 300 MB in some round"}`,
];
console.log(lines.join("\n"));
