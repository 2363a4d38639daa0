// The one duration grammar of trailstream: settings, rule files and the CLI read durations alike.
// No imports, so pure packages (rules) can use it without the service runtime.

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * The one duration grammar of every setting: `500ms`, `30s`, `5m`, `2h`, `1d`, or several
 * (`1h30m`), or `0`; milliseconds, null when the text is not a duration.
 */
export function parseDuration(text: string): number | null {
  if (text.trim() === "0") return 0;
  const parts = [...text.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text.trim()) return null;
  let total = 0;
  for (const [, amount, unit] of parts) total += Number(amount) * (UNITS[unit ?? ""] ?? Number.NaN);
  return Number.isFinite(total) ? Math.round(total) : null;
}
