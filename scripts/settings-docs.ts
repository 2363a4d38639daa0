// Writes each service's settings table in docs/<service>.md from its settings spec
// (services/<service>/src/settings.ts), between the two marker lines.
//   node scripts/settings-docs.ts           rewrite the tables
//   node scripts/settings-docs.ts --check   exit 1, naming the files, when a table is stale (CI)
import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { entriesOf, type SettingDoc, type SettingsSpec } from "../packages/runtime/src/settings.ts";
import { SETTINGS as alerter } from "../services/alerter/src/settings.ts";
import { SETTINGS as enricher } from "../services/enricher/src/settings.ts";
import { SETTINGS as ingester } from "../services/ingester/src/settings.ts";

const ROOT = resolve(import.meta.dirname, "..");
export const SPECS: Record<string, SettingsSpec> = { ingester, enricher, alerter };

const begin = (service: string) =>
  `<!-- settings table: generated from services/${service}/src/settings.ts by scripts/settings-docs.ts; do not edit -->`;
const END = "<!-- end of settings table -->";

const cell = (text: string) => text.replaceAll("|", "\\|");
const code = (text: string) => (text === "" ? "" : `\`${text}\``);

export function table(entries: readonly SettingDoc[]): string {
  const rows = entries.map((e) => [code(e.name), e.type, code(e.default), cell(e.range), cell(e.doc)]);
  const header = ["variable", "type", "default", "range", "what"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** The document with its table replaced; throws when the markers are missing. */
export function withTable(doc: string, service: string, entries: readonly SettingDoc[]): string {
  const start = doc.indexOf(begin(service));
  const end = doc.indexOf(END, start);
  if (start < 0 || end < 0) throw new Error(`docs/${service}.md has no settings markers:\n${begin(service)}\n${END}`);
  return `${doc.slice(0, start)}${begin(service)}\n\n${table(entries)}\n\n${doc.slice(end)}`;
}

/** The docs whose table differs from the spec (and, unless checking, rewrites them). */
export async function settingsDocs(check: boolean): Promise<string[]> {
  const stale: string[] = [];
  for (const [service, spec] of Object.entries(SPECS)) {
    const path = resolve(ROOT, "docs", `${service}.md`);
    const doc = await readFile(path, "utf8");
    const next = withTable(doc, service, entriesOf(spec));
    if (next === doc) continue;
    stale.push(`docs/${service}.md`);
    if (!check) await writeFile(path, next);
  }
  return stale;
}

if (import.meta.main) {
  const check = process.argv.includes("--check");
  const stale = await settingsDocs(check);
  if (check && stale.length > 0) {
    console.error(`stale settings tables: ${stale.join(", ")}; run node scripts/settings-docs.ts`);
    process.exit(1);
  }
  if (!check) console.log(stale.length > 0 ? `rewrote ${stale.join(", ")}` : "settings tables up to date");
}
