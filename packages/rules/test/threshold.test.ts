import assert from "node:assert/strict";
import { test } from "node:test";
import { decideAlert, groupKey, MemoryWindowStore, type Rule } from "../src/index.ts";

const base: Rule = { id: "r", title: "r", severity: "high", source: "custom", matches: () => true };
const from = (user: string) => ({ userIdentity: { arn: `arn:aws:iam::1:user/${user}` }, sourceIPAddress: "1.2.3.4" });

test("group keys come from the groupBy field values", () => {
  assert.equal(groupKey(from("a"), []), "");
  assert.equal(groupKey(from("a"), ["userIdentity.arn", "sourceIPAddress"]), '["arn:aws:iam::1:user/a","1.2.3.4"]');
  assert.equal(groupKey({}, ["userIdentity.arn"]), "[null]");
  assert.notEqual(groupKey(from("a"), ["userIdentity.arn"]), groupKey(from("b"), ["userIdentity.arn"]));
});

test("a rule without threshold or suppression fires on every match", async () => {
  const store = new MemoryWindowStore();
  for (let t = 0; t < 3; t++) assert.equal((await decideAlert(base, from("a"), store, t)).fire, true);
});

test("a threshold fires when the group's count reaches it within the window, then stays quiet for the window", async () => {
  const rule: Rule = { ...base, threshold: { count: 3, windowMs: 60_000, groupBy: ["userIdentity.arn"] } };
  const store = new MemoryWindowStore();
  const at = async (user: string, t: number) => (await decideAlert(rule, from(user), store, t)).reason;
  assert.equal(await at("a", 0), "below-threshold");
  assert.equal(await at("a", 10_000), "below-threshold");
  assert.equal(await at("b", 15_000), "below-threshold", "another group counts separately");
  assert.equal(await at("a", 20_000), "fire");
  assert.equal(await at("a", 30_000), "suppressed", "one alert per burst");
  // Later, the early events have left the window: the count must build up again.
  assert.equal(await at("a", 200_000), "below-threshold");
  assert.equal(await at("a", 210_000), "below-threshold");
  assert.equal(await at("a", 220_000), "fire");
});

test("events spread wider than the window never reach the threshold", async () => {
  const rule: Rule = { ...base, threshold: { count: 2, windowMs: 1000, groupBy: [] } };
  const store = new MemoryWindowStore();
  for (let t = 0; t < 10_000; t += 1500) assert.equal((await decideAlert(rule, from("a"), store, t)).fire, false);
});

test("suppression: one alert per group per window", async () => {
  const rule: Rule = { ...base, suppress: { windowMs: 600_000, groupBy: ["userIdentity.arn"] } };
  const store = new MemoryWindowStore();
  const at = async (user: string, t: number) => (await decideAlert(rule, from(user), store, t)).reason;
  assert.equal(await at("a", 0), "fire");
  assert.equal(await at("a", 1000), "suppressed");
  assert.equal(await at("b", 2000), "fire");
  assert.equal(await at("a", 600_001), "fire");
});

test("the memory store's claims expire on its clock, and sweep forgets what no longer matters", async () => {
  let now = 0;
  const store = new MemoryWindowStore({ now: () => now });
  assert.equal(await store.claimOnce("k", 100), true);
  assert.equal(await store.claimOnce("k", 100), false);
  now = 100;
  assert.equal(await store.claimOnce("k", 100), true);
  assert.equal(await store.increment("w", 50, 0), 1);
  assert.equal(await store.increment("w", 50, 10), 2);
  store.sweep(1000, 50);
  assert.equal(await store.increment("w", 50, 1000), 1);
});
