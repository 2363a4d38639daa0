import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";

const run = promisify(execFile);
const main = new URL("../src/main.ts", import.meta.url).pathname;
const fixtures = new URL("../../../packages/rules/test/fixtures/stratus-records.json", import.meta.url).pathname;

let dir: string;
let records: Record<string, unknown>[];

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [main, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "trailstream-rules-"));
  records = Object.values(JSON.parse(await readFile(fixtures, "utf8")) as Record<string, Record<string, unknown>>);
  const half = Math.ceil(records.length / 2);
  // The three shapes a FILE may have: a gzipped CloudTrail log file, a JSON array, NDJSON.
  await writeFile(join(dir, "log.json.gz"), gzipSync(JSON.stringify({ Records: records.slice(0, half) })));
  await writeFile(join(dir, "array.json"), JSON.stringify(records.slice(half, -2)));
  await writeFile(
    join(dir, "lines.ndjson"),
    `${records
      .slice(-2)
      .map((r) => JSON.stringify(r))
      .join("\n")}\n`,
  );
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const files = () => [join(dir, "log.json.gz"), join(dir, "array.json"), join(dir, "lines.ndjson")];

describe("trailstream rules", () => {
  test("test --json --pattern reports total, matched and the matches", async () => {
    const pattern =
      "{ ($.eventSource = cloudtrail.amazonaws.com) && (($.eventName = StopLogging) || ($.eventName = DeleteTrail)) }";
    const { code, stdout } = await cli("rules", "test", "--json", "--pattern", pattern, ...files());
    assert.equal(code, 0);
    const out = JSON.parse(stdout) as {
      total: number;
      matched: number;
      matches: {
        eventName: string;
        eventSource: string;
        eventID: string;
        file: string;
        eventNumber: number;
        event: unknown;
      }[];
    };
    assert.equal(out.total, records.length);
    assert.equal(out.matched, 2);
    assert.deepEqual(out.matches.map((m) => m.eventName).sort(), ["DeleteTrail", "StopLogging"]);
    for (const m of out.matches) {
      assert.equal(m.eventSource, "cloudtrail.amazonaws.com");
      assert.ok(records.some((r) => r.eventID === m.eventID));
      assert.deepEqual(
        m.event,
        records.find((r) => r.eventID === m.eventID),
      );
    }
  });

  test("a folder stands for its log files (.json and .json.gz), as with scan", async () => {
    const pattern = "{ ($.eventName = StopLogging) || ($.eventName = DeleteTrail) }";
    const { code, stdout } = await cli("rules", "test", "--json", "--pattern", pattern, dir);
    assert.equal(code, 0);
    const out = JSON.parse(stdout) as { total: number; matched: number };
    // lines.ndjson is not a .json file name, so the folder gives the other two.
    assert.equal(out.total, records.length - 2);
    assert.equal(out.matched, 2);
  });

  test("test --rule on a Sigma rule shows the rule's id and author", async () => {
    const id = "0a5177f4-6ca9-44c2-aacf-d3f3d8b6e4d2";
    const json = JSON.parse((await cli("rules", "test", "--json", "--rule", id, ...files())).stdout) as {
      rule: { id: string; author: string; license: string };
      matched: number;
    };
    assert.equal(json.rule.id, id);
    assert.ok(json.rule.author.length > 0);
    assert.equal(json.rule.license, "DRL-1.1");
    assert.ok(json.matched >= 1);
    const text = await cli("rules", "test", "--rule", id, ...files());
    assert.equal(text.code, 0);
    assert.match(text.stdout, new RegExp(`^rule ${id} ".+" \\[sigma, medium\\] by .+Detection Rule License`));
    assert.match(text.stdout, /CreateAccessKey/);
    assert.match(text.stdout, new RegExp(`\\d+ of ${records.length} records matched`));
  });

  test("a pattern that does not parse exits 2 and shows the position", async () => {
    const { code, stderr, stdout } = await cli(
      "rules",
      "test",
      "--pattern",
      "{ $.eventName = }",
      join(dir, "array.json"),
    );
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.match(stderr, /position 16: expected a value after "="/);
    assert.match(stderr, /\n {2}\{ \$\.eventName = \}\n {18}\^/);
  });

  test("usage errors exit 2; unreadable files exit 1", async () => {
    assert.equal((await cli("rules", "test", "--pattern", "x")).code, 2);
    assert.equal((await cli("rules", "test", "--rule", "no-such-rule", join(dir, "array.json"))).code, 2);
    assert.equal((await cli("rules", "frobnicate")).code, 2);
    const missing = await cli("rules", "test", "--pattern", "x", join(dir, "missing.json"));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /missing\.json/);
  });

  test("list shows every built-in rule; --json too", async () => {
    const text = await cli("rules", "list");
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^cis-cloudwatch-1 +on +cis +low +A log metric filter/m);
    assert.match(text.stdout, /\n72 rules \(71 on\)\n$/);
    // Which rules are off, and why.
    assert.match(text.stdout, /^905d389b-b853-46d0-9d3d-dea0d3a3cd49 +off +sigma .*\n +off by default: /m);
    const json = JSON.parse((await cli("rules", "list", "--json")).stdout) as {
      id: string;
      source: string;
      enabled: boolean;
      why: string;
    }[];
    assert.equal(json.length, 72);
    assert.equal(json.filter((r) => r.source === "sigma").length, 57);
    assert.deepEqual(
      json.filter((r) => !r.enabled).map((r) => r.id),
      ["905d389b-b853-46d0-9d3d-dea0d3a3cd49"],
    );
  });

  test("--custom adds rule files; their errors name the file, rule and key", async () => {
    const good = join(dir, "custom.yaml");
    await writeFile(
      good,
      "- id: my-rule\n  title: Mine\n  severity: high\n  pattern: '{ $.eventName = StopLogging }'\n",
    );
    const json = JSON.parse(
      (await cli("rules", "test", "--json", "--custom", good, "--rule", "my-rule", ...files())).stdout,
    ) as {
      matched: number;
    };
    assert.equal(json.matched, 1);
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, "- id: my-rule\n  title: Mine\n  severity: severe\n  pattern: x\n");
    const failed = await cli("rules", "list", "--custom", bad);
    assert.equal(failed.code, 2);
    assert.match(failed.stderr, /bad\.yaml: rule "my-rule": severity:/);
  });
});
