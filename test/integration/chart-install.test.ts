// The chart against a real Kubernetes API server: kube-apiserver, controller-manager and scheduler
// v1.33.0 built from the Go module, etcd from Debian, fake nodes from kwok (pods are scheduled and
// marked running, no containers run: this tests the manifests, admission, CRD validation and
// `--wait`, not the application). CRDs applied, `helm install --wait` with defaults and with every
// feature on, `helm upgrade` switching features, `helm uninstall` leaving nothing behind.
// Cold, deploy/tools/install kube builds the binaries once (~10 min, cached); warm this file runs
// in about a minute.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CHART, KUBE_VERSION, need, ok, ROOT, type Run, run, tempDir, tools } from "../support/deploy.ts";

const CI = join(CHART, "ci");
let helm: string;
let kubectl: string;
let kwokctl: string;
let kubeconfig: string;
let env: NodeJS.ProcessEnv;
const cluster = `trailstream-${process.pid}`;
let workdir: string;
let created = false;

const k = (args: string[]): Promise<string> => ok(kubectl, args, { env });
const h = (args: string[]): Promise<Run> => run(helm, args, { env, timeoutMs: 6 * 60_000 });

// At module level, outside any test's timeout: a cold install builds Kubernetes (~13 min, once).
const [chartTools, kube] = await Promise.all([tools("chart"), tools("kube")]);

before(async () => {
  helm = need(chartTools, "helm");
  kubectl = need(kube, "kubectl");
  kwokctl = need(kube, "kwokctl");
  const crds = need(chartTools, "crds");
  workdir = tempDir("kwok");
  kubeconfig = join(workdir, "kubeconfig");
  env = {
    ...process.env,
    KWOK_WORKDIR: workdir,
    KUBECONFIG: kubeconfig,
    HELM_CACHE_HOME: join(workdir, "helm-cache"),
    HELM_CONFIG_HOME: join(workdir, "helm-config"),
    HELM_DATA_HOME: join(workdir, "helm-data"),
  };
  created = true;
  await ok(
    kwokctl,
    [
      "create",
      "cluster",
      "--name",
      cluster,
      "--runtime",
      "binary",
      "--kube-apiserver-binary",
      need(kube, "kube_apiserver"),
      "--kube-controller-manager-binary",
      need(kube, "kube_controller_manager"),
      "--kube-scheduler-binary",
      need(kube, "kube_scheduler"),
      "--kwok-controller-binary",
      need(kube, "kwok"),
      "--etcd-binary",
      need(kube, "etcd"),
      "--kubeconfig",
      kubeconfig,
      "--wait",
      "120s",
    ],
    { env, timeoutMs: 180_000 },
  );
  await ok(kwokctl, ["scale", "node", "--name", cluster, "--replicas", "3"], { env });
  for (const [i, zone] of ["eu-west-1a", "eu-west-1b", "eu-west-1c"].entries()) {
    await k(["label", "node", `node-00000${i}`, `topology.kubernetes.io/zone=${zone}`, "--overwrite"]);
  }
  await k(["create", "priorityclass", "trailstream-high", "--value", "1000"]);
  const version = JSON.parse(await k(["version", "-o", "json"])) as { serverVersion: { gitVersion: string } };
  assert.equal(version.serverVersion.gitVersion, `v${KUBE_VERSION}`);
  // The CRDs the optional features need, as an operator's chart would have installed them.
  const wanted = [
    "monitoring.coreos.com_servicemonitors.yaml",
    "monitoring.coreos.com_prometheusrules.yaml",
    "keda.sh_scaledobjects.yaml",
    "keda.sh_triggerauthentications.yaml",
  ];
  const present = new Set(readdirSync(crds));
  for (const file of wanted) assert.ok(present.has(file), `${file} in ${crds}`);
  await k(["apply", "--server-side", ...wanted.flatMap((f) => ["-f", join(crds, f)])]);
  await k([
    "wait",
    "--for",
    "condition=Established",
    "--timeout",
    "60s",
    "crd/servicemonitors.monitoring.coreos.com",
    "crd/prometheusrules.monitoring.coreos.com",
    "crd/scaledobjects.keda.sh",
    "crd/triggerauthentications.keda.sh",
  ]);
});

after(async () => {
  if (created) {
    await run(kwokctl, ["delete", "cluster", "--name", cluster], { env, timeoutMs: 60_000 });
    rmSync(workdir, { recursive: true, force: true });
  }
});

