import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { compileSigmaRule, loadSigmaRules, SigmaRuleError } from "../src/index.ts";

/** A minimal CloudTrail Sigma rule around a detection given as YAML lines. */
function rule(detection: string, extra = ""): ReturnType<typeof compileSigmaRule> {
  const indented = detection
    .trim()
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
  return compileSigmaRule(
    `title: Test\nid: 11111111-2222-3333-4444-555555555555\nauthor: tester\n${extra}logsource:\n    product: aws\n    service: cloudtrail\ndetection:\n${indented}\nlevel: high\n`,
  );
}

describe("Sigma value matching (the specification's rules)", () => {
  test("plain strings compare whole and case-insensitively", () => {
    const r = rule("sel:\n    eventName: 'DeleteTrail'\ncondition: sel");
    assert.equal(r.matches({ eventName: "deletetrail" }), true);
    assert.equal(r.matches({ eventName: "DeleteTrailX" }), false);
    assert.equal(r.matches({}), false);
  });
  test("* and ? wildcards, and \\* escapes", () => {
    const r = rule("sel:\n    a: 'Get*Object?'\n    b: 'x\\*y'\ncondition: sel");
    assert.equal(r.matches({ a: "getBucketObjectS", b: "X*Y" }), true);
    assert.equal(r.matches({ a: "getBucketObject", b: "x*y" }), false);
    assert.equal(r.matches({ a: "getObjectS", b: "xzy" }), false);
  });
  test("value lists are alternatives; `all` requires every value", () => {
    const any = rule("sel:\n    eventName:\n        - A\n        - B\ncondition: sel");
    assert.equal(any.matches({ eventName: "b" }), true);
    assert.equal(any.matches({ eventName: "c" }), false);
    const all = rule("sel:\n    ua|contains|all:\n        - foo\n        - bar\ncondition: sel");
    assert.equal(all.matches({ ua: "xxBARxxfooxx" }), true);
    assert.equal(all.matches({ ua: "foo only" }), false);
  });
  test("contains, startswith, endswith", () => {
    const r = rule("sel:\n    a|contains: mid\n    b|startswith: Pre\n    c|endswith: fix\ncondition: sel");
    assert.equal(r.matches({ a: "xxMIDxx", b: "prefix", c: "SUFFIX" }), true);
    assert.equal(r.matches({ a: "xxMIDxx", b: "xprefix", c: "SUFFIX" }), false);
  });
  test("numbers compare as numbers or their string form", () => {
    const r = rule("sel:\n    port: 22\ncondition: sel");
    assert.equal(r.matches({ port: 22 }), true);
    assert.equal(r.matches({ port: "22" }), true);
    assert.equal(r.matches({ port: 2222 }), false);
  });
  test("'true' / 'false' strings match JSON booleans, and YAML booleans match their strings", () => {
    const s = rule("sel:\n    flag: 'false'\ncondition: sel");
    assert.equal(s.matches({ flag: false }), true);
    assert.equal(s.matches({ flag: "False" }), true);
    assert.equal(s.matches({ flag: true }), false);
    const b = rule("sel:\n    flag: true\ncondition: sel");
    assert.equal(b.matches({ flag: true }), true);
    assert.equal(b.matches({ flag: "TRUE" }), true);
  });
  test("null means absent or null", () => {
    const r = rule("sel:\n    errorCode: null\ncondition: sel");
    assert.equal(r.matches({}), true);
    assert.equal(r.matches({ errorCode: null }), true);
    assert.equal(r.matches({ errorCode: "" }), false);
  });
  test("re is case-sensitive unless its flags say otherwise", () => {
    const r = rule("sel:\n    arn|re: ':assumed-role/aws:'\ncondition: sel");
    assert.equal(r.matches({ arn: "arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1" }), true);
    assert.equal(r.matches({ arn: "arn:aws:sts::1:ASSUMED-ROLE/aws:ec2-instance/i-1" }), false);
    const i = rule("sel:\n    arn|re|i: ':assumed-role/aws:'\ncondition: sel");
    assert.equal(i.matches({ arn: "arn:aws:sts::1:ASSUMED-ROLE/aws:ec2-instance/i-1" }), true);
  });
  test("re with a leading .+ gives the same answers as a plain search (it is anchored for speed)", () => {
    const r = rule("sel:\n    a|re: '.+:role/x'\ncondition: sel");
    const s = rule("sel:\n    a|re|s: '.+:role/x'\ncondition: sel");
    const samples = [
      "arn:aws:iam::1:role/x",
      ":role/x",
      "a:role/x",
      "first\nsecond:role/x",
      "\n:role/x",
      "x".repeat(5000),
    ];
    for (const a of samples) {
      assert.equal(r.matches({ a }), /.+:role\/x/.test(a), JSON.stringify(a));
      assert.equal(s.matches({ a }), /.+:role\/x/s.test(a), JSON.stringify(a));
    }
  });
  test("cased makes plain matching case-sensitive", () => {
    const r = rule("sel:\n    a|cased: Abc\ncondition: sel");
    assert.equal(r.matches({ a: "Abc" }), true);
    assert.equal(r.matches({ a: "abc" }), false);
  });
  test("fieldref compares with another field's value", () => {
    const r = rule("sel:\n    a|fieldref: b.c\ncondition: sel");
    assert.equal(r.matches({ a: "Same", b: { c: "same" } }), true);
    assert.equal(r.matches({ a: "x", b: { c: "y" } }), false);
    assert.equal(r.matches({ a: "x" }), false);
    // The referenced value is data, not a pattern.
    assert.equal(r.matches({ a: "xyz", b: { c: "x*" } }), false);
  });
  test("exists", () => {
    const r = rule("sel:\n    a|exists: true\n    b|exists: false\ncondition: sel");
    assert.equal(r.matches({ a: 1 }), true);
    assert.equal(r.matches({ a: 1, b: 2 }), false);
  });
  test("dotted field names walk into objects and across arrays", () => {
    const r = rule("sel:\n    requestParameters.containerDefinitions.command|contains: '$X'\ncondition: sel");
    assert.equal(
      r.matches({ requestParameters: { containerDefinitions: [{ command: ["a"] }, { command: ["sh", "echo $X"] }] } }),
      true,
    );
    assert.equal(r.matches({ requestParameters: { containerDefinitions: [{ command: ["a"] }] } }), false);
  });
  test("contains on an object looks at its JSON text and the strings inside it", () => {
    const r = rule("sel:\n    requestParameters|contains: 'Suspended'\ncondition: sel");
    assert.equal(r.matches({ requestParameters: { VersioningConfiguration: { Status: "Suspended" } } }), true);
    const all = rule(
      "sel:\n    requestParameters|contains|all:\n        - '\"s3:GetObject\"'\n        - '\"Allow\"'\ncondition: sel",
    );
    // The policy is itself JSON inside a string: its quotes are escaped in the record's JSON text.
    assert.equal(
      all.matches({ requestParameters: { policyDocument: '{"Effect":"Allow","Action":"s3:GetObject"}' } }),
      true,
    );
  });
  test("keywords search the whole record", () => {
    const r = rule("keywords:\n    - 'evil.example'\ncondition: keywords");
    assert.equal(r.matches({ requestParameters: { host: "EVIL.example.com" } }), true);
    assert.equal(r.matches({ requestParameters: { host: "good.example.com" } }), false);
  });
});

