// Sigma correlation rules against the examples of SigmaHQ's correlation specification (2.x): the
// rules are the specification's, with the logsource made aws/cloudtrail (trailstream loads only
// CloudTrail rules); the fields they use (ComputerName, User, EventID...) are looked up the same way.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { entryMember } from "../src/correlation/window.ts";
import {
  CorrelationEngine,
  type CorrelationRule,
  compileCorrelation,
  compileSigmaFile,
  describeCorrelation,
  MemoryCorrelationStore,
  measure,
  parseTimespan,
  type Rule,
  SigmaRuleError,
} from "../src/index.ts";

const MIN = 60_000;

const detection = (name: string, selection: string) => `
title: ${name}
id: ${name}-id
name: ${name}
logsource: { product: aws, service: cloudtrail }
detection:
  selection: ${selection}
  condition: selection
`;

interface Feed {
  record: Record<string, unknown>;
  t: number;
  id?: string;
}

function engineFor(yaml: string, options: { latenessMs?: number } = {}) {
  const file = compileSigmaFile(yaml, "spec.yml");
  const store = new MemoryCorrelationStore();
  const engine = new CorrelationEngine(file.correlations, file.rules, { store, ...options });
  assert.deepEqual(engine.failures, []);
  let n = 0;
  const feed = async (events: Feed[]) => {
    const alerts = [];
    for (const e of events) {
      const matched = file.rules.filter((r) => r.matches(e.record));
      n++;
      alerts.push(...(await engine.observe({ record: e.record, identity: e.id ?? `1:${n}`, timeMs: e.t, matched })));
    }
    return alerts;
  };
  return { engine, feed, file, store };
}

