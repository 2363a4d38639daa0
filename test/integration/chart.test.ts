// The Helm chart, offline: lint, render with defaults and with every feature on, validate every
// manifest against the Kubernetes and CRD schemas (kubeconform -strict), check each switch on the
// rendered objects, and prove the values schema rejects typos and wrong types naming the key.
// Tools come from deploy/tools/install (cached in ~/.cache/trailstream/deploy-tools).
import assert from "node:assert/strict";
import { cpSync, existsSync, lstatSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { loadSettings as loadAlerterConfig } from "@trailstream/alerter";
import { loadSettings as loadEnricherConfig } from "@trailstream/enricher";
import {
  byKind,
  CHART,
  type Chart,
  chart,
  type Manifest,
  one,
  parseManifests,
  podSpecs,
  ROOT,
  run,
  tempDir,
  valuesFile,
  yaml,
} from "../support/deploy.ts";

const CI = join(CHART, "ci");
const ciFiles = readdirSync(CI)
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => join(CI, f));
const SERVICES = ["ingester", "enricher", "alerter"] as const;
const name = (service: string) => `ts-trailstream-${service}`;
const endpoints = ["kafka.brokers={kafka:9092}", "redis.url=redis://redis:6379"];

// At module level, outside any test's timeout: a cold install builds helm and kubeconform (minutes, once).
const c: Chart = await chart();
const renders = new Map<string, Manifest[]>();
const rendered = (file: string): Manifest[] => {
  const r = renders.get(file);
  assert.ok(r, `${file} was not rendered`);
  return r;
};

before(async () => {
  for (const file of ciFiles) renders.set(file, await c.render([file]));
});

/** The dashboards' JSON as deploy/grafana has it (symlinks to the chart's files/grafana). */
const GRAFANA = join(ROOT, "deploy", "grafana");
const DASHBOARD_FILES = readdirSync(GRAFANA)
  .filter((f) => f.endsWith(".json") && f !== "tsconfig.json")
  .sort();
const dashboardMaps = (m: Manifest[]) => byKind(m, "ConfigMap").filter((x) => x.metadata.name.includes("-grafana-"));

function env(container: Manifest, key: string): Manifest | undefined {
  return (container.env as Manifest[]).find((e) => e.name === key);
}

function containerOf(manifests: Manifest[], service: string): Manifest {
  return one(manifests, "Deployment", name(service)).spec.template.spec.containers[0];
}

describe("chart: lint and render", () => {
  test("helm lint --strict passes with the defaults and with every ci values file", async () => {
    for (const args of [[], ...ciFiles.map((f) => ["-f", f])]) {
      const r = await run(c.helm, ["lint", "--strict", CHART, "--kube-version", "1.33.0", ...args]);
      assert.equal(r.code, 0, `helm lint ${args.join(" ")}:\n${r.stdout}${r.stderr}`);
    }
  });

  test("ci values files cover defaults, every feature with KEDA, every feature with HPA, one service", () => {
    const names = ciFiles.map((f) => f.slice(CI.length + 1));
    for (const expected of ["defaults-values.yaml", "all-keda-values.yaml", "all-hpa-values.yaml"]) {
      assert.ok(names.includes(expected), `${expected} in ${names.join(", ")}`);
    }
  });

  test("the defaults render: three Deployments, metrics Services, PDBs, a ServiceAccount, the dashboards, nothing optional", async () => {
    const m = await c.render();
    const kinds = m.map((x) => x.kind).sort();
    assert.deepEqual(kinds, [
      ...DASHBOARD_FILES.map(() => "ConfigMap"),
      "Deployment",
      "Deployment",
      "Deployment",
      "PodDisruptionBudget",
      "PodDisruptionBudget",
      "PodDisruptionBudget",
      "Service",
      "Service",
      "Service",
      "ServiceAccount",
    ]);
  });

  test("every feature on renders every kind", () => {
    const kinds = new Set(rendered(join(CI, "all-keda-values.yaml")).map((m) => m.kind));
    for (const kind of [
      "Deployment",
      "Service",
      "ServiceAccount",
      "PodDisruptionBudget",
      "NetworkPolicy",
      "ServiceMonitor",
      "PrometheusRule",
      "ScaledObject",
      "TriggerAuthentication",
      "ConfigMap",
    ]) {
      assert.ok(kinds.has(kind), `${kind} missing from ${[...kinds].join(", ")}`);
    }
    const hpa = new Set(rendered(join(CI, "all-hpa-values.yaml")).map((m) => m.kind));
    assert.ok(hpa.has("HorizontalPodAutoscaler"));
  });
});

describe("chart: schema validation of every rendered manifest (kubeconform -strict, offline)", () => {
  test("defaults and every ci values file are valid Kubernetes and CRD objects", async () => {
    const dir = tempDir("kubeconform");
    for (const [label, args] of [["defaults", []], ...ciFiles.map((f) => [f, [f]] as const)] as const) {
      const r = await c.template([...args]);
      assert.equal(r.code, 0, r.stderr);
      const file = join(dir, "rendered.yaml");
      writeFileSync(file, r.stdout);
      const v = await c.validate(file);
      assert.equal(v.code, 0, `${label}:\n${v.stdout}${v.stderr}`);
      assert.match(v.stdout, /Invalid: 0, Errors: 0, Skipped: 0/, `${label}: ${v.stdout}`);
    }
  });

  test("a broken manifest of each kind fails the same check", async () => {
    const dir = tempDir("kubeconform-bad");
    const all = rendered(join(CI, "all-keda-values.yaml"));
    const breakages: [string, (m: Manifest) => void][] = [
      ["Deployment", (m) => (m.spec.replicas = "two")],
      ["Deployment", (m) => (m.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true)],
      ["Service", (m) => (m.spec.ports[0].port = "metrics")],
      ["NetworkPolicy", (m) => (m.spec.egress[0].too = [])],
      ["PodDisruptionBudget", (m) => (m.spec.maxUnavailabl = 1)],
      ["ServiceMonitor", (m) => (m.spec.endpoints[0].intervall = "30s")],
      ["PrometheusRule", (m) => (m.spec.groups[0].rules[0].for = 5)],
      ["ScaledObject", (m) => (m.spec.minReplicaCount = "one")],
      ["TriggerAuthentication", (m) => (m.spec.podIdentityy = {})],
    ];
    for (const [kind, breakIt] of breakages) {
      const original = all.find((m) => m.kind === kind);
      assert.ok(original, `no ${kind} rendered`);
      const broken = structuredClone(original);
      breakIt(broken);
      const file = join(dir, `${kind}.yaml`);
      writeFileSync(file, yaml().stringify(broken));
      const v = await c.validate(file);
      assert.notEqual(v.code, 0, `kubeconform accepted a broken ${kind}:\n${v.stdout}`);
      assert.match(v.stdout, /Invalid: 1/, `${kind}: ${v.stdout}`);
      // ...and the same object unbroken passes, so the failure is the breakage, not a missing schema.
      writeFileSync(file, yaml().stringify(original));
      const good = await c.validate(file);
      assert.equal(good.code, 0, `${kind} unbroken:\n${good.stdout}`);
    }
  });

  test("an object of an unknown kind is an error, not a silent skip", async () => {
    const file = join(tempDir("kubeconform-unknown"), "x.yaml");
    writeFileSync(file, "apiVersion: example.com/v1\nkind: Nonexistent\nmetadata:\n  name: x\n");
    const v = await c.validate(file);
    assert.notEqual(v.code, 0, v.stdout);
  });
});

