// Runs the three services as separate processes, the way they run in production: the same
// `trailstream` command, configured by environment variables, each with its own health port.
// The one launcher of service processes: the end-to-end test, the system demo and the benchmarks.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export type ServiceName = "ingester" | "enricher" | "alerter";
const CLI = new URL("../../services/cli/src/main.ts", import.meta.url).pathname;

export interface ServiceProcess {
  name: ServiceName;
  port: number;
  logFile: string;
  readonly child: ChildProcess;
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
  options: { logDir: string; port?: number },
): Promise<ServiceProcess> {
  const port = options.port ?? (await freePort());
  const logFile = join(options.logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: "a" });
  let child: ChildProcess;
  const launch = () => {
    child = spawn(process.execPath, [CLI, name], {
      env: { ...process.env, ...env, METRICS_PORT: String(port) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
  };
  const exited = () =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
      else child.once("exit", (code) => resolve(code));
    });
  launch();
  const service: ServiceProcess = {
    name,
    port,
    logFile,
    get child() {
      return child;
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
          throw new Error(`${name} exited with ${child.exitCode} before it was ready: see ${logFile}`);
        try {
          const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) });
          if (response.ok) return;
          last = (await response.text()).trim();
        } catch (error) {
          last = error instanceof Error ? error.message : String(error);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`${name} was not ready within ${timeoutMs} ms (${last}): see ${logFile}`);
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
