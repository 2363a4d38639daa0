// Configuration comes from environment variables, read once at start and checked all at once, so
// an operator sees every problem in one go: one line per problem, then the service exits.
import { parseDuration } from "./duration.ts";

export { parseDuration };

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = problems;
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Reads typed settings, collecting problems instead of throwing at the first. */
export class ConfigReader {
  readonly #env: Env;
  readonly #problems: string[] = [];
  readonly #warn: (message: string) => void;

  /** `warn` hears about settings that still work but should be written otherwise. */
  constructor(env: Env = process.env, warn: (message: string) => void = () => {}) {
    this.#env = env;
    this.#warn = warn;
  }

  string(name: string, fallback?: string): string {
    const value = this.#env[name]?.trim();
    if (value) return value;
    if (fallback !== undefined) return fallback;
    this.#problems.push(`${name} is required`);
    return "";
  }

  optionalString(name: string): string | undefined {
    const value = this.#env[name]?.trim();
    return value ? value : undefined;
  }

  integer(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const raw = this.#env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
    if (!Number.isInteger(value) || value < min || value > max) {
      this.#problems.push(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
      return fallback;
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.#env[name]?.trim().toLowerCase();
    if (!raw) return fallback;
    if (["1", "true", "yes", "on"].includes(raw)) return true;
    if (["0", "false", "no", "off"].includes(raw)) return false;
    this.#problems.push(`${name} must be true or false, not "${raw}"`);
    return fallback;
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const raw = this.#env[name]?.trim();
    if (!raw) return fallback;
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    this.#problems.push(`${name} must be one of ${choices.join(", ")}, not "${raw}"`);
    return fallback;
  }

  list(name: string, fallback: readonly string[] = []): string[] {
    const raw = this.#env[name]?.trim();
    if (!raw) return [...fallback];
    return raw
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  }

  /**
   * A duration setting (`30s`, `5m`, `1h30m`, `500ms`) in milliseconds, at least `min`. Where a bare
   * number meant something before (`bareUnit`), it still does, with a deprecation warning.
   */
  duration(name: string, fallback: string, options: { min?: string; bareUnit?: "ms" | "s" } = {}): number {
    const text = this.string(name, fallback);
    let ms = parseDuration(text);
    if (ms === null && options.bareUnit && /^\d+$/.test(text)) {
      ms = Number(text) * (options.bareUnit === "s" ? 1_000 : 1);
      this.#warn(
        `${name}=${text}: a bare number is read as ${options.bareUnit === "s" ? "seconds" : "milliseconds"}, as before, but is deprecated: write ${text}${options.bareUnit}`,
      );
    }
    const minMs = parseDuration(options.min ?? "0") ?? 0;
    this.require(
      ms !== null && ms >= minMs,
      `${name} must be a duration like 30s, 5m or 1h30m${options.min ? ` (at least ${options.min})` : ""}, not "${text}"`,
    );
    return ms ?? parseDuration(fallback) ?? minMs;
  }

  /** A check that spans settings: records `problem` when `ok` is false. */
  require(ok: boolean, problem: string): void {
    if (!ok) this.#problems.push(problem);
  }

  /** Throws a ConfigError listing every problem found so far, if any. */
  done(): void {
    if (this.#problems.length > 0) throw new ConfigError(this.#problems);
  }
}
