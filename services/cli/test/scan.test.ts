import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { loadTemplates, type TreeTruth, writeBucketTree } from "@trailstream/bucket-tree";
import { isGlobalServiceEvent } from "@trailstream/cloudtrail";
import { listInputs } from "../src/scan/inputs.ts";
import { AWS_PRICES } from "../src/scan/report.ts";
import { scan } from "../src/scan/run.ts";

const run = promisify(execFile);
const main = new URL("../src/main.ts", import.meta.url).pathname;

let dir: string;
let truth: TreeTruth;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "trailstream-scan-"));
  truth = await writeBucketTree({
    outDir: join(dir, "buckets"),
    templates: await loadTemplates(),
    isGlobalService: isGlobalServiceEvent,
    windows: 4,
    eventsPerWindow: 15,
    repeatEvery: 7,
    seed: 42,
  });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("scan on a generated tree of three overlapping trails", () => {
  test("reports exactly the unique identities and per-location copies the generator wrote down", async () => {
    const report = await scan(await listInputs([join(dir, "buckets")]), {
      prices: AWS_PRICES,
      maxIdentities: 1_000_000,
    });
    assert.equal(report.files, truth.files);
    assert.equal(report.records, truth.records);
    assert.equal(report.uniqueEvents, truth.uniqueIdentities);
    assert.equal(report.copiesCollapsed, truth.copiesCollapsed);
    assert.deepEqual(
      Object.fromEntries(
        report.locations.map((l) => [l.location, { files: l.files, records: l.records, copies: l.copies }]),
      ),
      truth.locations,
    );
    assert.ok(truth.identicalFiles > 0, "the tree holds byte-identical files in different buckets");
    assert.ok(Object.keys(truth.locations).length >= 3 * 3, "three trails over several regions");
    assert.deepEqual(report.errors, []);
    // Extra copies of management events cost $2 per 100,000.
    const managementCopies = report.locations.reduce((n, l) => n + l.managementCopies, 0);
    assert.ok(
      Math.abs(
        report.copyCostUsd -
          (managementCopies * 2) / 100_000 -
          (report.locations.reduce((n, l) => n + l.dataCopies, 0) * 0.1) / 100_000,
      ) < 1e-9,
    );
  });

  test("the command prints the same figures as JSON and streams unique events as NDJSON", async () => {
    const json = await run(process.execPath, [main, "scan", "--no-progress", "--json", join(dir, "buckets")]);
    const report = JSON.parse(json.stdout) as Record<string, unknown>;
    for (const field of ["files", "records", "uniqueEvents", "copiesCollapsed", "errors"])
      assert.ok(field in report, field);
    assert.equal(report.uniqueEvents, truth.uniqueIdentities);

    const ndjson = await run(process.execPath, [main, "scan", "--no-progress", "--ndjson", join(dir, "buckets")], {
      maxBuffer: 256 * 1024 * 1024,
    });
    const events = ndjson.stdout
      .trim()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as { v: number; event: { eventID: string }; origin: { kind: string }; enrichment: unknown },
      );
    assert.equal(events.length, truth.uniqueIdentities);
    assert.equal(new Set(events.map((e) => e.event.eventID)).size, truth.uniqueIdentities);
    assert.ok(events.every((e) => e.v === 1 && e.origin.kind === "file" && e.enrichment));
    assert.match(ndjson.stderr, /Unique events\s+[\d,]+/);
  });
});

describe("scan --selectors", () => {
  const writes = [
    {
      Name: "management writes",
      FieldSelectors: [
        { Field: "eventCategory", Equals: ["Management"] },
        { Field: "readOnly", Equals: ["false"] },
      ],
    },
  ];
  test("keeps only the unique events the selectors keep, the same as the enricher's filter", async () => {
    const file = join(dir, "selectors.json");
    await writeFile(file, JSON.stringify({ TrailName: "t", AdvancedEventSelectors: writes }));
    const all = await run(
      process.execPath,
      [main, "scan", "--no-progress", "--no-rules", "--ndjson", join(dir, "buckets")],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const events = all.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: { readOnly?: boolean; eventCategory?: string } });
    const expected = events.filter(
      (e) => e.event.readOnly === false && (e.event.eventCategory ?? "Management") === "Management",
    );
    assert.ok(expected.length > 0 && expected.length < events.length, "the tree has writes and reads");
    for (const selectors of [file, JSON.stringify(writes)]) {
      const kept = await run(
        process.execPath,
        [main, "scan", "--no-progress", "--no-rules", "--ndjson", "--selectors", selectors, join(dir, "buckets")],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      const lines = kept.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { event: { eventID: string } });
      assert.deepEqual(
        lines.map((l) => l.event.eventID),
        expected.map((e) => (e.event as { eventID: string }).eventID),
      );
      assert.match(kept.stderr, /Selected out +[\d,]+ records no --selectors selector keeps/);
    }
    const json = await run(process.execPath, [
      main,
      "scan",
      "--no-progress",
      "--no-rules",
      "--json",
      "--selectors",
      file,
      join(dir, "buckets"),
    ]);
    const report = JSON.parse(json.stdout) as {
      uniqueEvents: number;
      selectedOut: number;
      records: number;
      copiesCollapsed: number;
    };
    assert.equal(report.uniqueEvents, expected.length);
    assert.equal(report.selectedOut + report.copiesCollapsed + report.uniqueEvents, report.records);
  });

  test("invalid selectors are a usage error naming the problem", async () => {
    const bad = JSON.stringify([{ FieldSelectors: [{ Field: "readOnly", StartsWith: ["t"] }] }]);
    await assert.rejects(
      run(process.execPath, [main, "scan", "--selectors", bad, join(dir, "buckets")]),
      (e: { code: number; stderr: string }) => {
        assert.equal(e.code, 2);
        assert.match(e.stderr, /--selectors: InvalidEventSelectorsException/);
        assert.match(e.stderr, /readOnly takes only Equals/);
        return true;
      },
    );
  });
});

