import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, ConfigReader, parseDuration } from "../src/config.ts";

describe("ConfigReader", () => {
  test("reads typed values with fallbacks", () => {
    const c = new ConfigReader({ A: " x ", N: "42", B: "yes", L: "a, b,,c", K: "latest" });
    assert.equal(c.string("A"), "x");
    assert.equal(c.string("MISSING", "dflt"), "dflt");
    assert.equal(c.integer("N", 1, { min: 1, max: 100 }), 42);
    assert.equal(c.boolean("B", false), true);
    assert.deepEqual(c.list("L"), ["a", "b", "c"]);
    assert.equal(c.oneOf("K", ["trim-horizon", "latest"] as const, "trim-horizon"), "latest");
    c.done();
  });

  test("collects every problem, one line each", () => {
    const c = new ConfigReader({ N: "4.5", B: "maybe", K: "sideways" });
    c.string("KAFKA_BROKERS");
    c.integer("N", 1);
    c.boolean("B", false);
    c.oneOf("K", ["a", "b"] as const, "a");
    assert.throws(
      () => c.done(),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          "KAFKA_BROKERS is required",
          `N must be a whole number from ${Number.MIN_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}, not "4.5"`,
          'B must be true or false, not "maybe"',
          'K must be one of a, b, not "sideways"',
        ]);
        return true;
      },
    );
  });
});

test("one duration grammar: units, several parts, 0; bare numbers only where they meant something", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("1d"), 86_400_000);
  assert.equal(parseDuration("0"), 0);
  assert.equal(parseDuration("24"), null);
  assert.equal(parseDuration("1x"), null);
  const warnings: string[] = [];
  const r = new ConfigReader({ A: "90", B: "90", C: "2m", D: "5s" }, (w) => warnings.push(w));
  assert.equal(r.duration("A", "1m", { bareUnit: "s" }), 90_000);
  assert.equal(r.duration("C", "1m", { bareUnit: "s" }), 120_000);
  r.duration("B", "1m");
  r.duration("D", "1m", { min: "10s" });
  assert.deepEqual(warnings, ["A=90: a bare number is read as seconds, as before, but is deprecated: write 90s"]);
  assert.throws(
    () => r.done(),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.problems.length === 2 &&
      e.problems[0] === 'B must be a duration like 30s, 5m or 1h30m, not "90"' &&
      e.problems[1] === 'D must be a duration like 30s, 5m or 1h30m (at least 10s), not "5s"',
  );
});