describe("Sigma conditions", () => {
  const det = `
sel_a:
    a: 1
sel_b:
    b: 1
filter_x:
    x: 1
filter_y:
    y: 1
`;
  const cases: [string, Record<string, number>, boolean][] = [
    ["sel_a and sel_b", { a: 1, b: 1 }, true],
    ["sel_a and sel_b", { a: 1 }, false],
    ["sel_a or sel_b", { b: 1 }, true],
    ["sel_a and not filter_x", { a: 1, x: 1 }, false],
    ["sel_a and not 1 of filter_*", { a: 1, y: 1 }, false],
    ["sel_a and not 1 of filter_*", { a: 1 }, true],
    ["1 of sel_*", { b: 1 }, true],
    ["all of sel_*", { a: 1 }, false],
    ["all of sel_*", { a: 1, b: 1 }, true],
    ["all of them", { a: 1, b: 1, x: 1, y: 1 }, true],
    ["1 of them", { y: 1 }, true],
    ["2 of them", { y: 1, x: 1 }, true],
    ["2 of them", { y: 1 }, false],
    ["not sel_a or sel_b and filter_x", { a: 1 }, false],
    ["not sel_a or sel_b and filter_x", {}, true],
    ["(not sel_a or sel_b) and filter_x", {}, false],
    ["sel_a AND NOT (filter_x OR filter_y)", { a: 1, y: 1 }, false],
  ];
  for (const [condition, record, want] of cases) {
    test(`${condition} on ${JSON.stringify(record)}`, () => {
      assert.equal(rule(`${det}condition: ${condition}`).matches(record), want);
    });
  }
  test("a list of conditions means any of them", () => {
    const r = rule(`${det}condition:\n    - sel_a\n    - sel_b`);
    assert.equal(r.matches({ b: 1 }), true);
    assert.equal(r.matches({ x: 1 }), false);
  });
  test("a list of maps means any of the maps", () => {
    const r = rule("sel:\n    - a: 1\n      b: 2\n    - c: 3\ncondition: sel");
    assert.equal(r.matches({ a: 1, b: 2 }), true);
    assert.equal(r.matches({ a: 1 }), false);
    assert.equal(r.matches({ c: 3 }), true);
  });
});

