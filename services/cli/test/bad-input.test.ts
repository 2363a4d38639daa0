// The bad-input classes of the 2026-12 reliability review (../shared/findings), one test each:
// bad paths and folders, odd files, corrections, conflicts, rule failures and terminal injection.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { builtinRules, type Rule, RuleSet } from "@trailstream/rules";
import { RuleErrorTally } from "../src/scan/alerts.ts";
import { listInputs } from "../src/scan/inputs.ts";
import { AWS_PRICES } from "../src/scan/report.ts";
import { scan } from "../src/scan/run.ts";
import { TopCounter } from "../src/scan/top.ts";

const run = promisify(execFile);
const main = new URL("../src/main.ts", import.meta.url).pathname;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], options: { asNobody?: boolean } = {}): Promise<Outcome> {
  const [cmd, argv] =
    options.asNobody && process.getuid?.() === 0
      ? ["setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups", process.execPath, main, ...args]]
      : [process.execPath, [main, ...args]];
  try {
    const { stdout, stderr } = await run(cmd, argv, { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as Outcome;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let dir: string;
const rec = (id: string, extra: Record<string, unknown> = {}) => ({
  eventVersion: "1.11",
  eventTime: "2026-11-25T01:00:00Z",
  eventSource: "ec2.amazonaws.com",
  eventName: "DescribeInstances",
  awsRegion: "us-east-1",
  recipientAccountId: "111122223333",
  userIdentity: { type: "IAMUser", arn: "arn:aws:iam::111122223333:user/alice" },
  eventID: id,
  ...extra,
});
const logFile = (records: unknown[]) => gzipSync(JSON.stringify({ Records: records }));

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "trailstream-bad-"));
  await chmod(dir, 0o755);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function folder(name: string, files: Record<string, Uint8Array | string>): Promise<string> {
  const path = join(dir, name);
  await mkdir(path, { recursive: true });
  for (const [file, body] of Object.entries(files)) {
    await mkdir(join(path, file, ".."), { recursive: true });
    await writeFile(join(path, file), body);
  }
  return path;
}

describe("scan: bad paths exit 2 with one line", () => {
  test("a PATH that does not exist, a symbolic link loop, a device", async () => {
    const loop = join(dir, "loop");
    await symlink(loop, loop);
    for (const [path, reason] of [
      [join(dir, "nowhere"), /no such file or folder/],
      [loop, /symbolic link loop/],
      ["/dev/null", /neither a file nor a folder/],
    ] as const) {
      const r = await cli(["scan", "--no-progress", path]);
      assert.equal(r.code, 2, `${path}: ${r.stderr}`);
      assert.match(r.stderr, reason);
      assert.equal(r.stderr.trim().split("\n").length, 1, "one line, no stack trace");
    }
  });

  test("an empty folder, or one with no CloudTrail log file, says so", async () => {
    const empty = await folder("empty", {});
    const r = await cli(["scan", "--no-progress", empty]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no CloudTrail log files/);
    const misnamed = await folder("misnamed", { "b.json.gz.1": "x", "c.gz": "x" });
    const m = await cli(["scan", "--no-progress", misnamed]);
    assert.equal(m.code, 2);
    assert.match(m.stderr, /2 files skipped by name/);
    const rules = await cli(["rules", "test", "--pattern", "{ $.eventName = X }", empty]);
    assert.equal(rules.code, 2);
    assert.match(rules.stderr, /no CloudTrail log files/);
  });

  test("log file names in upper case are read", async () => {
    const upper = await folder("upper", { "A.JSON.GZ": logFile([rec("u-1")]) });
    const r = await cli(["scan", "--no-progress", "--json", upper]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).uniqueEvents, 1);
  });
});

describe("scan: folders and links", () => {
  test("an unreadable subfolder is reported like an unreadable file and the rest is read (exit 3)", async () => {
    const tree = await folder("locked", {
      "a.json.gz": logFile([rec("l-1")]),
      "secret/b.json.gz": logFile([rec("l-2")]),
    });
    await chmod(join(tree, "secret"), 0o000);
    try {
      const r = await cli(["scan", "--no-progress", "--json", tree], { asNobody: true });
      assert.equal(r.code, 3, r.stderr);
      const report = JSON.parse(r.stdout) as { uniqueEvents: number; errors: Array<{ file: string; reason: string }> };
      assert.equal(report.uniqueEvents, 1);
      assert.equal(report.errors.length, 1);
      assert.match(report.errors[0]?.file ?? "", /secret$/);
      assert.match(report.errors[0]?.reason ?? "", /permission denied/);
    } finally {
      await chmod(join(tree, "secret"), 0o755);
    }
  });

  test("a symlinked log file inside a folder is read; a digest synced on its own is skipped", async () => {
    const elsewhere = await folder("elsewhere", { "x.json.gz": logFile([rec("s-1"), rec("s-2")]) });
    const tree = await folder("links", {
      "a.json.gz": logFile([rec("s-3")]),
      "111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261125T010000Z.json.gz":
        gzipSync('{"digestEndTime":"x"}'),
    });
    await symlink(join(elsewhere, "x.json.gz"), join(tree, "linked.json.gz"));
    const r = await cli(["scan", "--no-progress", "--json", tree]);
    assert.equal(r.code, 0, r.stdout);
    const report = JSON.parse(r.stdout) as { uniqueEvents: number; filesSkipped: number };
    assert.equal(report.uniqueEvents, 3);
    assert.equal(report.filesSkipped, 1);
  });
});

