import type { ServiceDefinition } from "@trailstream/runtime";
import { start } from "./alerter.ts";
import { type AlerterConfig, loadSettings } from "./settings.ts";

export {
  type AlertDocument,
  buildAlert,
  type DecodedEvent,
  decodeEvent,
  type EventSummary,
  summarize,
} from "./alert.ts";
export { type Alerter, type AlerterDeps, start } from "./alerter.ts";
export { CriticalSinkError, type DeliveryFailure, deliverAll } from "./deliver.ts";
export { type AlerterMetrics, createMetrics } from "./metrics.ts";
export { type BatchResult, processBatch } from "./pipeline.ts";
export { backoffMs, backoffSchedule, PermanentError, type RetryPolicy, withRetry } from "./retry.ts";
export { loadRules } from "./rules.ts";
export { type AlerterConfig, loadSettings, SETTINGS } from "./settings.ts";
export { type AlertmanagerAlert, toAlertmanager } from "./sinks/alertmanager.ts";
export { alertKey } from "./sinks/kafka.ts";
export { type SlackMessage, slackMessage } from "./sinks/slack.ts";
export { type AlertState, MemoryAlertState } from "./state-memory.ts";
export { RedisAlertState } from "./state-redis.ts";

/** The alerter as the service shell runs it (`trailstream alerter`). */
export const alerter: ServiceDefinition<AlerterConfig> = { name: "alerter", loadSettings, start };
