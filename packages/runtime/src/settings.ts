// One settings spec per service: every environment variable with its type, default, range and one
// line of doc. The reader validates from it (every problem at once, through ConfigReader) and
// scripts/settings-docs.ts writes the tables in docs/ from it, so the two cannot disagree.
import { ConfigReader, type Env } from "./config.ts";

/** One environment variable, as the docs show it. */
export interface SettingDoc {
  name: string;
  type: string;
  /** As an operator would write it; empty when the setting is required or has no default. */
  default: string;
  /** Allowed values or bounds, in words; empty when anything of the type goes. */
  range: string;
  doc: string;
}

/** How to read one value (or a group of related variables, such as Kafka's) from the environment. */
export interface Setting<T> {
  entries: readonly SettingDoc[];
  read(r: ConfigReader): T;
}

export type SettingsSpec = Record<string, Setting<unknown>>;
export type SettingsOf<S extends SettingsSpec> = { [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

/** Every variable of a spec, in the order written, for docs and the chart test. */
export function entriesOf(spec: SettingsSpec): SettingDoc[] {
  return Object.values(spec).flatMap((s) => s.entries);
}

/** Reads every setting of `spec`; problems gather in `r` (call `r.done()` after any cross-checks). */
export function readSpec<S extends SettingsSpec>(spec: S, r: ConfigReader): SettingsOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(spec)) out[key] = setting.read(r);
  return out as SettingsOf<S>;
}

/** Reads a spec with a fresh reader and throws one ConfigError for every problem at once. */
export function loadSpec<S extends SettingsSpec>(
  spec: S,
  env: Env,
  check?: (values: SettingsOf<S>, r: ConfigReader) => void,
  warn?: (message: string) => void,
): SettingsOf<S> {
  const r = new ConfigReader(env, warn);
  const values = readSpec(spec, r);
  check?.(values, r);
  r.done();
  return values;
}

const entry = (name: string, type: string, doc: string, fallback = "", range = ""): SettingDoc => ({
  name,
  type,
  default: fallback,
  range,
  doc,
});

const rangeOf = (min?: number, max?: number): string =>
  min !== undefined && max !== undefined ? `${min}..${max}` : min !== undefined ? `≥ ${min}` : "";

export const setting = {
  /** A string with a default. */
  string(name: string, fallback: string, doc: string): Setting<string> {
    return { entries: [entry(name, "string", doc, fallback)], read: (r) => r.string(name, fallback) };
  },
  /** A string that must be set. */
  required(name: string, doc: string): Setting<string> {
    return { entries: [entry(name, "string", doc, "", "required")], read: (r) => r.string(name) };
  },
  /** A string that may be absent. */
  optional(name: string, doc: string): Setting<string | undefined> {
    return { entries: [entry(name, "string", doc)], read: (r) => r.optionalString(name) };
  },
  integer(name: string, fallback: number, range: { min?: number; max?: number }, doc: string): Setting<number> {
    return {
      entries: [entry(name, "integer", doc, String(fallback), rangeOf(range.min, range.max))],
      read: (r) => r.integer(name, fallback, range),
    };
  },
  boolean(name: string, fallback: boolean, doc: string): Setting<boolean> {
    return { entries: [entry(name, "boolean", doc, String(fallback))], read: (r) => r.boolean(name, fallback) };
  },
  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T, doc: string): Setting<T> {
    return {
      entries: [entry(name, "choice", doc, fallback, choices.join(", "))],
      read: (r) => r.oneOf(name, choices, fallback),
    };
  },
  /** A comma-separated list (empty when unset). */
  list(name: string, doc: string): Setting<string[]> {
    return { entries: [entry(name, "list", doc)], read: (r) => r.list(name) };
  },
  /**
   * A duration (`30s`, `5m`, `1h30m`, `500ms`, `1d`) in milliseconds. A bare number, which older
   * versions took for this setting, keeps its meaning in `bareUnit` and logs a deprecation warning.
   */
  duration(
    name: string,
    fallback: string,
    options: { min?: string; bareUnit?: "ms" | "s" },
    doc: string,
  ): Setting<number> {
    return {
      entries: [entry(name, "duration", doc, fallback, options.min ? `≥ ${options.min}` : "")],
      read: (r) => r.duration(name, fallback, options),
    };
  },
  /** A setting whose value is worked out from others, documented as one or several variables. */
  group<T>(entries: readonly SettingDoc[], read: (r: ConfigReader) => T): Setting<T> {
    return { entries, read };
  },
};

/** The settings the service shell itself reads, shared by every service (defaults per service). */
export function shellSpec(defaults: { metricsPort: number; shutdownGraceMs: number }) {
  return {
    metricsPort: setting.integer(
      "METRICS_PORT",
      defaults.metricsPort,
      { min: 0, max: 65_535 },
      "Port of `/metrics`, `/healthz` and `/readyz` (0: any free port, logged)",
    ),
    logLevel: setting.oneOf(
      "LOG_LEVEL",
      ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const,
      "info",
      "Least severe log level written (JSON lines on stdout)",
    ),
    shutdownGraceMs: setting.integer(
      "SHUTDOWN_GRACE_MS",
      defaults.shutdownGraceMs,
      { min: 100, max: 3_600_000 },
      "After SIGTERM: 60% of this drains work in flight, then the rest closes; past it the process exits 1",
    ),
  };
}
