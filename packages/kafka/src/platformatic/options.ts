// The @platformatic/kafka side of a KafkaClient handle: connection options from the same settings
// kafkajs gets, the same fast retries, and the partitioner kafkajs and Kafka's Java client use.
import { type BaseOptions, compatibilityPartitioner } from "@platformatic/kafka";
import { clientSettingsOf, type KafkaClient } from "../client.ts";

const MECHANISMS = { plain: "PLAIN", "scram-sha-256": "SCRAM-SHA-256", "scram-sha-512": "SCRAM-SHA-512" } as const;

/** Retries a failed request up to 30 times, 100 ms doubling to at most 1 s apart (as kafkajs here). */
export const RETRIES = 30;
export function retryDelay(_client: unknown, _operation: string, attempt: number): number {
  return Math.min(1_000, 100 * 2 ** Math.max(0, attempt - 1));
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

/**
 * murmur2 of the key, made positive by masking as Kafka's Java client and kafkajs do (the library's
 * default partitioner uses `>>> 0`, which puts some keys on other partitions than kafkajs did).
 */
export const partitioner = compatibilityPartitioner;
