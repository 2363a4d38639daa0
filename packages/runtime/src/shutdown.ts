// SIGTERM (Kubernetes) and SIGINT (Ctrl-C) start one orderly stop: stop taking new work, finish
// or hand back what is in flight, flush, commit, exit. A second signal, or the grace period
// running out, exits at once: at-least-once delivery makes that safe, only slower to recover.

export type StopStep = () => Promise<void>;

export function handleShutdown(options: {
  /** Run in order; each one's failure is reported and the next still runs. */
  steps: readonly StopStep[];
  graceMs: number;
  log: (message: string, error?: unknown) => void;
}): { stop: (reason: string) => Promise<void> } {
  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    if (stopping) return stopping;
    options.log(`stopping: ${reason}`);
    const timer = setTimeout(() => {
      options.log(`stop took longer than ${options.graceMs} ms; exiting now`);
      process.exit(1);
    }, options.graceMs);
    timer.unref();
    stopping = (async () => {
      for (const step of options.steps) {
        try {
          await step();
        } catch (error) {
          options.log("a stop step failed", error);
        }
      }
      clearTimeout(timer);
    })();
    return stopping;
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (stopping) {
        options.log(`second ${signal}: exiting now`);
        process.exit(1);
      }
      void stop(signal).then(() => process.exit(0));
    });
  }
  return { stop };
}
