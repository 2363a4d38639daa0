// kafkajs restarts a consumer whose batch handler threw only when the error is one of its own and
// marked retriable; any other error (a plain Error, a fenced producer's INVALID_PRODUCER_EPOCH)
// stops the consumer for good. Handlers' errors are wrapped so the batch simply comes again.
import kafkajs from "kafkajs";

const { KafkaJSError } = kafkajs;

// The group-membership errors a heartbeat throws: kafkajs rejoins the group on these, by type.
const REJOIN_TYPES = new Set([
  "REBALANCE_IN_PROGRESS",
  "NOT_COORDINATOR_FOR_GROUP",
  "ILLEGAL_GENERATION",
  "UNKNOWN_MEMBER_ID",
]);

export function asRetriable(error: unknown): Error {
  if (error instanceof KafkaJSError) {
    const type = (error as { type?: unknown }).type;
    if (error.retriable || (typeof type === "string" && REJOIN_TYPES.has(type))) return error;
  }
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  // No `cause`: kafkajs judges restarting by the innermost cause's `retriable`.
  return new KafkaJSError(`batch handler failed, the batch comes again: ${text}`, { retriable: true });
}