/** What the values files reference and a real cluster would already hold. */
async function prerequisites(namespace: string): Promise<void> {
  await k(["create", "namespace", namespace]);
  const secrets: [string, string[]][] = [
    ["msk-scram", ["username=trailstream", "password=s3cret"]],
    ["kafka-ca", ["ca.pem=-----BEGIN CERTIFICATE-----"]],
    ["elasticache-auth", ["auth-token=t0ken"]],
    ["alert-webhooks", ["webhook-urls=https://hooks.example.com/x?token=1"]],
    ["slack-webhooks", ["slack-webhook-urls=https://hooks.slack.com/services/T/B/X"]],
    ["kafka-credentials", ["username=u", "password=p"]],
    ["redis", ["url=rediss://redis:6379", "password=p"]],
  ];
  for (const [name, pairs] of secrets) {
    await k(["-n", namespace, "create", "secret", "generic", name, ...pairs.map((p) => `--from-literal=${p}`)]);
  }
  await k(["-n", namespace, "create", "configmap", "my-rules", "--from-literal=team-a.yaml=rules: []"]);
  await k(["-n", namespace, "create", "serviceaccount", "trailstream-irsa"]);
}

/** Every namespaced object the release labelled, by kind/name. */
async function releaseObjects(namespace: string, release: string): Promise<string[]> {
  const kinds = (await k(["api-resources", "--verbs=list", "--namespaced", "-o", "name"]))
    .split("\n")
    .filter((x) => x && !x.startsWith("events"));
  const out = await k([
    "-n",
    namespace,
    "get",
    kinds.join(","),
    "-l",
    `app.kubernetes.io/instance=${release}`,
    "-o",
    "name",
    "--ignore-not-found",
  ]);
  return out.split("\n").filter(Boolean).sort();
}

async function install(verb: "install" | "upgrade", release: string, namespace: string, values: string[]) {
  const r = await h([
    verb,
    release,
    CHART,
    "--namespace",
    namespace,
    "--wait",
    "--timeout",
    "180s",
    ...values.flatMap((v) => ["-f", v]),
  ]);
  if (r.code !== 0) {
    const pods = await run(kubectl, ["-n", namespace, "get", "pods,deploy,rs,events", "-o", "wide"], { env });
    assert.fail(`helm ${verb} ${release} failed:\n${r.stderr}\n${pods.stdout}${pods.stderr}`);
  }
  return r;
}

