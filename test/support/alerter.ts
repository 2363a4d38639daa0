// Support for the alerter's end-to-end tests: alerter child processes, a webhook receiver and the
// real Alertmanager (deploy/local/stack runs it on 127.0.0.1:9094).
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { STACK_HINT, uniqueName } from "./servers.ts";
import { type ServiceProcess, startServiceProcess } from "./service-process.ts";
import { withTimeout } from "./wait.ts";

/** Alertmanager's URL from the environment (`deploy/local/stack env` prints it). */
export async function alertmanagerUrl(): Promise<string> {
  const env = process.env;
  const url = env.ALERTMANAGER_URL;
  if (!url) throw new Error(`ALERTMANAGER_URL is not set: ${STACK_HINT}`);
  try {
    const res = await fetch(new URL("-/ready", url.endsWith("/") ? url : `${url}/`), {
      signal: AbortSignal.timeout(3_000),
    });
    if (!res.ok) throw new Error(`answered ${res.status}`);
  } catch (error) {
    throw new Error(`Alertmanager is not ready at ${url} (${String(error)}): ${STACK_HINT}`);
  }
  return url;
}

export interface AlertmanagerAlertView {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: { state: string };
}

/** The alerts Alertmanager holds with this alertname. */
export async function alertmanagerAlerts(url: string, alertname: string): Promise<AlertmanagerAlertView[]> {
  const u = new URL("api/v2/alerts", url.endsWith("/") ? url : `${url}/`);
  u.searchParams.append("filter", `alertname="${alertname}"`);
  const res = await fetch(u, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET ${u} answered ${res.status}`);
  return (await res.json()) as AlertmanagerAlertView[];
}

export async function writeRuleFile(yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "alerter-rules-"));
  const file = join(dir, "rules.yml");
  await writeFile(file, yaml);
  return file;
}

/** An alerter (startServiceProcess), with its log lines in one list and its /metrics text. */
export type AlerterProcess = ServiceProcess & {
  readonly lines: string[];
  /** /readyz answers 200 and the consumer joined its group (logged), so what is produced now is read. */
  ready(timeoutMs?: number): Promise<void>;
  metrics(): Promise<string>;
};

/** `trailstream alerter` as its own process with `env` alone, on a port of its own, logging at info. */
export async function spawnAlerter(env: Record<string, string>): Promise<AlerterProcess> {
  const { METRICS_PORT: _any, ...settings } = env;
  const p = await startServiceProcess(
    "alerter",
    { LOG_LEVEL: "info", SHUTDOWN_GRACE_MS: "20000", ...settings },
    { inheritEnv: false },
  );
  const serviceReady = p.ready;
  const joined = p.logged((l) => l.includes('"consumer joined its group"'));
  return Object.defineProperties(p, {
    lines: { get: () => [...p.stdout, ...p.stderr] },
    ready: {
      value: async (timeoutMs = 60_000) => {
        await serviceReady(timeoutMs);
        const exit = await withTimeout(
          Promise.race([joined.then(() => undefined), p.exited().then((code) => ({ code }))]),
          timeoutMs,
          () => `the alerter's consumer did not join its group:\n${p.logs()}`,
        );
        if (exit)
          throw new Error(`the alerter exited (${exit.code}) before its consumer joined its group:\n${p.logs()}`);
      },
    },
    metrics: { value: async () => (await fetch(`http://127.0.0.1:${p.port}/metrics`)).text() },
  }) as AlerterProcess;
}

export interface WebhookReceiver {
  url: string;
  bodies: unknown[];
  close(): Promise<void>;
}

/** A local HTTP server that records every JSON body POSTed to it. */
export async function webhookReceiver(): Promise<WebhookReceiver> {
  const bodies: unknown[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        bodies.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      } catch {
        res.writeHead(400).end("not json");
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook/${uniqueName("secret")}`,
    bodies,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** A URL where nothing listens (a port bound and released). */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}/hook`;
}
