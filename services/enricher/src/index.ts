export * from "./claims.ts";
export { type EnricherConfig, loadConfig, parseDuration, type RedisDownMode } from "./config.ts";
export {
  createRedisClient,
  pipelineOf,
  RedisDedupStore,
  type RedisPipeline,
  RedisTimeoutError,
} from "./dedup-redis.ts";
export { type Enricher, type EnricherDeps, startEnricher } from "./enricher.ts";
export { main } from "./main.ts";
export { createMetrics, type EnricherMetrics } from "./metrics.ts";
export * from "./pipeline.ts";
