// packages/kafka is the one place that knows the Kafka client library (docs/decisions/0001), so the
// library can be swapped in one package: no other file imports one, no other package depends on one.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";

const ROOT = resolve(import.meta.dirname, "../..");
const CLIENTS = ["kafkajs", "@confluentinc/kafka-javascript", "node-rdkafka", "@platformatic/kafka", "kafka-node"];
const clientPattern = CLIENTS.map((c) => c.replace(/[/.@-]/g, "\\$&")).join("|");
const IMPORT = new RegExp(
  String.raw`(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'](?:${clientPattern})(?:/[^"']*)?["']`,
);

/** Files git knows of (committed or not yet), without what .gitignore leaves out. */
function files(): string[] {
  const out = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return out.split("\n").filter((f) => f && !f.startsWith("packages/kafka/"));
}

test("the import pattern finds every form of import of a Kafka client", () => {
  for (const line of [
    `import kafkajs from "kafkajs";`,
    `import type { Kafka } from 'kafkajs';`,
    `const { Kafka } = await import("kafkajs");`,
    `const k = require("node-rdkafka");`,
    `import { KafkaJS } from "@confluentinc/kafka-javascript";`,
    `import { Producer } from "@platformatic/kafka/producer";`,
  ]) {
    assert.match(line, IMPORT, line);
  }
  assert.doesNotMatch(`import { createKafka } from "@trailstream/kafka";`, IMPORT);
  assert.doesNotMatch(`// kafkajs restarts a consumer`, IMPORT);
});

test("no file outside packages/kafka imports a Kafka client library", () => {
  const offenders = files()
    .filter((f) => /\.(?:[cm]?[jt]s|tsx)$/.test(f) && f !== "test/unit/kafka-boundary.test.ts")
    .filter((f) => IMPORT.test(readFileSync(resolve(ROOT, f), "utf8")));
  assert.deepEqual(offenders, [], "import Kafka through @trailstream/kafka instead");
});

test("no package.json outside packages/kafka depends on a Kafka client library", () => {
  const offenders = files()
    .filter((f) => f.endsWith("package.json"))
    .filter((f) => {
      const pkg = JSON.parse(readFileSync(resolve(ROOT, f), "utf8")) as Record<string, Record<string, string>>;
      const deps = {
        ...pkg.dependencies,
        ...pkg.devDependencies,
        ...pkg.optionalDependencies,
        ...pkg.peerDependencies,
      };
      return CLIENTS.some((c) => c in deps);
    });
  assert.deepEqual(offenders, []);
});
