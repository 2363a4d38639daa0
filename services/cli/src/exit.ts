// The exit codes every trailstream command uses (documented in `trailstream --help`).
export const EXIT = { ok: 0, failure: 1, usage: 2, partial: 3, integrity: 4 } as const;

/** A mistake in how the command was called: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
