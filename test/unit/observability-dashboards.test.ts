// The Grafana dashboards (deploy/grafana) and the Prometheus rules (deploy/prometheus) without any
// server: the committed JSON is what the generator writes, every query parses as PromQL, and the
// conventions a dashboard linter would check hold.
import assert from "node:assert/strict";
import { existsSync, lstatSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { DASHBOARDS, LAG_BUDGET_SECONDS, render } from "../../deploy/grafana/generate.ts";
import {
  committedDashboards,
  defaultMetricNames,
  isKnownMetric,
  PENDING_METRICS,
  parsePromql,
  ROOT,
  RULES_FILE,
  recordingRuleNames,
  ruleFile,
  STANDARD_METRICS,
  serviceMetricNames,
  substitute,
} from "../support/observability.ts";

/** Grafana's reference to the dashboard variable `datasource`. */
const DS_VAR = ["$", "{datasource}"].join("");

const EXPECTED_UIDS = ["trailstream-overview", "trailstream-ingester", "trailstream-enricher", "trailstream-alerter"];

const committed = committedDashboards();
const queries = committed.flatMap(({ file, dashboard }) =>
  dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ file, panel: p.title, expr: t.expr }))),
);

async function knownMetrics(): Promise<Set<string>> {
  return new Set([
    ...serviceMetricNames(),
    ...(await defaultMetricNames()),
    ...recordingRuleNames(),
    ...STANDARD_METRICS,
  ]);
}

describe("Grafana dashboards", () => {
  test("the committed JSON is exactly what deploy/grafana/generate.ts writes", () => {
    assert.deepEqual(
      committed.map((c) => c.file),
      DASHBOARDS.map((d) => d.file).sort(),
      "one committed file per generated dashboard, and no others",
    );
    for (const spec of DASHBOARDS) {
      const file = committed.find((c) => c.file === spec.file);
      assert.ok(file, `${spec.file} is committed`);
      assert.equal(
        file.json,
        render(spec),
        `deploy/grafana/${spec.file} is stale: run node deploy/grafana/generate.ts`,
      );
    }
  });

  test("uids are stable and unique; panel ids unique within a dashboard", () => {
    assert.deepEqual(
      committed.map((c) => c.dashboard.uid).sort(),
      [...EXPECTED_UIDS].sort(),
      "dashboard uids are fixed: links and provisioning rely on them",
    );
    for (const { file, dashboard } of committed) {
      const ids = dashboard.panels.map((p) => p.id);
      assert.ok(
        ids.every((id) => typeof id === "number"),
        `${file}: every panel has an id`,
      );
      assert.equal(new Set(ids).size, ids.length, `${file}: panel ids are unique`);
    }
  });

  test("the data source is the datasource variable everywhere", () => {
    for (const { file, dashboard } of committed) {
      const variable = dashboard.templating.list.find((v) => v.name === "datasource");
      assert.ok(variable, `${file} has a datasource variable`);
      assert.equal(variable.type, "datasource");
      assert.equal(variable.query, "prometheus");
      for (const p of dashboard.panels.filter((x) => x.type !== "row")) {
        assert.deepEqual(p.datasource, { type: "prometheus", uid: DS_VAR }, `${file} "${p.title}"`);
        for (const t of p.targets ?? []) {
          assert.deepEqual(t.datasource, { type: "prometheus", uid: DS_VAR }, `${file} "${p.title}" ${t.refId}`);
        }
      }
      // Nothing else names a data source: no uid of someone's Grafana slipped in.
      const uids = [...readFileSync(join(ROOT, "deploy", "grafana", file), "utf8").matchAll(/"uid": "([^"]*)"/g)].map(
        (m) => m[1],
      );
      assert.deepEqual(
        uids.filter((u) => u !== DS_VAR && u !== dashboard.uid),
        [],
        `${file}: only the variable as a data source uid`,
      );
    }
  });

  test("every panel has a title, a description, a unit and at least one query", () => {
    for (const { file, dashboard } of committed) {
      for (const p of dashboard.panels.filter((x) => x.type !== "row")) {
        const where = `${file} "${p.title}"`;
        assert.ok(p.title.trim(), `${file}: a panel without a title`);
        assert.ok((p.description ?? "").trim().length > 10, `${where} has a description`);
        assert.ok(p.fieldConfig?.defaults?.unit, `${where} has a unit`);
        assert.ok((p.targets ?? []).length > 0, `${where} has a query`);
        for (const t of p.targets ?? []) assert.ok(t.legendFormat, `${where} ${t.refId} has a legend`);
      }
    }
  });

  test("every panel query parses as PromQL (lezer-promql, no error nodes)", () => {
    assert.ok(queries.length > 40, `found ${queries.length} queries`);
    for (const q of queries) {
      const { errors } = parsePromql(substitute(q.expr));
      assert.deepEqual(errors, [], `${q.file} "${q.panel}": ${q.expr}`);
    }
  });

  test("the parser check has teeth: a broken query is caught", () => {
    assert.notDeepEqual(parsePromql("sum by (le (rate(x[5m]))").errors, []);
    assert.notDeepEqual(parsePromql(substitute("rate(x[$__rate_interval]")).errors, []);
    assert.deepEqual(parsePromql("rate(x[5m])").metrics, ["x"]);
  });

  test("every metric a query uses exists: a service defines it, a recording rule, or a standard exporter", async () => {
    const known = await knownMetrics();
    assert.ok(known.has("trailstream_alerter_event_lag_seconds"), "read the services' metrics.ts");
    assert.ok(known.has("trailstream_process_cpu_seconds_total"), "prom-client's default metrics, prefixed");
    for (const q of queries) {
      for (const metric of parsePromql(substitute(q.expr)).metrics) {
        assert.ok(isKnownMetric(metric, known), `${q.file} "${q.panel}" uses ${metric}, which nothing defines`);
      }
    }
    assert.ok(!isKnownMetric("trailstream_enricher_nonsense_total", known));
  });

  test("the overview has what issue #9 asks for", () => {
    const overview = committed.find((c) => c.dashboard.uid === "trailstream-overview")?.dashboard;
    assert.ok(overview);
    const exprs = overview.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join("\n");
    for (const metric of [
      "trailstream_ingester_records_total",
      "trailstream_enricher_events_out_total",
      "trailstream_alerter_events_in_total",
      "trailstream_enricher_copies_collapsed_total",
      "trailstream_enricher_dlq_records_total",
      "trailstream_alerter_alerts_total",
      "trailstream_alerter_event_lag_seconds_bucket",
      "kafka_consumergroup_lag",
      "trailstream_enricher_redis_roundtrip_seconds_bucket",
      "trailstream_alerter_sink_errors_total",
    ]) {
      assert.ok(exprs.includes(metric), `the overview queries ${metric}`);
    }
    assert.match(exprs, /origin_kind/);
    // Issue #15: the integrity row.
    for (const metric of [
      "trailstream_ingester_integrity_verdicts_total",
      "trailstream_ingester_integrity_unverified_files",
      "trailstream_ingester_integrity_verdict_seconds_bucket",
    ]) {
      assert.ok(exprs.includes(metric), `the overview queries ${metric}`);
    }
    assert.match(exprs, /kind="digests-stopped"/);
    assert.match(exprs, /2e-05|0\.00002/, "copies priced at $2 per 100k");
    const lag = overview.panels.filter((p) => p.type !== "row" && /Event lag/.test(p.title));
    assert.equal(lag.length, 3, "one lag panel per stage");
    for (const p of lag) {
      const legends = (p.targets ?? []).map((t) => t.legendFormat);
      assert.deepEqual(legends, ["p50", "p95", "p99"]);
      assert.ok(
        p.fieldConfig?.defaults?.thresholds?.steps?.some((s) => s.value === LAG_BUDGET_SECONDS),
        `${p.title} draws the five-minute budget`,
      );
    }
  });
});