describe("Sigma rule errors", () => {
  const bad: [string, string, RegExp][] = [
    ["unknown identifier", "sel:\n    a: 1\ncondition: sel and other", /no search identifier "other"/],
    ["unmatched pattern", "sel:\n    a: 1\ncondition: 1 of filter_*", /matches no search identifier/],
    ["unknown modifier", "sel:\n    a|base64offset: x\ncondition: sel", /modifier "base64offset" is not supported/],
    ["aggregation", "sel:\n    a: 1\ncondition: sel | count() > 5", /aggregation/],
    ["bad syntax", "sel:\n    a: 1\ncondition: sel and", /expected a search identifier/],
    ["bad regex", "sel:\n    a|re: '('\ncondition: sel", /a\|re/],
  ];
  for (const [name, detection, message] of bad) {
    test(name, () =>
      assert.throws(
        () => rule(detection),
        (e: unknown) => e instanceof SigmaRuleError && message.test(e.message),
      ),
    );
  }
  test("other log sources are refused", () => {
    assert.throws(
      () =>
        compileSigmaRule(
          "title: t\nid: x\nlogsource:\n    product: windows\ndetection:\n    s:\n        a: 1\n    condition: s\n",
        ),
      /only aws\/cloudtrail/,
    );
  });
  test("id is required", () => {
    assert.throws(
      () => compileSigmaRule("title: t\ndetection:\n    s:\n        a: 1\n    condition: s\n"),
      /"id" is required/,
    );
  });

  test("loadSigmaRules lists files that fail with the reason and loads the rest", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sigma-"));
    await writeFile(
      join(dir, "a_good.yml"),
      "title: ok\nid: g1\ndetection:\n    s:\n        eventName: X\n    condition: s\nlevel: low\n",
    );
    await writeFile(
      join(dir, "b_bad.yml"),
      "title: bad\nid: b1\ndetection:\n    s:\n        a|nope: 1\n    condition: s\n",
    );
    await writeFile(join(dir, "c_yaml.yaml"), "title: [unclosed\n");
    await writeFile(join(dir, "notes.txt"), "not a rule");
    const { rules, failures } = await loadSigmaRules(dir);
    assert.deepEqual(
      rules.map((r) => [r.id, r.severity, r.indexKeys]),
      [["g1", "low", { eventName: ["x"] }]],
    );
    assert.deepEqual(
      failures.map((f) => f.file),
      ["b_bad.yml", "c_yaml.yaml"],
    );
    assert.match(failures[0]?.reason ?? "", /modifier "nope"/);
    assert.match(failures[1]?.reason ?? "", /YAML/);
  });
});

test("metadata and static index keys", () => {
  const r = rule(
    "sel:\n    eventSource: iam.amazonaws.com\n    eventName:\n        - CreateUser\n        - DeleteUser\nfilter:\n    userAgent|contains: x\ncondition: sel and not filter",
    "references:\n    - https://example.com/a\ntags:\n    - attack.persistence\n",
  );
  assert.equal(r.source, "sigma");
  assert.equal(r.severity, "high");
  assert.equal(r.author, "tester");
  assert.deepEqual(r.references, ["https://example.com/a"]);
  assert.deepEqual(r.tags, ["attack.persistence"]);
  assert.deepEqual(r.indexKeys, { eventName: ["createuser", "deleteuser"], eventSource: ["iam.amazonaws.com"] });
  // Wildcards and modifiers give no index key: the rule is evaluated for every record.
  assert.deepEqual(rule("sel:\n    eventName|startswith: Create\ncondition: sel").indexKeys, {});
  assert.deepEqual(rule("sel:\n    eventName: Create*\ncondition: sel").indexKeys, {});
  // OR keeps a field only when both sides pin it.
  assert.deepEqual(
    rule("a:\n    eventName: X\nb:\n    eventName: Y\n    eventSource: s\ncondition: a or b").indexKeys,
    {
      eventName: ["x", "y"],
    },
  );
});

test("a rule's definition is its detection as data: a detection edit shows in it, the same detection does not", () => {
  const a = rule("selection:\n    eventName: StopLogging\ncondition: selection");
  const again = rule("selection:\n    eventName: StopLogging\ncondition: selection");
  const edited = rule("selection:\n    eventName: StopLogging\n    errorCode: AccessDenied\ncondition: selection");
  assert.equal(a.definition, JSON.stringify({ selection: { eventName: "StopLogging" }, condition: "selection" }));
  assert.equal(again.definition, a.definition);
  assert.notEqual(edited.definition, a.definition);
  // Id, title, level and index keys are the same: only the definition tells the two apart.
  assert.deepEqual(edited.indexKeys, a.indexKeys);
  assert.equal(edited.id, a.id);
});
