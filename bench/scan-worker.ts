// One measured run in a fresh process, so peak RSS belongs to this run alone.
//   node bench/scan-worker.ts trailstream DIR   `scan` as `trailstream scan --no-rules` runs it (its parse worker decodes the files)
//   node bench/scan-worker.ts naive DIR         read each file whole, gunzip, JSON.parse: the obvious way
import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { listInputs } from "../services/cli/src/scan/inputs.ts";
import { AWS_PRICES } from "../services/cli/src/scan/report.ts";
import { preferSmallHeap, scan } from "../services/cli/src/scan/run.ts";

const [mode, dir] = process.argv.slice(2);
if (!dir || (mode !== "trailstream" && mode !== "naive")) {
  console.error("usage: scan-worker.ts trailstream|naive DIR");
  process.exit(2);
}

const inputs = await listInputs([dir]);
const started = process.hrtime.bigint();
let records = 0;
let unique = 0;
if (mode === "trailstream") {
  preferSmallHeap();
  const report = await scan(inputs, { prices: AWS_PRICES, maxIdentities: 5_000_000 });
  records = report.records;
  unique = report.uniqueEvents;
} else {
  const seen = new Set<string>();
  for (const input of inputs) {
    const body = JSON.parse(gunzipSync(await readFile(input.name)).toString("utf8")) as {
      Records: Array<{ recipientAccountId: string; eventID: string }>;
    };
    for (const r of body.Records) {
      records++;
      seen.add(`${r.recipientAccountId}:${r.eventID}`);
    }
  }
  unique = seen.size;
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(
  JSON.stringify({
    mode,
    files: inputs.length,
    records,
    unique,
    seconds,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  }),
);