describe("chart: values schema", () => {
  const cases: [string, string, RegExp][] = [
    ["typo in a service key", "enricher:\n  replicaz: 3\n", /\/enricher.*replicaz/],
    ["typo at the top level", "kafak:\n  brokers: [a:1]\n", /kafak/],
    ["typo deep down", "ingester:\n  keda:\n    pollingInteval: 3\n", /\/ingester\/keda.*pollingInteval/],
    ["wrong type", "alerter:\n  replicas: two\n", /\/alerter\/replicas.*want integer/],
    ["wrong type of a list", "kafka:\n  brokers: b-1:9092\n", /\/kafka\/brokers.*want array/],
    ["a value outside an enum", "kafka:\n  sasl:\n    mechanism: scram\n", /\/kafka\/sasl\/mechanism/],
    ["a broker without a port", "kafka:\n  brokers: [b-1]\n", /\/kafka\/brokers\/0/],
  ];
  for (const [what, values, message] of cases) {
    test(`${what} fails helm template and helm lint, naming the key`, async () => {
      const file = valuesFile(values);
      const t = await c.template([file]);
      assert.notEqual(t.code, 0, `accepted:\n${values}`);
      assert.match(t.stderr, /values don't meet the specifications of the schema/);
      assert.match(t.stderr, message);
      const l = await run(c.helm, ["lint", "--strict", CHART, "-f", file]);
      assert.notEqual(l.code, 0);
      assert.match(l.stdout + l.stderr, message);
    });
  }

  test("every object in the schema forbids unknown keys", () => {
    const schema = JSON.parse(readFileSync(join(CHART, "values.schema.json"), "utf8")) as Record<string, unknown>;
    const open: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (!node || typeof node !== "object") return;
      const n = node as Record<string, unknown>;
      if (n.type === "object" && n.properties && n.additionalProperties !== false) open.push(path);
      for (const [k, v] of Object.entries(n)) walk(v, `${path}/${k}`);
    };
    walk(schema, "");
    assert.deepEqual(open, []);
  });
});

