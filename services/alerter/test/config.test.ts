import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "@trailstream/runtime";
import { loadSettings } from "../src/settings.ts";

const base = { KAFKA_BROKERS: "127.0.0.1:9092", REDIS_URL: "redis://127.0.0.1:6379" };

test("defaults", () => {
  const c = loadSettings(base);
  assert.equal(c.topicEvents, "cloudtrail.events");
  assert.equal(c.topicAlerts, "cloudtrail.alerts");
  assert.equal(c.topicDlq, "cloudtrail.dlq");
  assert.equal(c.groupId, "trailstream-alerter");
  assert.equal(c.rulesBuiltin, true);
  assert.deepEqual(c.ruleFiles, []);
  assert.equal(c.alertmanagerUrl, undefined);
  assert.equal(c.sinkRetries, 3);
  assert.equal(c.metricsPort, 9403);
  assert.equal(c.alertDedupTtlMs, 86_400_000);
});

test("lists and URLs", () => {
  const c = loadSettings({
    ...base,
    RULE_FILES: "a.yml, b.yml",
    RULES_BUILTIN: "false",
    ALERTMANAGER_URL: "http://127.0.0.1:9094",
    WEBHOOK_URLS: "http://127.0.0.1:8080/hook,https://example.com/x",
    SLACK_WEBHOOK_URLS: "https://hooks.slack.com/services/T/B/SECRET",
    SINK_RETRIES: "0",
  });
  assert.deepEqual(c.ruleFiles, ["a.yml", "b.yml"]);
  assert.equal(c.rulesBuiltin, false);
  assert.equal(c.webhookUrls.length, 2);
  assert.equal(c.slackWebhookUrls.length, 1);
  assert.equal(c.sinkRetries, 0);
});

test("every problem at once, and no webhook secret in the message", () => {
  try {
    loadSettings({
      KAFKA_BROKERS: "nohost",
      RULES_BUILTIN: "false",
      SLACK_WEBHOOK_URLS: "ftp://hooks.slack.com/services/T/B/SECRET",
      TOPIC_ALERTS: "cloudtrail.events",
      SINK_RETRIES: "-1",
    });
    assert.fail("should throw");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems.length, 6, error.message);
    assert.ok(!error.message.includes("SECRET"));
  }
});