describe("scan evaluates the rules", () => {
  test("CIS unauthorized-calls alerts equal the unique events with such an error code, counted apart", async () => {
    const json = await run(process.execPath, [
      main,
      "scan",
      "--no-progress",
      "--suppress",
      "0",
      "--json",
      join(dir, "buckets"),
    ]);
    const report = JSON.parse(json.stdout) as {
      alerts: Array<{ ruleId: string; alerts: number; matches: number; source: string; author?: string }>;
    };
    const ndjson = await run(
      process.execPath,
      [main, "scan", "--no-progress", "--no-rules", "--ndjson", join(dir, "buckets")],
      {
        maxBuffer: 256 * 1024 * 1024,
      },
    );
    const unauthorized = ndjson.stdout
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { event: { errorCode?: string } }).event.errorCode ?? "")
      .filter((code) => code.endsWith("UnauthorizedOperation") || code.startsWith("AccessDenied")).length;
    assert.ok(unauthorized > 0, "the sample holds denied calls");
    // Security Hub CloudWatch.2: unauthorized API calls.
    const unauthorizedRule = report.alerts.find((a) => a.ruleId === "cis-cloudwatch-2");
    assert.equal(unauthorizedRule?.matches, unauthorized);
    assert.equal(unauthorizedRule?.alerts, unauthorized, "without suppression: one alert per event");
    // With the default suppression: one per account and 15 minutes.
    const quiet = JSON.parse(
      (await run(process.execPath, [main, "scan", "--no-progress", "--json", join(dir, "buckets")])).stdout,
    ) as typeof report;
    const suppressed = quiet.alerts.find((a) => a.ruleId === "cis-cloudwatch-2");
    assert.equal(suppressed?.matches, unauthorized);
    assert.ok((suppressed?.alerts ?? 0) > 0 && (suppressed?.alerts ?? 0) < unauthorized, `${suppressed?.alerts}`);
    assert.ok(
      report.alerts.filter((a) => a.source === "sigma").every((a) => a.author),
      "Sigma alerts carry the rule's author",
    );
  });

  test("--no-rules leaves the alerts out", async () => {
    const json = await run(process.execPath, [
      main,
      "scan",
      "--no-progress",
      "--no-rules",
      "--json",
      join(dir, "buckets"),
    ]);
    assert.equal((JSON.parse(json.stdout) as { alerts: unknown }).alerts, null);
  });
});

describe("scan with bad files", () => {
  test("lists each unreadable file with why, reads the rest, and exits 3", async () => {
    const bad = join(dir, "bad");
    const good = (await readdir(join(dir, "buckets"), { recursive: true })).find((f) => f.endsWith(".json.gz"));
    assert.ok(good);
    const { mkdir, copyFile } = await import("node:fs/promises");
    await mkdir(bad, { recursive: true });
    await copyFile(join(dir, "buckets", good), join(bad, "b-good.json.gz"));
    await writeFile(
      join(bad, "a-truncated.json.gz"),
      gzipSync(Buffer.from('{"Records":[{"eventID":"x"}]}')).subarray(0, 20),
    );
    await writeFile(join(bad, "c-not-json.json"), "this is not json");
    await writeFile(join(bad, "d-no-records.json"), '{"records":[]}');

    const result = await run(process.execPath, [main, "scan", "--no-progress", "--json", bad]).catch(
      (e: { code: number; stdout: string }) => e,
    );
    assert.equal("code" in result ? result.code : 0, 3);
    const report = JSON.parse(result.stdout) as {
      files: number;
      uniqueEvents: number;
      errors: Array<{ file: string; reason: string }>;
    };
    assert.equal(report.files, 4);
    assert.deepEqual(
      report.errors.map((e) => e.file.split("/").at(-1)),
      ["a-truncated.json.gz", "c-not-json.json", "d-no-records.json"],
    );
    assert.ok(report.errors.every((e) => e.reason.length > 0));
    assert.ok(report.uniqueEvents > 0, "the good file was still read");
  });

  test("a usage error exits 2 with one line", async () => {
    const result = await run(process.execPath, [main, "scan"]).catch((e: { code: number; stderr: string }) => e);
    assert.equal("code" in result ? result.code : 0, 2);
    assert.match(result.stderr, /scan needs at least one PATH/);
  });
});
