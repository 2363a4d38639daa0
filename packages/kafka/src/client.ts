// kafkajs is reached only through this package (see docs/decisions/0001-kafka-client.md).
import kafkajs from "kafkajs";
import type { KafkaSettings } from "./settings.ts";

const { Kafka, logLevel } = kafkajs;

export type KafkaLogLevel = "error" | "warn" | "info" | "debug";
export type KafkaLogSink = (level: KafkaLogLevel, message: string, fields: Record<string, unknown>) => void;

const levelNames: Record<number, KafkaLogLevel> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/** kafkajs logs through `sink` (default: errors to stderr), so services route it to their logger. */
export function createKafka(settings: KafkaSettings, sink?: KafkaLogSink): kafkajs.Kafka {
  // kafkajs warns at every producer start that its default partitioner changed in 2.0; trailstream
  // keys its records and has only ever used the current one.
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";
  const emit: KafkaLogSink =
    sink ?? ((level, message, fields) => level === "error" && console.error(`kafka: ${message}`, fields));
  return new Kafka({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    ...(settings.ssl ? { ssl: true } : {}),
    ...(settings.sasl ? { sasl: { ...settings.sasl } as kafkajs.SASLOptions } : {}),
    connectionTimeout: 5_000,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...fields } = log;
        emit(levelNames[level] ?? "info", message, fields);
      },
  });
}
