// The one shape every ingester source has, so the ingester wires, drains and watches them alike.

export interface Source {
  /** For logs and readiness reasons, e.g. `sqs:https://…/queue` or `kinesis:stream`. */
  readonly name: string;
  /** Begins taking work in the background; calling it again does nothing. */
  start(): void;
  /**
   * Stops taking work; what is in flight gets up to `drainMs` to finish and be acknowledged, the
   * rest is handed back upstream (a source whose units are small may simply finish them).
   */
  stop(drainMs: number): Promise<void>;
  /** Why the source is not ready now; empty when it is. A source stopped for good stays not ready. */
  ready(): string[];
}
