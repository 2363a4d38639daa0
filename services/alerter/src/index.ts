export { type Alerter, type AlerterDeps, startAlerter } from "./alerter.ts";
export { type AlerterConfig, loadConfig } from "./config.ts";
export { CriticalSinkError, type DeliveryFailure, deliverAll } from "./deliver.ts";
export {
  type AlertDocument,
  type AlertmanagerAlert,
  alertKey,
  buildAlert,
  type DecodedEvent,
  decodeEvent,
  type EventSummary,
  type SlackMessage,
  slackMessage,
  summarize,
  toAlertmanager,
} from "./evaluate.ts";
export { main } from "./main.ts";
export { type AlerterMetrics, createMetrics } from "./metrics.ts";
export { type BatchResult, processBatch } from "./pipeline.ts";
export { backoffMs, backoffSchedule, PermanentError, type RetryPolicy, withRetry } from "./retry.ts";
export { loadRules } from "./rules.ts";
export { type AlertState, MemoryAlertState } from "./state-memory.ts";
export { RedisAlertState } from "./state-redis.ts";
