// The alerter's settings, from the environment, checked all at once (docs/alerter.md lists them).
import { type KafkaSettings, readKafkaSettings } from "@trailstream/kafka";
import { parseOverrides, type RuleOverride, RulePolicyError } from "@trailstream/rules";
import { ConfigReader } from "@trailstream/runtime";

export { parseDuration } from "@trailstream/runtime";

export interface AlerterConfig {
  kafka: KafkaSettings;
  /** Holds a password when the URL has one: log it only through safeUrl(). */
  redisUrl: string;
  redisKeyPrefix: string;
  topicEvents: string;
  topicAlerts: string;
  topicDlq: string;
  /** Partitions of a topic this service creates because it is missing (TOPIC_PARTITIONS). */
  topicPartitions: number;
  groupId: string;
  /** Custom YAML rule files. */
  ruleFiles: string[];
  rulesBuiltin: boolean;
  /** A directory of Sigma rules instead of the shipped ones. */
  sigmaDir?: string;
  /** Rule ids turned off (RULES_DISABLED). */
  rulesDisabled: string[];
  /** Per-rule enabled, severity, suppression and principal label (RULE_OVERRIDES). */
  ruleOverrides: Record<string, RuleOverride>;
  /** The suppression window of built-in rules without one of their own, per (rule, account[, principal]). */
  alertSuppressDefaultMs: number;
  /** Alerts one rule may raise per minute before the rest fold into one summary alert with a count; 0: no limit. */
  alertFloodPerMinute: number;
  alertmanagerUrl?: string;
  /** Plain JSON webhooks: the alert document is POSTed as is. May hold secrets in the path: never log. */
  webhookUrls: string[];
  /** Slack-compatible incoming webhooks ({text, blocks}). Their URLs are secrets: never log them. */
  slackWebhookUrls: string[];
  /** Retries after a sink's first failed attempt, before the alert goes to the DLQ. */
  sinkRetries: number;
  sinkRetryBaseMs: number;
  sinkRetryMaxMs: number;
  /** One HTTP request to a sink may take this long. */
  sinkTimeoutMs: number;
  /** Requests in flight at once to one webhook. */
  sinkConcurrency: number;
  /** A batch's deliveries to one sink stop after this long; the rest go to the DLQ. */
  sinkBatchDeadlineMs: number;
  /** How late (in eventTime) a match may come after later ones and still be correlated with them. */
  correlationLatenessMs: number;
  /** How long `alerted:<rule>:<identity>` claims live: a re-delivered event inside it raises nothing. */
  alertDedupTtlMs: number;
  /** How long Alertmanager keeps an alert firing (endsAt = now + this); 0 lets Alertmanager decide. */
  alertmanagerResolveMs: number;
  metricsPort: number;
  logLevel: string;
  shutdownGraceMs: number;
}

function httpUrls(r: ConfigReader, name: string): string[] {
  const urls = r.list(name);
  urls.forEach((url, i) => {
    let ok = false;
    try {
      ok = ["http:", "https:"].includes(new URL(url).protocol);
    } catch {}
    // The URL itself is not repeated: webhook URLs carry their secret in the path.
    r.require(ok, `${name}: entry ${i + 1} is not an http:// or https:// URL`);
  });
  return urls;
}

export function loadSettings(env: Readonly<Record<string, string | undefined>> = process.env): AlerterConfig {
  const r = new ConfigReader(env);
  const kafka = readKafkaSettings(r, "trailstream-alerter");
  const redisUrl = r.redisUrl();
  const alertmanagerUrl = r.optionalString("ALERTMANAGER_URL");
  if (alertmanagerUrl !== undefined) {
    let ok = false;
    try {
      ok = ["http:", "https:"].includes(new URL(alertmanagerUrl).protocol);
    } catch {}
    r.require(ok, "ALERTMANAGER_URL must be an http:// or https:// URL");
  }
  const sigmaDir = r.optionalString("SIGMA_DIR");
  let ruleOverrides: Record<string, RuleOverride> = {};
  try {
    ruleOverrides = parseOverrides(r.string("RULE_OVERRIDES", ""));
  } catch (error) {
    if (!(error instanceof RulePolicyError)) throw error;
    r.require(false, `RULE_OVERRIDES: ${error.message}`);
  }
  const config: AlerterConfig = {
    kafka,
    redisUrl,
    redisKeyPrefix: r.string("ALERTER_KEY_PREFIX", ""),
    topicEvents: r.string("TOPIC_EVENTS", "cloudtrail.events"),
    topicAlerts: r.string("TOPIC_ALERTS", "cloudtrail.alerts"),
    topicDlq: r.string("TOPIC_DLQ", "cloudtrail.dlq"),
    topicPartitions: r.integer("TOPIC_PARTITIONS", 6, { min: 1, max: 10_000 }),
    groupId: r.string("ALERTER_GROUP_ID", "trailstream-alerter"),
    ruleFiles: r.list("RULE_FILES"),
    rulesBuiltin: r.boolean("RULES_BUILTIN", true),
    ...(sigmaDir ? { sigmaDir } : {}),
    rulesDisabled: r.list("RULES_DISABLED"),
    ruleOverrides,
    alertSuppressDefaultMs: r.duration("ALERT_SUPPRESS_DEFAULT", "15m", 0),
    alertFloodPerMinute: r.integer("ALERT_FLOOD_PER_MINUTE", 60, { min: 0, max: 1_000_000 }),
    ...(alertmanagerUrl ? { alertmanagerUrl } : {}),
    webhookUrls: httpUrls(r, "WEBHOOK_URLS"),
    slackWebhookUrls: httpUrls(r, "SLACK_WEBHOOK_URLS"),
    sinkRetries: r.integer("SINK_RETRIES", 3, { min: 0, max: 20 }),
    sinkRetryBaseMs: r.integer("SINK_RETRY_BASE_MS", 200, { min: 1, max: 60_000 }),
    sinkRetryMaxMs: r.integer("SINK_RETRY_MAX_MS", 2_000, { min: 1, max: 300_000 }),
    sinkTimeoutMs: r.integer("SINK_TIMEOUT_MS", 3_000, { min: 10, max: 120_000 }),
    sinkConcurrency: r.integer("SINK_CONCURRENCY", 4, { min: 1, max: 64 }),
    sinkBatchDeadlineMs: r.integer("SINK_BATCH_DEADLINE_MS", 15_000, { min: 100, max: 600_000 }),
    alertDedupTtlMs: r.duration("ALERT_DEDUP_TTL", "24h", 1_000),
    correlationLatenessMs: r.duration("CORRELATION_LATENESS", "15m", 0),
    alertmanagerResolveMs: r.duration("ALERTMANAGER_RESOLVE", "1h", 0),
    metricsPort: r.integer("METRICS_PORT", 9403, { min: 0, max: 65_535 }),
    logLevel: r.oneOf("LOG_LEVEL", ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const, "info"),
    shutdownGraceMs: r.integer("SHUTDOWN_GRACE_MS", 25_000, { min: 0, max: 600_000 }),
  };
  r.require(config.rulesBuiltin || config.ruleFiles.length > 0, "no rules: set RULE_FILES or RULES_BUILTIN=true");
  r.require(
    new Set([config.topicEvents, config.topicAlerts, config.topicDlq]).size === 3,
    "TOPIC_EVENTS, TOPIC_ALERTS and TOPIC_DLQ must be three different topics",
  );
  r.require(config.sinkRetryBaseMs <= config.sinkRetryMaxMs, "SINK_RETRY_BASE_MS must not exceed SINK_RETRY_MAX_MS");
  r.done();
  return config;
}
