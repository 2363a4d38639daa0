// The alerter's Redis state on the real Redis: windows that count an event once, suppression claims
// that know their owner, and the alerted: claims' verdicts and TTLs.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openRedis, type RedisStore, redisSettings, replyNumber, replyText } from "@trailstream/redis";
import { decideAlert, type Rule } from "@trailstream/rules";
import { RedisAlertState } from "../../services/alerter/src/state-redis.ts";
import { endpoints, requireReachable, uniqueName } from "../support/servers.ts";

let redis: RedisStore;

before(async () => {
  const { redisUrl } = await endpoints();
  await requireReachable("Redis", redisUrl, "REDIS_URL");
  redis = openRedis(redisSettings(redisUrl));
  await redis.connected();
});

after(async () => {
  await redis?.close();
});

const state = (prefix: string, claimTtlMs = 60_000) =>
  new RedisAlertState({ client: redis, keyPrefix: prefix, claimTtlMs });

test("threshold windows count identities by eventTime: the same event twice counts once; old ones fall out", async () => {
  const prefix = `${uniqueName("alerter-state")}:`;
  const s = state(prefix);
  const t0 = Date.parse("2026-03-01T12:00:00Z");
  assert.equal(await s.increment("threshold:r:g", 60_000, t0, "a:1"), 1);
  assert.equal(await s.increment("threshold:r:g", 60_000, t0, "a:1"), 1, "re-delivered");
  assert.equal(await s.increment("threshold:r:g", 60_000, t0 + 10_000, "a:2"), 2);
  assert.equal(await s.increment("threshold:r:g", 60_000, t0 + 65_000, "a:3"), 2, "a:1 left the window");
  const ttl = replyNumber(await redis.command(["PTTL", `${prefix}threshold:r:g`]));
  assert.ok(ttl > 60_000 && ttl <= 120_000, String(ttl));
});

test("flood positions: arrival order whatever the eventTimes, the same place for an event again, a count past the limit", async () => {
  const prefix = `${uniqueName("alerter-state")}:`;
  const s = state(prefix);
  const places = [];
  for (let i = 0; i < 5; i++) places.push(await s.floodPosition("flood:r:1", `a:${i}`, 3, 120_000));
  assert.deepEqual(places, [1, 2, 3, 4, 5]);
  assert.equal(await s.floodPosition("flood:r:1", "a:1", 3, 120_000), 2, "re-delivered: its own place");
  assert.equal(await s.floodPosition("flood:r:1", "a:9", 3, 120_000), 6);
  assert.equal(replyNumber(await redis.command(["ZCARD", `${prefix}flood:r:1`])), 4, "three kept, and the count");
  const ttl = replyNumber(await redis.command(["PTTL", `${prefix}flood:r:1`]));
  assert.ok(ttl > 60_000 && ttl <= 120_000, String(ttl));
});

test("suppression claims: the owner may claim again, others may not; decideAlert on Redis", async () => {
  const prefix = `${uniqueName("alerter-state")}:`;
  const s = state(prefix);
  assert.equal(await s.claimOnce("suppress:r:g", 60_000, "a:1"), true);
  assert.equal(await s.claimOnce("suppress:r:g", 60_000, "a:1"), true, "its own claim");
  assert.equal(await s.claimOnce("suppress:r:g", 60_000, "a:2"), false);
  const rule: Rule = {
    id: "r2",
    title: "t",
    severity: "low",
    source: "custom",
    threshold: { count: 2, windowMs: 60_000, groupBy: ["ip"] },
    matches: () => true,
  };
  const now = Date.now();
  const record = { ip: "10.0.0.1" };
  assert.equal((await decideAlert(rule, record, s.forEvent("b:1"), now)).reason, "below-threshold");
  assert.equal((await decideAlert(rule, record, s.forEvent("b:1"), now)).reason, "below-threshold");
  assert.equal((await decideAlert(rule, record, s.forEvent("b:2"), now)).reason, "fire");
  assert.equal(
    (await decideAlert(rule, record, s.forEvent("b:2"), now)).reason,
    "fire",
    "the same event after a crash",
  );
  assert.equal((await decideAlert(rule, record, s.forEvent("b:3"), now)).reason, "suppressed");
});

test("a threshold crossed by two replicas at once fires once, for the crossing event, with its count", async () => {
  const s = state(`${uniqueName("alerter-state")}:`);
  const rule: Rule = {
    id: "burst",
    title: "t",
    severity: "low",
    source: "custom",
    threshold: { count: 5, windowMs: 60_000, groupBy: ["ip"] },
    matches: () => true,
  };
  const now = Date.now();
  const record = { ip: "10.0.0.2" };
  for (let i = 1; i <= 4; i++)
    assert.equal((await decideAlert(rule, record, s.forEvent(`burst:${i}`), now)).fire, false);
  // Replica A's fifth event is slow between counting and claiming (a pause, a slow node of a Cluster);
  // replica B's sixth event comes in between.
  let sixthDone!: () => void;
  const afterSixth = new Promise<void>((resolve) => {
    sixthDone = resolve;
  });
  const fifthStore = s.forEvent("burst:5");
  const slowFifth = {
    ...fifthStore,
    claimOnce: async (key: string, ttlMs: number) => {
      await afterSixth;
      return fifthStore.claimOnce(key, ttlMs);
    },
  };
  const fifth = decideAlert(rule, record, slowFifth, now);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const sixth = await decideAlert(rule, record, s.forEvent("burst:6"), now);
  sixthDone();
  const decisions = [await fifth, sixth];
  const fired = decisions.filter((d) => d.fire);
  assert.equal(fired.length, 1, "one alert");
  assert.equal(fired[0]?.count, 5, "the event that made it five raised it");
});

test("alerted: claims: new, again, done, copy; marking done keeps the TTL", async () => {
  const prefix = `${uniqueName("alerter-state")}:`;
  const s = state(prefix, 30_000);
  const c = { ruleId: "r", identity: "111:e1", owner: "0:5" };
  assert.deepEqual(await s.claimMatches([c, { ...c, identity: "111:e2" }]), ["new", "new"]);
  assert.deepEqual(await s.claimMatches([c]), ["again"]);
  assert.deepEqual(await s.claimMatches([{ ...c, owner: "2:9" }]), ["copy"]);
  await s.markDone([c]);
  assert.deepEqual(await s.claimMatches([c, { ...c, owner: "2:9" }]), ["done", "done"]);
  assert.equal(replyText(await redis.command(["GET", `${prefix}alerted:r:111:e1`])), "done:0:5");
  const ttl = replyNumber(await redis.command(["PTTL", `${prefix}alerted:r:111:e1`]));
  assert.ok(ttl > 20_000 && ttl <= 30_000, String(ttl));
});
