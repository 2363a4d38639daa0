import type { ServiceDefinition } from "@trailstream/runtime";
import { type EnricherConfig, loadSettings } from "./config.ts";
import { start } from "./enricher.ts";

export * from "./claims.ts";
export { type EnricherConfig, loadSettings, parseDuration, type RedisDownMode } from "./config.ts";
export {
  createRedisClient,
  pipelineOf,
  RedisDedupStore,
  type RedisPipeline,
  RedisTimeoutError,
} from "./dedup-redis.ts";
export { type Enricher, type EnricherDeps, start } from "./enricher.ts";
export { createMetrics, type EnricherMetrics } from "./metrics.ts";
export * from "./pipeline.ts";

/** The enricher as the service shell runs it (`trailstream enricher`). */
export const enricher: ServiceDefinition<EnricherConfig> = { name: "enricher", loadSettings, start };
