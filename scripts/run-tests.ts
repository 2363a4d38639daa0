// One test runner for the whole tree: Node's own, on the TypeScript sources (Node 24 strips types).
// `unit` runs the fast, server-free tests; `integration` the ones that talk to real servers; `e2e`
// the whole pipeline as separate processes;
// `all` all three. The last line printed is always `N passed, N failed`.

import { glob } from "node:fs/promises";
import { resolve } from "node:path";
import { run } from "node:test";
import { spec } from "node:test/reporters";

const suites = {
  unit: ["{packages,services}/*/test/**/*.test.ts", "test/unit/**/*.test.ts"],
  integration: ["{packages,services}/*/test/integration/**/*.test.ts", "test/integration/**/*.test.ts"],
  e2e: ["test/e2e/**/*.test.ts"],
} as const;

type Suite = keyof typeof suites;
const requested = process.argv[2] ?? "all";
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
      if (suite === "e2e" || (suite === "integration") === isIntegration) files.add(resolve(root, file));
    }
  }
}

let passed = 0;
let failed = 0;
let skipped = 0;
const stream = run({
  files: [...files].sort(),
  concurrency: chosen.includes("integration") || chosen.includes("e2e") ? 1 : true,
  timeout: 10 * 60_000,
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
stream.compose(spec).pipe(process.stdout);
stream.on("end", () => {
  const zero = files.size === 0 ? " (no test files found)" : "";
  // The plain closing line CI reads.
  process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}${zero}\n`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
});
