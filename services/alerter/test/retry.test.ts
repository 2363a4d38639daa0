import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffMs, backoffSchedule, PermanentError, withRetry } from "../src/retry.ts";

test("backoff doubles from the base and stops at the cap; jitter only shortens", () => {
  const policy = { retries: 6, baseMs: 100, maxMs: 1_000 };
  assert.deepEqual(backoffSchedule(policy), [100, 200, 400, 800, 1_000, 1_000]);
  assert.equal(
    backoffMs({ ...policy, jitter: 0.5 }, 3, () => 1),
    200,
  );
  assert.equal(
    backoffMs({ ...policy, jitter: 0.5 }, 3, () => 0),
    400,
  );
  assert.deepEqual(backoffSchedule({ retries: 0, baseMs: 100, maxMs: 100 }), []);
});

test("withRetry: retries with the schedule, then reports the attempts", async () => {
  const slept: number[] = [];
  const sleep = async (ms: number) => {
    slept.push(ms);
  };
  let calls = 0;
  const ok = await withRetry(
    async () => {
      calls++;
      if (calls < 3) throw new Error("down");
      return "delivered";
    },
    { retries: 5, baseMs: 10, maxMs: 100 },
    { sleep },
  );
  assert.deepEqual(ok, { ok: true, value: "delivered", attempts: 3 });
  assert.deepEqual(slept, [10, 20]);

  slept.length = 0;
  const errors: number[] = [];
  const failed = await withRetry(
    async () => {
      throw new Error("still down");
    },
    { retries: 3, baseMs: 10, maxMs: 15 },
    { sleep, onError: (_, attempt) => errors.push(attempt) },
  );
  assert.equal(failed.ok, false);
  assert.equal(failed.attempts, 4);
  assert.deepEqual(errors, [1, 2, 3, 4]);
  assert.deepEqual(slept, [10, 15, 15]);
});

test("withRetry: a permanent error, or shutting down, ends at once", async () => {
  const sleep = async () => {};
  const permanent = await withRetry(
    async () => {
      throw new PermanentError("400 bad request");
    },
    { retries: 5, baseMs: 1, maxMs: 1 },
    { sleep },
  );
  assert.ok(!permanent.ok);
  assert.equal(permanent.attempts, 1);
  assert.equal(permanent.permanent, true);
  const stopping = await withRetry(
    async () => {
      throw new Error("down");
    },
    { retries: 5, baseMs: 1, maxMs: 1 },
    { sleep, shouldRetry: () => false },
  );
  assert.ok(!stopping.ok);
  assert.equal(stopping.attempts, 1);
  assert.equal(stopping.permanent, false);
});
