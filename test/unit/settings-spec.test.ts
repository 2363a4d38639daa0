// The settings spec is the one source: the docs' tables are generated from it and must be current,
// and every variable the chart sets for a service is one that service's spec reads.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import { entriesOf } from "@trailstream/runtime";
import { SPECS, settingsDocs } from "../../scripts/settings-docs.ts";

const ROOT = resolve(import.meta.dirname, "../..");
/** Set by the chart but read by Node, or used by the chart to build another variable. */
const NOT_SETTINGS = new Set(["NODE_EXTRA_CA_CERTS", "TRAILSTREAM_SECRET_WEBHOOK_URLS"]);

test("the settings tables in docs/ are the ones the specs generate (node scripts/settings-docs.ts)", async () => {
  assert.deepEqual(await settingsDocs(true), []);
});

test("no variable is documented twice in one spec", () => {
  for (const [service, spec] of Object.entries(SPECS)) {
    const names = entriesOf(spec).map((e) => e.name);
    assert.deepEqual(
      names.filter((n, i) => names.indexOf(n) !== i),
      [],
      service,
    );
  }
});

/** The variables the chart's "trailstream.env" template sets for each service, by static reading. */
function chartEnv(): Map<string, Set<string>> {
  const text = readFileSync(resolve(ROOT, "deploy/helm/trailstream/templates/_helpers.tpl"), "utf8");
  const start = text.indexOf('{{- define "trailstream.env" -}}');
  const body = text.slice(start, text.indexOf("{{- end -}}", start));
  const services = Object.keys(SPECS);
  const out = new Map(services.map((s) => [s, new Set<string>()]));
  // Each open block limits the services it applies to; blocks not about .service apply to all.
  const stack: ((service: string) => boolean)[] = [];
  for (const line of body.split("\n")) {
    const cond = /\{\{-? (if|else if) (eq|ne) \.service "(\w+)" \}\}/.exec(line);
    if (cond) {
      const [, kind, op, which] = cond;
      const applies = (s: string) => (op === "eq" ? s === which : s !== which);
      if (kind === "else if") stack.pop();
      stack.push(applies);
    } else if (/\{\{-? (if|range|with) /.test(line)) stack.push(() => true);
    else if (/\{\{-? end \}\}/.test(line)) stack.pop();
    const name = /^- name: ([A-Z][A-Z0-9_]*)$/.exec(line.trim())?.[1];
    if (!name) continue;
    for (const s of services) if (stack.every((applies) => applies(s))) out.get(s)?.add(name);
  }
  return out;
}

test("every variable the chart sets for a service is in that service's settings spec", () => {
  const env = chartEnv();
  assert.ok((env.get("ingester")?.size ?? 0) > 10, "the template was read");
  assert.ok(env.get("alerter")?.has("ALERTMANAGER_URL"), "per-service blocks were read");
  for (const [service, names] of env) {
    const spec = new Set(entriesOf(SPECS[service] ?? {}).map((e) => e.name));
    const unknown = [...names].filter((n) => !spec.has(n) && !NOT_SETTINGS.has(n));
    assert.deepEqual(unknown, [], `the chart sets these for the ${service}, which does not read them`);
  }
});
