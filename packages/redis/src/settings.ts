// The Redis settings every service reads the same way: REDIS_URL with REDIS_USERNAME and
// REDIS_PASSWORD beside it (the chart passes them from a Secret, so the URL in a ConfigMap never
// holds one), and the client's timeouts. A RedisSettings value holds the password: log describe().
import { describeTarget, parseRedisUrl, REDIS_URL_FORMS, type RedisTarget, RedisUrlError } from "./target.ts";

export interface RedisSettings {
  target: RedisTarget;
  /** A command (or a batch) without an answer within this fails with RedisTimeoutError. */
  commandTimeoutMs: number;
  /** Reconnection backoff doubles from 100 ms up to this. */
  retryMaxMs: number;
  /** Connecting (TCP, TLS, AUTH) may take this long before the attempt counts as failed. */
  connectTimeoutMs: number;
}

/** What readRedisSettings needs of a settings reader: it collects problems instead of throwing. */
export interface SettingsReader {
  string(name: string, fallback?: string): string;
  optionalString(name: string): string | undefined;
  integer(name: string, fallback: number, range?: { min?: number; max?: number }): number;
  require(ok: boolean, problem: string): void;
}

export const REDIS_DEFAULTS = { commandTimeoutMs: 2_000, retryMaxMs: 5_000, connectTimeoutMs: 5_000 } as const;

/** The settings, for tests and tools that have a URL in hand. */
export function redisSettings(url: string, options: Partial<Omit<RedisSettings, "target">> = {}): RedisSettings {
  return { target: parseRedisUrl(url), ...REDIS_DEFAULTS, ...options };
}

/**
 * REDIS_URL (required), REDIS_USERNAME, REDIS_PASSWORD, REDIS_TIMEOUT_MS, REDIS_RETRY_MAX_MS and
 * REDIS_CONNECT_TIMEOUT_MS. A bad URL is one problem among the reader's others.
 */
export function readRedisSettings(r: SettingsReader): RedisSettings {
  const url = r.string("REDIS_URL");
  const username = r.optionalString("REDIS_USERNAME");
  const password = r.optionalString("REDIS_PASSWORD");
  let target: RedisTarget = { kind: "single", tls: false, credentials: {}, node: { host: "", port: 6379 }, db: 0 };
  if (url) {
    try {
      target = parseRedisUrl(url, { ...(username ? { username } : {}), ...(password ? { password } : {}) });
    } catch (error) {
      r.require(false, error instanceof RedisUrlError ? error.message : `REDIS_URL must look like ${REDIS_URL_FORMS}`);
    }
  }
  return {
    target,
    commandTimeoutMs: r.integer("REDIS_TIMEOUT_MS", REDIS_DEFAULTS.commandTimeoutMs, { min: 10, max: 60_000 }),
    retryMaxMs: r.integer("REDIS_RETRY_MAX_MS", REDIS_DEFAULTS.retryMaxMs, { min: 100, max: 300_000 }),
    connectTimeoutMs: r.integer("REDIS_CONNECT_TIMEOUT_MS", REDIS_DEFAULTS.connectTimeoutMs, {
      min: 100,
      max: 120_000,
    }),
  };
}

/** The settings without secrets, for the start-up log line. */
export function describeRedisSettings(s: RedisSettings): Record<string, unknown> {
  return {
    url: describeTarget(s.target),
    commandTimeoutMs: s.commandTimeoutMs,
    retryMaxMs: s.retryMaxMs,
    connectTimeoutMs: s.connectTimeoutMs,
  };
}

/** The Redis settings as one entry of a service's settings spec (packages/runtime's `setting.group`). */
export const REDIS_SETTING_DOCS = [
  {
    name: "REDIS_URL",
    type: "url",
    default: "",
    range: "required",
    doc: "`redis://`/`rediss://` (TLS) server, `redis+sentinel://s1,s2/master` or `redis+cluster://n1:6379,n2:6379` (decision 0009)",
  },
  {
    name: "REDIS_USERNAME",
    type: "string",
    default: "",
    range: "",
    doc: "ACL user; wins over the URL's (from a Secret)",
  },
  {
    name: "REDIS_PASSWORD",
    type: "secret",
    default: "",
    range: "",
    doc: "Password; wins over the URL's (from a Secret)",
  },
  {
    name: "REDIS_TIMEOUT_MS",
    type: "integer",
    default: String(REDIS_DEFAULTS.commandTimeoutMs),
    range: "10..60000",
    doc: "A Redis call (or batch) slower than this fails, ms",
  },
  {
    name: "REDIS_RETRY_MAX_MS",
    type: "integer",
    default: String(REDIS_DEFAULTS.retryMaxMs),
    range: "100..300000",
    doc: "Reconnection backoff doubles from 100 ms up to this, ms",
  },
  {
    name: "REDIS_CONNECT_TIMEOUT_MS",
    type: "integer",
    default: String(REDIS_DEFAULTS.connectTimeoutMs),
    range: "100..120000",
    doc: "One connection attempt (TCP, TLS, AUTH) may take this long, ms",
  },
] as const;

export const redisSetting = { entries: REDIS_SETTING_DOCS, read: readRedisSettings };
