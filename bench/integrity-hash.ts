// The cost of log file integrity on the S3 path: the ingester reads a log file of up to 4 MB whole
// and parses it in one JSON.parse (a larger one streams in 64 KiB chunks) and, with integrity on,
// hashes the decompressed bytes (SHA-256 of the first gzip member): a whole file on the thread pool
// while it is parsed, a streamed one chunk by chunk. This runs the same gzipped files through
// `decodeLogFile` both ways (`--mode whole`, as the ingester reads CloudTrail's files, which are far
// below 4 MB; `--mode stream`, as it reads larger ones), with and without the hasher, alternating
// the order each round, and reports records/s for each and their ratio.
// Only the decode stage is measured: it is the only part hashing changes, and moto's S3 and SQS
// are far slower than the decoder, so through them the difference would vanish in the noise.
//   node bench/integrity-hash.ts [--files 200] [--per-file 500] [--rounds 7] [--mode whole|stream]
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { decodeLogFile, LogFileHasher } from "@trailstream/cloudtrail";
import { freshRecords, stratusRecords } from "../test/support/ingester.ts";

const { values } = parseArgs({
  options: {
    files: { type: "string", default: "200" },
    "per-file": { type: "string", default: "500" },
    rounds: { type: "string", default: "7" },
    mode: { type: "string", default: "whole" },
  },
});
const fileCount = Number(values.files);
const perFile = Number(values["per-file"]);
const rounds = Number(values.rounds);
const mode = values.mode;
if (mode !== "whole" && mode !== "stream") throw new Error("--mode is whole or stream");

const templates = await stratusRecords();
const files = Array.from({ length: fileCount }, () =>
  gzipSync(JSON.stringify({ Records: freshRecords(templates, perFile) })),
);
const compressed = files.reduce((n, f) => n + f.length, 0);

async function* s3Body(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += 64 * 1024) yield bytes.subarray(i, i + 64 * 1024);
}

async function run(hash: boolean): Promise<number> {
  let records = 0;
  const started = performance.now();
  for (const file of files) {
    const hasher = hash ? new LogFileHasher() : undefined;
    for await (const item of decodeLogFile(mode === "whole" ? file : s3Body(file), {}, hasher)) if (item.ok) records++;
    if (hash && (await hasher?.result()) === undefined) throw new Error("a file was not hashed to its end");
  }
  const seconds = (performance.now() - started) / 1000;
  if (records !== fileCount * perFile) throw new Error(`read ${records} records, wrote ${fileCount * perFile}`);
  return records / seconds;
}

await run(false); // warm-up
await run(true);
const without: number[] = [];
const withHash: number[] = [];
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? [false, true] : [true, false];
  for (const hash of order) (hash ? withHash : without).push(await run(hash));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const a = median(without);
const b = median(withHash);
const cpu = cpus()[0]?.model ?? "?";
console.log(`machine: ${cpus().length} x ${cpu}, ${Math.round(totalmem() / 1024 ** 3)} GiB, Node ${process.version}`);
console.log(
  `${fileCount} files x ${perFile} records (${(compressed / 1024 ** 2).toFixed(1)} MiB gzipped), ${mode === "whole" ? "each file whole" : "64 KiB chunks"}, ${rounds} rounds, medians`,
);
console.log(`without validation: ${Math.round(a).toLocaleString("en-US")} records/s`);
console.log(`with validation:    ${Math.round(b).toLocaleString("en-US")} records/s`);
console.log(`ratio: ${(b / a).toFixed(3)} (${((1 - b / a) * 100).toFixed(1)} % slower; target under 10 %)`);