/** A deterministic shuffle (mulberry32), so a failing order can be reproduced. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const groups = (alerts: { rule: CorrelationRule; group: string }[]) =>
  alerts.map((a) => `${a.rule.id} ${a.group}`).sort();

describe("parsing the specification's examples", () => {
  test("event_count: Many failed logins", () => {
    const [c] = compileSigmaFile(`
title: Many failed logins
id: 0e95725d-7320-415d-80f7-004da920fc11
correlation:
    type: event_count
    rules:
        - 5638f7c0-ac70-491d-8465-2a65075e0d86
    group-by:
        - ComputerName
    timespan: 1h
    condition:
        gte: 100
`).correlations;
    assert.ok(c);
    assert.equal(c.type, "event_count");
    assert.deepEqual(c.rules, ["5638f7c0-ac70-491d-8465-2a65075e0d86"]);
    assert.deepEqual(c.groupBy, ["ComputerName"]);
    assert.equal(c.timespanMs, 60 * MIN);
    assert.deepEqual(c.condition, { gte: 100 });
    assert.equal(
      describeCorrelation(c),
      "event_count over 5638f7c0-ac70-491d-8465-2a65075e0d86 by ComputerName within 1h: gte 100",
    );
  });

  test("value_count: the field is counted, several group-by fields", () => {
    const [c] = compileSigmaFile(`
title: Failed login
id: 0e95725d-7320-415d-80f7-004da920fc12
correlation:
    type: value_count
    rules: [5638f7c0-ac70-491d-8465-2a65075e0d86]
    group-by: [ComputerName, WorkstationName]
    timespan: 1d
    condition:
        field: User
        gte: 100
`).correlations;
    assert.deepEqual(c?.field, ["User"]);
    assert.deepEqual(c?.groupBy, ["ComputerName", "WorkstationName"]);
    assert.equal(c?.timespanMs, 24 * 60 * MIN);
  });

  test("temporal without a condition needs every rule; a range is the AND of its bounds", () => {
    const c = compileCorrelation({
      title: "Recon",
      name: "recon",
      correlation: {
        type: "temporal",
        rules: ["recon_cmd_a", "recon_cmd_b", "recon_cmd_c"],
        "group-by": ["ComputerName", "User"],
        timespan: "5m",
      },
    });
    assert.equal(c.id, "recon", "the name stands in for a missing id");
    assert.deepEqual(c.condition, { gte: 3 });
    const range = compileCorrelation({
      title: "range",
      id: "range",
      correlation: { type: "event_count", rules: ["a"], timespan: "90m", condition: { gt: 100, lte: 200 } },
    });
    assert.deepEqual(range.condition, { gt: 100, lte: 200 });
    assert.equal(range.timespanMs, 90 * MIN);
  });

  test("what the specification forbids is refused with the reason", () => {
    const bad = (correlation: Record<string, unknown>, pattern: RegExp) =>
      assert.throws(
        () => compileCorrelation({ title: "t", id: "x", correlation }),
        (e: unknown) => {
          assert.ok(e instanceof SigmaRuleError);
          assert.match(e.message, pattern);
          return true;
        },
      );
    const ok = { type: "event_count", rules: ["a"], timespan: "1h", condition: { gte: 2 } };
    bad({ ...ok, timespan: undefined }, /timespan/);
    bad({ ...ok, timespan: "1H" }, /timespan "1H"|timespan/);
    bad({ ...ok, timespan: "90 minutes" }, /timespan/);
    bad({ ...ok, type: "near" }, /type "near"/);
    bad({ ...ok, type: "value_sum", condition: { field: "b", gt: 1 } }, /metric types are not supported/);
    bad({ ...ok, condition: undefined }, /needs a condition/);
    bad({ ...ok, condition: { above: 3 } }, /condition.above/);
    bad({ ...ok, condition: { gte: 1.5 } }, /whole number/);
    bad({ ...ok, type: "value_count" }, /condition.field/);
    bad({ ...ok, rules: [] }, /at least one rule/);
    bad({ ...ok, rules: ["a", "a"] }, /twice/);
    bad({ ...ok, aliases: { ip: { b: "source.ip" } } }, /not in rules/);
    assert.equal(parseTimespan("10m"), 10 * MIN);
    assert.equal(parseTimespan("2d"), 2 * 24 * 60 * MIN);
  });
});

describe("event_count", () => {
  const yaml = `${detection("failed_login", "{ EventID: [529, 4625] }")}---
title: Many failed logins
id: many-failed
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [ComputerName]
  timespan: 1h
  condition: { gte: 100 }
`;
  const failed = (host: string, t: number, id?: string): Feed => ({
    record: { EventID: 4625, ComputerName: host },
    t,
    ...(id ? { id } : {}),
  });

  test("100 failed logins to one host within an hour raise one alert, at the 100th", async () => {
    const { feed } = engineFor(yaml);
    const burst = Array.from({ length: 150 }, (_, i) => failed("A", i * 20_000));
    const alerts = await feed(burst.slice(0, 99));
    assert.deepEqual(alerts, [], "99 are not enough");
    const more = await feed(burst.slice(99));
    assert.deepEqual(groups(more), ['many-failed ["A"]'], "one alert per group and timespan");
    assert.equal(more[0]?.count, 100);
    assert.equal(more[0]?.windowEndMs, 99 * 20_000);
  });

  test("the detection rules of the collection raise nothing of their own", () => {
    const { file } = engineFor(yaml);
    assert.equal(file.rules[0]?.silent, true);
    assert.equal(file.correlations[0]?.silent, undefined);
  });

  test("each host counts apart, a spread wider than the timespan never fires, a copy counts once", async () => {
    const { feed } = engineFor(yaml);
    const twoHosts = Array.from({ length: 100 }, (_, i) => failed(i % 2 ? "A" : "B", i * 1_000));
    assert.deepEqual(await feed(twoHosts), []);
    const slow = Array.from({ length: 200 }, (_, i) => failed("C", i * 37_000)); // 97 per hour at most
    assert.deepEqual(await feed(slow), []);
    const copies = Array.from({ length: 100 }, (_, i) => failed("D", i, `1:same-${i % 50}`));
    assert.deepEqual(await feed(copies), [], "50 events seen twice are 50");
    const hostless = Array.from({ length: 120 }, (_, i) => ({ record: { EventID: 4625 }, t: i }));
    assert.deepEqual(await feed(hostless), [], "a match without the group-by field belongs to no group");
  });

  test("the verdict does not depend on the order events arrive in", async () => {
    const events = [
      ...Array.from({ length: 100 }, (_, i) => failed("A", i * 30_000)), // 100 in 49.5 minutes
      ...Array.from({ length: 120 }, (_, i) => failed("B", i * 31_000)), // at most 117 in an hour
      ...Array.from({ length: 99 }, (_, i) => failed("C", i * 1_000)),
    ].map((e, i) => ({ ...e, id: `1:e${i}` }));
    const inOrder = groups(await engineFor(yaml).feed(events));
    assert.deepEqual(inOrder, ['many-failed ["A"]', 'many-failed ["B"]']);
    for (const seed of [1, 2, 3, 4, 5]) {
      assert.deepEqual(groups(await engineFor(yaml, { latenessMs: Infinity }).feed(shuffled(events, seed))), inOrder);
    }
  });

  test("a match later than the lateness allowance is judged without the matches it missed", async () => {
    const { feed, store } = engineFor(yaml, { latenessMs: 10 * MIN });
    const late = Array.from({ length: 99 }, (_, i) => failed("A", 10 * 60 * MIN + i));
    await feed(late);
    assert.equal(store.size, 99);
    assert.deepEqual(await feed([failed("A", 0)]), [], "the early one is 10h older than the rest");
    await feed([failed("A", 100 * 60 * MIN)]);
    assert.equal(store.size, 1, "matches older than timespan + lateness are forgotten");
  });
});

describe("value_count", () => {
  const yaml = `${detection("failed_login", "{ EventID: 4625 }")}---
title: Failed logins with many users
id: many-users
correlation:
  type: value_count
  rules: [failed_login]
  group-by: [ComputerName, WorkstationName]
  timespan: 1d
  condition: { field: User, gte: 100 }
`;
  const ev = (user: string | undefined, t: number, ws = "W1"): Feed => ({
    record: { EventID: 4625, ComputerName: "A", WorkstationName: ws, ...(user ? { User: user } : {}) },
    t,
  });

  test("100 different user accounts from one source to one destination within a day", async () => {
    const { feed } = engineFor(yaml);
    const same = Array.from({ length: 300 }, (_, i) => ev(`u${i % 99}`, i * MIN));
    assert.deepEqual(await feed(same), [], "99 users however many attempts");
    const other = Array.from({ length: 100 }, (_, i) => ev(`v${i}`, i * MIN, i % 2 ? "W2" : "W3"));
    assert.deepEqual(await feed(other), [], "workstations count apart");
    const alerts = await feed([ev(undefined, 400 * MIN), ev("u99", 401 * MIN)]);
    assert.deepEqual(groups(alerts), ['many-users ["A","W1"]']);
    assert.equal(alerts[0]?.count, 100, "an event without the field is not a value");
  });
});

describe("temporal and temporal_ordered", () => {
  const rules = [
    detection("recon_cmd_a", "{ CommandLine: whoami }"),
    detection("recon_cmd_b", "{ CommandLine: 'net user' }"),
    detection("recon_cmd_c", "{ CommandLine: ipconfig }"),
  ].join("---");
  const corr = (type: string) => `${rules}---
title: Recon
id: recon-${type}
correlation:
  type: ${type}
  rules: [recon_cmd_a, recon_cmd_b, recon_cmd_c]
  group-by: [ComputerName, User]
  timespan: 5m
`;
  const cmd = (CommandLine: string, t: number, User = "alice"): Feed => ({
    record: { CommandLine, ComputerName: "pc1", User },
    t,
  });

  test("temporal: the three commands in any order within 5 minutes, by one user on one system", async () => {
    assert.deepEqual(
      groups(
        await engineFor(corr("temporal")).feed([cmd("ipconfig", 0), cmd("whoami", MIN), cmd("net user", 2 * MIN)]),
      ),
      ['recon-temporal ["pc1","alice"]'],
    );
    assert.deepEqual(await engineFor(corr("temporal")).feed([cmd("ipconfig", 0), cmd("whoami", MIN)]), []);
    assert.deepEqual(
      await engineFor(corr("temporal")).feed([cmd("ipconfig", 0), cmd("whoami", MIN), cmd("net user", 6 * MIN)]),
      [],
      "not within 5 minutes",
    );
    assert.deepEqual(
      await engineFor(corr("temporal")).feed([cmd("ipconfig", 0), cmd("whoami", MIN), cmd("net user", 2 * MIN, "bob")]),
      [],
      "another user",
    );
  });

  test("temporal_ordered: the same, in the order of the rules list", async () => {
    assert.deepEqual(
      groups(
        await engineFor(corr("temporal_ordered")).feed([
          cmd("whoami", 0),
          cmd("net user", MIN),
          cmd("ipconfig", 2 * MIN),
        ]),
      ),
      ['recon-temporal_ordered ["pc1","alice"]'],
    );
    assert.deepEqual(
      await engineFor(corr("temporal_ordered")).feed([
        cmd("ipconfig", 0),
        cmd("net user", MIN),
        cmd("whoami", 2 * MIN),
      ]),
      [],
      "reversed",
    );
    // Arriving reversed changes nothing: the order is that of eventTime.
    assert.deepEqual(
      groups(
        await engineFor(corr("temporal_ordered")).feed([
          cmd("ipconfig", 2 * MIN),
          cmd("net user", MIN),
          cmd("whoami", 0),
        ]),
      ),
      ['recon-temporal_ordered ["pc1","alice"]'],
    );
    assert.equal(
      measure("temporal_ordered", [
        { t: 0, member: entryMember(1, "", "x") },
        { t: 0, member: entryMember(0, "", "y") },
        { t: 5, member: entryMember(2, "", "z") },
      ]),
      3,
      "matches in the same second may stand in either order",
    );
  });
});

describe("the specification's example: multiple failed logins followed by a successful login", () => {
  // The specification's collection, verbatim but for the logsource.
  const yaml = `
title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
status: experimental
description: Detects multiple failed logins by a single user followed by a successful login of that user
references:
    - https://reference.com
author: Florian Roth (Nextron Systems)
date: 2023-06-16
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
falsepositives:
    - Unlikely
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
description: Detects multiple failed logins within a certain amount of time
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 10
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
description: Detects a successful login
name: successful_login
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
`;
  const login = (EventID: number, User: string, t: number): Feed => ({ record: { EventID, User }, t });
  const ten = (User: string, from: number) =>
    Array.from({ length: 10 }, (_, i) => login(4625, User, from + i * 10_000));

  test("only the outermost correlation alerts, with its level and author", async () => {
    const { feed, file } = engineFor(yaml);
    assert.deepEqual(
      file.rules.map((r) => r.silent),
      [true, true],
    );
    assert.equal(file.correlations.find((c) => c.name === "multiple_failed_login")?.silent, true);
    const alerts = await feed([...ten("alice", 0), login(4624, "alice", 3 * MIN)]);
    assert.deepEqual(groups(alerts), ['b180ead8-d58f-40b2-ae54-c8940995b9b6 ["alice"]']);
    assert.equal(alerts[0]?.rule.severity, "high");
    assert.equal(alerts[0]?.rule.author, "Florian Roth (Nextron Systems)");
  });

  test("not when the success came first, nine failures, another user or too late", async () => {
    assert.deepEqual(await engineFor(yaml).feed([login(4624, "alice", 0), ...ten("alice", MIN)]), []);
    assert.deepEqual(await engineFor(yaml).feed([...ten("alice", 0).slice(1), login(4624, "alice", 3 * MIN)]), []);
    assert.deepEqual(await engineFor(yaml).feed([...ten("alice", 0), login(4624, "bob", 3 * MIN)]), []);
    assert.deepEqual(
      await engineFor(yaml).feed([...ten("alice", 0), login(4624, "alice", 12 * MIN)]),
      [],
      "10m after the tenth failure",
    );
  });

  test("the chain reaches the same verdict in any arrival order", async () => {
    const events = [
      ...ten("alice", 0),
      login(4624, "alice", 3 * MIN),
      ...ten("bob", 0),
      login(4624, "bob", 30 * MIN),
    ].map((e, i) => ({ ...e, id: `1:l${i}` }));
    for (const seed of [7, 8, 9, 10]) {
      assert.deepEqual(groups(await engineFor(yaml, { latenessMs: Infinity }).feed(shuffled(events, seed))), [
        'b180ead8-d58f-40b2-ae54-c8940995b9b6 ["alice"]',
      ]);
    }
  });
});

describe("field name aliases (the specification's example)", () => {
  const yaml = `${detection("internal_error", "{ http.response.status_code: 500 }")}---${detection(
    "new_network_connection",
    "{ event.category: network, event.type: connection, event.outcome: success }",
  )}---
title: Internal error then a connection back
id: alias-example
correlation:
    type: temporal
    rules:
        - internal_error
        - new_network_connection
    group-by:
        - internal_ip
        - remote_ip
    timespan: 10s
    aliases:
        internal_ip:
            internal_error: destination.ip
            new_network_connection: source.ip
        remote_ip:
            internal_error: source.ip
            new_network_connection: destination.ip
`;
  const error = (src: string, dst: string, t: number): Feed => ({
    record: { http: { response: { status_code: 500 } }, source: { ip: src }, destination: { ip: dst } },
    t,
  });
  const conn = (src: string, dst: string, t: number): Feed => ({
    record: {
      event: { category: "network", type: "connection", outcome: "success" },
      source: { ip: src },
      destination: { ip: dst },
    },
    t,
  });

  test("the same address as destination of one and source of the other", async () => {
    assert.deepEqual(
      groups(await engineFor(yaml).feed([error("203.0.113.9", "10.0.0.5", 0), conn("10.0.0.5", "203.0.113.9", 4_000)])),
      ['alias-example ["10.0.0.5","203.0.113.9"]'],
    );
    assert.deepEqual(
      await engineFor(yaml).feed([error("203.0.113.9", "10.0.0.5", 0), conn("203.0.113.9", "10.0.0.5", 4_000)]),
      [],
      "the same fields on both sides do not meet",
    );
  });
});

describe("references and their failures", () => {
  const base: Rule = {
    id: "base-rule",
    name: "base",
    title: "b",
    severity: "low",
    source: "sigma",
    matches: () => true,
  };
  const corr = (id: string, rules: string[], extra: Record<string, unknown> = {}) =>
    compileCorrelation({
      title: id,
      id,
      correlation: { type: "event_count", rules, timespan: "1m", condition: { gte: 2 }, "group-by": ["a"], ...extra },
    });

  test("a rule is found by id or by name", () => {
    const engine = new CorrelationEngine([corr("by-id", ["base-rule"]), corr("by-name", ["base"])], [base], {
      store: new MemoryCorrelationStore(),
    });
    assert.deepEqual(engine.failures, []);
    assert.ok(engine.feedsOn("base-rule"));
  });

  test("unknown names, cycles and missing group fields leave the correlation out, with the reason", () => {
    const engine = new CorrelationEngine(
      [
        corr("unknown", ["nope"]),
        corr("loop-a", ["loop-b"]),
        corr("loop-b", ["loop-a"]),
        corr("over-unknown", ["unknown"]),
        corr("inner", ["base"], { "group-by": ["b"] }),
        corr("outer", ["inner"]),
      ],
      [base],
      { store: new MemoryCorrelationStore() },
    );
    const reasons = Object.fromEntries(engine.failures.map((f) => [f.id, f.reason]));
    assert.match(reasons.unknown ?? "", /"nope", which is no loaded rule/);
    assert.match(reasons["loop-a"] ?? "", /cycle/);
    assert.match(reasons["loop-b"] ?? "", /cycle/);
    assert.match(reasons["over-unknown"] ?? "", /was not loaded/);
    assert.match(reasons.outer ?? "", /"a" of correlation "inner", which does not group by it/);
    assert.deepEqual(
      engine.rules.map((r) => r.id),
      ["inner"],
    );
  });

  test("an alert claimed by an event is claimed again by that event (raised again after a crash), not by another", async () => {
    const store = new MemoryCorrelationStore();
    assert.equal(await store.claimAlert("k", 1_000, 60_000, "1:a", 1), true);
    assert.equal(await store.claimAlert("k", 1_500, 60_000, "1:a", 1), true);
    assert.equal(await store.claimAlert("k", 2_000, 60_000, "1:b", 1), false);
    assert.equal(await store.claimAlert("k", 62_000, 60_000, "1:b", 1), true, "a timespan later");
  });
});
