import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { builtinRules, compileCustomRules, compileSigmaRule, type Rule, RuleSet } from "../src/index.ts";
import { ev } from "./rule-cases.ts";

const { rules: builtin } = await builtinRules();
const records = Object.values(
  JSON.parse(readFileSync(join(import.meta.dirname, "fixtures", "stratus-records.json"), "utf8")) as Record<
    string,
    unknown
  >,
);

/** Wraps each rule so that every evaluation is counted. */
function counted(rules: Rule[]): { rules: Rule[]; count: () => number } {
  let n = 0;
  return {
    rules: rules.map((r) => ({
      ...r,
      matches: (rec: unknown) => {
        n++;
        return r.matches(rec);
      },
    })),
    count: () => n,
  };
}

/** Rules for other events: each pins eventName (or eventSource) to values no fixture record has. */
function otherRules(n: number): Rule[] {
  return Array.from({ length: n }, (_, i) =>
    compileSigmaRule(
      i % 2 === 0
        ? `title: extra ${i}\nid: extra-${i}\ndetection:\n    s:\n        eventName: SomeOtherCall${i}\n        userAgent|contains: x\n    condition: s\n`
        : `title: extra ${i}\nid: extra-${i}\ndetection:\n    s:\n        eventSource: other${i}.amazonaws.com\n    condition: s\n`,
    ),
  );
}

test("evaluations per event stay flat when ten times as many rules are added", () => {
  const base = counted(builtin);
  const grown = counted([...builtin, ...otherRules(builtin.length * 9)]);
  const baseSet = new RuleSet(base.rules);
  const grownSet = new RuleSet(grown.rules);
  assert.equal(grownSet.size, builtin.length * 10);
  for (const r of records)
    assert.deepEqual(
      grownSet.match(r).map((x) => x.id),
      baseSet.match(r).map((x) => x.id),
    );
  assert.equal(grown.count(), base.count(), "the added rules are never evaluated for these records");
  // And per event it is a handful, not the whole catalog.
  assert.ok(base.count() / records.length < 10, `${base.count() / records.length} evaluations per record`);
});

test("candidates: the record's eventName bucket, its eventSource and identity buckets, and the unindexed rules", () => {
  const set = new RuleSet(builtin);
  const { unindexed } = set.stats;
  assert.ok(unindexed <= 3, `only ${unindexed} rules cannot be indexed`);
  const candidates = set.candidates(ev("cloudtrail.amazonaws.com", "StopLogging"));
  const ids = candidates.map((r) => r.id);
  assert.ok(ids.includes("cis-cloudwatch-5"));
  assert.ok(ids.includes("4db60cc0-36fb-42b7-9b58-a5b53019fb74"));
  assert.ok(candidates.length <= 10, ids.join(", "));
  // Index lookups are case-insensitive, because Sigma matching is.
  assert.deepEqual(
    set.candidates(ev("cloudtrail.amazonaws.com", "stoplogging")).map((r) => r.id),
    ids,
  );
});

test("match returns rules in the order given, each once", () => {
  const a = compileSigmaRule("title: a\nid: a\ndetection:\n    s:\n        eventName: X\n    condition: s\n");
  const b = compileSigmaRule("title: b\nid: b\ndetection:\n    s:\n        eventSource: svc\n    condition: s\n");
  const c = compileSigmaRule(
    "title: c\nid: c\ndetection:\n    s:\n        userAgent|contains: cli\n    condition: s\n",
  );
  const d = compileSigmaRule(
    "title: d\nid: d\ndetection:\n    s:\n        userIdentity.type: IAMUser\n    condition: s\n",
  );
  const set = new RuleSet([c, b, d, a]);
  assert.deepEqual(
    set.match(ev("svc", "X")).map((r) => r.id),
    ["c", "b", "d", "a"],
  );
  assert.deepEqual(set.stats, { indexed: { eventName: 1, eventSource: 1, "userIdentity.type": 1 }, unindexed: 1 });
  assert.deepEqual(set.match(null), []);
  assert.deepEqual(set.match("not a record"), []);
});

test("rules without index keys (hand-made) are always evaluated", () => {
  const rule: Rule = { id: "h", title: "h", severity: "info", source: "custom", matches: () => true };
  const set = new RuleSet([rule]);
  assert.deepEqual(set.match({}), [rule]);
});

test("a field that is present but not a string still gets its bucket's rules evaluated", () => {
  const [seven] = compileCustomRules(
    "- id: seven\n  title: seven\n  severity: low\n  pattern: '{ $.userIdentity.type = \"7\" }'\n",
  );
  const sigma = compileSigmaRule(
    "title: root\nid: root\ndetection:\n    s:\n        userIdentity.type: Root\n    condition: s\n",
  );
  assert.ok(seven);
  assert.deepEqual(seven.indexKeys, { "userIdentity.type": ["7"] });
  const set = new RuleSet([seven, sigma]);
  const numeric = { eventName: "X", userIdentity: { type: 7 } };
  assert.ok(seven.matches(numeric));
  assert.deepEqual(
    set.match(numeric).map((r) => r.id),
    ["seven"],
  );
  const array = { eventName: "X", userIdentity: { type: ["IAMUser", "Root"] } };
  assert.ok(sigma.matches(array));
  assert.deepEqual(
    set.match(array).map((r) => r.id),
    ["root"],
  );
  // An object in an indexed field: every rule filed under that field is a candidate.
  const object = { eventName: "X", userIdentity: { type: { nested: "Root" } } };
  assert.deepEqual(
    set.candidates(object).map((r) => r.id),
    ["seven", "root"],
  );
});
