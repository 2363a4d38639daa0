import { readdir, readFile } from "node:fs/promises";
import type { CloudTrailRecord } from "@trailstream/cloudtrail";

export const STRATUS_TEMPLATES = new URL("../templates/stratus/", import.meta.url);

/** Reads every `*.json` array of records in a folder (sorted by name, so the order is stable). */
export async function loadTemplates(dir: URL | string = STRATUS_TEMPLATES): Promise<CloudTrailRecord[]> {
  const base = typeof dir === "string" ? dir : dir.pathname;
  const names = (await readdir(base)).filter((n) => n.endsWith(".json")).sort();
  const records: CloudTrailRecord[] = [];
  for (const name of names) {
    const parsed: unknown = JSON.parse(await readFile(`${base.replace(/\/?$/, "/")}${name}`, "utf8"));
    if (!Array.isArray(parsed)) throw new Error(`${name}: expected a JSON array of CloudTrail records`);
    records.push(...(parsed as CloudTrailRecord[]));
  }
  return records;
}
