export { ConfigError, ConfigReader, type KafkaConnection, parseDuration } from "./config.ts";
export { type HealthServer, type Readiness, startHealthServer } from "./health.ts";
export { createLogger, type Logger, safeUrl } from "./logger.ts";
export { createRegistry, LAG_BUCKETS_SECONDS, LATENCY_BUCKETS_SECONDS, METRIC_PREFIX } from "./metrics.ts";
export { handleShutdown, type StopStep } from "./shutdown.ts";
