import assert from "node:assert/strict";
import { test } from "node:test";
import { type Rule, RuleSet } from "../src/index.ts";

test("a rule that throws counts as no match, is reported, and the other rules still run", () => {
  const rule = (id: string, matches: (r: unknown) => boolean): Rule => ({
    id,
    title: id,
    severity: "low",
    source: "custom",
    matches,
  });
  const errors: string[] = [];
  const set = new RuleSet(
    [
      rule("throws", () => {
        throw new Error("boom");
      }),
      rule("matches", () => true),
    ],
    { onError: (r, e) => errors.push(`${r.id}: ${(e as Error).message}`) },
  );
  assert.deepEqual(
    set.match({ eventName: "X" }).map((r) => r.id),
    ["matches"],
  );
  assert.deepEqual(errors, ["throws: boom"]);
});
