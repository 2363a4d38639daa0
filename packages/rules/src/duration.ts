import { parseDuration as parseText } from "@trailstream/runtime/duration";

/**
 * A rule file's duration: the one grammar of every setting (`500ms`, `30s`, `5m`, `1h30m`, `1d`) or
 * a YAML number of milliseconds; undefined when malformed or not positive.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const ms = parseText(value);
  return ms !== null && ms > 0 ? ms : undefined;
}
