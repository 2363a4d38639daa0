// @platformatic/kafka is reached only through this package (docs/decisions/0001-kafka-client.md);
// the rest of trailstream holds a KafkaClient, an opaque handle, so the library can be swapped here.
// The implementation is in src/platformatic/.
import type { KafkaSettings } from "./settings.ts";

/** Where the client's own log lines go: a pino logger fits. */
export interface KafkaLog {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

/** A connection to one Kafka cluster; hand it to this package's functions. */
export interface KafkaClient {
  readonly clientId: string;
  readonly brokers: readonly string[];
}

const settingsOf = new WeakMap<KafkaClient, { settings: KafkaSettings; log: KafkaLog }>();

/** The settings and log a handle was made with: for this package's modules only (not exported from index.ts). */
export function clientSettingsOf(client: KafkaClient): { settings: KafkaSettings; log: KafkaLog } {
  const found = settingsOf.get(client);
  if (!found) throw new Error("not a KafkaClient made by createKafka()");
  return found;
}

/** Errors to stderr when no log is given (the CLI's replay), everything else dropped. */
const stderrLog: KafkaLog = {
  error: (fields, message) => console.error(`kafka: ${message}`, fields),
  warn: () => {},
  info: () => {},
  debug: () => {},
};

export function createKafka(settings: KafkaSettings, log: KafkaLog = stderrLog): KafkaClient {
  const handle: KafkaClient = Object.freeze({ clientId: settings.clientId, brokers: [...settings.brokers] });
  settingsOf.set(handle, { settings, log });
  return handle;
}
