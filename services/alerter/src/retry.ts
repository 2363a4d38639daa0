// Bounded retry with capped exponential backoff for the sinks: a sink that stays down costs a batch
// at most `retries` extra attempts, then the caller dead-letters the alert and the stream goes on.

export interface RetryPolicy {
  /** Attempts after the first one. */
  retries: number;
  baseMs: number;
  maxMs: number;
  /** 0..1: how much of each delay is randomized (spreads replicas apart). 0 in tests. */
  jitter?: number;
}

/** The delay before retry number `retry` (1-based): base·2^(retry-1), capped at maxMs. */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const exact = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, retry - 1));
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? 0));
  return Math.round(exact * (1 - jitter * random()));
}

/** The delays a failing call goes through before it gives up. */
export function backoffSchedule(policy: RetryPolicy): number[] {
  return Array.from({ length: policy.retries }, (_, i) => backoffMs({ ...policy, jitter: 0 }, i + 1));
}

/** An error that retrying will not fix (a 4xx answer): the alert goes to the DLQ at once. */
export class PermanentError extends Error {
  override readonly name = "PermanentError";
}

export type RetryOutcome<T> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; error: unknown; attempts: number; permanent: boolean };

export async function withRetry<T>(
  call: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  options: {
    sleep?: (ms: number) => Promise<void>;
    onError?: (error: unknown, attempt: number) => void;
    /** Checked before each retry: false stops early (shutting down). */
    shouldRetry?: () => boolean;
  } = {},
): Promise<RetryOutcome<T>> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let attempt = 0;
  for (;;) {
    attempt++;
    try {
      return { ok: true, value: await call(attempt), attempts: attempt };
    } catch (error) {
      options.onError?.(error, attempt);
      const permanent = error instanceof PermanentError;
      if (permanent || attempt > policy.retries || options.shouldRetry?.() === false) {
        return { ok: false, error, attempts: attempt, permanent };
      }
      await sleep(backoffMs(policy, attempt));
    }
  }
}
