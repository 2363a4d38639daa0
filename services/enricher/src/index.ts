export { type EnricherConfig, loadConfig, parseDuration, type RedisDownMode } from "./config.ts";
export { createRedisClient, type PipelineClient, RedisDedupStore, RedisTimeoutError } from "./dedup-redis.ts";
export { type Enricher, type EnricherDeps, startEnricher } from "./enricher.ts";
export { main } from "./main.ts";
export { createMetrics, type EnricherMetrics } from "./metrics.ts";
export * from "./pipeline.ts";