describe("Prometheus rules", () => {
  test("deploy/prometheus/trailstream.yaml is the chart's rule file (a symlink: one source of truth)", () => {
    assert.ok(lstatSync(RULES_FILE).isSymbolicLink());
    assert.equal(
      realpathSync(RULES_FILE),
      realpathSync(join(ROOT, "deploy", "helm", "trailstream", "files", "prometheus", "trailstream.yaml")),
    );
  });

  test("every alert has a severity, a summary and a description, and a runbook section in docs/deploy.md", () => {
    const rules = ruleFile().groups.flatMap((g) => g.rules);
    const alerts = rules.filter((r) => r.alert);
    assert.ok(alerts.length >= 10, `${alerts.length} alerts`);
    const deployDoc = join(ROOT, "docs", "deploy.md");
    const headings = existsSync(deployDoc)
      ? new Set([...readFileSync(deployDoc, "utf8").matchAll(/^#+ (.+)$/gm)].map((m) => (m[1] ?? "").trim()))
      : new Set<string>();
    const observability = readFileSync(join(ROOT, "docs", "observability.md"), "utf8");
    for (const a of alerts) {
      assert.match(a.labels?.severity ?? "", /^(critical|warning)$/, `${a.alert} severity`);
      assert.ok(a.annotations?.summary, `${a.alert} summary`);
      assert.ok(a.annotations?.description, `${a.alert} description`);
      assert.ok(headings.has(a.alert ?? ""), `docs/deploy.md has a "### ${a.alert}" runbook section`);
      assert.ok(observability.includes(a.alert ?? ""), `docs/observability.md lists ${a.alert}`);
    }
  });

  test("every rule expression parses and uses only defined metrics (or ones listed as pending)", async () => {
    const known = new Set([...(await knownMetrics()), ...PENDING_METRICS]);
    for (const r of ruleFile().groups.flatMap((g) => g.rules)) {
      const { errors, metrics } = parsePromql(r.expr);
      assert.deepEqual(errors, [], `${r.alert ?? r.record}: ${r.expr}`);
      for (const m of metrics) assert.ok(isKnownMetric(m, known), `${r.alert ?? r.record} uses ${m}`);
    }
  });
});
