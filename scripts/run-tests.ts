// One test runner for the whole tree: Node's own, on the TypeScript sources (Node 24 strips types).
// `unit` runs the fast, server-free tests; `integration` the ones that talk to real servers; `e2e`
// the whole pipeline as separate processes;
// `all` all three. Words after the suite keep only the files whose path contains one of them
// (`run-tests.ts integration enricher`). The last line printed is always `N passed, N failed`.
//
// The files in ON_REDIS_CLUSTER run a second time with REDIS_URL set to REDIS_CLUSTER_URL (the
// three-master Redis Cluster of deploy/local/stack), so what they prove holds on both kinds of Redis.

import { glob } from "node:fs/promises";
import { resolve } from "node:path";
import { run } from "node:test";
import { spec } from "node:test/reporters";

const suites = {
  unit: ["{packages,services}/*/test/**/*.test.ts", "test/unit/**/*.test.ts"],
  integration: ["{packages,services}/*/test/integration/**/*.test.ts", "test/integration/**/*.test.ts"],
  e2e: ["test/e2e/**/*.test.ts"],
} as const;

const ON_REDIS_CLUSTER = [
  "test/integration/redis.test.ts",
  "test/integration/alerter-state.test.ts",
  "test/integration/alerter-correlation.test.ts",
  "test/integration/alerter.test.ts",
  "test/integration/enricher.test.ts",
  "test/integration/enricher-claims.test.ts",
  "test/integration/enricher-crash.test.ts",
  "test/integration/enricher-selectors.test.ts",
  "test/integration/ingester-kinesis.test.ts",
  "test/integration/integrity.test.ts",
  "test/e2e/pipeline.test.ts",
];

type Suite = keyof typeof suites;
const requested = process.argv[2] ?? "all";
const only = process.argv.slice(3);
const chosen: Suite[] = requested === "all" ? ["unit", "integration", "e2e"] : [requested as Suite];
if (!chosen.every((s) => s in suites)) {
  console.error(`usage: run-tests.ts [unit|integration|e2e|all] (got "${requested}")`);
  process.exit(2);
}

const root = resolve(import.meta.dirname, "..");
const files = new Set<string>();
for (const suite of chosen) {
  for (const pattern of suites[suite]) {
    for await (const file of glob(pattern, { cwd: root, exclude: (f) => f.includes("node_modules") })) {
      const isIntegration = file.includes("/integration/");
      if (only.length > 0 && !only.some((word) => file.includes(word))) continue;
      if (suite === "e2e" || (suite === "integration") === isIntegration) files.add(resolve(root, file));
    }
  }
}

let passed = 0;
let failed = 0;
let skipped = 0;

/** Runs the files with `env` over the process's environment; resolves when they have all finished. */
function runFiles(list: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const stream = run({
    files: list,
    concurrency: chosen.includes("integration") || chosen.includes("e2e") ? 1 : true,
    timeout: 10 * 60_000,
    env,
  });
  stream.on("test:pass", (event) => {
    if (event.details.type === "suite") return;
    if (event.skip || event.todo) skipped++;
    else passed++;
  });
  stream.on("test:fail", (event) => {
    if (event.details.type === "suite") return;
    failed++;
  });
  const out = stream.compose(spec);
  out.pipe(process.stdout, { end: false });
  return new Promise((done) => out.on("end", done));
}

await runFiles([...files].sort(), process.env);

const again = [...files].filter((f) => ON_REDIS_CLUSTER.some((c) => f === resolve(root, c))).sort();
if (again.length > 0) {
  const clusterUrl = process.env.REDIS_CLUSTER_URL;
  if (clusterUrl) {
    process.stdout.write(`\nOn the Redis Cluster (REDIS_URL=${clusterUrl}): ${again.length} files again\n`);
    await runFiles(again, { ...process.env, REDIS_URL: clusterUrl });
  } else {
    // Visible in the closing line: the Docker path (testcontainers) starts no Redis Cluster.
    skipped += again.length;
    process.stdout.write(
      `\nREDIS_CLUSTER_URL is not set: ${again.length} files did not run again on a Redis Cluster (\`deploy/local/stack up\` starts one)\n`,
    );
  }
}

const zero = files.size === 0 ? " (no test files found)" : "";
// The plain closing line CI reads.
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}${zero}\n`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
