import { safe } from "../text.ts";
import type { ScanReport } from "./report.ts";

const usd = (n: number) => `$${n.toFixed(n > 0 && n < 0.01 ? 4 : 2)}`;
const int = (n: number) => n.toLocaleString("en-US");

/** The human summary of a scan, for a terminal. */
export function renderReport(r: ScanReport): string {
  const lines: string[] = [];
  lines.push(
    `Files read         ${int(r.files)}${r.filesSkipped ? ` (${int(r.filesSkipped)} digest files skipped)` : ""}`,
    `Records read       ${int(r.records)}${r.invalidRecords ? ` (${int(r.invalidRecords)} invalid)` : ""}`,
    ...(r.selectedOut === null
      ? []
      : [`Selected out       ${int(r.selectedOut)} records no --selectors selector keeps`]),
    `Unique events      ${int(r.uniqueEvents)}`,
    `Copies collapsed   ${int(r.copiesCollapsed)}  costing ${usd(r.copyCostUsd)} at ${usd(r.prices.managementPer100k)} per 100k management and ${usd(r.prices.dataPer100k)} per 100k data events`,
  );
  if (r.timeSpan) lines.push(`Time span          ${safe(r.timeSpan.first)} .. ${safe(r.timeSpan.last)}`);
  if (r.unreadableEventTimes > 0)
    lines.push(`                   (${int(r.unreadableEventTimes)} events with an eventTime that is not a time)`);
  if (r.corrections > 0)
    lines.push(`Corrections        ${int(r.corrections)} events correct an earlier one (UPDATED_DATA)`);
  if (r.identityConflicts > 0)
    lines.push(
      `Identity conflicts ${int(r.identityConflicts)} records reuse an eventID with other content (the first was kept)`,
    );
  lines.push(
    `Errors             ${int(r.errorEvents)} events failed, ${int(r.accessDenied)} of them access denied${formatClasses(r.errorsByClass)}`,
  );

  lines.push("", "Copies per trail location (bucket/prefix, account, region)");
  const width = Math.max(8, ...r.locations.map((l) => safe(l.location).length));
  lines.push(
    `  ${"location".padEnd(width)}  ${"files".padStart(7)}  ${"records".padStart(9)}  ${"copies".padStart(9)}  ${"cost".padStart(9)}`,
  );
  for (const l of r.locations) {
    lines.push(
      `  ${safe(l.location).padEnd(width)}  ${int(l.files).padStart(7)}  ${int(l.records).padStart(9)}  ${int(l.copies).padStart(9)}  ${usd(l.copyCostUsd).padStart(9)}`,
    );
  }

  lines.push(
    "",
    "Top event sources",
    ...r.topEventSources.map((s) => `  ${int(s.count).padStart(9)}  ${safe(s.name)}`),
  );
  lines.push("", "Top event names", ...r.topEventNames.map((s) => `  ${int(s.count).padStart(9)}  ${safe(s.name)}`));

  if (r.alerts) {
    const raised = r.alerts.filter((a) => a.alerts > 0);
    lines.push(
      "",
      `Alerts the rules would raise (${int(raised.reduce((n, a) => n + a.alerts, 0))} from ${raised.length} rules)`,
    );
    for (const a of raised) {
      const credit = a.author ? ` (Sigma ${a.ruleId} by ${a.author})` : "";
      lines.push(`  ${int(a.alerts).padStart(7)}  ${a.severity.padEnd(8)}  ${safe(a.title)}${safe(credit)}`);
      if (a.correlation)
        lines.push(`           correlation: ${safe(a.correlation)}; groups ${safe((a.groups ?? []).join(" "))}`);
    }
  }
  if (r.ruleErrors && r.ruleErrors.length > 0) {
    lines.push("", `Rules that failed on some events, counted as no match (${r.ruleErrors.length})`);
    for (const e of r.ruleErrors) lines.push(`  ${safe(e.ruleId)}: ${int(e.events)} events; ${safe(e.reason)}`);
  }

  if (r.integrity) {
    const i = r.integrity;
    lines.push(
      "",
      `Integrity (digests)  ${int(i.logFilesValid)} log files and ${int(i.digestsValid)} digests valid, ${int(i.problems.length)} problems${i.logFilesNotYetCovered ? `; ${int(i.logFilesNotYetCovered)} log files newer than the digests` : ""}`,
      ...i.problems.map((p) => `  ${p.kind.padEnd(22)} s3://${p.bucket}/${p.key}\n  ${"".padEnd(22)} ${p.message}`),
    );
  }

  if (r.errors.length > 0) {
    lines.push(
      "",
      `Files that could not be read (${r.errors.length})`,
      ...r.errors.map((e) => `  ${safe(e.file)}: ${safe(e.reason)}`),
    );
  }
  if (r.invalidRecords > 0) {
    lines.push("", `Invalid records (${int(r.invalidRecords)}, first ${r.recordErrors.length} shown)`);
    lines.push(
      ...r.recordErrors.map((e) => `  ${safe(e.file)}${e.index === null ? "" : ` #${e.index}`}: ${safe(e.reason)}`),
    );
  }
  if (r.dedupClaimsForgotten > 0) {
    lines.push(
      "",
      `Note: ${int(r.dedupClaimsForgotten)} identities were forgotten to stay within --max-identities; some copies may be counted as unique.`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function formatClasses(classes: Record<string, number>): string {
  const parts = Object.entries(classes)
    .sort((a, b) => b[1] - a[1])
    .map(([name, count]) => `${name} ${int(count)}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}
