// The @platformatic/kafka side of a KafkaClient handle: connection options from KafkaSettings, fast
// retries, and the partitioner Kafka's Java client (and kafkajs before) use.
import type { BaseOptions, compatibilityPartitioner } from "@platformatic/kafka";
import { clientSettingsOf, type KafkaClient } from "../client.ts";
import { keyPartition } from "../murmur2.ts";

const MECHANISMS = { plain: "PLAIN", "scram-sha-256": "SCRAM-SHA-256", "scram-sha-512": "SCRAM-SHA-512" } as const;

/** Every error in an error's chain (the library nests them in `errors` and `cause`). */
function* chain(
  error: unknown,
  seen = new Set<unknown>(),
): Generator<{ message?: string; code?: string; apiId?: string }> {
  if (!error || typeof error !== "object" || seen.has(error)) return;
  seen.add(error);
  const e = error as { message?: string; code?: string; apiId?: string; errors?: unknown[]; cause?: unknown };
  yield e;
  for (const inner of e.errors ?? []) yield* chain(inner, seen);
  yield* chain(e.cause, seen);
}

/** SASL refused the credentials: retrying will not help. */
export function isAuthenticationFailure(error: unknown): boolean {
  for (const e of chain(error)) {
    if (e.code === "PLT_KFK_AUTHENTICATION" || e.apiId === "SASL_AUTHENTICATION_FAILED") return true;
  }
  return false;
}

/** The distinct messages of an error's chain, outermost first: the library's top message alone says little. */
export function describeError(error: unknown): string {
  const messages: string[] = [];
  for (const e of chain(error)) if (e.message && !messages.includes(e.message)) messages.push(e.message);
  return messages.join(": ") || String(error);
}

/** An error whose message names its causes (what the CLI and the logs print). */
export function clearError(error: unknown): Error {
  return new Error(describeError(error), { cause: error });
}

/** Retries a failed request up to 30 times, 100 ms doubling to at most 1 s apart (as kafkajs did here). */
export const RETRIES = 30;

/**
 * The first wait before a request refused with CONCURRENT_TRANSACTIONS is asked again. A
 * transaction's first AddPartitionsToTxn, sent just after the previous one's EndTxn, is refused
 * until the coordinator has written that commit's markers, which takes milliseconds: the 100 ms of
 * the other retries was most of the enricher's latency tail at 5,000 events/s. Kafka's Java producer
 * waits 20 ms there for the same reason (KAFKA-5477).
 */
export const CONCURRENT_TRANSACTIONS_RETRY_MS = 5;

function isConcurrentTransactions(error: unknown): boolean {
  for (const e of chain(error)) if (e.apiId === "CONCURRENT_TRANSACTIONS") return true;
  return false;
}
export function retryDelay(
  client: unknown,
  _operation: string,
  attempt: number,
  _retries: number,
  error: Error,
): number {
  if (isAuthenticationFailure(error)) {
    // The library retries a connection whose SASL handshake was refused like a network failure
    // (the AuthenticationError is the cause of a retriable NetworkError): close the client, which
    // ends the retries at once with the error, as kafkajs failed at once.
    setImmediate(() => (client as { close(): Promise<void> }).close().catch(() => {}));
    return 0;
  }
  const first = isConcurrentTransactions(error) ? CONCURRENT_TRANSACTIONS_RETRY_MS : 100;
  return Math.min(1_000, first * 2 ** Math.max(0, attempt - 1));
}

export function baseOptions(client: KafkaClient, clientIdSuffix = ""): BaseOptions {
  const { settings } = clientSettingsOf(client);
  return {
    clientId: `${settings.clientId}${clientIdSuffix}`,
    bootstrapBrokers: [...settings.brokers],
    connectTimeout: 5_000,
    timeout: 30_000,
    retries: RETRIES,
    retryDelay,
    autocreateTopics: false,
    ...(settings.ssl ? { tls: {} } : {}),
    ...(settings.sasl
      ? {
          sasl: {
            mechanism: MECHANISMS[settings.sasl.mechanism],
            username: settings.sasl.username,
            password: settings.sasl.password,
          },
        }
      : {}),
  };
}

/** The producer options for KAFKA_COMPRESSION: none unless a codec was chosen. */
export function producerCompression(client: KafkaClient): { compression?: "gzip" | "zstd" } {
  const { compression } = clientSettingsOf(client).settings;
  return compression === undefined || compression === "none" ? {} : { compression };
}

/**
 * murmur2 of the key, made positive by masking as Kafka's Java client and kafkajs do (the library's
 * default partitioner uses `>>> 0`, which puts some keys on other partitions than kafkajs did): the
 * library's compatibilityPartitioner, computed without BigInt (murmur2.ts).
 */
export const partitioner: typeof compatibilityPartitioner = keyPartition;
