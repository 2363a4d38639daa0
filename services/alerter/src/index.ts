export {
  type AlertDocument,
  buildAlert,
  type DecodedEvent,
  decodeEvent,
  type EventSummary,
  summarize,
} from "./alert.ts";
export { type Alerter, type AlerterDeps, startAlerter } from "./alerter.ts";
export { type AlerterConfig, loadConfig } from "./config.ts";
export { CriticalSinkError, type DeliveryFailure, deliverAll } from "./deliver.ts";
export { main } from "./main.ts";
export { type AlerterMetrics, createMetrics } from "./metrics.ts";
export { type BatchResult, processBatch } from "./pipeline.ts";
export { backoffMs, backoffSchedule, PermanentError, type RetryPolicy, withRetry } from "./retry.ts";
export { loadRules } from "./rules.ts";
export { type AlertmanagerAlert, toAlertmanager } from "./sinks/alertmanager.ts";
export { alertKey } from "./sinks/kafka.ts";
export { type SlackMessage, slackMessage } from "./sinks/slack.ts";
export { type AlertState, MemoryAlertState } from "./state-memory.ts";
export { RedisAlertState } from "./state-redis.ts";
