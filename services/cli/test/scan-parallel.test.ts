// `scan` with its parse worker (parallel.ts) gives the report it gives without one, on a generated
// tree and on every kind of odd file and record: the worker's summaries carry all the report reads.
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { loadTemplates, writeBucketTree } from "@trailstream/bucket-tree";
import { inflateLogFile, isGlobalServiceEvent } from "@trailstream/cloudtrail";
import { listInputs } from "../src/scan/inputs.ts";
import { AWS_PRICES } from "../src/scan/report.ts";
import { scan } from "../src/scan/run.ts";
import { summarizeLogFile } from "../src/scan/summaries.ts";

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "trailstream-scan-parallel-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ACCOUNT = "123456789012";
const rec = (eventID: string, fields: Record<string, unknown> = {}) => ({
  eventVersion: "1.08",
  eventTime: "2026-11-25T10:00:00Z",
  eventSource: "s3.amazonaws.com",
  eventName: "GetObject",
  awsRegion: "us-east-1",
  eventID,
  recipientAccountId: ACCOUNT,
  ...fields,
});
const gz = (body: string) => gzipSync(Buffer.from(body));
const logFile = (records: unknown[]) => gz(JSON.stringify({ Records: records }));

async function reportsBothWays(paths: string[]) {
  const inputs = await listInputs(paths);
  const options = { prices: AWS_PRICES, maxIdentities: 1_000_000 };
  const alone = await scan(inputs, { ...options, parallel: false });
  const parallel = await scan(inputs, { ...options, parallel: true });
  return { alone, parallel };
}

describe("scan with a parse worker", () => {
  test("a generated tree of overlapping trails: the same report", async () => {
    const outDir = join(dir, "tree");
    const truth = await writeBucketTree({
      outDir,
      templates: await loadTemplates(),
      isGlobalService: isGlobalServiceEvent,
      windows: 3,
      eventsPerWindow: 12,
      repeatEvery: 5,
      seed: 3,
    });
    const { alone, parallel } = await reportsBothWays([outDir]);
    assert.deepEqual(parallel, alone);
    assert.equal(parallel.uniqueEvents, truth.uniqueIdentities);
  });

  test("odd files and odd records: the same report, errors in the same order", async () => {
    const odd = join(dir, "odd");
    await mkdir(odd, { recursive: true });
    const files: Record<string, Buffer | string> = {
      "a-regular.json.gz": logFile([
        rec("11111111-2222-3333-4444-555555555555"),
        rec("not-a-uuid", { errorCode: "AccessDenied", errorMessage: "no" }),
        rec("k-1", { eventSource: null, eventName: undefined, eventTime: "not a time" }),
        rec("k-2", { eventTime: "2026-11-25T19:00:00+09:00", errorCode: "ThrottlingException" }),
        rec("k-3", { eventTime: null, eventCategory: "Data", managementEvent: false }),
        rec("k-4", { addendum: { reason: "UPDATED_DATA", originalEventID: "k-4" } }),
        rec("k-5", { addendum: { reason: "UPDATED_DATA", originalEventID: "k-1" } }),
        rec("k-6", { eventType: "AwsVpceEvent", errorCode: "SomethingElse" }),
        7,
        { eventID: 1 },
        rec("k-7", { eventTime: 5 }),
        rec("k-1", { eventName: "DeleteTrail" }),
        rec("k-1", { eventSource: null, eventName: undefined, eventTime: "not a time" }),
      ]),
      "b-copies.json.gz": logFile([
        rec("11111111-2222-3333-4444-555555555555"),
        rec("k-2", { eventTime: "2026-11-25T19:00:00+09:00", errorCode: "ThrottlingException" }),
        rec("k-9", { eventTime: "2026-11-24T00:00:00.000Z" }),
        rec("k-2", { eventTime: "2026-11-25T10:00:00Z" }),
      ]),
      "c-trailing.json.gz": Buffer.concat([logFile([rec("t-1")]), Buffer.alloc(3)]),
      "d-repeated-records-key.json.gz": gz(
        `{"Records": [${JSON.stringify(rec("r-1"))}], "Records": [${JSON.stringify(rec("r-2"))}]}`,
      ),
      "e-bad-json-record.json.gz": gz(`{"Records": [${JSON.stringify(rec("j-1"))}, {"eventID": }]}`),
      "f-truncated.json.gz": logFile([rec("x-1"), rec("x-2")]).subarray(0, 40),
      "g-plain.json": JSON.stringify({ Records: [rec("p-1"), rec("k-9")] }),
      "h-no-records.json.gz": gz('{"records": []}'),
      "i-bare-array.json.gz": gz(JSON.stringify([rec("b-1"), rec("k-3")])),
    };
    for (const [name, body] of Object.entries(files)) await writeFile(join(odd, name), body);
    const { alone, parallel } = await reportsBothWays([odd]);
    assert.deepEqual(parallel, alone);
    assert.ok(alone.identityConflicts > 0 && alone.corrections > 0 && alone.unreadableEventTimes > 0);
    assert.ok(alone.invalidRecords > 0 && alone.errors.length > 0 && alone.errorEvents > 0);
  });

  test("the worker summarizes a regular file and leaves an irregular one to the main thread", async () => {
    const regular = await inflateLogFile(logFile([rec("s-1"), rec("s-2")]));
    const irregular = await inflateLogFile(gz(`{"Records": [${JSON.stringify(rec("s-3"))}, {"eventID": }]}`));
    const inflated = (f: typeof regular) => {
      assert.ok(!(f instanceof Uint8Array) && f.inflated);
      return f.inflated;
    };
    const [bytes, end] = inflated(regular);
    assert.equal(summarizeLogFile(bytes, end.trailingBytes)?.kind.length, 2);
    const [badBytes, badEnd] = inflated(irregular);
    assert.equal(summarizeLogFile(badBytes, badEnd.trailingBytes), null);
  });

  test("digest files are skipped as without a worker", async () => {
    const mixed = join(dir, "mixed");
    const digestDir = join(mixed, "AWSLogs", ACCOUNT, "CloudTrail-Digest", "us-east-1", "2026", "11", "25");
    await mkdir(digestDir, { recursive: true });
    await writeFile(
      join(digestDir, `${ACCOUNT}_CloudTrail-Digest_us-east-1_trail_us-east-1_20261125T100000Z.json.gz`),
      gz("{}"),
    );
    const tree = join(dir, "tree");
    const some = (await readdir(tree, { recursive: true })).filter((f) => f.endsWith(".json.gz")).slice(0, 5);
    for (const [i, f] of some.entries()) await copyFile(join(tree, f), join(mixed, `copy-${i}.json.gz`));
    const { alone, parallel } = await reportsBothWays([mixed]);
    assert.deepEqual(parallel, alone);
    assert.equal(alone.filesSkipped, 1);
  });
});
