// The ingester service: `node services/ingester/src/main.ts` with its settings in the environment
// (see config.ts and docs/ingester.md).
import { ConfigError, createLogger, handleShutdown } from "@trailstream/runtime";
import { loadConfig } from "./config.ts";
import { startIngester } from "./ingester.ts";

/** Reads the configuration, starts every source, and stops them in order on SIGTERM or SIGINT. */
export async function main(env: Readonly<Record<string, string | undefined>> = process.env): Promise<void> {
  const config = loadConfig(env);
  // kafkajs warns at every start that its default partitioner changed in 2.0; the ingester keys by
  // identity and has only ever used the current one.
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";
  const log = createLogger("ingester", config.logLevel);
  const ingester = await startIngester(config, log);
  handleShutdown({
    graceMs: config.shutdownGraceMs,
    steps: [() => ingester.stop()],
    log: (message, error) => (error ? log.error({ err: error }, message) : log.info(message)),
  });
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`ingester: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`ingester: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