describe("chart on a real API server (kube-apiserver v1.33 + kwok nodes)", () => {
  test("defaults: install --wait, every Deployment available, uninstall leaves nothing", async () => {
    const ns = "ts-defaults";
    await k(["create", "namespace", ns]);
    await install("install", "plain", ns, [join(CI, "defaults-values.yaml")]);
    const deployments = JSON.parse(await k(["-n", ns, "get", "deploy", "-o", "json"])) as {
      items: { metadata: { name: string }; status: { readyReplicas?: number; replicas?: number } }[];
    };
    assert.deepEqual(deployments.items.map((d) => d.metadata.name).sort(), [
      "plain-trailstream-alerter",
      "plain-trailstream-enricher",
      "plain-trailstream-ingester",
    ]);
    for (const d of deployments.items) assert.equal(d.status.readyReplicas, 2, d.metadata.name);
    // The dashboards, as Grafana's sidecar would find them: by its label, across the namespace.
    const dashboards = JSON.parse(
      await k(["-n", ns, "get", "configmaps", "-l", "grafana_dashboard=1", "-o", "json"]),
    ) as {
      items: { metadata: { name: string; annotations?: Record<string, string> }; data: Record<string, string> }[];
    };
    assert.deepEqual(dashboards.items.map((d) => d.metadata.name).sort(), [
      "plain-trailstream-grafana-alerter",
      "plain-trailstream-grafana-enricher",
      "plain-trailstream-grafana-ingester",
      "plain-trailstream-grafana-overview",
    ]);
    for (const d of dashboards.items) {
      const [file, json] = Object.entries(d.data)[0] ?? [];
      assert.ok(file && json);
      assert.equal(
        json,
        readFileSync(join(ROOT, "deploy", "grafana", file), "utf8"),
        `${d.metadata.name} holds ${file}`,
      );
      assert.equal(d.metadata.annotations?.grafana_folder, "trailstream");
    }
    const r = await h(["uninstall", "plain", "--namespace", ns, "--wait"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await releaseObjects(ns, "plain"), []);
  });

  test("every feature on: install, upgrade switching KEDA to HPA and services off, uninstall", async () => {
    const ns = "ts-full";
    await prerequisites(ns);

    await install("install", "full", ns, [join(CI, "all-keda-values.yaml")]);
    let objects = await releaseObjects(ns, "full");
    for (const expected of [
      "deployment.apps/full-trailstream-ingester",
      "scaledobject.keda.sh/full-trailstream-enricher",
      "triggerauthentication.keda.sh/full-trailstream-ingester",
      "servicemonitor.monitoring.coreos.com/full-trailstream",
      "prometheusrule.monitoring.coreos.com/full-trailstream",
      "networkpolicy.networking.k8s.io/full-trailstream-alerter",
      "poddisruptionbudget.policy/full-trailstream-enricher",
      "configmap/full-trailstream-rules",
      "configmap/full-trailstream-grafana-overview",
      "serviceaccount/full-trailstream",
    ]) {
      assert.ok(objects.includes(expected), `${expected} in ${objects.join(" ")}`);
    }
    assert.ok(!objects.some((o) => o.startsWith("horizontalpodautoscaler")));
    const pods = JSON.parse(
      await k(["-n", ns, "get", "pods", "-l", "app.kubernetes.io/instance=full", "-o", "json"]),
    ) as { items: { spec: { nodeName?: string }; status: { phase: string } }[] };
    assert.ok(pods.items.length >= 3);
    for (const p of pods.items) {
      assert.equal(p.status.phase, "Running");
      assert.ok(p.spec.nodeName);
    }

    // KEDA ─► HPA, created ServiceAccount ─► existing one, rules ConfigMap ─► an existing one.
    await install("upgrade", "full", ns, [join(CI, "all-hpa-values.yaml")]);
    objects = await releaseObjects(ns, "full");
    assert.ok(
      !objects.some((o) => o.startsWith("scaledobject") || o.startsWith("triggerauthentication")),
      objects.join(" "),
    );
    assert.ok(objects.includes("horizontalpodautoscaler.autoscaling/full-trailstream-enricher"), objects.join(" "));
    assert.ok(!objects.includes("configmap/full-trailstream-rules"));
    assert.ok(!objects.includes("serviceaccount/full-trailstream"));
    assert.ok(!objects.includes("poddisruptionbudget.policy/full-trailstream-ingester"), "ingester PDB off");

    // Two services off, monitoring and policies off.
    await install("upgrade", "full", ns, [join(CI, "only-enricher-values.yaml")]);
    objects = await releaseObjects(ns, "full");
    const owned = objects.filter((o) => !o.startsWith("pod/") && !o.startsWith("replicaset"));
    assert.deepEqual(owned, [
      "deployment.apps/full-trailstream-enricher",
      "poddisruptionbudget.policy/full-trailstream-enricher",
      "serviceaccount/full-trailstream",
    ]);

    const r = await h(["uninstall", "full", "--namespace", ns, "--wait"]);
    assert.equal(r.code, 0, r.stderr);
    const left = await releaseObjects(ns, "full");
    assert.deepEqual(left, [], `left behind: ${left.join(" ")}`);
    const secrets = await k(["-n", ns, "get", "secrets", "-o", "name"]);
    assert.ok(!secrets.includes("sh.helm.release"), "helm's release records are gone");
    assert.match(secrets, /secret\/msk-scram/, "the user's own Secrets are untouched");
  });

  test("helm install with a typo in the values fails naming the key, and creates nothing", async () => {
    const ns = "ts-typo";
    await k(["create", "namespace", ns]);
    const r = await h(["install", "typo", CHART, "--namespace", ns, "--set", "enricher.dedupTTL=6h"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /at '\/enricher': additional properties 'dedupTTL' not allowed/);
    const wrong = await h(["install", "typo", CHART, "--namespace", ns, "--set-string", "metricsPort=9400"]);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /at '\/metricsPort': got string, want integer/);
    assert.deepEqual(await releaseObjects(ns, "typo"), []);
    const releases = await h(["list", "--namespace", ns, "--all", "-q"]);
    assert.equal(releases.stdout.trim(), "");
  });

  test("every feature's render passes admission and CRD validation on the server (dry run)", async () => {
    // A server-side dry run of every feature's render: admission and CRD validation on the real server.
    await prerequisites("ts-dry");
    const rendered = await ok(
      helm,
      [
        "template",
        "dry",
        CHART,
        "--namespace",
        "ts-dry",
        "--kube-version",
        KUBE_VERSION,
        "-f",
        join(CI, "all-keda-values.yaml"),
      ],
      { env },
    );
    const r = await run(kubectl, ["apply", "--dry-run=server", "-n", "ts-dry", "-f", "-"], { env, input: rendered });
    assert.equal(r.code, 0, r.stderr);
  });
});
