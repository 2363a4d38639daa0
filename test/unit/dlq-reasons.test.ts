// The dead-letter reasons have one registry, DLQ_REASONS in @trailstream/cloudtrail. The services'
// metrics start a zero series for each, and every reason the Prometheus rules, their promtool tests
// and the Grafana dashboards name must be one the code can write: a renamed reason fails here, not
// silently in a dashboard that shows nothing.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parser } from "@prometheus-io/lezer-promql";
import { DLQ_REASONS, SINK_KINDS, STAGES, type Stage } from "@trailstream/cloudtrail";
import { createRegistry } from "@trailstream/runtime";
import { parse } from "yaml";
import { createMetrics as alerterMetrics } from "../../services/alerter/src/metrics.ts";
import { createMetrics as enricherMetrics } from "../../services/enricher/src/metrics.ts";
import { createMetrics as ingesterMetrics } from "../../services/ingester/src/metrics.ts";
import { committedDashboards, RULE_TESTS_DIR, ruleFile } from "../support/observability.ts";

interface ReasonUse {
  where: string;
  stages: readonly Stage[];
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

interface Relabel {
  where: string;
  target: string;
  replacement: string;
  regex: string;
}

const DLQ_METRIC = /^trailstream_(ingester|enricher|alerter)_dlq_records_total$/;
const DLQ_RECORDING_RULE = "trailstream:dlq_records:rate10m";

const unquote = (literal: string): string =>
  JSON.parse(literal.startsWith("'") ? `"${literal.slice(1, -1)}"` : literal);

/** The reason label matchers of DLQ series in a PromQL expression, and label_replace calls that read reason. */
function reasonsIn(expr: string, where: string): { uses: ReasonUse[]; relabels: Relabel[] } {
  const uses: ReasonUse[] = [];
  const relabels: Relabel[] = [];
  const text = (n: { from: number; to: number }) => expr.slice(n.from, n.to);
  parser.parse(expr).iterate({
    enter(ref) {
      const node = ref.node;
      if (node.name === "VectorSelector") {
        const metric = node.getChild("Identifier");
        const name = metric ? text(metric) : "";
        const matchers = node.getChild("LabelMatchers")?.getChildren("UnquotedLabelMatcher") ?? [];
        const label = (m: (typeof matchers)[number]) =>
          m.getChild("LabelName") ? text(m.getChild("LabelName") ?? m) : "";
        const value = (m: (typeof matchers)[number]) => unquote(text(m.getChild("StringLiteral") ?? m));
        let stages: readonly Stage[] | undefined;
        const own = DLQ_METRIC.exec(name)?.[1] as Stage | undefined;
        if (own) stages = [own];
        else if (name === DLQ_RECORDING_RULE) {
          const stage = matchers.find((m) => label(m) === "stage");
          stages = stage ? STAGES.filter((s) => s === value(stage)) : STAGES;
        }
        if (!stages) return;
        for (const m of matchers.filter((x) => label(x) === "reason")) {
          uses.push({ where, stages, op: text(m.getChild("MatchOp") ?? m) as ReasonUse["op"], value: value(m) });
        }
      }
      if (node.name === "FunctionCall" && node.getChild("FunctionIdentifier")?.getChild("LabelReplace")) {
        const args =
          node
            .getChild("FunctionCallBody")
            ?.getChildren("StringLiteral")
            .map((s) => unquote(text(s))) ?? [];
        const [target = "", replacement = "", source = "", regex = ""] = args;
        if (source === "reason" && /dlq_records/.test(text(node))) {
          relabels.push({ where, target, replacement, regex });
        }
      }
    },
  });
  return { uses, relabels };
}

/** A series selector as the promtool test files write it: `name{label="value",...}`. */
function reasonsInSeries(series: string, where: string): ReasonUse[] {
  return reasonsIn(series, where).uses;
}

function allUses(): { uses: ReasonUse[]; relabels: Relabel[] } {
  const uses: ReasonUse[] = [];
  const relabels: Relabel[] = [];
  for (const group of ruleFile().groups) {
    for (const rule of group.rules) {
      const found = reasonsIn(rule.expr, `rule ${rule.record ?? rule.alert}`);
      uses.push(...found.uses);
      relabels.push(...found.relabels);
    }
  }
  for (const { file, dashboard } of committedDashboards()) {
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        const found = reasonsIn(target.expr, `${file} panel "${panel.title}"`);
        uses.push(...found.uses);
        relabels.push(...found.relabels);
      }
    }
  }
  for (const file of readdirSync(RULE_TESTS_DIR).filter((f) => f.endsWith(".yaml"))) {
    const tests = parse(readFileSync(join(RULE_TESTS_DIR, file), "utf8")) as {
      tests: {
        name: string;
        input_series?: { series: string }[];
        promql_expr_test?: { exp_samples?: { labels: string }[] }[];
      }[];
    };
    for (const t of tests.tests) {
      const where = `${file} test "${t.name}"`;
      for (const s of t.input_series ?? []) uses.push(...reasonsInSeries(s.series, where));
      for (const e of t.promql_expr_test ?? []) {
        for (const sample of e.exp_samples ?? []) uses.push(...reasonsInSeries(sample.labels, where));
      }
    }
  }
  return { uses, relabels };
}

