import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, ConfigReader } from "@trailstream/runtime";
import { describeRedisSettings, readRedisSettings } from "../src/settings.ts";

describe("readRedisSettings", () => {
  test("REDIS_URL with the Secret's REDIS_USERNAME and REDIS_PASSWORD, and the timeouts", () => {
    const r = new ConfigReader({
      REDIS_URL: "rediss+cluster://n1:7001,n2:7002",
      REDIS_USERNAME: "app",
      REDIS_PASSWORD: "hunter2",
      REDIS_TIMEOUT_MS: "750",
    });
    const s = readRedisSettings(r);
    r.done();
    assert.equal(s.target.kind, "cluster");
    assert.deepEqual(s.target.credentials, { username: "app", password: "hunter2" });
    assert.equal(s.commandTimeoutMs, 750);
    assert.equal(s.retryMaxMs, 5_000);
    const described = JSON.stringify(describeRedisSettings(s));
    assert.ok(described.includes("rediss+cluster://app:***@n1:7001,n2:7002"), described);
    assert.ok(!described.includes("hunter2"));
  });

  test("a missing or bad REDIS_URL is one problem among the others", () => {
    for (const [env, problem] of [
      [{}, "REDIS_URL is required"],
      [{ REDIS_URL: "redis://a,b" }, "REDIS_URL names several hosts"],
      [{ REDIS_URL: "memcached://h" }, "REDIS_URL must look like"],
    ] as const) {
      const r = new ConfigReader({ ...env, REDIS_TIMEOUT_MS: "0" });
      readRedisSettings(r);
      assert.throws(
        () => r.done(),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.problems.length === 2 &&
          (e.problems[0] ?? "").startsWith(problem) &&
          (e.problems[1] ?? "").startsWith("REDIS_TIMEOUT_MS"),
      );
    }
  });
});
