import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { RedisHealth } from "../src/redis-health.ts";

function health(answers: boolean[]) {
  const changes: Array<[boolean, string]> = [];
  let pings = 0;
  const h = new RedisHealth({
    ping: async () => {
      const ok = answers[pings++] ?? true;
      if (!ok) throw new Error("not yet");
      return "PONG";
    },
    onChange: (up, why) => changes.push([up, why]),
    firstDelayMs: 5,
    retryMaxMs: 20,
  });
  return { h, changes, pings: () => pings };
}

async function until(check: () => boolean, ms = 2_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await sleep(5);
  }
}

test("down after a failed claim, up again by PING with no batch to prove it", async () => {
  const { h, changes, pings } = health([false, false, true]);
  h.markUp();
  h.markDown("Redis did not answer within 1000 ms");
  assert.equal(h.up, false);
  await until(() => h.up);
  assert.equal(pings(), 3, "two failed PINGs, then one answered");
  assert.deepEqual(changes, [
    [true, ""],
    [false, "Redis did not answer within 1000 ms"],
    [true, ""],
  ]);
  h.close();
});

test("one probe at a time, however many failures mark it down", async () => {
  const { h, pings } = health([false, false, false, true]);
  h.markUp();
  for (let i = 0; i < 10; i++) h.markDown("timeout");
  await until(() => h.up);
  assert.equal(pings(), 4);
  h.close();
});

test("a successful claim ends the probe; a closed health neither probes nor changes", async () => {
  const { h, changes, pings } = health([false, false, false, false, false, false]);
  h.markDown("connection closed");
  h.markUp();
  await sleep(60);
  assert.equal(pings(), 0, "up before the first PING was due");
  h.close();
  h.markDown("after close");
  await sleep(60);
  assert.equal(h.up, true);
  assert.equal(pings(), 0);
  assert.deepEqual(changes, [[true, ""]]);
});
