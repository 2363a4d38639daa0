// Real records from the shared reference data (Stratus Red Team detonation logs, Apache-2.0),
// read through the copy the bucket-tree package ships, so the tests need nothing outside the repo.
import { readdirSync, readFileSync } from "node:fs";
import type { CloudTrailRecord } from "../src/index.ts";

const dir = new URL("../../bucket-tree/templates/stratus/", import.meta.url);

export function realRecords(): CloudTrailRecord[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith(".json"))
    .sort()
    .flatMap((n) => JSON.parse(readFileSync(new URL(n, dir), "utf8")) as CloudTrailRecord[]);
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
