import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { loadTemplates, writeBucketTree } from "@trailstream/bucket-tree";
import { isGlobalServiceEvent } from "@trailstream/cloudtrail";
import { EXIT, UsageError } from "../exit.ts";
import { writeLine } from "../output.ts";

export const sampleHelp = `trailstream sample [options] OUT

Writes the bucket tree that CloudTrail itself would write for three overlapping trails (an
organization trail, a member account's multi-region trail and a second single-region trail),
from real recorded events, and prints what it wrote: the truth a scan should report. Each trail
also gets its signed digest chains, as CloudTrail writes them with log file validation on: each
digest's signature beside it as DIGEST.metadata (its S3 metadata, which aws s3 sync leaves behind)
and the generated public key in OUT/public-keys.json, so that scan --validate OUT checks them.

Options:
  --windows N          five-minute delivery windows (default 3)
  --events N           events per account, region and window (default 20)
  --repeat-every N     write every N-th event twice in its file, as AWS says can happen (default 0: never)
  --seed N             the same seed writes the same tree (default 1)
  --truth FILE         also write the truth as JSON to FILE
  --tamper             then take one event out of one log file and delete one digest, as an intruder would
  -h, --help`;

export async function sampleCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      windows: { type: "string", default: "3" },
      events: { type: "string", default: "20" },
      "repeat-every": { type: "string", default: "0" },
      seed: { type: "string", default: "1" },
      truth: { type: "string" },
      tamper: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    await writeLine(process.stdout, sampleHelp);
    return EXIT.ok;
  }
  const [outDir, ...extra] = positionals;
  if (outDir === undefined || extra.length > 0) throw new UsageError("sample needs exactly one OUT folder");
  const count = (flag: string, value: string | undefined, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be a whole number of at least ${min}`);
    return n;
  };
  const truth = await writeBucketTree({
    outDir,
    templates: await loadTemplates(),
    isGlobalService: isGlobalServiceEvent,
    windows: count("--windows", values.windows, 1),
    eventsPerWindow: count("--events", values.events, 1),
    repeatEvery: count("--repeat-every", values["repeat-every"], 0),
    seed: count("--seed", values.seed, 0),
    digests: { tamper: values.tamper },
  });
  const json = JSON.stringify(truth, null, 2);
  if (values.truth) await writeFile(values.truth, `${json}\n`);
  await writeLine(process.stdout, json);
  return EXIT.ok;
}
