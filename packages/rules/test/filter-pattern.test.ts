import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CIS_CONTROLS, compileFilterPattern, FilterPatternSyntaxError, parseFilterPattern } from "../src/index.ts";
import { CIS_CASES, stratus } from "./rule-cases.ts";

const matches = (pattern: string, record: unknown) => compileFilterPattern(pattern)(record);

// The sample event of AWS's "Filter pattern syntax for metric filters" page (JSON section).
const AWS_EVENT = {
  eventType: "UpdateTrail",
  sourceIPAddress: "111.111.111.111",
  arrayKey: ["value", "another value"],
  objectList: [
    { name: "a", id: 1 },
    { name: "b", id: 2 },
  ],
  SomeObject: null,
  ThisFlag: true,
};

// The sample event of the page's compound-conditions section.
const AWS_COMPOUND = {
  user: { id: 1, email: "John.Stiles@example.com" },
  users: [
    { id: 2, email: "John.Doe@example.com" },
    { id: 3, email: "Jane.Doe@example.com" },
  ],
  actions: ["GET", "PUT", "DELETE"],
  coordinates: [
    [0, 1, 2],
    [4, 5, 6],
    [7, 8, 9],
  ],
};

describe("JSON patterns: AWS's documented examples", () => {
  const cases: [string, unknown, boolean][] = [
    ['{ $.eventType = "UpdateTrail" }', AWS_EVENT, true],
    ["{ $.sourceIPAddress != 123.123.* }", AWS_EVENT, true],
    ['{ $.arrayKey[0] = "value" }', AWS_EVENT, true],
    ["{ $.objectList[1].id = 2 }", AWS_EVENT, true],
    ["{ $.SomeObject IS NULL }", AWS_EVENT, true],
    ["{ $.SomeOtherObject NOT EXISTS }", AWS_EVENT, true],
    ["{ $.ThisFlag IS TRUE }", AWS_EVENT, true],
    ["{ $.ThisFlag IS FALSE }", AWS_EVENT, false],
    ['{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', AWS_COMPOUND, true],
    ['{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', AWS_COMPOUND, false],
    [
      '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }',
      AWS_COMPOUND,
      true,
    ],
    [
      '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }',
      AWS_COMPOUND,
      false,
    ],
  ];
  for (const [pattern, event, want] of cases) test(pattern, () => assert.equal(matches(pattern, event), want));

  test("numeric comparisons from the page", () => {
    const e = { latency: 500, numbers: [9], processes: [{}, {}, {}, {}, { averageRuntime: 55.5 }], errorCode: 400 };
    for (const p of [
      "{ $.latency >= 500 }",
      "{ $.numbers[0] < 10e3 }",
      "{ $.processes[4].averageRuntime <= 55.5 }",
      "{ $.errorCode = 400 }",
      "{ $.errorCode != 500 }",
      "{ $.latency > +499 }",
    ]) {
      assert.equal(matches(p, e), true, p);
    }
    assert.equal(matches("{ $.numbers[0] < 10e-3 }", e), false);
  });

  test("a selector on an array or object matches neither = nor !=", () => {
    assert.equal(matches("{ $.users = 1 }", { users: [1, 2, 3] }), false);
    assert.equal(matches("{ $.users != 1 }", { users: [1, 2, 3] }), false);
  });
});

describe("JSON patterns: selectors", () => {
  test("[*] and .* wildcards match when any element does", () => {
    assert.equal(matches("{ $.users[*].id = 3 }", AWS_COMPOUND), true);
    assert.equal(matches("{ $.users[*].id = 4 }", AWS_COMPOUND), false);
    assert.equal(matches("{ $.user.* = 1 }", AWS_COMPOUND), true);
    assert.equal(matches('{ $.*.email = "John.Stiles@example.com" }', AWS_COMPOUND), true);
    assert.equal(matches("{ $.coordinates[*][*] = 9 }", AWS_COMPOUND), true);
    assert.equal(matches("{ $.missing[*] NOT EXISTS }", AWS_COMPOUND), true);
    assert.equal(matches("{ $.users[*].id NOT EXISTS }", AWS_COMPOUND), false);
  });

  test("quoted keys reach properties whose names contain dots", () => {
    const e = { "cluster.name": "c1", tags: { "aws:cloudformation:stack-name": "s" } };
    assert.equal(matches("{ $.['cluster.name'] = c1 }", e), true);
    assert.equal(matches('{ $.["cluster.name"] = "c1" }', e), true);
    assert.equal(matches("{ $['cluster.name'] = c1 }", e), true);
    assert.equal(matches("{ $.tags.['aws:cloudformation:stack-name'] = s }", e), true);
    assert.equal(matches("{ $.cluster.name = c1 }", e), false);
  });
});

