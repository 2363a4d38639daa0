// Small helpers the sources share.

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Exponential backoff with full jitter: a random delay in [base/2, min(cap, base * 2^attempt)]. */
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

export function errorName(error: unknown): string {
  if (error instanceof Error) return error.name;
  return typeof error;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The HTTP status an AWS SDK v3 error carries, if any. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("$metadata" in error)) return undefined;
  const meta = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  return meta?.httpStatusCode;
}

/** Writes to Kafka that may still be in flight, each already observed so none goes unhandled. */
export class Acks {
  readonly #settled: Promise<unknown>[] = [];
  add(p: Promise<void>): void {
    this.#settled.push(
      p.then(
        () => undefined,
        (error: unknown) => ({ error }),
      ),
    );
  }
  get size(): number {
    return this.#settled.length;
  }
  async oldest(): Promise<void> {
    const first = this.#settled.shift();
    const r = await first;
    if (r && typeof r === "object" && "error" in r) throw r.error;
  }
  async all(): Promise<void> {
    while (this.#settled.length > 0) await this.oldest();
  }
}
