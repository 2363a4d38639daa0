// Helpers for the observability tests: the Grafana dashboards (deploy/grafana), the Prometheus rule
// file (deploy/prometheus, a symlink into the chart), the metric names the services define, a PromQL
// parser, and Debian's promtool/prometheus (installed with apt-get when missing).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import { createRegistry } from "@trailstream/runtime";
import { parse } from "yaml";
import { freePort } from "./service-process.ts";

export const ROOT = resolve(import.meta.dirname, "..", "..");
export const GRAFANA_DIR = join(ROOT, "deploy", "grafana");
export const PROMETHEUS_DIR = join(ROOT, "deploy", "prometheus");
export const RULES_FILE = join(PROMETHEUS_DIR, "trailstream.yaml");
export const RULE_TESTS_DIR = join(PROMETHEUS_DIR, "tests");

/** Metrics that come from outside trailstream's services: Prometheus itself, and a kafka-exporter. */
export const STANDARD_METRICS = new Set(["up", "kafka_consumergroup_lag", "prometheus_rule_evaluation_failures_total"]);

/**
 * Metrics a rule uses that a service does not export yet (docs/observability.md, "Missing metrics").
 * The rule tests feed them; remove a name here once its service defines it.
 */
export const PENDING_METRICS = new Set<string>([]);

export interface Target {
  expr: string;
  legendFormat?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}

export interface Panel {
  id?: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string; thresholds?: { steps?: { value: number | null }[] } } };
  targets?: Target[];
}

export interface DashboardJson {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { type: string; name: string; query?: unknown }[] };
}

export function committedDashboards(): { file: string; json: string; dashboard: DashboardJson }[] {
  return readdirSync(GRAFANA_DIR)
    .filter((f) => f.endsWith(".json") && f !== "tsconfig.json")
    .sort()
    .map((file) => {
      const json = readFileSync(join(GRAFANA_DIR, file), "utf8");
      return { file, json, dashboard: JSON.parse(json) as DashboardJson };
    });
}

/** Grafana's variables replaced by something PromQL accepts, as Grafana does before it queries. */
export function substitute(expr: string, rangeSeconds = 3600, rateInterval = "1m"): string {
  return expr
    .replaceAll("$__rate_interval", rateInterval)
    .replaceAll("$__interval", rateInterval)
    .replaceAll("$__range", `${rangeSeconds}s`)
    .replace(/\$\{[^}]+\}/g, "x")
    .replace(/\$[A-Za-z_]\w*/g, "x");
}

export interface Parsed {
  errors: string[];
  metrics: string[];
}

/** Parses PromQL with lezer-promql: error nodes (with the text around them) and the metric names used. */
export function parsePromql(expr: string): Parsed {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const metrics: string[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: "${expr.slice(Math.max(0, node.from - 20), node.to + 20)}"`);
      if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector") {
        metrics.push(expr.slice(node.from, node.to));
      }
    },
  });
  return { errors, metrics };
}

/** The metric names the services define: `name: \`${P}...\`` in services/<service>/src/metrics.ts. */
export function serviceMetricNames(): Set<string> {
  const names = new Set<string>();
  for (const service of ["ingester", "enricher", "alerter"]) {
    const source = readFileSync(join(ROOT, "services", service, "src", "metrics.ts"), "utf8");
    for (const m of source.matchAll(/name:\s*`\$\{P\}([a-z0-9_]+)`/g)) names.add(`trailstream_${service}_${m[1]}`);
  }
  return names;
}

/** prom-client's default process metrics as the services register them (prefix trailstream_). */
export async function defaultMetricNames(): Promise<Set<string>> {
  const registry = createRegistry("test");
  const metrics = await registry.getMetricsAsJSON();
  registry.clear();
  return new Set(metrics.map((m) => m.name));
}

export interface RuleFile {
  groups: {
    name: string;
    rules: {
      alert?: string;
      record?: string;
      expr: string;
      for?: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    }[];
  }[];
}

export function ruleFile(): RuleFile {
  return parse(readFileSync(RULES_FILE, "utf8")) as RuleFile;
}

export function recordingRuleNames(): Set<string> {
  return new Set(
    ruleFile()
      .groups.flatMap((g) => g.rules)
      .flatMap((r) => (r.record ? [r.record] : [])),
  );
}

/** Whether a metric name is defined: by a service (histograms with their suffixes), a rule, or a standard exporter. */
export function isKnownMetric(name: string, known: Set<string>): boolean {
  if (known.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return base !== name && known.has(base);
}

// --- Debian's prometheus (promtool) ------------------------------------------------------------

function onPath(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/** promtool and prometheus from Debian's `prometheus` package; installs it with apt-get when missing. */
export function ensurePrometheus(): void {
  if (onPath("promtool") && onPath("prometheus")) return;
  aptInstall(["prometheus"]);
  if (!onPath("promtool")) throw new Error("apt-get installed prometheus, but promtool is not on PATH");
}

function aptInstall(packages: string[]): void {
  if (!onPath("apt-get")) throw new Error(`${packages.join(", ")} missing and there is no apt-get to install them`);
  const sudo = process.getuid?.() === 0 ? [] : ["sudo", "-n"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [
    ["apt-get", "update", "-qq"],
    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...packages],
  ]) {
    const [cmd, ...rest] = [...sudo, ...args];
    const r = spawnSync(cmd ?? "apt-get", rest, { env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
  }
}

/** rsvg-convert from Debian's librsvg2-bin (scripts/pictures needs it); installs it with apt-get when missing. */
export function ensureRsvg(): void {
  if (onPath("rsvg-convert")) return;
  aptInstall(["librsvg2-bin", "fonts-dejavu-core"]);
  if (!onPath("rsvg-convert")) throw new Error("apt-get installed librsvg2-bin, but rsvg-convert is not on PATH");
}

export function promtool(args: string[], cwd = ROOT): { code: number; out: string } {
  const r = spawnSync("promtool", args, { cwd, encoding: "utf8" });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

export { freePort };

export interface RunningPrometheus {
  url: string;
  stop(): Promise<void>;
}

/**
 * A throwaway Prometheus on a free loopback port with the trailstream rules loaded, scraping itself
 * and the given `host:port` targets every `scrapeInterval` (as job trailstream-<name>).
 */
export async function startPrometheus(
  targets: Record<string, string> = {},
  scrapeInterval = "2s",
  fixedPort?: number,
): Promise<RunningPrometheus> {
  ensurePrometheus();
  const dir = mkdtempSync(join(tmpdir(), "trailstream-prometheus-"));
  mkdirSync(join(dir, "data"));
  const port = fixedPort ?? (await freePort());
  const jobs = Object.entries(targets)
    .map(([name, target]) => `  - job_name: trailstream-${name}\n    static_configs:\n      - targets: ["${target}"]\n`)
    .join("");
  writeFileSync(
    join(dir, "prometheus.yml"),
    `global:\n  scrape_interval: ${scrapeInterval}\n  evaluation_interval: ${scrapeInterval}\n` +
      `rule_files:\n  - ${RULES_FILE}\n` +
      `scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ["127.0.0.1:${port}"]\n${jobs}`,
  );
  const child = spawn(
    "prometheus",
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/-/ready`);
      if (r.ok) break;
    } catch {}
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`prometheus did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface QueryResult {
  status: string;
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown[] };
}

export async function instantQuery(url: string, expr: string): Promise<QueryResult> {
  const r = await fetch(`${url}/api/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ query: expr }),
  });
  return (await r.json()) as QueryResult;
}
