import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "@trailstream/runtime";
import { loadSettings } from "../src/settings.ts";

const base = { KAFKA_BROKERS: "127.0.0.1:9092", REDIS_URL: "redis://127.0.0.1:6379", SQS_QUEUE_URLS: "http://q/1" };

test("defaults: topics, metrics port, start position, lists", () => {
  const c = loadSettings({ ...base, KINESIS_STREAMS: "a, b" });
  assert.equal(c.topicRaw, "cloudtrail.raw");
  assert.equal(c.topicDlq, "cloudtrail.dlq");
  assert.equal(c.metricsPort, 9401);
  assert.equal(c.kinesisStartPosition, "trim_horizon");
  assert.deepEqual(c.kinesisStreams, ["a", "b"]);
  assert.deepEqual(c.sqsQueueUrls, ["http://q/1"]);
  assert.equal(c.fileSkipWindowMs, 24 * 3_600_000);
  assert.equal(c.kinesisHttpVersion, "2");
  assert.equal(c.s3ForcePathStyle, false);
});

test("an http:// endpoint gets path-style S3 and HTTP/1.1 Kinesis", () => {
  const c = loadSettings({
    ...base,
    AWS_ENDPOINT_URL: "http://127.0.0.1:5000",
    AWS_ENDPOINT_URL_KINESIS: "http://127.0.0.1:4568",
  });
  assert.equal(c.s3Endpoint, "http://127.0.0.1:5000");
  assert.equal(c.kinesisEndpoint, "http://127.0.0.1:4568");
  assert.equal(c.kinesisHttpVersion, "1.1");
  assert.equal(c.s3ForcePathStyle, true);
});

test("every problem is reported at once, one line each", () => {
  try {
    loadSettings({
      KAFKA_BROKERS: "nohost",
      KINESIS_START_POSITION: "at_timestamp",
      FILE_SKIP_WINDOW: "soon",
      MAX_FILES_IN_FLIGHT: "0",
      METRICS_PORT: "http",
    });
    assert.fail("should throw");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    const text = error.problems.join("\n");
    assert.match(text, /KAFKA_BROKERS: "nohost" is not host:port/);
    assert.match(text, /REDIS_URL is required/);
    assert.match(text, /KINESIS_START_TIMESTAMP is required/);
    assert.match(text, /FILE_SKIP_WINDOW must be a duration/);
    assert.match(text, /MAX_FILES_IN_FLIGHT must be a whole number/);
    assert.match(text, /METRICS_PORT must be a whole number/);
    assert.match(text, /nothing to read/);
    assert.ok(error.problems.every((p) => !p.includes("\n")));
  }
});

test("KINESIS_START_TIMESTAMP takes ISO times and epoch seconds", () => {
  const iso = loadSettings({
    ...base,
    KINESIS_START_POSITION: "at_timestamp",
    KINESIS_START_TIMESTAMP: "2026-11-25T08:00:00Z",
  });
  assert.equal(iso.kinesisStartTimestamp?.toISOString(), "2026-11-25T08:00:00.000Z");
  const epoch = loadSettings({
    ...base,
    KINESIS_START_POSITION: "at_timestamp",
    KINESIS_START_TIMESTAMP: "1795593600",
  });
  assert.equal(epoch.kinesisStartTimestamp?.getTime(), 1_795_593_600_000);
});

test("durations: one grammar; a bare number still means seconds here, with a deprecation warning", () => {
  const warnings: string[] = [];
  const c = loadSettings(
    { ...base, LEASE_DURATION: "45", KINESIS_SHARD_SYNC_INTERVAL: "1m30s", FILE_SKIP_WINDOW: "0" },
    (w) => warnings.push(w),
  );
  assert.equal(c.leaseDurationMs, 45_000);
  assert.equal(c.leaseRenewMs, 15_000);
  assert.equal(c.shardSyncMs, 90_000);
  assert.equal(c.fileSkipWindowMs, 0);
  assert.deepEqual(warnings, [
    "LEASE_DURATION=45: a bare number is read as seconds, as before, but is deprecated: write 45s",
  ]);
});