describe("JSON patterns: values", () => {
  const e = {
    eventSource: "kms.amazonaws.com",
    errorCode: "Client.UnauthorizedOperation",
    account: "123456789012",
    n: 7,
  };
  test("bare values may contain dots", () => {
    assert.equal(matches("{($.eventSource=kms.amazonaws.com)}", e), true);
    assert.equal(matches("{ $.eventSource = kms.amazonaws.com && $.n = 7 }", e), true);
  });
  test("* matches any text at the start, end or middle; matching is case-sensitive", () => {
    assert.equal(matches('{ $.errorCode = "*UnauthorizedOperation" }', e), true);
    assert.equal(matches('{ $.errorCode = "Client.*Operation" }', e), true);
    assert.equal(matches('{ $.errorCode = "*unauthorizedoperation" }', e), false);
    assert.equal(matches('{ $.errorCode = "UnauthorizedOperation" }', e), false);
    assert.equal(matches("{ $.n = * }", e), true);
  });
  test("a bare number matches a numeric string (CloudTrail writes account ids as strings)", () => {
    assert.equal(matches("{ $.account = 123456789012 }", e), true);
    assert.equal(matches('{ $.account = "123456789012" }', e), true);
    assert.equal(matches('{ $.n = "7" }', e), true);
  });
  test("%regex% values", () => {
    assert.equal(matches("{ $.errorCode = %Unauthori[sz]ed% }", e), true);
    assert.equal(matches("{ $.errorCode = %^Unauthorized% }", e), false);
    assert.equal(matches("{ $.errorCode != %Denied$% }", e), true);
  });
  test("quoted strings keep escaped quotes and backslashes", () => {
    assert.equal(matches('{ $.m = "say \\"hi\\" \\\\ bye" }', { m: 'say "hi" \\ bye' }), true);
  });
});

describe("JSON patterns: precedence and missing fields", () => {
  const e = { a: 1, b: 2, c: 3 };
  test("&& binds tighter than ||", () => {
    assert.equal(matches("{ $.a = 9 || $.b = 2 && $.c = 3 }", e), true);
    assert.equal(matches("{ $.a = 1 || $.b = 9 && $.c = 9 }", e), true);
    assert.equal(matches("{ ($.a = 1 || $.b = 9) && $.c = 9 }", e), false);
    assert.equal(matches("{ $.a = 9 && $.b = 2 || $.c = 3 }", e), true);
    assert.equal(matches("{ $.a = 9 && ($.b = 2 || $.c = 3) }", e), false);
  });
  test("a comparison on a missing field is false, for != too", () => {
    assert.equal(matches("{ $.missing = 1 }", e), false);
    assert.equal(matches("{ $.missing != 1 }", e), false);
    assert.equal(matches('{ $.missing != "x" }', e), false);
    assert.equal(matches("{ $.missing < 1 }", e), false);
    assert.equal(matches("{ $.a.deeper != 1 }", e), false);
    assert.equal(matches("{ $.missing IS NULL }", e), false);
    assert.equal(matches("{ $.missing NOT EXISTS }", e), true);
    assert.equal(matches("{ $.a NOT EXISTS }", e), false);
  });
  test("null is not a value: comparisons on it are false", () => {
    assert.equal(matches("{ $.x != 1 }", { x: null }), false);
    assert.equal(matches("{ $.x IS NULL }", { x: null }), true);
  });
  test("records given as JSON text work too", () => {
    assert.equal(matches("{ $.a = 1 }", JSON.stringify(e)), true);
    assert.equal(matches("{ $.a = 1 }", "not json"), false);
  });
});

describe("term, regex and space-delimited patterns", () => {
  test("terms are case-sensitive substrings; all must appear", () => {
    assert.equal(matches("ERROR", "[ERROR] A fatal exception has occurred"), true);
    assert.equal(matches("ERROR", "Exiting with ERRORCODE: -1"), true);
    assert.equal(matches("error", "[ERROR] x"), false);
    assert.equal(matches("ERROR Exception", "[ERROR] Caught IllegalArgumentException"), true);
    assert.equal(matches('"Failed to process the request"', "[WARN] Failed to process the request"), true);
  });
  test("-term excludes, ?term alternatives", () => {
    assert.equal(matches('"ERROR" - "Exiting"', "Exiting with ERRORCODE: -1"), false);
    assert.equal(matches("ERROR -WARN", "ERROR message"), true);
    assert.equal(matches("ERROR -WARN", "ERROR WARN message"), false);
    assert.equal(matches("?ERROR ?WARN", "WARN message"), true);
    assert.equal(matches("?ERROR ?WARN", "INFO message"), false);
  });
  test("terms read a record as its JSON text", () => {
    const r = stratus("aws.defense-evasion.cloudtrail-stop#0");
    assert.equal(matches('"StopLogging"', r), true);
    assert.equal(matches('"StopLogging" -"cloudtrail.amazonaws.com"', r), false);
  });
  test("standalone %regex%", () => {
    assert.equal(matches("%AUTHORIZED%", "[ERROR 401] UNAUTHORIZED REQUEST"), true);
    assert.equal(matches("%^\\[SUCCESS%", "[ERROR 401] UNAUTHORIZED REQUEST"), false);
  });
  test("an empty pattern matches everything", () => assert.equal(matches("  ", { a: 1 }), true));

  const LOG = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534';
  test("space-delimited patterns from the page", () => {
    assert.equal(matches("[ip, user, username, timestamp, request, status_code, bytes]", LOG), true);
    assert.equal(matches("[ip, user, username, timestamp, request, status_code, bytes > 1000]", LOG), true);
    assert.equal(matches("[ip, user, username, timestamp, request, status_code = 200, bytes]", LOG), false);
    assert.equal(matches("[ip, user, username, timestamp, request, status_code = 4*, bytes]", LOG), true);
    assert.equal(matches("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", LOG), true);
    assert.equal(matches("[..., status_code, bytes]", LOG), true);
    assert.equal(matches("[ip, user, ...]", LOG), true);
    assert.equal(matches("[ip, user, ..., status_code = 4* && bytes > 1000, bytes]", LOG), true);
    assert.equal(matches("[ip, user, ..., status_code = 4* && bytes > 2000, bytes]", LOG), false);
    assert.equal(
      matches("[ip, user, username, timestamp, request, status_code = 4* && status_code != 404, bytes]", LOG),
      false,
    );
    assert.equal(matches("[..., request=*.html*, status_code=4*,]", LOG), true);
    assert.equal(matches("[ip, user]", LOG), false);
    assert.equal(matches("[w1=ERROR || w1=WARN, w2]", "WARN message"), true);
    assert.equal(matches("[w1=ERROR || w1=WARN, w2]", "INFO message"), false);
  });
});

