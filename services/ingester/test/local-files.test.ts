// One local log-file lister: `trailstream replay` (the files source) and `scan` find the same files
// in the same order under the same tree.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { listInputs } from "../../cli/src/scan/inputs.ts";
import { LocalPathError, listLogFiles } from "../src/sources/files/list.ts";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tree(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "local-files-"));
  dirs.push(root);
  const logs = join(root, "bucket", "AWSLogs", "111111111111", "CloudTrail", "us-east-1", "2026", "11", "25");
  await mkdir(logs, { recursive: true });
  await writeFile(join(logs, "b.json.gz"), "");
  await writeFile(join(logs, "a.JSON"), "");
  await writeFile(join(logs, "a.json.gz.metadata"), "{}");
  await writeFile(join(root, "public-keys.json"), "{}");
  await writeFile(join(root, "notes.txt"), "");
  // A loop back to the root is walked once.
  await symlink(root, join(root, "bucket", "again"));
  return root;
}

test("a folder: its log files in path order, keys relative to it, public-keys.json and other names left out", async () => {
  const root = await tree();
  const files = await listLogFiles([root]);
  const prefix = "bucket/AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/25/";
  assert.deepEqual(
    files.map((f) => f.key),
    [`${prefix}a.JSON`, `${prefix}b.json.gz`],
  );
  assert.deepEqual(
    files.map((f) => f.path),
    files.map((f) => join(root, f.key)),
  );
});

test("scan's inputs are the lister's files, in the same order", async () => {
  const root = await tree();
  const listed = await listLogFiles([root]);
  const inputs = await listInputs([root]);
  assert.deepEqual(
    inputs.map((i) => [i.name, i.key]),
    listed.map((f) => [f.path, f.key]),
  );
});

test("a missing path, and a folder with no log file, are LocalPathErrors", async () => {
  const root = await mkdtemp(join(tmpdir(), "local-files-"));
  dirs.push(root);
  await writeFile(join(root, "notes.txt"), "");
  await assert.rejects(listLogFiles([join(root, "missing")]), LocalPathError);
  await assert.rejects(listLogFiles([root]), /no CloudTrail log files .* \(1 files skipped by name\)/);
});