describe("chart: switches", () => {
  test("services switch on and off independently", async () => {
    for (const off of [[], ["ingester"], ["enricher", "alerter"], [...SERVICES]]) {
      const m = await c.render([], [...endpoints, ...off.map((s) => `${s}.enabled=false`)]);
      const deployments = byKind(m, "Deployment").map((d) => d.metadata.labels["app.kubernetes.io/component"]);
      const on = SERVICES.filter((s) => !off.includes(s));
      assert.deepEqual(deployments.sort(), [...on].sort(), `off: ${off.join(",")}`);
      for (const kind of ["Service", "PodDisruptionBudget"]) {
        assert.deepEqual(
          byKind(m, kind)
            .map((d) => d.metadata.labels["app.kubernetes.io/component"])
            .sort(),
          [...on].sort(),
          `${kind} with off: ${off.join(",")}`,
        );
      }
    }
  });

  test("each Deployment runs its service from the one image, on the metrics port with probes", () => {
    const m = rendered(join(CI, "all-keda-values.yaml"));
    for (const service of SERVICES) {
      const ctr = containerOf(m, service);
      assert.deepEqual(ctr.args, [service]);
      assert.equal(ctr.command, undefined, "the image's entrypoint is the trailstream command");
      assert.match(ctr.image, /^123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/trailstream@sha256:/);
      assert.deepEqual(ctr.ports, [{ name: "metrics", containerPort: 9400, protocol: "TCP" }]);
      assert.equal(env(ctr, "METRICS_PORT")?.value, "9400");
      assert.equal(ctr.livenessProbe.httpGet.path, "/healthz");
      assert.equal(ctr.readinessProbe.httpGet.path, "/readyz");
      assert.equal(ctr.startupProbe.httpGet.path, "/healthz");
      const svc = one(m, "Service", `${name(service)}-metrics`);
      assert.equal(svc.spec.ports[0].port, 9400);
      assert.equal(svc.metadata.labels["trailstream.io/job"], `trailstream-${service}`);
    }
  });

  test("configuration flows into the environment", () => {
    const m = rendered(join(CI, "all-keda-values.yaml"));
    const ing = containerOf(m, "ingester");
    assert.equal(
      env(ing, "KAFKA_BROKERS")?.value,
      "b-1.trailstream.abc123.c2.kafka.eu-west-1.amazonaws.com:9096,b-2.trailstream.abc123.c2.kafka.eu-west-1.amazonaws.com:9096",
    );
    assert.equal(env(ing, "KAFKA_CLIENT_ID")?.value, "prod-trailstream-ingester");
    assert.equal(env(ing, "KAFKA_SSL")?.value, "true");
    assert.equal(env(ing, "KAFKA_SASL_MECHANISM")?.value, "scram-sha-512");
    assert.equal(env(ing, "TOPIC_RAW")?.value, "prod.cloudtrail.raw");
    assert.equal(env(ing, "TOPIC_DLQ")?.value, "prod.cloudtrail.dlq");
    assert.equal(env(ing, "AWS_REGION")?.value, "eu-west-1");
    assert.equal(env(ing, "REDIS_URL")?.value, "rediss://master.trailstream.abc123.euw1.cache.amazonaws.com:6379");
    assert.equal(
      env(ing, "SQS_QUEUE_URLS")?.value,
      "https://sqs.eu-west-1.amazonaws.com/123456789012/cloudtrail-org,https://sqs.eu-west-1.amazonaws.com/123456789012/cloudtrail-audit",
    );
    assert.equal(env(ing, "KINESIS_STREAMS")?.value, "cloudtrail-logs");
    assert.equal(env(ing, "KINESIS_START_POSITION")?.value, "latest");
    assert.equal(env(ing, "MAX_FILES_IN_FLIGHT")?.value, "16");
    assert.equal(env(ing, "SHUTDOWN_GRACE_MS")?.value, "40000");
    assert.equal(env(ing, "EXTRA_FLAG")?.value, "1", "per-service env");
    assert.equal(env(ing, "NODE_OPTIONS")?.value, "--max-old-space-size=384", "common env");
    assert.deepEqual(env(ing, "POD_NAME")?.valueFrom, { fieldRef: { fieldPath: "metadata.name" } }, "extraEnv");
    assert.equal(env(ing, "NODE_EXTRA_CA_CERTS")?.value, "/etc/trailstream/kafka-ca/ca.pem");
    const enr = containerOf(m, "enricher");
    assert.equal(env(enr, "DEDUP_TTL")?.value, "6h");
    assert.equal(env(enr, "DEDUP_ON_REDIS_DOWN")?.value, "pass");
    assert.equal(env(enr, "ENRICHER_GROUP_ID")?.value, "trailstream-enricher");
    for (const member of [enr, containerOf(m, "alerter")]) {
      assert.deepEqual(
        env(member, "KAFKA_GROUP_INSTANCE_ID")?.valueFrom,
        { fieldRef: { fieldPath: "metadata.name" } },
        "static membership under the pod's name",
      );
    }
    assert.equal(env(ing, "KAFKA_GROUP_INSTANCE_ID"), undefined, "the ingester has no consumer group");
    for (const service of ["ingester", "enricher", "alerter"]) {
      assert.equal(env(containerOf(m, service), "KAFKA_COMPRESSION")?.value, "none", `${service}: as values.yaml says`);
    }
    assert.equal(env(enr, "TOPIC_EVENTS_INDEX")?.value, "prod.cloudtrail.events.index", "the events topic's + .index");
    assert.equal(env(ing, "TOPIC_INTEGRITY")?.value, "cloudtrail.integrity");
    assert.equal(env(ing, "TOPIC_EVENTS_INDEX"), undefined, "the index is the enricher's");
    assert.equal(env(enr, "EXTRA_FLAG"), undefined, "another service's env stays there");
    const alr = containerOf(m, "alerter");
    assert.equal(env(alr, "ALERTMANAGER_URL")?.value, "http://alertmanager-operated.monitoring:9093");
    assert.equal(env(alr, "RULES_BUILTIN")?.value, "true");
    assert.equal(env(alr, "RULE_FILES")?.value, "/etc/trailstream/rules/org.yaml");
    assert.equal(env(alr, "SINK_RETRIES")?.value, "5");
    assert.equal(env(alr, "RULES_DISABLED")?.value, "cis-cloudwatch-8");
    assert.equal(
      env(alr, "RULE_OVERRIDES")?.value,
      "905d389b-b853-46d0-9d3d-dea0d3a3cd49:enabled=true,principal=true,suppress=1h;cis-cloudwatch-1:severity=critical",
    );
    assert.equal(env(alr, "ALERT_SUPPRESS_DEFAULT")?.value, "30m");
    assert.equal(env(alr, "ALERT_FLOOD_PER_MINUTE")?.value, "120");
    // What the chart renders, the alerter reads.
    const config = loadAlerterConfig({
      KAFKA_BROKERS: "127.0.0.1:9092",
      REDIS_URL: "redis://127.0.0.1:6379",
      RULES_DISABLED: env(alr, "RULES_DISABLED")?.value,
      RULE_OVERRIDES: env(alr, "RULE_OVERRIDES")?.value,
      ALERT_SUPPRESS_DEFAULT: env(alr, "ALERT_SUPPRESS_DEFAULT")?.value,
    });
    assert.equal(config.ruleOverrides["905d389b-b853-46d0-9d3d-dea0d3a3cd49"]?.suppressMs, 3_600_000);
    const dep = one(m, "Deployment", name("alerter"));
    assert.equal(dep.spec.template.spec.terminationGracePeriodSeconds, 50, "grace + 10 s");
  });

  test("custom rules come from a ConfigMap mounted beside the built-in catalog", () => {
    const m = rendered(join(CI, "all-keda-values.yaml"));
    const cm = one(m, "ConfigMap", "ts-trailstream-rules");
    assert.match(cm.data["org.yaml"], /org-root-login/);
    const pod = one(m, "Deployment", name("alerter")).spec.template;
    assert.ok(pod.metadata.annotations["checksum/rules"], "pods roll when the rules change");
    assert.deepEqual(
      pod.spec.volumes.find((v: Manifest) => v.name === "rules"),
      { name: "rules", configMap: { name: "ts-trailstream-rules" } },
    );
    assert.ok(
      pod.spec.containers[0].volumeMounts.some(
        (v: Manifest) => v.name === "rules" && v.mountPath === "/etc/trailstream/rules" && v.readOnly,
      ),
    );
    for (const other of ["ingester", "enricher"]) {
      const spec = one(m, "Deployment", name(other)).spec.template.spec;
      assert.ok(!spec.volumes.some((v: Manifest) => v.name === "rules"), `${other} has no rules`);
    }
    const hpa = rendered(join(CI, "all-hpa-values.yaml"));
    assert.equal(
      byKind(hpa, "ConfigMap").filter((x) => !dashboardMaps(hpa).includes(x)).length,
      0,
      "an existing ConfigMap is used, not created",
    );
    const alr = containerOf(hpa, "alerter");
    assert.equal(
      env(alr, "RULE_FILES")?.value,
      "/etc/trailstream/rules/team-a.yaml,/etc/trailstream/rules/team-b.yaml",
    );
    assert.equal(env(alr, "RULES_BUILTIN")?.value, "false");
    const vol = one(hpa, "Deployment", name("alerter")).spec.template.spec.volumes.find(
      (v: Manifest) => v.name === "rules",
    );
    assert.equal(vol.configMap.name, "my-rules");
  });

  test("event selectors reach the enricher as EVENT_SELECTORS, a file from a ConfigMap", async () => {
    const m = rendered(join(CI, "all-keda-values.yaml"));
    const cm = one(m, "ConfigMap", "ts-trailstream-event-selectors");
    const pod = one(m, "Deployment", name("enricher")).spec.template;
    const path = env(pod.spec.containers[0], "EVENT_SELECTORS")?.value;
    assert.equal(path, "/etc/trailstream/selectors/selectors.json");
    assert.ok(pod.metadata.annotations["checksum/event-selectors"], "pods roll when the selectors change");
    assert.deepEqual(
      pod.spec.volumes.find((v: Manifest) => v.name === "event-selectors"),
      { name: "event-selectors", configMap: { name: "ts-trailstream-event-selectors" } },
    );
    assert.ok(
      pod.spec.containers[0].volumeMounts.some(
        (v: Manifest) => v.name === "event-selectors" && v.mountPath === "/etc/trailstream/selectors" && v.readOnly,
      ),
    );
    // What the chart writes into the ConfigMap, the enricher reads and validates as CloudTrail does.
    const file = join(tempDir("selectors"), "selectors.json");
    writeFileSync(file, cm.data["selectors.json"]);
    const config = loadEnricherConfig({
      KAFKA_BROKERS: "127.0.0.1:9092",
      REDIS_URL: "redis://127.0.0.1:6379",
      EVENT_SELECTORS: file,
    });
    assert.equal(config.eventSelectors?.kind, "advanced");
    assert.deepEqual(config.eventSelectors?.names, ["management events, no KMS reads", "writes to the audit buckets"]);
    for (const other of ["ingester", "alerter"]) {
      const spec = one(m, "Deployment", name(other)).spec.template.spec;
      assert.equal(env(spec.containers[0], "EVENT_SELECTORS"), undefined, `${other} reads no selectors`);
      assert.ok(!spec.volumes.some((v: Manifest) => v.name === "event-selectors"), `${other} mounts no selectors`);
    }
    // An existing ConfigMap by name and key; nothing created.
    const hpa = rendered(join(CI, "all-hpa-values.yaml"));
    const enr = one(hpa, "Deployment", name("enricher")).spec.template.spec;
    assert.equal(env(enr.containers[0], "EVENT_SELECTORS")?.value, "/etc/trailstream/selectors/advanced.json");
    assert.equal(enr.volumes.find((v: Manifest) => v.name === "event-selectors")?.configMap.name, "org-selectors");
    // The defaults keep every event: no variable, no volume.
    const defaults = one(await c.render(), "Deployment", name("enricher")).spec.template.spec;
    assert.equal(env(defaults.containers[0], "EVENT_SELECTORS"), undefined);
    assert.ok(!defaults.volumes.some((v: Manifest) => v.name === "event-selectors"));
    // Both at once is refused, naming the values.
    const both = await c.template([
      valuesFile({
        enricher: { eventSelectors: { inline: { AdvancedEventSelectors: [{}] }, existingConfigMap: "x" } },
      }),
    ]);
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /enricher.eventSelectors: use inline or existingConfigMap, not both/);
  });

  test("secrets are referenced from existing Secrets, never inlined", async () => {
    for (const file of ciFiles) {
      const m = rendered(file);
      assert.equal(byKind(m, "Secret").length, 0, `${file} renders a Secret`);
      for (const service of SERVICES) {
        if (!m.some((x) => x.kind === "Deployment" && x.metadata.name === name(service))) continue;
        const ctr = containerOf(m, service);
        for (const key of [
          "KAFKA_SASL_USERNAME",
          "KAFKA_SASL_PASSWORD",
          "REDIS_PASSWORD",
          "SLACK_WEBHOOK_URLS",
          "TRAILSTREAM_SECRET_WEBHOOK_URLS",
        ]) {
          const e = env(ctr, key);
          if (e) {
            assert.equal(e.value, undefined, `${file}: ${service} ${key} is inlined`);
            assert.ok(e.valueFrom?.secretKeyRef?.name, `${file}: ${service} ${key} is not a secretKeyRef`);
          }
        }
      }
    }
    const keda = rendered(join(CI, "all-keda-values.yaml"));
    const alr = containerOf(keda, "alerter");
    assert.deepEqual(env(alr, "SLACK_WEBHOOK_URLS")?.valueFrom, {
      secretKeyRef: { name: "slack-webhooks", key: "slack-webhook-urls" },
    });
    assert.deepEqual(env(alr, "KAFKA_SASL_PASSWORD")?.valueFrom, {
      secretKeyRef: { name: "msk-scram", key: "password" },
    });
    assert.deepEqual(env(alr, "REDIS_PASSWORD")?.valueFrom, {
      secretKeyRef: { name: "elasticache-auth", key: "auth-token" },
    });
    assert.equal(
      env(alr, "WEBHOOK_URLS")?.value,
      "https://hooks.example.com/trailstream,$(TRAILSTREAM_SECRET_WEBHOOK_URLS)",
      "secret webhook URLs are expanded by the kubelet, not written into the manifest",
    );
    const hpa = containerOf(rendered(join(CI, "all-hpa-values.yaml")), "enricher");
    assert.deepEqual(env(hpa, "REDIS_URL")?.valueFrom, { secretKeyRef: { name: "redis", key: "url" } });
    // A password in a plain value is refused.
    const r = await c.template([], ["kafka.brokers={k:9092}", "redis.url=redis://:hunter2@redis:6379"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /redis\.url holds a password/);
    const s = await c.template([], ["kafka.sasl.mechanism=plain"]);
    assert.match(s.stderr, /kafka\.sasl\.existingSecret/);
  });

  test("redis.url: one server, Sentinels or a Redis Cluster; user and password only from the Secret", async () => {
    const secret = ["redis.existingSecret=redis-acl", "redis.usernameKey=user", "redis.passwordKey=pass"];
    for (const url of [
      "rediss://master.example.com:6379",
      "redis+sentinel://s1:26379,s2:26379/mymaster",
      "rediss+cluster://clustercfg.example.com:6379,node-2.example.com:6379",
    ]) {
      // helm --set splits on commas: the URL's seed list is escaped.
      const m = await c.render([], ["kafka.brokers={k:9092}", `redis.url=${url.replaceAll(",", "\\,")}`, ...secret]);
      for (const service of SERVICES) {
        const ctr = containerOf(m, service);
        assert.equal(env(ctr, "REDIS_URL")?.value, url, `${service}: ${url}`);
        assert.deepEqual(env(ctr, "REDIS_USERNAME")?.valueFrom, { secretKeyRef: { name: "redis-acl", key: "user" } });
        assert.deepEqual(env(ctr, "REDIS_PASSWORD")?.valueFrom, { secretKeyRef: { name: "redis-acl", key: "pass" } });
      }
    }
    for (const url of ["redis+cluster://:hunter2@n1:6379", "rediss+sentinel://app:hunter2@s1/m"]) {
      const r = await c.template([], ["kafka.brokers={k:9092}", `redis.url=${url}`]);
      assert.notEqual(r.code, 0, url);
      assert.match(r.stderr, /redis\.url holds a password/);
    }
    const bad = await c.template([], ["kafka.brokers={k:9092}", "redis.url=memcached://m:11211"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /redis\/url/);
    const noSecret = await c.template(
      [],
      ["kafka.brokers={k:9092}", "redis.url=redis://r:6379", "redis.usernameKey=u"],
    );
    assert.match(noSecret.stderr, /redis\.usernameKey is set/);
  });

  test("KEDA and HPA: one or the other per service, never both", async () => {
    const keda = rendered(join(CI, "all-keda-values.yaml"));
    assert.equal(byKind(keda, "HorizontalPodAutoscaler").length, 0);
    assert.equal(byKind(keda, "ScaledObject").length, 3);
    for (const service of SERVICES) {
      assert.equal(one(keda, "Deployment", name(service)).spec.replicas, undefined, `${service}: KEDA owns replicas`);
    }
    const ing = one(keda, "ScaledObject", name("ingester"));
    assert.deepEqual(
      ing.spec.triggers.map((t: Manifest) => [t.type, t.metadata.queueURL]),
      [
        ["aws-sqs-queue", "https://sqs.eu-west-1.amazonaws.com/123456789012/cloudtrail-org"],
        ["aws-sqs-queue", "https://sqs.eu-west-1.amazonaws.com/123456789012/cloudtrail-audit"],
      ],
    );
    assert.deepEqual(one(keda, "TriggerAuthentication", name("ingester")).spec, {
      podIdentity: { provider: "aws", identityOwner: "workload" },
    });
    const enr = one(keda, "ScaledObject", name("enricher")).spec.triggers[0];
    assert.equal(enr.type, "kafka");
    assert.equal(enr.metadata.topic, "prod.cloudtrail.raw");
    assert.equal(enr.metadata.consumerGroup, "trailstream-enricher");
    assert.equal(enr.metadata.sasl, "scram_sha512");
    assert.equal(enr.metadata.tls, "enable");
    const alr = one(keda, "ScaledObject", name("alerter")).spec.triggers[0];
    assert.equal(alr.metadata.topic, "prod.cloudtrail.events");
    assert.equal(alr.metadata.consumerGroup, "trailstream-alerter");
    const auth = one(keda, "TriggerAuthentication", name("alerter")).spec.secretTargetRef;
    assert.deepEqual(auth.map((a: Manifest) => a.parameter).sort(), ["ca", "password", "username"]);

    const hpa = rendered(join(CI, "all-hpa-values.yaml"));
    assert.equal(byKind(hpa, "ScaledObject").length, 0);
    assert.equal(byKind(hpa, "HorizontalPodAutoscaler").length, 3);
    const h = one(hpa, "HorizontalPodAutoscaler", name("enricher"));
    assert.equal(h.spec.scaleTargetRef.name, name("enricher"));
    assert.equal(h.spec.metrics[0].resource.target.averageUtilization, 60);

    const plain = await c.render([], endpoints);
    assert.equal(byKind(plain, "HorizontalPodAutoscaler").length + byKind(plain, "ScaledObject").length, 0);
    assert.equal(one(plain, "Deployment", name("enricher")).spec.replicas, 2);

    for (const service of SERVICES) {
      const r = await c.template(
        [],
        [
          ...endpoints,
          "ingester.sqsQueueUrls={https://sqs.us-east-1.amazonaws.com/1/q}",
          `${service}.keda.enabled=true`,
          `${service}.autoscaling.enabled=true`,
        ],
      );
      assert.notEqual(r.code, 0, `${service}: both rendered`);
      assert.match(
        r.stderr,
        new RegExp(`${service}\\.keda\\.enabled and ${service}\\.autoscaling\\.enabled are both true`),
      );
    }
    const noQueue = await c.template([], [...endpoints, "ingester.keda.enabled=true"]);
    assert.match(noQueue.stderr, /ingester\.sqsQueueUrls/);
  });

  test("NetworkPolicy: off by default; on, ingress only to the metrics port, egress only to DNS, Kafka, Redis, AWS", async () => {
    assert.equal(byKind(await c.render([], endpoints), "NetworkPolicy").length, 0);
    const m = rendered(join(CI, "all-keda-values.yaml"));
    const policies = byKind(m, "NetworkPolicy");
    assert.equal(policies.length, 3);
    const ports = (rule: Manifest) => rule.ports.map((p: Manifest) => `${p.protocol}/${p.port}`).join(",");
    for (const service of SERVICES) {
      const np = one(m, "NetworkPolicy", name(service));
      assert.deepEqual(np.spec.policyTypes, ["Ingress", "Egress"]);
      assert.deepEqual(np.spec.podSelector.matchLabels["app.kubernetes.io/component"], service);
      assert.equal(np.spec.ingress.length, 1);
      assert.equal(ports(np.spec.ingress[0]), "TCP/metrics");
      assert.ok(np.spec.ingress[0].from[0].namespaceSelector);
      const egress = np.spec.egress.map(ports);
      const expected = ["UDP/53,TCP/53", "TCP/9096", "TCP/6379"];
      if (service === "ingester") expected.push("TCP/443");
      if (service === "alerter") expected.push("TCP/443,TCP/9093");
      expected.push("TCP/80"); // extraEgress in the values file
      assert.deepEqual(egress, expected, service);
      for (const rule of np.spec.egress) {
        assert.ok(rule.ports?.length > 0, `${service}: an egress rule without ports allows every port`);
      }
      const kafka = np.spec.egress[1];
      assert.deepEqual(
        kafka.to.map((t: Manifest) => t.ipBlock.cidr),
        ["10.0.16.0/20", "10.0.32.0/20"],
      );
    }
    // Without brokers there is no Kafka rule (rather than one open to every port).
    const none = await c.render([], ["networkPolicy.enabled=true", "networkPolicy.redis.ports=null"]);
    for (const np of byKind(none, "NetworkPolicy")) {
      for (const rule of np.spec.egress) assert.ok(rule.ports?.length > 0);
    }
  });

  test("security context on every container, in every render", async () => {
    const all = [...ciFiles.map(rendered), await c.render()];
    let containers = 0;
    for (const m of all) {
      for (const { owner, spec } of podSpecs(m)) {
        assert.equal(spec.securityContext.runAsNonRoot, true, owner);
        assert.deepEqual(spec.securityContext.seccompProfile, { type: "RuntimeDefault" }, owner);
        assert.equal(spec.automountServiceAccountToken, false, owner);
        assert.equal(spec.hostNetwork, undefined, owner);
        for (const ctr of [...(spec.initContainers ?? []), ...spec.containers]) {
          containers++;
          const sc = ctr.securityContext;
          assert.equal(sc.runAsNonRoot, true, owner);
          assert.equal(sc.readOnlyRootFilesystem, true, owner);
          assert.equal(sc.allowPrivilegeEscalation, false, owner);
          assert.equal(sc.privileged, false, owner);
          assert.deepEqual(sc.capabilities, { drop: ["ALL"] }, owner);
          assert.deepEqual(sc.seccompProfile, { type: "RuntimeDefault" }, owner);
          assert.ok(
            ctr.volumeMounts.some((v: Manifest) => v.mountPath === "/tmp"),
            `${owner}: /tmp is writable`,
          );
        }
        assert.ok(
          spec.volumes.some((v: Manifest) => v.name === "tmp" && v.emptyDir),
          owner,
        );
      }
    }
    assert.ok(containers >= 10, `checked ${containers} containers`);
    const defaults = one(await c.render(), "Deployment", name("ingester")).spec.template.spec.securityContext;
    assert.equal(defaults.runAsUser, 1000);
    const openshift = one(rendered(join(CI, "all-hpa-values.yaml")), "Deployment", name("ingester"));
    assert.equal(openshift.spec.template.spec.securityContext.runAsUser, undefined, "null lets the platform pick");
  });

  test("ServiceAccount: IRSA annotations, no automounted token unless asked", async () => {
    const m = rendered(join(CI, "all-keda-values.yaml"));
    const sa = one(m, "ServiceAccount", "ts-trailstream");
    assert.equal(sa.metadata.annotations["eks.amazonaws.com/role-arn"], "arn:aws:iam::123456789012:role/trailstream");
    assert.equal(sa.automountServiceAccountToken, false);
    for (const { spec } of podSpecs(m)) assert.equal(spec.serviceAccountName, "ts-trailstream");
    const asked = await c.render([], ["serviceAccount.automountServiceAccountToken=true"]);
    assert.equal(one(asked, "ServiceAccount", "ts-trailstream").automountServiceAccountToken, true);
    for (const { spec } of podSpecs(asked)) assert.equal(spec.automountServiceAccountToken, true);
    const existing = rendered(join(CI, "all-hpa-values.yaml"));
    assert.equal(byKind(existing, "ServiceAccount").length, 0);
    for (const { spec } of podSpecs(existing)) assert.equal(spec.serviceAccountName, "trailstream-irsa");
  });

  test("scheduling settings reach the pod of their service only", () => {
    const m = rendered(join(CI, "all-keda-values.yaml"));
    const ing = one(m, "Deployment", name("ingester")).spec.template;
    assert.deepEqual(ing.spec.nodeSelector, { "kubernetes.io/os": "linux" });
    assert.equal(ing.spec.tolerations[0].key, "dedicated");
    assert.ok(ing.spec.affinity.podAntiAffinity);
    assert.equal(ing.spec.topologySpreadConstraints[0].whenUnsatisfiable, "DoNotSchedule");
    assert.equal(ing.spec.priorityClassName, "trailstream-high");
    assert.equal(ing.metadata.labels.tier, "ingest");
    assert.equal(ing.metadata.annotations["example.com/owner"], "security");
    const enr = one(m, "Deployment", name("enricher")).spec.template;
    assert.equal(enr.spec.nodeSelector, undefined);
    assert.equal(enr.spec.tolerations, undefined);
    assert.equal(enr.spec.topologySpreadConstraints[0].whenUnsatisfiable, "ScheduleAnyway", "default spread");
    assert.deepEqual(one(m, "PodDisruptionBudget", name("enricher")).spec.minAvailable, 1);
    assert.deepEqual(one(m, "PodDisruptionBudget", name("ingester")).spec.maxUnavailable, 1);
    const hpa = rendered(join(CI, "all-hpa-values.yaml"));
    assert.ok(!hpa.some((x) => x.kind === "PodDisruptionBudget" && x.metadata.name === name("ingester")));
  });

  test("ServiceMonitor and PrometheusRule: off by default, on they scrape the metrics Services and carry the rule files", async () => {
    const plain = await c.render([], endpoints);
    assert.equal(byKind(plain, "ServiceMonitor").length + byKind(plain, "PrometheusRule").length, 0);
    const m = rendered(join(CI, "all-keda-values.yaml"));
    const sm = one(m, "ServiceMonitor", "ts-trailstream");
    assert.equal(sm.metadata.labels.release, "kube-prometheus-stack");
    assert.equal(sm.spec.jobLabel, "trailstream.io/job");
    assert.equal(sm.spec.endpoints[0].port, "metrics");
    for (const svc of byKind(m, "Service")) {
      for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(svc.metadata.labels[k], v);
    }
    const rule = one(m, "PrometheusRule", "ts-trailstream");
    const source = yaml().parse(readFileSync(join(CHART, "files", "prometheus", "trailstream.yaml"), "utf8")) as {
      groups: { name: string; rules: { alert?: string; expr: string }[] }[];
    };
    assert.deepEqual(
      rule.spec.groups.map((g: Manifest) => g.name),
      source.groups.map((g) => g.name),
    );
    const down = rule.spec.groups
      .flatMap((g: Manifest) => g.rules)
      .find((r: Manifest) => r.alert === "TrailstreamServiceDown");
    assert.equal(down.expr, 'up{job=~"trailstream.*"} == 0');
    assert.equal(
      down.annotations.runbook_url,
      "https://github.com/trailstream/trailstream/blob/main/docs/deploy.md#trailstreamservicedown",
    );
    assert.match(down.annotations.summary, /\{\{ \$labels\.job \}\}/, "alert templating survives the chart");
    const wiki = one(rendered(join(CI, "all-hpa-values.yaml")), "PrometheusRule", "ts-trailstream");
    assert.match(JSON.stringify(wiki), /https:\/\/wiki\.example\.com\/trailstream#trailstreamservicedown/);
  });

  test("the PrometheusRule carries the rule files exactly (promtool tests them as files), plus runbook URLs", () => {
    const rule = one(rendered(join(CI, "all-keda-values.yaml")), "PrometheusRule", "ts-trailstream");
    const dir = join(CHART, "files", "prometheus");
    const source = readdirSync(dir)
      .filter((f) => f.endsWith(".yaml"))
      .sort()
      .flatMap((f) => (yaml().parse(readFileSync(join(dir, f), "utf8")) as { groups: Manifest[] }).groups);
    const expected = structuredClone(source);
    for (const r of expected.flatMap((g) => g.rules as Manifest[])) {
      if (r.alert && !r.annotations?.runbook_url) {
        r.annotations = {
          ...r.annotations,
          runbook_url: `https://github.com/trailstream/trailstream/blob/main/docs/deploy.md#${String(r.alert).toLowerCase()}`,
        };
      }
    }
    assert.deepEqual(rule.spec.groups, expected);
  });

  test("Grafana dashboards: one ConfigMap per deploy/grafana/*.json holding it exactly, labelled for the sidecar", async () => {
    assert.ok(DASHBOARD_FILES.length >= 4, DASHBOARD_FILES.join(", "));
    const check = (m: Manifest[], label: string, value: string, annotations: Record<string, string> | undefined) => {
      const maps = dashboardMaps(m);
      assert.deepEqual(maps.flatMap((x) => Object.keys(x.data)).sort(), DASHBOARD_FILES);
      for (const cm of maps) {
        const [file, json] = Object.entries(cm.data as Record<string, string>)[0] ?? [];
        assert.ok(file && json !== undefined);
        assert.equal(json, readFileSync(join(GRAFANA, file), "utf8"), `${cm.metadata.name} holds ${file} exactly`);
        assert.equal(JSON.parse(json).uid, file.replace(/\.json$/, ""));
        assert.equal(cm.metadata.labels[label], value, `${cm.metadata.name} has the sidecar's label`);
        assert.equal(cm.metadata.labels["app.kubernetes.io/instance"], "ts");
        assert.deepEqual(cm.metadata.annotations, annotations);
      }
      return maps;
    };
    const plain = await c.render([], endpoints);
    const names = check(plain, "grafana_dashboard", "1", { grafana_folder: "trailstream" }).map((x) => x.metadata.name);
    assert.deepEqual(
      names.sort(),
      ["alerter", "enricher", "ingester", "overview"].map((d) => `ts-trailstream-grafana-${d}`),
    );
    const full = check(rendered(join(CI, "all-keda-values.yaml")), "dashboards.example.com/load", "yes", {
      "k8s-sidecar-target-directory": "/tmp/dashboards/Security",
    });
    for (const cm of full) assert.equal(cm.metadata.labels.release, "kube-prometheus-stack");
    check(rendered(join(CI, "all-hpa-values.yaml")), "grafana_dashboard", "1", undefined);
    assert.equal(dashboardMaps(rendered(join(CI, "only-enricher-values.yaml"))).length, 0);
    assert.equal(dashboardMaps(await c.render([], [...endpoints, "grafanaDashboards.enabled=false"])).length, 0);
    const elsewhere = await c.render([], [...endpoints, "grafanaDashboards.namespace=monitoring"]);
    for (const cm of dashboardMaps(elsewhere)) assert.equal(cm.metadata.namespace, "monitoring");
  });

  test("deploy/grafana's dashboards are symlinks to the chart's files (one copy of the JSON)", () => {
    for (const file of DASHBOARD_FILES) {
      const path = join(GRAFANA, file);
      assert.ok(
        lstatSync(path).isSymbolicLink() && realpathSync(path) === realpathSync(join(CHART, "files", "grafana", file)),
        `deploy/grafana/${file} must be a symlink to deploy/helm/trailstream/files/grafana/${file}`,
      );
    }
    const inChart = readdirSync(join(CHART, "files", "grafana")).sort();
    assert.deepEqual(inChart, DASHBOARD_FILES, "no dashboard in the chart that deploy/grafana lacks");
  });

  test("the values files in docs/deploy.md render and validate", async () => {
    const doc = readFileSync(join(ROOT, "docs", "deploy.md"), "utf8");
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
    const minimal = blocks.find((b) => b.startsWith("# my-values.yaml"));
    const eks = blocks.find((b) => b.startsWith("# eks-values.yaml"));
    assert.ok(minimal && eks, "docs/deploy.md has the my-values.yaml and eks-values.yaml examples");
    const dir = tempDir("docs-values");
    const files = [valuesFile(minimal, dir), valuesFile(eks, dir)];
    const r = await c.template(files);
    assert.equal(r.code, 0, r.stderr);
    const file = join(dir, "rendered.yaml");
    writeFileSync(file, r.stdout);
    const v = await c.validate(file);
    assert.equal(v.code, 0, v.stdout);
    const m = parseManifests(r.stdout);
    assert.equal(byKind(m, "ScaledObject").length, 3);
    assert.equal(byKind(m, "NetworkPolicy").length, 3);
  });

  test("every alert has a runbook section in docs/deploy.md", () => {
    const doc = readFileSync(join(ROOT, "docs", "deploy.md"), "utf8");
    const anchors = new Set([...doc.matchAll(/^#+ (.+)$/gm)].map((h) => (h[1] ?? "").trim().toLowerCase()));
    for (const file of readdirSync(join(CHART, "files", "prometheus"))) {
      const rules = yaml().parse(readFileSync(join(CHART, "files", "prometheus", file), "utf8")) as {
        groups: { rules: { alert?: string }[] }[];
      };
      for (const r of rules.groups.flatMap((g) => g.rules)) {
        if (r.alert) assert.ok(anchors.has(r.alert.toLowerCase()), `docs/deploy.md has no "### ${r.alert}" section`);
      }
    }
  });

  test("deploy/prometheus rule files, where they exist, are the chart's files (one source of truth)", () => {
    const dir = join(ROOT, "deploy", "prometheus");
    if (!existsSync(dir)) return;
    for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
      const path = join(dir, file);
      const inChart = join(CHART, "files", "prometheus", file);
      const isRuleFile = /^\s*groups:/m.test(readFileSync(path, "utf8"));
      if (!isRuleFile) continue;
      assert.ok(
        existsSync(inChart) && realpathSync(path) === realpathSync(inChart),
        `deploy/prometheus/${file} must be a symlink to deploy/helm/trailstream/files/prometheus/${file} (docs/decisions/0006-chart.md)`,
      );
    }
  });

  test("NOTES.txt warns about missing endpoints and names the services", async () => {
    // `helm install --dry-run` wants a cluster; render NOTES.txt as a plain template of a copy instead.
    const copy = join(tempDir("notes"), "trailstream");
    cpSync(CHART, copy, { recursive: true });
    cpSync(join(copy, "templates", "NOTES.txt"), join(copy, "files", "NOTES.txt"));
    writeFileSync(
      join(copy, "templates", "notes-as-template.yaml"),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\ndata:\n  notes: {{ tpl (.Files.Get "files/NOTES.txt") . | toJson }}\n',
    );
    const notes = (r: { stdout: string }) => String(parseManifests(r.stdout)[0]?.data?.notes);
    const r = await run(c.helm, [
      "template",
      "ts",
      copy,
      "--kube-version",
      "1.33.0",
      "--set",
      "alerter.enabled=false",
      "--show-only",
      "templates/notes-as-template.yaml",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(notes(r), /kafka\.brokers is empty/);
    assert.match(notes(r), /alerter\s+off/);
    assert.match(notes(r), /enricher\s+on\s+\(2 replicas\)/);
    assert.match(notes(r), /ingester has no source/);
    const set = await run(c.helm, [
      "template",
      "ts",
      copy,
      "--kube-version",
      "1.33.0",
      "-f",
      join(CI, "all-keda-values.yaml"),
      "--show-only",
      "templates/notes-as-template.yaml",
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.doesNotMatch(notes(set), /WARNING/);
    assert.match(notes(set), /enricher\s+on\s+\(KEDA 1-12 replicas\)/);
  });

  test("the chart README's values table is generated from values.yaml and up to date", async () => {
    const r = await run(process.execPath, [join(ROOT, "deploy", "helm", "gen-readme.ts"), "--check"]);
    assert.equal(r.code, 0, r.stderr);
    const readme = readFileSync(join(CHART, "README.md"), "utf8");
    const values = yaml().parse(readFileSync(join(CHART, "values.yaml"), "utf8")) as Record<string, unknown>;
    for (const key of Object.keys(values)) assert.ok(readme.includes(`\`${key}`), `README lists ${key}`);
  });

  test("names fit Kubernetes' 63-character limit even with a long fullnameOverride", async () => {
    const m = await c.render([join(CI, "all-keda-values.yaml")], [`fullnameOverride=${"x".repeat(70)}`]);
    for (const o of m) {
      assert.ok(o.metadata.name.length <= 63, `${o.kind}/${o.metadata.name} is ${o.metadata.name.length} long`);
      assert.match(o.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${o.kind}/${o.metadata.name}`);
    }
    const services = byKind(m, "Deployment").map((d) => d.metadata.name);
    assert.equal(new Set(services).size, 3, "still one name per service");
  });

  test("a ServiceMonitor without the metrics Services is refused", async () => {
    const r = await c.template([], ["metrics.serviceMonitor.enabled=true", "metrics.service.enabled=false"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /metrics\.serviceMonitor\.enabled needs metrics\.service\.enabled/);
  });

  test("a rendered manifest parses back to the same objects (no duplicated keys, no stray documents)", async () => {
    const r = await c.template([join(CI, "all-keda-values.yaml")]);
    const docs = parseManifests(r.stdout);
    for (const d of docs) {
      assert.ok(d.apiVersion && d.kind && d.metadata?.name, JSON.stringify(d).slice(0, 200));
      assert.equal(d.metadata.namespace ?? "trailstream", "trailstream", `${d.kind}/${d.metadata.name}`);
    }
  });
});