describe("syntax errors name the position and what was expected", () => {
  const cases: [string, number, RegExp][] = [
    ["{ $.a = }", 8, /a value after "="/],
    ["{ $.a = 1", 9, /"}" to close/],
    ["{ a = 1 }", 2, /property selector/],
    ["{ $.a ~ 1 }", 6, /operator/],
    ["{ $.a IS MAYBE }", 9, /TRUE, FALSE or NULL/],
    ["{ $.a NOT THERE }", 10, /EXISTS/],
    ["{ $.a = 1 } trailing", 12, /end of the pattern/],
    ["{ $.a = %(x)% }", 9, /regular expression/],
    ["{ $.a = %x!y% }", 10, /regular expression/],
    ["{ $.a < abc }", 8, /a number after "<"/],
    ["{ ($.a = 1 }", 11, /"\)"/],
    ['{ $.a = "open }', 8, /closing "/],
    ["{ $.a[x] = 1 }", 6, /array index/],
    ["{ $ = 1 }", 3, /a property after \$/],
    ["{ $.a = %a% && $.b = %b% && $.c = %c% }", 34, /at most 2 regular expressions/],
    ["[a, b", 5, /"," or "]"/],
    ["[a = ]", 5, /a value/],
  ];
  for (const [pattern, position, expected] of cases) {
    test(pattern, () => {
      assert.throws(
        () => compileFilterPattern(pattern),
        (error: unknown) => {
          assert.ok(error instanceof FilterPatternSyntaxError);
          assert.equal(error.position, position, error.message);
          assert.match(error.expected, expected);
          assert.match(error.message, new RegExp(`position ${position}`));
          return true;
        },
      );
    });
  }
});

describe("every CIS pattern, exactly as published", () => {
  // Events that exercise the patterns: every case of the catalog test, matching and not.
  const events = Object.values(CIS_CASES).flatMap((c) => [...c.match, ...c.noMatch]);

  /** The parsed form without positions and quoting, which spacing and quoting must not change. */
  const shape = (pattern: string) =>
    JSON.parse(
      JSON.stringify(parseFilterPattern(pattern), (key, value) =>
        key === "position" || key === "quoted" ? undefined : value,
      ),
    );

  for (const c of CIS_CONTROLS) {
    test(`${c.id}: parses, and its quoting and spacing variants parse alike`, () => {
      assert.doesNotThrow(() => parseFilterPattern(c.pattern));
      const variants = [
        // no whitespace at all outside quoted strings
        c.pattern.replace(
          /("[^"]*")|\s+/g,
          (m: string, quoted: string | undefined, at: number, all: string) =>
            quoted ?? (/\w/.test(all[at - 1] ?? "") && /\w/.test(all[at + m.length] ?? "") ? " " : ""),
        ),
        // generous spacing around operators and parentheses
        c.pattern.replace(/\s*(!=|=|&&|\|\||\(|\))\s*/g, " $1 "),
        // every bare value quoted
        c.pattern.replace(/(=)\s*([A-Za-z0-9.]+)/g, '$1 "$2"'),
        // every simple quoted value bare
        c.pattern.replace(/"([A-Za-z0-9.]+)"/g, "$1"),
      ];
      const reference = compileFilterPattern(c.pattern);
      for (const v of variants) {
        assert.deepEqual(shape(v), shape(c.pattern), v);
        const variant = compileFilterPattern(v);
        for (const e of events) assert.equal(variant(e), reference(e), `${v} on ${JSON.stringify(e).slice(0, 80)}`);
      }
    });
  }
});
