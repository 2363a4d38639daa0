// The Kafka client library is reached only through this package (docs/decisions/0001-kafka-client.md);
// the rest of trailstream holds a KafkaClient, an opaque handle, so the library can be swapped here.
// Two implementations live here while they are measured against each other: kafkajs (the default)
// and @platformatic/kafka (`KAFKA_CLIENT=platformatic`, src/platformatic/). Admin calls and
// readRanges use kafkajs for both.
import kafkajs from "kafkajs";
import type { KafkaClientKind, KafkaSettings } from "./settings.ts";

const { Kafka, logLevel } = kafkajs;

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
  /** Which library the producers and consumers of this handle use. */
  readonly kind: KafkaClientKind;
}

const clients = new WeakMap<KafkaClient, kafkajs.Kafka>();
const settingsOf = new WeakMap<KafkaClient, { settings: KafkaSettings; log: KafkaLog }>();

/** The settings and log a handle was made with: for the @platformatic/kafka implementation. */
export function clientSettingsOf(client: KafkaClient): { settings: KafkaSettings; log: KafkaLog } {
  const found = settingsOf.get(client);
  if (!found) throw new Error("not a KafkaClient made by createKafka()");
  return found;
}

/** The kafkajs client behind a handle: for this package's modules only (not exported from index.ts). */
export function kafkajsOf(client: KafkaClient): kafkajs.Kafka {
  const found = clients.get(client);
  if (!found) throw new Error("not a KafkaClient made by createKafka()");
  return found;
}

const levelNames = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
} as const;

// kafkajs lines that say nothing an operator can act on, logged at debug instead.
const QUIET = [
  // A bounded retry count on an idempotent producer: a failed send or transaction here is retried by
  // the caller with a fresh producer, so the warning does not apply.
  "Limiting retries for the idempotent producer",
];

/**
 * kafkajs's retries, for every request and every reconnection (they nest: a send retries its
 * connection within each of its own attempts). The wait between two attempts doubles from 200 ms up
 * to `maxRetryTime`, so that cap is also how long a client may go on waiting after a broker that was
 * away answers again. At 10 s it cost up to 10 s per stage after a broker restart (fault campaign,
 * docs/benchmarks.md); at 1 s a client finds the broker within about a second. 30 attempts keep the
 * patience before an error reaches the caller at about 28 s per level, as the 8 attempts up to 10 s
 * did (about 32 s).
 */
export const RETRY = { retries: 30, initialRetryTime: 200, maxRetryTime: 1_000 } as const;

/** Errors to stderr when no log is given (the CLI's replay), everything else dropped. */
const stderrLog: KafkaLog = {
  error: (fields, message) => console.error(`kafka: ${message}`, fields),
  warn: () => {},
  info: () => {},
  debug: () => {},
};

/**
 * The library of a handle whose settings name none: KAFKA_CLIENT of the process's environment, so
 * the whole test suite and the benches can be run against either client (`KAFKA_CLIENT=platformatic
 * node scripts/run-tests.ts ...`); services read KAFKA_CLIENT with their other settings.
 */
function defaultKind(): KafkaClientKind {
  return process.env.KAFKA_CLIENT === "platformatic" ? "platformatic" : "kafkajs";
}

export function createKafka(settings: KafkaSettings, log: KafkaLog = stderrLog): KafkaClient {
  // kafkajs warns at every producer start that its default partitioner changed in 2.0; trailstream
  // keys its records and has only ever used the current one.
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";
  const client = new Kafka({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    ...(settings.ssl ? { ssl: true } : {}),
    ...(settings.sasl ? { sasl: { ...settings.sasl } as kafkajs.SASLOptions } : {}),
    connectionTimeout: 5_000,
    retry: RETRY,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, timestamp: _t, logger: _l, ...fields } = entry;
        const quiet = QUIET.some((q) => String(message).startsWith(q));
        const name = quiet ? "debug" : (levelNames[level as keyof typeof levelNames] ?? "info");
        log[name]({ kafka: fields }, `kafka: ${message}`);
      },
  });
  const handle: KafkaClient = Object.freeze({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    kind: settings.client ?? defaultKind(),
  });
  clients.set(handle, client);
  settingsOf.set(handle, { settings, log });
  return handle;
}