describe("scan: file shapes and record content", () => {
  test("a bare JSON array of records is read by scan as by rules test", async () => {
    const tree = await folder("array", { "a.json": JSON.stringify([rec("b-1"), rec("b-2")]) });
    const r = await cli(["scan", "--no-progress", "--json", tree]);
    assert.equal(r.code, 0, r.stdout);
    assert.equal(JSON.parse(r.stdout).uniqueEvents, 2);
  });

  test("an UPDATED_DATA correction is kept, counted, and alerts once per change", async () => {
    const stop = rec("c-1", {
      eventSource: "cloudtrail.amazonaws.com",
      eventName: "StopLogging",
      requestParameters: { name: "org-trail" },
    });
    const sameId = {
      ...stop,
      userIdentity: { type: "Root" },
      addendum: { reason: "UPDATED_DATA", originalEventID: "c-1" },
    };
    const newId = { ...stop, eventID: "c-2", addendum: { reason: "UPDATED_DATA", originalEventID: "c-1" } };
    const tree = await folder("addendum", { "a.json.gz": logFile([stop, sameId, newId, stop]) });
    const report = await scan(await listInputs([tree]), {
      prices: AWS_PRICES,
      maxIdentities: 1000,
      rules: new RuleSet((await builtinRules()).rules),
    });
    assert.equal(report.uniqueEvents, 3, "the same-eventID correction is not a copy");
    assert.equal(report.copiesCollapsed, 1);
    assert.equal(report.corrections, 2);
    const important = report.alerts?.find((a) => /CloudTrail Important Change/i.test(a.title));
    assert.ok(important, "a CloudTrail change rule matched");
    assert.equal(important.matches, 3);
    assert.equal(important.alerts, 1, "one change, one alert");
    const root = report.alerts?.find((a) => /Root/i.test(a.title) && a.alerts > 0);
    assert.ok(root, "the corrected identity (Root) still raises its own rule");
  });

  test("one eventID with different content is counted as a conflict", async () => {
    const tree = await folder("conflict", {
      "a.json.gz": logFile([rec("k-1")]),
      "b.json.gz": logFile([
        rec("k-1", { eventName: "DeleteTrail", eventSource: "cloudtrail.amazonaws.com" }),
        rec("k-1"),
      ]),
    });
    const report = await scan(await listInputs([tree]), { prices: AWS_PRICES, maxIdentities: 1000 });
    assert.equal(report.uniqueEvents, 1);
    assert.equal(report.copiesCollapsed, 2);
    assert.equal(report.identityConflicts, 1);
  });

  test("the time span compares instants; an eventTime that is not a time is counted", async () => {
    const tree = await folder("times", {
      "a.json.gz": logFile([
        rec("t-1", { eventTime: "2026-11-25T01:00:00Z" }),
        rec("t-2", { eventTime: "2026-11-25T10:00:00+09:00" }),
        rec("t-3", { eventTime: "2026-11-25T02:00:00Z" }),
        rec("t-4", { eventTime: "zzz not a time" }),
      ]),
    });
    const report = await scan(await listInputs([tree]), { prices: AWS_PRICES, maxIdentities: 1000 });
    assert.deepEqual(report.timeSpan, { first: "2026-11-25T01:00:00Z", last: "2026-11-25T02:00:00Z" });
    assert.equal(report.unreadableEventTimes, 1);
  });

  test("control characters in names and fields are printed escaped", async () => {
    const tree = await folder("ansi", {
      "x\nFiles read         999\n.json": JSON.stringify({
        Records: [rec("a-1", { eventName: "\u001b[2J\u001b[31mPWNED\r" })],
      }),
    });
    const r = await cli(["scan", "--no-progress", tree]);
    assert.equal(r.code, 0, r.stdout);
    assert.ok(!r.stdout.includes("\u001b"), "no raw escape character");
    assert.match(r.stdout, /\\u001b\[2J/);
    assert.equal(r.stdout.match(/Files read/g)?.length, 1, "no forged report line");
  });

  test("a rule that throws is listed in the report", async () => {
    const throws: Rule = {
      id: "throws",
      title: "throws",
      severity: "low",
      source: "custom",
      matches: () => {
        throw new Error("boom");
      },
    };
    const ruleErrors = new RuleErrorTally();
    const tree = await folder("throws", { "a.json.gz": logFile([rec("r-1"), rec("r-2")]) });
    const report = await scan(await listInputs([tree]), {
      prices: AWS_PRICES,
      maxIdentities: 1000,
      rules: new RuleSet([throws], { onError: ruleErrors.add }),
      ruleErrors,
    });
    assert.deepEqual(report.ruleErrors, [{ ruleId: "throws", events: 2, reason: "boom" }]);
  });

  test("the top event names stay bounded however many distinct names there are", () => {
    const top = new TopCounter(100);
    for (let i = 0; i < 50_000; i++) top.add(`Name${i}-${"x".repeat(600)}`);
    for (let i = 0; i < 500; i++) top.add("Frequent");
    const [first] = top.top(10);
    assert.deepEqual(first, { name: "Frequent", count: 500 });
    assert.ok(top.top(1_000).length <= 200, "at most twice the capacity kept");
    assert.ok(
      top.top(1_000).every((e) => e.name.length <= 257),
      "names are cut",
    );
  });
});

describe("rules test: files and failures", () => {
  test("inflates with scan's bound and decoder: a bomb stops at its first byte, a cut gzip keeps its head", async () => {
    const bomb = join(dir, "bomb.json.gz");
    await writeFile(bomb, gzipSync(Buffer.alloc(64 * 1024 * 1024)));
    const r = await cli(["rules", "test", "--pattern", "{ $.eventName = X }", bomb]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /found byte 0x00/);
    const records = Array.from({ length: 200 }, (_, i) => rec(`cut-${i}`, { eventName: "X" }));
    const whole = logFile(records);
    const cut = join(dir, "cut.json.gz");
    await writeFile(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const c = await cli(["rules", "test", "--json", "--pattern", "{ $.eventName = X }", cut]);
    assert.equal(c.code, 1);
    const doc = JSON.parse(c.stdout) as { matched: number; errors: Array<{ reason: string }> };
    assert.ok(doc.matched > 0, "the records before the cut are read");
    assert.match(doc.errors[0]?.reason ?? "", /gzip/);
  });

  test("a single record and NDJSON are still read", async () => {
    const single = join(dir, "single.json");
    await writeFile(single, JSON.stringify(rec("one", { eventName: "X" }), null, 2));
    const lines = join(dir, "lines.ndjson.gz");
    await writeFile(
      lines,
      gzipSync([rec("n-1", { eventName: "X" }), rec("n-2")].map((r) => JSON.stringify(r)).join("\n")),
    );
    const r = await cli(["rules", "test", "--json", "--pattern", "{ $.eventName = X }", single, lines]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { total: number; matched: number };
    assert.deepEqual([doc.total, doc.matched], [3, 2]);
  });

  test("rule-option mistakes are usage errors, not stack traces", async () => {
    const file = join(dir, "one.json");
    await writeFile(file, JSON.stringify({ Records: [rec("o-1")] }));
    for (const args of [
      ["rules", "list", "--sigma-dir", join(dir, "no-such-dir")],
      ["rules", "test", "--custom", join(dir, "no-such.yaml"), "--rule", "x", file],
      ["rules", "test", "--pattern", `{ ${"(".repeat(20_000)}$.eventName = X${")".repeat(20_000)} }`, file],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.slice(0, 3).join(" ")}: ${r.stderr.slice(0, 300)}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    }
  });

  test("a regular expression that could backtrack for seconds is refused at once", async () => {
    const file = join(dir, "agent.json");
    await writeFile(file, JSON.stringify({ Records: [rec("ua-1", { userAgent: `${"a".repeat(30)}c` })] }));
    // Refused by looking at the expression, before any record is matched: no timing to assert.
    const r = await cli(["rules", "test", "--pattern", "{ $.userAgent = %^a*a*a*a*a*a*a*a*a*a*b$% }", file]);
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, /backtrack/);
    const yaml = join(dir, "slow.yaml");
    await writeFile(
      yaml,
      "- id: slow\n  title: slow\n  severity: low\n  sigma:\n    s:\n      userAgent|re: '^(a+)+$'\n    condition: s\n",
    );
    const s = await cli(["scan", "--no-progress", "--rules", yaml, file]);
    assert.equal(s.code, 2);
    assert.match(s.stderr, /backtrack/);
  });
});
