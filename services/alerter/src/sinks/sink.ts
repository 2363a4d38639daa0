// A place alerts go. The dispatcher (../deliver.ts) retries each delivery with backoff and
// dead-letters what a sink still refuses, so a sink that stays down never stops the stream.
import type { SinkKind } from "@trailstream/cloudtrail";
import type { AlertDocument } from "../alert.ts";

export interface Sink {
  /** Bounded label for metrics and the DLQ reason: kafka, alertmanager, webhook, slack. */
  readonly kind: SinkKind;
  /** Where it delivers, safe to log (no credentials, no secret path). */
  readonly target: string;
  /** "batch": one call takes all alerts of a batch; "alert": one call per alert. */
  readonly unit: "batch" | "alert";
  /**
   * true: a failure fails the whole batch (not committed, it comes again) instead of dead-lettering.
   * The Kafka sink is critical: the DLQ is on the same Kafka, and its client retries by itself.
   */
  readonly critical?: boolean;
  /** Resolves once the sink has the alerts; throws PermanentError for answers a retry cannot change. */
  deliver(alerts: readonly AlertDocument[]): Promise<void>;
}
