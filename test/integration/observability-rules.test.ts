// The Prometheus rules with Debian's Prometheus 2.42 (installed with apt-get when missing):
// `promtool check rules` and `promtool test rules` (deploy/prometheus/tests), each alert proven to
// fire and to stay quiet; then a real Prometheus loads the rules and answers every dashboard query.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse } from "yaml";
import {
  committedDashboards,
  ensurePrometheus,
  ensureRsvg,
  instantQuery,
  promtool,
  ROOT,
  RULE_TESTS_DIR,
  RULES_FILE,
  type RunningPrometheus,
  ruleFile,
  startPrometheus,
  substitute,
} from "../support/observability.ts";

interface RuleTests {
  rule_files: string[];
  tests: {
    name: string;
    alert_rule_test?: { eval_time: string; alertname: string; exp_alerts?: unknown[] }[];
  }[];
}

const testFiles = readdirSync(RULE_TESTS_DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => join(RULE_TESTS_DIR, f));

before(() => ensurePrometheus());

describe("promtool", () => {
  test("promtool check rules accepts the rule file", () => {
    const r = promtool(["check", "rules", RULES_FILE]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS: \d+ rules found/);
  });

  test("promtool test rules: every test passes", () => {
    assert.ok(testFiles.length > 0);
    const r = promtool(["test", "rules", ...testFiles]);
    assert.equal(r.code, 0, r.out);
  });

  test("every alert is tested firing, and quiet on series that should not fire it", () => {
    const fires = new Set<string>();
    const quiet = new Set<string>();
    for (const file of testFiles) {
      const doc = parse(readFileSync(file, "utf8")) as RuleTests;
      for (const t of doc.tests) {
        for (const a of t.alert_rule_test ?? []) {
          // promtool fails on any alert it did not expect, so the should-not-fire series beside a
          // firing one prove quiet too; an empty expectation proves it on its own.
          if ((a.exp_alerts ?? []).length > 0) fires.add(a.alertname);
          else quiet.add(a.alertname);
        }
      }
    }
    const alerts = ruleFile()
      .groups.flatMap((g) => g.rules)
      .flatMap((r) => (r.alert ? [r.alert] : []));
    for (const a of alerts) {
      assert.ok(fires.has(a), `${a} has a test where it fires`);
      assert.ok(quiet.has(a), `${a} has a test where it stays quiet`);
    }
  });

  test("the tests have teeth: with the thresholds raised a hundredfold, promtool test rules fails", () => {
    const dir = mkdtempSync(join(tmpdir(), "trailstream-rules-"));
    try {
      const raised = readFileSync(RULES_FILE, "utf8").replace(/expr: vector\(([\d.]+)\)/g, (_, n: string) => {
        return `expr: vector(${Number(n) * 100})`;
      });
      writeFileSync(join(dir, "trailstream.yaml"), raised);
      cpSync(RULE_TESTS_DIR, join(dir, "tests"), { recursive: true });
      const r = promtool(["test", "rules", ...readdirSync(join(dir, "tests")).map((f) => join(dir, "tests", f))]);
      assert.notEqual(r.code, 0, "raising the thresholds must silence some expected alerts");
      for (const a of ["TrailstreamEventLagOverBudget", "TrailstreamDLQRate", "TrailstreamBacklogGrowing"]) {
        assert.match(r.out, new RegExp(`alertname: ${a}`), `${a} depends on its threshold`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a live Prometheus with the rules loaded", () => {
  let prometheus: RunningPrometheus;
  before(async () => {
    prometheus = await startPrometheus();
  });
  after(async () => {
    await prometheus?.stop();
  });

  test("it loads every rule group, with no evaluation errors", async () => {
    const expected = ruleFile().groups.map((g) => g.name);
    let groups: { name: string; rules: { health: string; lastError?: string; name: string }[] }[] = [];
    for (let i = 0; i < 50; i++) {
      const r = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as { data: { groups: typeof groups } };
      groups = r.data.groups;
      if (groups.every((g) => g.rules.every((x) => x.health !== "unknown"))) break;
      await new Promise((ok) => setTimeout(ok, 200));
    }
    assert.deepEqual(groups.map((g) => g.name).sort(), [...expected].sort());
    for (const g of groups) {
      for (const r of g.rules) assert.equal(r.health, "ok", `${g.name} ${r.name}: ${r.lastError ?? ""}`);
    }
  });

  test("every dashboard query is accepted (status success, no bad_data)", async () => {
    for (const { file, dashboard } of committedDashboards()) {
      for (const p of dashboard.panels) {
        for (const t of p.targets ?? []) {
          const r = await instantQuery(prometheus.url, substitute(t.expr));
          assert.equal(r.status, "success", `${file} "${p.title}": ${t.expr}: ${r.errorType} ${r.error}`);
        }
      }
    }
  });

  test("scripts/pictures draws every overview panel from it (Prometheus scraping itself: mostly No data)", () => {
    ensureRsvg();
    const out = mkdtempSync(join(tmpdir(), "trailstream-pictures-"));
    try {
      const r = spawnSync(process.execPath, [join(ROOT, "scripts", "pictures.ts"), "--range", "5m", "--out", out], {
        env: { ...process.env, PROMETHEUS_URL: prometheus.url },
        encoding: "utf8",
      });
      assert.equal(r.status, 0, r.stderr);
      const overview = committedDashboards().find((d) => d.dashboard.uid === "trailstream-overview")?.dashboard;
      const panels = (overview?.panels ?? []).filter((p) => p.type !== "row").length;
      const files = readdirSync(out).filter((f) => f.endsWith(".png"));
      assert.equal(files.length, panels + 1, `one picture per panel and the whole dashboard: ${files.join(", ")}`);
      assert.ok(files.includes("overview.png"));
      for (const f of files) {
        const png = readFileSync(join(out, f));
        assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from("PNG")], `${f} is a PNG`);
      }
      assert.match(r.stderr, /0 query errors/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
