// packages/redis is the one place that knows the Redis client: a file anywhere else that imports a
// Redis client library fails this test, so changing the client stays a change to one package.
import assert from "node:assert/strict";
import { glob, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { test } from "node:test";

const ROOT = resolve(import.meta.dirname, "../../..");
const CLIENTS = /^(ioredis|redis|iovalkey|@redis\/.*|@valkey\/.*|@ioredis\/.*|redis-.*|node-redis|tedis|handy-redis)$/;
// import … from "x", import("x"), require("x"), export … from "x"
const SPECIFIERS = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;

export function redisClientImports(source: string): string[] {
  return [...source.matchAll(SPECIFIERS)].map((m) => m[1] as string).filter((s) => CLIENTS.test(s));
}

test("the import scan sees every form of import", () => {
  const source = [
    'import Redis from "ioredis";',
    "import { createClient } from 'redis';",
    'const { Cluster } = await import("ioredis");',
    'const r = require("@redis/client");',
    'export { Redis } from "ioredis";',
    'import "iovalkey";',
    'import { openRedis } from "@trailstream/redis";',
    'import { x } from "./redis.ts";',
  ].join("\n");
  assert.deepEqual(redisClientImports(source), ["ioredis", "redis", "ioredis", "@redis/client", "ioredis", "iovalkey"]);
});

test("no file outside packages/redis imports a Redis client library", async () => {
  const offenders: string[] = [];
  let scanned = 0;
  for await (const file of glob("{packages,services,test,bench,scripts,deploy}/**/*.{ts,mts,cts,js,mjs,cjs}", {
    cwd: ROOT,
    exclude: (f) => f.includes("node_modules") || f.startsWith("packages/redis/src"),
  })) {
    scanned++;
    const found = redisClientImports(await readFile(resolve(ROOT, file), "utf8"));
    if (found.length > 0 && !file.startsWith("packages/redis/test/")) offenders.push(`${file}: ${found.join(", ")}`);
  }
  assert.ok(scanned > 100, `scanned only ${scanned} files`);
  assert.deepEqual(offenders, [], "use @trailstream/redis instead");
});
