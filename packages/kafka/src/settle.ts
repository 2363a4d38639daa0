/**
 * Waits for `work` to settle, at most `ms` (no bound when not finite). True when it settled in time.
 * A close uses it to bound its drain: a loop stuck in a JoinGroup that waits out the rebalance
 * timeout for a dead member (60 s) must not hold a SIGTERM past the service's grace period.
 */
export async function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = work.then(
    () => true,
    () => true,
  );
  if (!Number.isFinite(ms)) return settled;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}
