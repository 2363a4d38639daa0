import pino from "pino";

// Secrets never reach logs: these paths are censored wherever a log line carries them, and
// CloudTrail records are passed through the cloudtrail package's redact() before being logged.
const REDACTED_PATHS = [
  "password",
  "*.password",
  "secret",
  "*.secret",
  "secretAccessKey",
  "*.secretAccessKey",
  "sessionToken",
  "*.sessionToken",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "sasl",
  "*.sasl",
  "redisUrl",
  "*.redisUrl",
];

export type Logger = pino.Logger;

export function createLogger(service: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: { paths: REDACTED_PATHS, censor: "[REDACTED]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

/** A URL with its password replaced, for logs (`redis://:[REDACTED]@host:6379`). */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "[REDACTED]";
    return parsed.toString();
  } catch {
    return "[unparseable URL]";
  }
}
