// Runs the three services as separate processes, the way they run in production: the same
// `trailstream` command, configured by environment variables, each with its own health port.
// The one launcher of service processes: the service-shell, integration (spawnIngester, spawnEnricher,
// spawnAlerter) and end-to-end tests, the system demo, the observability demo and the benchmarks.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";

export type ServiceName = "ingester" | "enricher" | "alerter";
const CLI = new URL("../../services/cli/src/main.ts", import.meta.url).pathname;

export interface ServiceProcess {
  name: ServiceName;
  port: number;
  /** Where stdout and stderr are appended, when a logDir was given. */
  logFile: string | undefined;
  readonly child: ChildProcess;
  /** The lines written so far (the last 2,000 of each stream), across restarts. */
  stdout: string[];
  stderr: string[];
  /** Both streams' lines, for a failure message. */
  logs(): string;
  /** Resolves with the exit code when the current process exits. */
  exited(): Promise<number | null>;
  /** Resolves once a line of either stream matches (at once when one already did). */
  logged(match: (line: string) => boolean): Promise<void>;
  /** SIGKILL, as a crash would: nothing is flushed, nothing is handed back. */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  restart(): Promise<void>;
  ready(timeoutMs?: number): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startServiceProcess(
  name: ServiceName,
  env: Record<string, string>,
  options: {
    logDir?: string;
    /** /metrics, /healthz and /readyz here (METRICS_PORT); a free port when absent. `env` may still set METRICS_PORT. */
    port?: number;
    /** false: only PATH of the test's environment, so nothing but `env` configures the service. */
    inheritEnv?: boolean;
    /** Another checkout's `trailstream` entry point (a benchmark's baseline); this checkout's by default. */
    cli?: string;
  } = {},
): Promise<ServiceProcess> {
  const port = options.port ?? (await freePort());
  const logFile = options.logDir === undefined ? undefined : join(options.logDir, `${name}.log`);
  const log = logFile === undefined ? undefined : createWriteStream(logFile, { flags: "a" });
  const base = options.inheritEnv === false ? { PATH: process.env.PATH ?? "" } : process.env;
  const stdout: string[] = [];
  const stderr: string[] = [];
  const watchers = new Set<{ match: (line: string) => boolean; resolve: () => void }>();
  const keep = (stream: NodeJS.ReadableStream | null, into: string[]) => {
    if (!stream) return;
    if (log) stream.pipe(log, { end: false });
    createInterface({ input: stream }).on("line", (line) => {
      if (line) into.push(line);
      if (into.length > 2_000) into.shift();
      for (const w of watchers) {
        if (!w.match(line)) continue;
        watchers.delete(w);
        w.resolve();
      }
    });
  };
  let child: ChildProcess;
  const launch = () => {
    child = spawn(process.execPath, [options.cli ?? CLI, name], {
      env: { ...base, METRICS_PORT: String(port), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    keep(child.stdout, stdout);
    keep(child.stderr, stderr);
  };
  const exited = () =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
      else child.once("close", (code) => resolve(code));
    });
  launch();
  const service: ServiceProcess = {
    name,
    port,
    logFile,
    get child() {
      return child;
    },
    stdout,
    stderr,
    logs: () => [...stdout, ...stderr].join("\n"),
    exited,
    logged(match) {
      if (stdout.some(match) || stderr.some(match)) return Promise.resolve();
      return new Promise((resolve) => watchers.add({ match, resolve }));
    },
    async kill() {
      child.kill("SIGKILL");
      await exited();
    },
    async stop() {
      child.kill("SIGTERM");
      return exited();
    },
    async restart() {
      launch();
      await service.ready();
    },
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let last = "no answer yet";
      while (Date.now() < deadline) {
        if (child.exitCode !== null)
          throw new Error(
            `${name} exited with ${child.exitCode} before it was ready: ${logFile ? `see ${logFile}` : service.logs()}`,
          );
        try {
          const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) });
          if (response.ok) return;
          last = (await response.text()).trim();
        } catch (error) {
          last = error instanceof Error ? error.message : String(error);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(
        `${name} was not ready within ${timeoutMs} ms (${last}): ${logFile ? `see ${logFile}` : service.logs()}`,
      );
    },
  };
  return service;
}

/** Scrapes one metric's samples from a service's /metrics, summed over the labels that match. */
export async function metricValue(port: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}
