// The alerter: cloudtrail.events ─► rules ─► cloudtrail.alerts, Alertmanager, webhooks (docs/alerter.md).
//   node services/alerter/src/main.ts        (configured by environment variables)
import { ConfigError, createLogger, handleShutdown, startHealthServer } from "@trailstream/runtime";
import { startAlerter } from "./alerter.ts";
import { loadConfig } from "./config.ts";
import { createMetrics } from "./metrics.ts";

/** Runs the alerter until SIGTERM or SIGINT, then stops it in order and exits. */
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
  const log = createLogger("alerter", config.logLevel);
  const metrics = createMetrics();
  const alerter = await startAlerter(config, { log, metrics });
  const health = await startHealthServer({ port: config.metricsPort, registry: metrics.registry, readiness: alerter });
  log.info({ port: health.port }, "serving /metrics, /healthz and /readyz");
  await new Promise<void>((resolve) => {
    handleShutdown({
      graceMs: config.shutdownGraceMs,
      log: (message, error) => (error ? log.error({ error: String(error) }, message) : log.info(message)),
      steps: [() => alerter.stop(), () => health.close(), async () => resolve()],
    });
  });
  log.info("stopped");
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error("alerter failed:", error);
    process.exit(1);
  });
}
