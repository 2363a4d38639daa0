// The enricher: cloudtrail.raw ─► dedup ─► enrich ─► cloudtrail.events (docs/enricher.md).
//   node services/enricher/src/main.ts        (configured by environment variables)
import { ConfigError, createLogger, handleShutdown, startHealthServer } from "@trailstream/runtime";
import { loadConfig } from "./config.ts";
import { startEnricher } from "./enricher.ts";
import { createMetrics } from "./metrics.ts";

/** Runs the enricher until SIGTERM or SIGINT, then stops it in order and exits. */
export async function main(env: Readonly<Record<string, string | undefined>> = process.env): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exitCode = 2;
    return;
  }
  const log = createLogger("enricher", config.logLevel);
  const metrics = createMetrics(undefined, config.eventSelectors);
  let shutdown: { stop: (reason: string) => Promise<void> } | undefined;
  const enricher = await startEnricher(config, {
    log,
    metrics,
    // The consumer gave up: exit non-zero, so the orchestrator restarts the process.
    onFatal: () => void (shutdown?.stop("the Kafka consumer failed") ?? Promise.resolve()).then(() => process.exit(1)),
  });
  const health = await startHealthServer({ port: config.metricsPort, registry: metrics.registry, readiness: enricher });
  log.info({ port: health.port }, "serving /metrics, /healthz and /readyz");
  await new Promise<void>((resolve) => {
    shutdown = handleShutdown({
      graceMs: config.shutdownGraceMs,
      log: (message, error) => (error ? log.error({ error: String(error) }, message) : log.info(message)),
      steps: [() => enricher.stop(), () => health.close(), async () => resolve()],
    });
  });
  log.info("stopped");
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error("enricher failed:", error);
    process.exit(1);
  });
}
