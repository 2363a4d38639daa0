// Every built-in rule against events it must and must not match: no rule is left untested.
import assert from "node:assert/strict";
import { basename } from "node:path";
import { describe, test } from "node:test";
import { builtinRules, cisCatalog, type Rule, RuleSet } from "../src/index.ts";
import { CIS_CASES, SIGMA_CASES } from "./rule-cases.ts";

const { rules, failures } = await builtinRules();
const key = (r: Rule) => (r.source === "sigma" ? basename(r.file ?? "") : r.id);

test("the built-in set is 15 CIS rules and 57 Sigma rules, and every Sigma file loads", () => {
  assert.deepEqual(failures, []);
  assert.equal(rules.filter((r) => r.source === "cis").length, 15);
  assert.equal(rules.filter((r) => r.source === "sigma").length, 57);
  assert.equal(new Set(rules.map((r) => r.id)).size, 72, "rule ids are unique");
});

test("the case table covers exactly the built-in rules", () => {
  assert.deepEqual(
    Object.keys(CIS_CASES).sort(),
    cisCatalog()
      .map((r) => r.id)
      .sort(),
  );
  assert.deepEqual(
    Object.keys(SIGMA_CASES).sort(),
    rules
      .filter((r) => r.source === "sigma")
      .map(key)
      .sort(),
  );
});

const ruleSet = new RuleSet(rules);

for (const source of ["cis", "sigma"] as const) {
  describe(`${source} rules`, () => {
    for (const rule of rules.filter((r) => r.source === source)) {
      const cases = (source === "cis" ? CIS_CASES : SIGMA_CASES)[key(rule)];
      test(`${key(rule)}: ${rule.title}`, () => {
        assert.ok(cases, `no cases for ${key(rule)}`);
        assert.ok(cases.match.length > 0 && cases.noMatch.length > 0);
        cases.match.forEach((e, i) => {
          assert.equal(rule.matches(e), true, `match[${i}] should match`);
          // The index must never hide a match.
          assert.ok(ruleSet.match(e).includes(rule), `match[${i}] is found through the RuleSet`);
        });
        cases.noMatch.forEach((e, i) => {
          assert.equal(rule.matches(e), false, `noMatch[${i}] should not match`);
          assert.ok(!ruleSet.match(e).includes(rule), `noMatch[${i}] is not reported by the RuleSet`);
        });
      });
    }
  });
}

test("CIS rules carry their Security Hub control, CIS section and references", () => {
  const cw1 = cisCatalog().find((r) => r.id === "cis-cloudwatch-1");
  assert.equal(cw1?.securityHubControl, "CloudWatch.1");
  assert.equal(cw1?.cisSection, "4.3");
  assert.equal(cw1?.severity, "low");
  assert.equal(
    cw1?.pattern,
    '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',
  );
  assert.ok(cw1?.references?.every((u) => u.startsWith("https://")));
  const orgs = cisCatalog().find((r) => r.id === "cis-4.15");
  assert.equal(orgs?.cisSection, "4.15");
  assert.equal(orgs?.securityHubControl, undefined);
});

test("Sigma rules keep id, title, author, level, references and tags (Detection Rule License)", () => {
  const r = rules.find((x) => x.id === "4db60cc0-36fb-42b7-9b58-a5b53019fb74");
  assert.ok(r);
  assert.equal(r.title, "AWS CloudTrail Important Change");
  assert.equal(r.author, "vitaliy0x1");
  assert.equal(r.severity, "medium");
  assert.ok(r.references?.some((u) => u.includes("docs.aws.amazon.com")));
  assert.ok(r.tags?.includes("attack.defense-impairment"));
  for (const s of rules.filter((x) => x.source === "sigma")) {
    assert.match(s.id, /^[0-9a-f-]{36}$/);
    assert.ok(s.author, `${s.id} has an author`);
  }
});
