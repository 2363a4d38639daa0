import type { ServiceDefinition } from "@trailstream/runtime";
import { start } from "./enricher.ts";
import { type EnricherConfig, loadSettings } from "./settings.ts";

export * from "./claims.ts";
export { RedisDedupStore } from "./dedup-redis.ts";
export { type Enricher, type EnricherDeps, start } from "./enricher.ts";
export { ensureIndexTopic, type Indexer, type IndexerOptions, startIndexer } from "./indexer.ts";
export { createMetrics, type EnricherMetrics } from "./metrics.ts";
export * from "./pipeline.ts";
export { type EnricherConfig, loadSettings, type RedisDownMode, SETTINGS } from "./settings.ts";

/** The enricher as the service shell runs it (`trailstream enricher`). */
export const enricher: ServiceDefinition<EnricherConfig> = { name: "enricher", loadSettings, start };
