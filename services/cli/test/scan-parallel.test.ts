// `scan` with its parse worker (parallel.ts) gives the report it gives without one, on a generated
// tree and on every kind of odd file and record: the worker's summaries carry all the report reads.
// With rules, the worker evaluates them too (rule-marks.ts) and the alerts, rule failures and the
// rest of the report are still the single thread's.
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { loadTemplates, writeBucketTree } from "@trailstream/bucket-tree";
import { type CloudTrailRecord, inflateLogFile, isGlobalServiceEvent } from "@trailstream/cloudtrail";
import {
  compileSigmaRule,
  DEFAULT_POLICY,
  loadRuleCatalog,
  type Rule,
  type RuleCatalogInputs,
} from "@trailstream/rules";
import { CORRELATION_FILE, correlationEstate } from "../../../test/support/correlation-estate.ts";
import { loadScanRules } from "../src/commands/scan.ts";
import { alertFields, RuleErrorTally } from "../src/scan/alerts.ts";
import { listInputs } from "../src/scan/inputs.ts";
import { ParseWorker } from "../src/scan/parallel.ts";
import { AWS_PRICES } from "../src/scan/report.ts";
import { RuleMarker, RuleMarksReader, rulesDigest } from "../src/scan/rule-marks.ts";
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

/** The rules as `trailstream scan` loads them, once per scan (a RuleSet and its failures are the scan's own). */
async function scanRules(catalog: RuleCatalogInputs) {
  const ruleErrors = new RuleErrorTally();
  const loaded = await loadScanRules(catalog, ruleErrors);
  assert.ok(loaded);
  return { rules: loaded.ruleSet, correlations: loaded.correlations, ruleErrors, ruleCatalog: loaded.catalog };
}

const STRATUS = new URL("../../../packages/bucket-tree/templates/stratus/", import.meta.url).pathname;

