// Support for the alerter's end-to-end tests: alerter child processes, a webhook receiver and the
// real Alertmanager (deploy/local/stack runs it on 127.0.0.1:9094).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { STACK_HINT, uniqueName } from "./servers.ts";
import { withTimeout } from "./wait.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const MAIN = join(ROOT, "services/alerter/src/main.ts");

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

export interface AlerterProcess {
  child: ChildProcess;
  /** Log lines (JSON) so far. */
  lines: string[];
  /** Resolves with the metrics port once the consumer joined its group. */
  ready: Promise<number>;
  metrics(): Promise<string>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** `node services/alerter/src/main.ts` with `env` over the test's environment; logs kept in memory. */
export function startAlerterProcess(env: Record<string, string>, name = "alerter"): AlerterProcess {
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { ...process.env, METRICS_PORT: "0", LOG_LEVEL: "info", SHUTDOWN_GRACE_MS: "20000", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const { ALERTER_TEST_LOGS: showLogs } = process.env;
  let port = 0;
  let joined = false;
  let resolveReady: (port: number) => void = () => {};
  let rejectReady: (error: Error) => void = () => {};
  const ready = new Promise<number>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  void exited.then((code) =>
    rejectReady(new Error(`${name} exited (${code}) before it was ready:\n${lines.join("\n")}`)),
  );
  let buffer = "";
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    let nl = buffer.indexOf("\n");
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      if (showLogs) process.stderr.write(`[${name}] ${line}\n`);
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === "serving /metrics, /healthz and /readyz" && typeof entry.port === "number") port = entry.port;
        if (entry.msg === "consumer joined its group") joined = true;
      } catch {}
      if (port > 0 && joined) resolveReady(port);
      nl = buffer.indexOf("\n");
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  return {
    child,
    lines,
    ready,
    async metrics() {
      const res = await fetch(`http://127.0.0.1:${await ready}/metrics`);
      return res.text();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return withTimeout(exited, 30_000, () => `${name} did not exit after SIGTERM`);
    },
  };
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
