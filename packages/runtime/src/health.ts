import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface Readiness {
  /** Names of what is not ready (a dependency down, a consumer falling behind); empty when ready. */
  notReady(): Promise<string[]> | string[];
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * `/metrics` for Prometheus, `/healthz` (the process answers: alive) and `/readyz` (connected and
 * keeping up; 503 with the reasons otherwise).
 */
export async function startHealthServer(options: {
  port: number;
  host?: string;
  registry: Registry;
  readiness: Readiness;
}): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return reply(405, "text/plain", "method not allowed\n");
    if (path === "/healthz") return reply(200, "text/plain", "ok\n");
    if (path === "/readyz") {
      Promise.resolve(options.readiness.notReady()).then(
        (reasons) =>
          reasons.length === 0
            ? reply(200, "text/plain", "ready\n")
            : reply(503, "text/plain", `not ready: ${reasons.join("; ")}\n`),
        (error: unknown) => reply(503, "text/plain", `not ready: ${String(error)}\n`),
      );
      return;
    }
    if (path === "/metrics") {
      options.registry.metrics().then(
        (text) => reply(200, options.registry.contentType, text),
        (error: unknown) => reply(500, "text/plain", `metrics failed: ${String(error)}\n`),
      );
      return;
    }
    reply(404, "text/plain", "not found: try /metrics, /healthz or /readyz\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
