// The one process shell every service runs in (docs/decisions/0008-service-shell.md): settings
// read and checked once (a problem exits 2), one logger, one metrics registry, /metrics /healthz
// /readyz, SIGTERM/SIGINT with a bounded drain, and a component that stopped for good exits 1 so
// the orchestrator restarts the process.
import type { Registry } from "prom-client";
import { ConfigError, type Env } from "./config.ts";
import { startHealthServer } from "./health.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createRegistry } from "./metrics.ts";

/** The settings the shell itself reads from every service's settings. */
export interface ShellSettings {
  metricsPort: number;
  logLevel: string;
  /** The whole stop may take this long; past it the process exits 1 at once. */
  shutdownGraceMs: number;
}

export interface ServiceDeps {
  log: Logger;
  registry: Registry;
}

export interface RunningService {
  /** Why the service is not ready (a dependency down, a consumer stopped for good); empty when ready. */
  ready(): readonly string[] | Promise<readonly string[]>;
  /** Stop taking work, finish or hand back what is in flight within `drainMs`, flush, close. */
  stop(drainMs: number): Promise<void>;
  /** Settles (either way) when a component stopped for good; never while the service is healthy. */
  fatal: Promise<unknown>;
}

export interface ServiceDefinition<S extends ShellSettings> {
  name: string;
  /** Throws a ConfigError listing every problem at once; `warn` hears of deprecated spellings. */
  loadSettings(env: Env, warn?: (message: string) => void): S;
  start(settings: S, deps: ServiceDeps): Promise<RunningService>;
}

export const EXIT_CODE = { ok: 0, failure: 1, settings: 2 } as const;

/** The part of the grace period given to draining; the rest is for flushing and closing. */
export function drainMsOf(graceMs: number): number {
  return Math.floor(graceMs * 0.6);
}

/** A promise that settles with a value or an error, as a fatal signal: rejection becomes the value. */
export function fatalSignal(): { fatal: Promise<unknown>; fail: (error: unknown) => void } {
  let fail: (error: unknown) => void = () => {};
  const fatal = new Promise<unknown>((resolve) => {
    fail = resolve;
  });
  return { fatal, fail };
}

/**
 * Runs a service until SIGTERM/SIGINT (exit 0 after an orderly stop) or until one of its components
 * stops for good (exit 1 after the same stop). Resolves with the exit code; a stop that outlasts the
 * grace period, or a second signal, exits 1 at once.
 */
export async function runService<S extends ShellSettings>(
  service: ServiceDefinition<S>,
  env: Env = process.env,
): Promise<number> {
  let settings: S;
  const warnings: string[] = [];
  try {
    settings = service.loadSettings(env, (message) => warnings.push(message));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service.name}: ${error.message}\n`);
    return EXIT_CODE.settings;
  }
  const log = createLogger(service.name, settings.logLevel);
  const registry = createRegistry(service.name);
  for (const warning of warnings) log.warn(warning);
  let phase: "starting" | "running" | "stopping" = "starting";
  let running: RunningService | undefined;
  let failed: string | undefined;
  const health = await startHealthServer({
    port: settings.metricsPort,
    registry,
    readiness: {
      notReady: async () => {
        if (failed !== undefined) return [`stopped for good: ${failed}`];
        if (phase !== "running" || !running) return [phase];
        return [...(await running.ready())];
      },
    },
  });
  log.info({ port: health.port }, "serving /metrics, /healthz and /readyz");

  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (signal) => {
      if (phase === "stopping") {
        log.warn(`second ${signal}: exiting now`);
        process.exit(EXIT_CODE.failure);
      }
      resolve(signal);
    };
  });
  process.on("SIGTERM", onSignal).on("SIGINT", onSignal);
  const done = async (code: number) => {
    process.off("SIGTERM", onSignal).off("SIGINT", onSignal);
    await health.close();
    return code;
  };

  try {
    running = await service.start(settings, { log, registry });
  } catch (error) {
    log.fatal({ err: error }, "could not start");
    return done(EXIT_CODE.failure);
  }
  phase = "running";
  log.info("running");

  const ended = await Promise.race([
    signalled.then((signal): { signal: string } | { error: unknown } => ({ signal })),
    running.fatal.then(
      (error) => ({ error }),
      (error: unknown) => ({ error }),
    ),
  ]);
  let code: number = EXIT_CODE.ok;
  if ("error" in ended) {
    code = EXIT_CODE.failure;
    failed = ended.error instanceof Error ? ended.error.message : String(ended.error);
    log.fatal({ err: ended.error }, "a component stopped for good: stopping, then exiting 1");
  } else {
    log.info(`${ended.signal}: stopping`);
  }
  phase = "stopping";
  const timer = setTimeout(() => {
    log.error(`stop took longer than ${settings.shutdownGraceMs} ms: exiting now`);
    process.exit(EXIT_CODE.failure);
  }, settings.shutdownGraceMs);
  timer.unref();
  try {
    await running.stop(drainMsOf(settings.shutdownGraceMs));
  } catch (error) {
    log.error({ err: error }, "stopping failed");
    code = EXIT_CODE.failure;
  }
  clearTimeout(timer);
  log.info({ exitCode: code }, "stopped");
  return done(code);
}