function problemsOf(uses: readonly ReasonUse[]): string[] {
  const problems: string[] = [];
  for (const use of uses) {
    const known = use.stages.flatMap((s) => DLQ_REASONS[s] as readonly string[]);
    if (use.op === "=" || use.op === "!=") {
      if (!known.includes(use.value)) {
        problems.push(`${use.where}: reason ${use.op} "${use.value}" is no ${use.stages.join("/")} DLQ reason`);
      }
    } else {
      const re = new RegExp(`^(?:${use.value})$`);
      if (!known.some((r) => re.test(r))) {
        problems.push(`${use.where}: reason ${use.op} "${use.value}" matches no ${use.stages.join("/")} DLQ reason`);
      }
    }
  }
  return problems;
}

describe("dead-letter reasons: one registry", () => {
  test("each stage's reasons are distinct, short label values", () => {
    for (const stage of STAGES) {
      const reasons = DLQ_REASONS[stage] as readonly string[];
      assert.equal(new Set(reasons).size, reasons.length, `${stage}: no reason twice`);
      for (const r of reasons) assert.match(r, /^[a-z][a-z0-9-]{1,40}$/, `${stage}: ${r}`);
    }
  });

  test("every service starts a zero series for each of its stage's reasons, and for no other", async () => {
    const made = {
      ingester: ingesterMetrics(createRegistry("ingester")).registry,
      enricher: enricherMetrics().registry,
      alerter: alerterMetrics().registry,
    };
    for (const stage of STAGES) {
      const metric = made[stage].getSingleMetric(`trailstream_${stage}_dlq_records_total`);
      assert.ok(metric, `${stage} defines its DLQ counter`);
      const values = (await metric.get()).values;
      assert.deepEqual(
        values.map((v) => v.labels.reason).sort(),
        [...DLQ_REASONS[stage]].sort(),
        `${stage}: zero series are the registry's reasons`,
      );
      assert.ok(values.every((v) => v.value === 0));
      made[stage].clear();
    }
  });

  test("the Prometheus rules, their promtool tests and the dashboards name only reasons the registry has", () => {
    const { uses } = allUses();
    assert.ok(
      uses.some((u) => u.where.startsWith("rule ")),
      "the rules select DLQ reasons (else this test reads nothing)",
    );
    assert.ok(
      uses.some((u) => u.where.includes("test ")),
      "the promtool tests feed DLQ reasons",
    );
    assert.deepEqual(problemsOf(uses), []);
  });

  test("label_replace over reason yields exactly the sink kinds where it makes a sink label", () => {
    const { relabels } = allUses();
    const sinks = relabels.filter((r) => r.target === "sink");
    assert.ok(sinks.length > 0, "the sink-failing alert reads sinks out of the alerter's DLQ reasons");
    for (const r of sinks) {
      const re = new RegExp(`^(?:${r.regex})$`);
      const got = (DLQ_REASONS.alerter as readonly string[])
        .filter((reason) => re.test(reason))
        .map((reason) => reason.replace(re, r.replacement));
      assert.deepEqual(got.sort(), [...SINK_KINDS].sort(), `${r.where}: ${r.regex} → ${r.replacement}`);
    }
  });

  test("the check has teeth: an unknown reason or a regex that matches none is reported", () => {
    const uses = [
      ...reasonsIn('rate(trailstream_ingester_dlq_records_total{reason="corrupt"}[5m])', "a").uses,
      ...reasonsIn('trailstream:dlq_records:rate10m{stage="enricher",reason="sink-kafka"}', "b").uses,
      ...reasonsIn('rate(trailstream_alerter_dlq_records_total{reason=~"sink-pager.+"}[5m])', "c").uses,
      ...reasonsIn('rate(trailstream_alerter_dlq_records_total{reason=~"sink-.+"}[5m])', "d").uses,
    ];
    assert.deepEqual(
      problemsOf(uses).map((p) => p.split(":")[0]),
      ["a", "b", "c"],
    );
  });
});
