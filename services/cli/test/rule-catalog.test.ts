// `scan` and the alerter load their rules through one loader (loadRuleCatalog of @trailstream/rules);
// this holds them to the same catalog for the same inputs: the alerter's RULES_BUILTIN, SIGMA_DIR,
// RULE_FILES and ALERT_SUPPRESS_DEFAULT, and scan's --no-rules, --sigma-dir, --rules and --suppress
// (RULES_DISABLED and RULE_OVERRIDES are the same variables for both). scan once ignored the Sigma
// folder the alerter loads, and reported matches the alerter would never raise.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { loadRuleCatalog } from "@trailstream/rules";
import { loadRules, ruleInputs } from "../../alerter/src/rules.ts";
import { loadSettings } from "../../alerter/src/settings.ts";
import { scanRuleInputs } from "../src/commands/scan.ts";

const SIGMA = `title: Guardrail removed (a site's own copy)
id: 00000000-0000-4000-8000-00000000abcd
status: test
logsource: { product: aws, service: cloudtrail }
detection:
  selection: { eventName: DeleteGuardrail, eventSource: bedrock.amazonaws.com }
  condition: selection
level: high
`;
const CUSTOM = `
- id: site-stop-logging
  title: Trail stopped
  severity: high
  pattern: '{ $.eventName = StopLogging }'
- id: 00000000-0000-4000-8000-00000000abcd
  title: the same id as the Sigma rule, dropped by both
  severity: low
  pattern: '{ $.eventName = X }'
`;

let dir: string;
let sigmaDir: string;
let custom: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "rule-catalog-"));
  sigmaDir = join(dir, "sigma");
  await mkdir(sigmaDir);
  await writeFile(join(sigmaDir, "guardrail.yml"), SIGMA);
  custom = join(dir, "custom.yaml");
  await writeFile(custom, CUSTOM);
});
after(() => rm(dir, { recursive: true, force: true }));

const base = { KAFKA_BROKERS: "127.0.0.1:9092", REDIS_URL: "redis://127.0.0.1:6379" };

/** What decides an alert: the rules that are on, with their suppression after the policy. */
const shape = (rules: readonly { id: string; suppress?: unknown }[]) =>
  rules.map((r) => `${r.id} ${JSON.stringify(r.suppress ?? null)}`);

async function alerterIds(env: Record<string, string>): Promise<string[]> {
  const loaded = await loadRules(ruleInputs(loadSettings({ ...base, ...env })));
  return shape(loaded.ruleSet.rules);
}

async function scanIds(argv: string[], env: Record<string, string> = {}): Promise<string[]> {
  const inputs = scanRuleInputs([...argv, "logs/"], env);
  assert.ok(inputs, `${argv.join(" ")} evaluates rules`);
  return shape((await loadRuleCatalog(inputs)).rules);
}

const has = (ids: readonly string[], id: string) => ids.some((x) => x.startsWith(`${id} `));

test("the same Sigma folder and custom file give scan and the alerter the same rules, in the same order", async () => {
  const alerter = await alerterIds({ SIGMA_DIR: sigmaDir, RULE_FILES: custom });
  const scan = await scanIds(["--sigma-dir", sigmaDir, "--rules", custom]);
  assert.deepEqual(scan, alerter);
  assert.ok(has(alerter, "00000000-0000-4000-8000-00000000abcd"), "the Sigma folder's rule is in");
  assert.ok(has(alerter, "site-stop-logging"), "the custom rule is in");
  assert.ok(!has(alerter, "59b70e4d-dd17-44a9-b740-acf07ae3eb6a"), "the shipped Sigma rules are replaced");
  assert.equal(new Set(alerter).size, alerter.length, "an id taken twice is kept once by both");
});

test("defaults agree, and so do custom rules alone", async () => {
  assert.deepEqual(await scanIds([]), await alerterIds({}));
  assert.deepEqual(
    await scanIds(["--no-rules", "--rules", custom]),
    await alerterIds({ RULES_BUILTIN: "false", RULE_FILES: custom }),
  );
  assert.equal(scanRuleInputs(["--no-rules", "logs/"], {}), undefined, "scan --no-rules alone evaluates nothing");
});

test("the rule policy agrees: RULES_DISABLED, RULE_OVERRIDES and the default suppression", async () => {
  const policy = { RULES_DISABLED: "site-stop-logging" };
  const alerter = await alerterIds({ ...policy, RULE_FILES: custom, ALERT_SUPPRESS_DEFAULT: "5m" });
  assert.deepEqual(await scanIds(["--rules", custom, "--suppress", "5m"], policy), alerter);
  assert.ok(!has(alerter, "site-stop-logging"), "a disabled rule is off in both");
});
