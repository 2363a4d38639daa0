import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { compileCustomRules, loadCustomRules, parseDuration, RuleValidationError } from "../src/index.ts";
import { ev } from "./rule-cases.ts";

const GOOD = `
- id: console-login-burst
  title: Many failed console logins from one address
  severity: high
  pattern: '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'
  labels: { team: secops, page: "yes" }
  runbook: https://wiki.example.com/runbooks/console-login
  threshold: { count: 5, window: 5m, groupBy: [sourceIPAddress] }
  suppress: 10m
- id: s3-public
  title: Bucket made public
  severity: critical
  sigma:
    selection:
      eventSource: s3.amazonaws.com
      eventName: [PutBucketAcl, PutBucketPolicy]
    condition: selection
  suppression: { window: 1h, groupBy: [requestParameters.bucketName] }
`;

test("custom rules: patterns, Sigma detections, labels, thresholds and suppression", async () => {
  const dir = await mkdtemp(join(tmpdir(), "custom-"));
  const file = join(dir, "rules.yaml");
  await writeFile(file, GOOD);
  const [login, s3] = await loadCustomRules(file);
  assert.ok(login && s3);
  assert.equal(login.source, "custom");
  assert.deepEqual(login.labels, { team: "secops", page: "yes" });
  assert.equal(login.runbook, "https://wiki.example.com/runbooks/console-login");
  assert.deepEqual(login.threshold, { count: 5, windowMs: 300_000, groupBy: ["sourceIPAddress"] });
  assert.deepEqual(login.suppress, { windowMs: 600_000, groupBy: ["sourceIPAddress"] });
  assert.deepEqual(login.indexKeys, { eventName: ["consolelogin"] });
  assert.equal(
    login.matches(ev("signin.amazonaws.com", "ConsoleLogin", { errorMessage: "Failed authentication" })),
    true,
  );
  assert.equal(login.matches(ev("signin.amazonaws.com", "ConsoleLogin")), false);
  assert.deepEqual(s3.suppress, { windowMs: 3_600_000, groupBy: ["requestParameters.bucketName"] });
  assert.equal(s3.matches(ev("s3.amazonaws.com", "putbucketacl")), true);
  assert.equal(s3.file, file);
  // A Sigma detection is kept as data (two loads compare by it); a pattern is its own definition.
  assert.match(s3.definition ?? "", /putbucketacl/i);
  assert.equal(login.definition, undefined);
  assert.deepEqual(
    compileCustomRules(`rules:\n${GOOD}`).map((r) => r.id),
    ["console-login-burst", "s3-public"],
  );
});

test("validation errors name the file, the rule and the key", () => {
  const cases: [string, string, string, RegExp][] = [
    ["- { id: a, title: t, severity: urgent, pattern: x }", '"a"', "severity", /one of info, low/],
    ["- { id: a, title: t, severity: low }", '"a"', "pattern", /exactly one of/],
    ["- { id: a, title: t, severity: low, pattern: x, sigma: {} }", '"a"', "sigma", /exactly one of/],
    ["- { id: a, title: t, severity: low, pattern: '{ $.x = }' }", '"a"', "pattern", /position 8/],
    [
      "- { id: a, title: t, severity: low, sigma: { s: { a|bad: 1 }, condition: s } }",
      '"a"',
      "sigma",
      /modifier "bad"/,
    ],
    ["- { title: t, severity: low, pattern: x }", "#1", "id", /required/],
    [
      "- { id: a, title: t, severity: low, pattern: x, threshold: { count: 0, window: 5m } }",
      '"a"',
      "threshold.count",
      /at least 1/,
    ],
    [
      "- { id: a, title: t, severity: low, pattern: x, threshold: { count: 2, window: soon } }",
      '"a"',
      "threshold.window",
      /duration/,
    ],
    [
      "- { id: a, title: t, severity: low, pattern: x, threshold: { count: 2, window: 1m, groupBy: user } }",
      '"a"',
      "threshold.groupBy",
      /list/,
    ],
    ["- { id: a, title: t, severity: low, pattern: x, suppress: 0s }", '"a"', "suppress", /duration/],
    ["- { id: a, title: t, severity: low, pattern: x, supress: 1m }", '"a"', "supress", /unknown key/],
    ["- { id: a, title: t, severity: low, pattern: x, labels: [a] }", '"a"', "labels", /map/],
    [
      "- { id: a, title: t, severity: low, pattern: x }\n- { id: a, title: u, severity: low, pattern: y }",
      '"a"',
      "id",
      /earlier rule/,
    ],
    ["id: a", "-", "(file)", /list of rules/],
  ];
  for (const [yaml, ruleName, key, message] of cases) {
    assert.throws(
      () => compileCustomRules(yaml, "team.yaml"),
      (e: unknown) => {
        assert.ok(e instanceof RuleValidationError, String(e));
        assert.equal(e.file, "team.yaml");
        assert.equal(e.rule, ruleName, e.message);
        assert.equal(e.key, key, e.message);
        assert.match(e.message, message);
        assert.ok(e.message.startsWith(`team.yaml: rule ${ruleName}: ${key}: `), e.message);
        return true;
      },
      yaml,
    );
  }
});

test("durations", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("1d"), 86_400_000);
  assert.equal(parseDuration(1500), 1500);
  assert.equal(parseDuration("5 minutes"), undefined);
  assert.equal(parseDuration("-1m"), undefined);
});
