import assert from "node:assert/strict";
import { test } from "node:test";
import { applyPolicy, builtinRules, DEFAULT_POLICY, parseOverrides, RulePolicyError } from "../src/index.ts";

const { rules } = await builtinRules();
const ASSUME_ROLE_MISUSE = "905d389b-b853-46d0-9d3d-dea0d3a3cd49";

test("the shipped policy: AssumeRole Misuse off with why, the rest on with a suppression per account", () => {
  assert.ok(rules.some((r) => r.id === ASSUME_ROLE_MISUSE));
  const { rules: on, status } = applyPolicy(rules);
  assert.ok(!on.some((r) => r.id === ASSUME_ROLE_MISUSE));
  const off = status.filter((s) => !s.enabled);
  assert.deepEqual(
    off.map((s) => s.id),
    [ASSUME_ROLE_MISUSE],
  );
  assert.match(off[0]?.why ?? "", /off by default/);
  for (const r of on.filter((x) => !x.threshold && !x.silent))
    assert.deepEqual(r.suppress, { windowMs: DEFAULT_POLICY.defaultSuppressMs, groupBy: ["recipientAccountId"] }, r.id);
});

test("RULES_DISABLED and RULE_OVERRIDES: off, on again, severity, suppression and the principal label", () => {
  const cis = rules.find((r) => r.source === "cis");
  assert.ok(cis);
  const overrides = parseOverrides(
    `${ASSUME_ROLE_MISUSE}:enabled=true,suppress=1h,principal=true; ${cis.id}:severity=critical,suppress=0`,
  );
  const { rules: on, status } = applyPolicy(rules, {
    disabled: ["cis-cloudwatch-2"],
    overrides,
    defaultSuppressMs: 60_000,
  });
  const misuse = on.find((r) => r.id === ASSUME_ROLE_MISUSE);
  assert.deepEqual(misuse?.suppress, { windowMs: 3_600_000, groupBy: ["recipientAccountId", "userIdentity.arn"] });
  assert.equal(misuse?.principalLabel, true);
  assert.equal(status.find((s) => s.id === ASSUME_ROLE_MISUSE)?.why, "on: RULE_OVERRIDES");
  const changed = on.find((r) => r.id === cis.id);
  assert.equal(changed?.severity, "critical");
  assert.equal(changed?.suppress, undefined);
  assert.ok(!on.some((r) => r.id === "cis-cloudwatch-2"));
  assert.equal(status.find((s) => s.id === "cis-cloudwatch-2")?.why, "off: RULES_DISABLED");
});

test("an unknown id or a malformed override is an error, not a silent no-op", () => {
  assert.throws(() => applyPolicy(rules, { ...DEFAULT_POLICY, disabled: ["no-such-rule"] }), RulePolicyError);
  for (const bad of ["x", "id:severity=loud", "id:enabled=yes", "id:suppress=soon", "id:colour=red"])
    assert.throws(() => parseOverrides(bad), RulePolicyError, bad);
});
