export { ConfigError, ConfigReader, type Env, parseDuration } from "./config.ts";
export { type HealthServer, type Readiness, startHealthServer } from "./health.ts";
export { createLogger, type Logger, safeUrl } from "./logger.ts";
export { createRegistry, LAG_BUCKETS_SECONDS, LATENCY_BUCKETS_SECONDS, METRIC_PREFIX } from "./metrics.ts";
export {
  drainMsOf,
  EXIT_CODE,
  fatalSignal,
  type RunningService,
  runService,
  type ServiceDefinition,
  type ServiceDeps,
  type ShellSettings,
} from "./service.ts";
export {
  entriesOf,
  loadSpec,
  readSpec,
  type Setting,
  type SettingDoc,
  type SettingsOf,
  type SettingsSpec,
  setting,
  shellSpec,
} from "./settings.ts";