describe("scan with the rules on its parse worker", () => {
  // The built-in CIS and Sigma rules, the shipped correlations, and one rule grouped by principal
  // (userIdentity.arn), so the worker must send more of a matching record than its account.
  const catalog: RuleCatalogInputs = {
    builtin: true,
    customFiles: [CORRELATION_FILE],
    policy: { ...DEFAULT_POLICY, overrides: { "cis-cloudwatch-2": { principal: true } } },
  };

  test("real detonation records, their copies, correlations and a generated tree: the same report", async () => {
    const rulesDir = join(dir, "rules");
    await mkdir(rulesDir, { recursive: true });
    // Each Stratus Red Team detonation (real CloudTrail records) as a log file, and again in a second
    // trail's file: the copies match the same rules, and must neither alert nor fail twice.
    const techniques = (await readdir(STRATUS)).filter((f) => f.endsWith(".json")).sort();
    for (const [i, file] of techniques.entries()) {
      const records = JSON.parse(await readFile(join(STRATUS, file), "utf8")) as unknown[];
      await writeFile(join(rulesDir, `a-${file}.gz`), logFile(records));
      if (i % 2 === 0) await writeFile(join(rulesDir, `b-copy-${file}.gz`), logFile([...records].reverse()));
    }
    const estate = correlationEstate(Date.parse("2026-03-01T10:00:00Z"));
    for (let f = 0; f < 3; f++) {
      const part = estate.records.filter((_, i) => i % 3 === f);
      await writeFile(join(rulesDir, `c-correlations-${f}.json.gz`), logFile(part));
    }
    const inputs = await listInputs([rulesDir, join(dir, "tree")]);
    const options = { prices: AWS_PRICES, maxIdentities: 1_000_000 };
    const alone = await scan(inputs, { ...options, ...(await scanRules(catalog)), parallel: false });
    const parallel = await scan(inputs, { ...options, ...(await scanRules(catalog)), parallel: true });
    assert.deepEqual(parallel, alone);
    const alerts = alone.alerts ?? [];
    assert.ok(
      alerts.some((a) => a.source === "sigma" && a.alerts > 0),
      "Sigma rules raised alerts",
    );
    assert.ok(
      alerts.some((a) => a.source === "cis" && a.alerts > 0),
      "CIS rules raised alerts",
    );
    assert.ok(
      alerts.some((a) => a.correlation !== undefined && a.alerts > 0),
      "a correlation raised an alert",
    );
    assert.ok(
      alerts.some((a) => a.matches > a.alerts),
      "suppression held some matches back (the order of the matches counts)",
    );
  });

  test("the worker loads the same rules and marks each record with those it matched", async () => {
    const loaded = await loadRuleCatalog(catalog);
    const digest = rulesDigest(loaded.rules);
    assert.ok(digest !== null);
    const worker = new ParseWorker({
      catalog,
      digest,
      fields: alertFields(loaded.rules, loaded.correlations),
    });
    try {
      const file = "aws.defense-evasion.cloudtrail-stop.json";
      const records = JSON.parse(await readFile(join(STRATUS, file), "utf8")) as CloudTrailRecord[];
      const inflated = await inflateLogFile(logFile(records));
      assert.ok(!(inflated instanceof Uint8Array) && inflated.inflated);
      const [bytes, end] = inflated.inflated;
      const { summary } = await worker.summarize(bytes, end.trailingBytes);
      assert.ok(summary?.marks, "the worker sent its marks");
      const stopLogging = records.findIndex((r) => r.eventName === "StopLogging");
      assert.ok(stopLogging >= 0);
      const marked = new RuleMarksReader(summary.marks).at(stopLogging);
      const ids = (marked?.matched ?? []).map((i) => loaded.rules[i]?.id);
      assert.ok(ids.includes("cis-cloudwatch-5"), `StopLogging matched ${ids.join(", ")}`);
      // Of a matching record only what the alerts read: its account and principal, not its user agent.
      assert.equal(marked?.record?.recipientAccountId, records[stopLogging]?.recipientAccountId);
      assert.deepEqual(marked?.record?.userIdentity, records[stopLogging]?.userIdentity);
      assert.ok(records[stopLogging]?.userAgent !== undefined);
      assert.equal(marked?.record?.userAgent, undefined);
    } finally {
      await worker.close();
    }
  });

  test("a Sigma detection edited between two loads changes the digest, though id, title and keys stay", () => {
    const sigma = (errorCode: string) =>
      compileSigmaRule(
        `title: t\nid: 0d6b8c1a-1111-2222-3333-444455556666\nlogsource:\n    product: aws\n    service: cloudtrail\n` +
          `detection:\n    selection:\n        eventName: StopLogging\n        errorCode: ${errorCode}\n    condition: selection\nlevel: high\n`,
      );
    assert.equal(rulesDigest([sigma("AccessDenied")]), rulesDigest([sigma("AccessDenied")]));
    assert.notEqual(rulesDigest([sigma("AccessDenied")]), rulesDigest([sigma("Throttling")]));
  });

  test("rules whose data cannot be written as JSON are not checked against the worker's: they stay here", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const rule: Rule = {
      id: "c",
      title: "c",
      severity: "low",
      source: "custom",
      labels: cyclic as never,
      matches: () => true,
    };
    assert.equal(rulesDigest([rule]), null);
    assert.equal(typeof rulesDigest([{ ...rule, labels: {} }]), "string");
  });

  test("a worker that loads other rules than the main thread's stops: the scan decodes the files itself", async () => {
    const worker = new ParseWorker({ catalog, digest: "[]", fields: [] });
    try {
      const inflated = await inflateLogFile(logFile([rec("w-1")]));
      assert.ok(!(inflated instanceof Uint8Array) && inflated.inflated);
      const [bytes, end] = inflated.inflated;
      await assert.rejects(worker.summarize(bytes, end.trailingBytes), /rules differ/);
    } finally {
      await worker.close();
    }
  });

  test("a rule that throws is reported with its item and reason, and the reader passes over the items asked for none", () => {
    const rule = (id: string, matches: (r: Record<string, unknown>) => boolean): Rule => ({
      id,
      title: id,
      severity: "low",
      source: "custom",
      matches: (r) => matches(r as Record<string, unknown>),
    });
    const marker = new RuleMarker(
      [
        rule("get", (r) => r.eventName === "GetObject"),
        rule("throws", (r) => {
          if (r.eventID === "t-2" || r.eventID === "t-4") throw new Error(`boom ${r.eventID}`);
          return false;
        }),
        rule("always", () => true),
      ],
      ["eventID", "__proto__"],
    );
    const records = [
      rec("t-0"),
      rec("t-1", { eventName: "PutObject" }),
      rec("t-2"),
      rec("t-3"),
      { ...rec("t-4"), ...JSON.parse('{"__proto__": {"x": 1}}') },
    ];
    for (const [i, r] of records.entries()) marker.mark(i, r as CloudTrailRecord);
    const marks = marker.take();
    assert.deepEqual(marker.take().matches.length, 0, "the next file starts empty");
    const reader = new RuleMarksReader(marks);
    // Item 0 and 3 are not asked (copies, say): the reader must still line up items 2 and 4.
    const two = reader.at(2);
    assert.deepEqual(two?.matched, [0, 2]);
    assert.equal(two?.record?.eventID, "t-2");
    assert.deepEqual(two?.failures, [{ rule: 1, reason: "boom t-2" }]);
    const four = reader.at(4);
    assert.deepEqual(four?.matched, [0, 2]);
    assert.equal(four?.record?.eventID, "t-4");
    assert.ok(four?.record && Object.hasOwn(four.record, "__proto__"), "an own __proto__ stays a field");
    assert.deepEqual(four?.failures, [{ rule: 1, reason: "boom t-4" }]);
  });
});
