import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import type { TreeTruth } from "@trailstream/bucket-tree";

const run = promisify(execFile);
const main = new URL("../src/main.ts", import.meta.url).pathname;

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "trailstream-validate-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sample(name: string, ...flags: string[]): Promise<{ out: string; truth: TreeTruth }> {
  const out = join(dir, name);
  const { stdout } = await run(process.execPath, [main, "sample", "--windows", "14", ...flags, out]);
  return { out, truth: JSON.parse(stdout) as TreeTruth };
}

async function validate(...args: string[]): Promise<{ code: number; report: Record<string, unknown>; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [
      main,
      "scan",
      "--validate",
      "--no-rules",
      "--no-progress",
      ...args,
    ]);
    return { code: 0, report: args.includes("--json") ? JSON.parse(stdout) : {}, stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, report: args.includes("--json") && e.stdout ? JSON.parse(e.stdout) : {}, stdout: e.stdout };
  }
}

interface Integrity {
  logFilesValid: number;
  digestsValid: number;
  problems: { kind: string; bucket: string; key: string }[];
}

describe("scan --validate on the sample tree", () => {
  test("an untouched tree: every log file and digest valid, exit 0", async () => {
    const { out, truth } = await sample("clean");
    assert.ok(truth.integrity && truth.integrity.digests > 9 && truth.integrity.expected.length === 0);
    const { code, report } = await validate("--json", out);
    const integrity = report.integrity as Integrity;
    assert.equal(code, 0);
    assert.deepEqual(integrity.problems, []);
    assert.equal(integrity.logFilesValid, truth.files);
    assert.equal(integrity.logFilesValid, truth.integrity.logFilesListed);
    assert.equal(integrity.digestsValid, truth.integrity.digests);
  });

  test("--tamper: exactly the edited log file and the deleted digest, each of its kind, exit 4", async () => {
    const { out, truth } = await sample("tampered", "--tamper");
    const { code, report, stdout } = await validate("--json", out);
    assert.equal(code, 4);
    const integrity = report.integrity as Integrity;
    const found = integrity.problems.map((p) => ({ kind: p.kind, bucket: p.bucket, key: p.key }));
    assert.deepEqual(
      found.sort((a, b) => a.kind.localeCompare(b.kind)),
      [...(truth.integrity?.expected ?? [])].sort((a, b) => a.kind.localeCompare(b.kind)),
      stdout.slice(0, 2000),
    );
    assert.equal(integrity.logFilesValid, truth.files - 1);
    const text = await validate(out);
    assert.match(text.stdout, /hash-mismatch/);
    assert.match(text.stdout, /digest-missing/);
  });

  test("keys from elsewhere: unknown-key; a signature not kept beside its digest: signature-invalid", async () => {
    const { out } = await sample("keys");
    const keys = join(dir, "other-keys.json");
    const { stdout } = await run(process.execPath, [main, "sample", "--windows", "1", join(dir, "other")]);
    assert.ok(stdout.length > 0);
    await writeFile(keys, await readFile(join(dir, "other", "public-keys.json")));
    const { code, report } = await validate("--json", "--public-keys", keys, out);
    assert.equal(code, 4);
    const kinds = new Set((report.integrity as Integrity).problems.map((p) => p.kind));
    assert.deepEqual([...kinds], ["unknown-key"]);
    const missing = await validate("--json", "--public-keys", join(dir, "nope.json"), out);
    assert.equal(missing.code, 2);
    // A digest whose signature was not kept beside it cannot be believed.
    const { stdout: find } = await run("find", [out, "-name", "*.metadata"]);
    const first = find
      .split("\n")
      .filter((l) => l)
      .sort()[0];
    assert.ok(first);
    await rm(first);
    const unsigned = await validate("--json", out);
    assert.equal(unsigned.code, 4);
    const problems = (unsigned.report.integrity as Integrity).problems;
    assert.deepEqual(
      problems.map((p) => p.kind),
      ["signature-invalid"],
    );
    assert.equal(`${out}/${problems[0]?.bucket}/${problems[0]?.key}.metadata`, first);
  });
});
