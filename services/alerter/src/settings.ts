// The alerter's settings spec: every environment variable it reads, with type, default, range and
// doc. loadSettings() validates from it (every problem at once); scripts/settings-docs.ts writes
// the table in docs/alerter.md from it.

import { groupInstanceIdSetting, kafkaSetting } from "@trailstream/kafka";
import { redisSetting } from "@trailstream/redis";
import { parseOverrides, type RuleOverride, RulePolicyError } from "@trailstream/rules";
import { type ConfigReader, type Env, loadSpec, type SettingsOf, setting, shellSpec } from "@trailstream/runtime";

function isHttpUrl(url: string): boolean {
  try {
    return ["http:", "https:"].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

/** A list of http(s) URLs; a bad entry is named by its position, since webhook URLs hold secrets. */
function httpUrls(name: string, doc: string) {
  return setting.group([{ name, type: "list", default: "", range: "http(s) URLs", doc }], (r: ConfigReader) => {
    const urls = r.list(name);
    urls.forEach((url, i) => {
      r.require(isHttpUrl(url), `${name}: entry ${i + 1} is not an http:// or https:// URL`);
    });
    return urls;
  });
}

export const SETTINGS = {
  kafka: kafkaSetting("trailstream-alerter"),
  redis: redisSetting,
  redisKeyPrefix: setting.string("ALERTER_KEY_PREFIX", "", "Start of every Redis key the alerter writes"),
  topicEvents: setting.string("TOPIC_EVENTS", "cloudtrail.events", "Topic read (created when missing)"),
  topicAlerts: setting.string("TOPIC_ALERTS", "cloudtrail.alerts", "Topic the alerts go to"),
  topicDlq: setting.string("TOPIC_DLQ", "cloudtrail.dlq", "Dead-letter topic"),
  topicPartitions: setting.integer(
    "TOPIC_PARTITIONS",
    6,
    { min: 1, max: 10_000 },
    "Partitions of the events topic when the alerter creates it",
  ),
  groupId: setting.string("ALERTER_GROUP_ID", "trailstream-alerter", "Kafka consumer group"),
  groupInstanceId: groupInstanceIdSetting,
  ruleFiles: setting.list("RULE_FILES", "Custom YAML rule files"),
  topicIntegrity: setting.string(
    "TOPIC_INTEGRITY",
    "cloudtrail.integrity",
    "The ingester's log file integrity verdicts, read beside the events (created when missing)",
  ),
  integrityAlerts: setting.boolean(
    "INTEGRITY_ALERTS",
    true,
    "The built-in rule trailstream-log-file-integrity: an alert for each integrity verdict that is not valid",
  ),
  integrityAlertsOffTrails: setting.list(
    "INTEGRITY_ALERTS_OFF_TRAILS",
    "Trail names whose integrity verdicts raise no alert",
  ),
  rulesBuiltin: setting.boolean("RULES_BUILTIN", true, "Load the built-in CIS and Sigma rules"),
  sigmaDir: setting.optional("SIGMA_DIR", "A folder of Sigma rules instead of the shipped ones"),
  rulesDisabled: setting.list("RULES_DISABLED", "Rule ids turned off (docs/rules.md)"),
  ruleOverrides: setting.group(
    [
      {
        name: "RULE_OVERRIDES",
        type: "string",
        default: "",
        range: "id:key=value,...;id:...",
        doc: "Per-rule enabled, severity, suppression and principal label (docs/rules.md)",
      },
    ],
    (r): Record<string, RuleOverride> => {
      try {
        return parseOverrides(r.string("RULE_OVERRIDES", ""));
      } catch (error) {
        if (!(error instanceof RulePolicyError)) throw error;
        r.require(false, `RULE_OVERRIDES: ${error.message}`);
        return {};
      }
    },
  ),
  alertSuppressDefaultMs: setting.duration(
    "ALERT_SUPPRESS_DEFAULT",
    "15m",
    {},
    "Built-in rules without their own window: one alert per rule and account per window; 0 off",
  ),
  alertFloodPerMinute: setting.integer(
    "ALERT_FLOOD_PER_MINUTE",
    60,
    { min: 0, max: 1_000_000 },
    "Alerts one rule may raise per minute before the rest fold into one summary alert; 0: no limit",
  ),
  alertmanagerUrl: setting.group(
    [{ name: "ALERTMANAGER_URL", type: "url", default: "", range: "http(s)", doc: "Alertmanager to post alerts to" }],
    (r) => {
      const url = r.optionalString("ALERTMANAGER_URL");
      if (url !== undefined) r.require(isHttpUrl(url), "ALERTMANAGER_URL must be an http:// or https:// URL");
      return url;
    },
  ),
  webhookUrls: httpUrls("WEBHOOK_URLS", "JSON webhooks: the alert document is POSTed as is (the URLs are secrets)"),
  slackWebhookUrls: httpUrls("SLACK_WEBHOOK_URLS", "Slack-compatible incoming webhooks (the URLs are secrets)"),
  sinkRetries: setting.integer(
    "SINK_RETRIES",
    3,
    { min: 0, max: 20 },
    "Retries after a sink's first failed attempt, before the alert goes to the DLQ",
  ),
  sinkRetryBaseMs: setting.integer(
    "SINK_RETRY_BASE_MS",
    200,
    { min: 1, max: 60_000 },
    "First retry delay, ms (doubles, with jitter)",
  ),
  sinkRetryMaxMs: setting.integer("SINK_RETRY_MAX_MS", 2_000, { min: 1, max: 300_000 }, "Longest retry delay, ms"),
  sinkTimeoutMs: setting.integer(
    "SINK_TIMEOUT_MS",
    3_000,
    { min: 10, max: 120_000 },
    "One HTTP request to a sink may take this long, ms",
  ),
  sinkConcurrency: setting.integer(
    "SINK_CONCURRENCY",
    4,
    { min: 1, max: 64 },
    "Requests in flight at once to one webhook",
  ),
  sinkBatchDeadlineMs: setting.integer(
    "SINK_BATCH_DEADLINE_MS",
    15_000,
    { min: 100, max: 600_000 },
    "A batch's deliveries to one sink stop after this long; the rest go to the DLQ, ms",
  ),
  alertDedupTtlMs: setting.duration(
    "ALERT_DEDUP_TTL",
    "24h",
    { min: "1s" },
    "A re-delivered event inside this window raises nothing again",
  ),
  alertmanagerResolveMs: setting.duration(
    "ALERTMANAGER_RESOLVE",
    "1h",
    {},
    "How long Alertmanager keeps an alert firing (endsAt); 0 lets Alertmanager decide",
  ),
  correlationLatenessMs: setting.duration(
    "CORRELATION_LATENESS",
    "15m",
    {},
    "How late (in eventTime) a match may come after later ones and still be correlated with them",
  ),
  ...shellSpec({ metricsPort: 9403, shutdownGraceMs: 25_000 }),
};

export type AlerterConfig = SettingsOf<typeof SETTINGS>;

export function loadSettings(env: Env = process.env, warn?: (message: string) => void): AlerterConfig {
  return loadSpec(
    SETTINGS,
    env,
    (v, r) => {
      r.require(v.rulesBuiltin || v.ruleFiles.length > 0, "no rules: set RULE_FILES or RULES_BUILTIN=true");
      r.require(
        new Set([v.topicEvents, v.topicAlerts, v.topicDlq, v.topicIntegrity]).size === 4,
        "TOPIC_EVENTS, TOPIC_ALERTS, TOPIC_DLQ and TOPIC_INTEGRITY must be four different topics",
      );
      r.require(v.sinkRetryBaseMs <= v.sinkRetryMaxMs, "SINK_RETRY_BASE_MS must not exceed SINK_RETRY_MAX_MS");
    },
    warn,
  );
}
