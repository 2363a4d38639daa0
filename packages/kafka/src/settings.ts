// What a service needs to reach Kafka, read the same way for every service and for `replay`, so
// the chart sets it once. Secrets (SASL passwords) travel here and nowhere else: never log a
// KafkaSettings value.
import { type ConfigReader, type Setting, setting } from "@trailstream/runtime";

export const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512"] as const;

export interface KafkaSasl {
  mechanism: (typeof SASL_MECHANISMS)[number];
  username: string;
  password: string;
}

/** Codecs Node has built in (snappy and lz4 would need native modules). */
export const COMPRESSION_CODECS = ["none", "gzip", "zstd"] as const;
export type CompressionCodec = (typeof COMPRESSION_CODECS)[number];

export interface KafkaSettings {
  brokers: readonly string[];
  clientId: string;
  /** How this service's producers compress their record batches (consumers read any codec). */
  compression?: CompressionCodec;
  ssl?: boolean;
  sasl?: KafkaSasl;
}

/**
 * KAFKA_BROKERS (required, host:port list), KAFKA_CLIENT_ID, KAFKA_SSL and, when
 * KAFKA_SASL_MECHANISM is set, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD. Problems go to the
 * reader, reported with every other setting's.
 */
export function readKafkaSettings(r: ConfigReader, clientId: string, brokersOverride?: string): KafkaSettings {
  const brokers = brokersOverride === undefined ? r.list("KAFKA_BROKERS") : splitList(brokersOverride);
  r.require(brokers.length > 0, "KAFKA_BROKERS is required (host:port, comma separated)");
  for (const b of brokers) r.require(/^[^\s:]+:\d{1,5}$/.test(b), `KAFKA_BROKERS: "${b}" is not host:port`);
  const settings: KafkaSettings = { brokers, clientId: r.string("KAFKA_CLIENT_ID", clientId) };
  if (r.boolean("KAFKA_SSL", false)) settings.ssl = true;
  const compression = r.oneOf("KAFKA_COMPRESSION", COMPRESSION_CODECS, "none");
  if (compression !== "none") settings.compression = compression;
  if (r.optionalString("KAFKA_SASL_MECHANISM") !== undefined) {
    settings.sasl = {
      mechanism: r.oneOf("KAFKA_SASL_MECHANISM", SASL_MECHANISMS, "plain"),
      username: r.string("KAFKA_SASL_USERNAME"),
      password: r.string("KAFKA_SASL_PASSWORD"),
    };
  }
  return settings;
}

function splitList(value: string): string[] {
  return value
    .split(",")
    .map((b) => b.trim())
    .filter((b) => b !== "");
}

/**
 * KAFKA_GROUP_INSTANCE_ID: static group membership (KIP-345). A member that comes back under the
 * same id (a container restarted in its pod) takes its partitions back at once instead of after the
 * session timeout and a rebalance of the whole group. Unique per running process: two live members
 * with one id fence each other. The chart sets it to the pod's name.
 */
export const groupInstanceIdSetting: Setting<string | undefined> = setting.group(
  [
    {
      name: "KAFKA_GROUP_INSTANCE_ID",
      type: "string",
      default: "",
      range: "no spaces; unique per process",
      doc: "Static group membership: a restart under the same id takes its partitions back at once; unset: dynamic",
    },
  ],
  (r) => {
    const id = r.optionalString("KAFKA_GROUP_INSTANCE_ID");
    if (id !== undefined) r.require(/^\S+$/.test(id), `KAFKA_GROUP_INSTANCE_ID: "${id}" has spaces`);
    return id;
  },
);

/** The Kafka settings as one entry of a service's settings spec, documented variable by variable. */
export function kafkaSetting(clientId: string): Setting<KafkaSettings> {
  const entry = (name: string, type: string, doc: string, fallback = "", range = "") => ({
    name,
    type,
    default: fallback,
    range,
    doc,
  });
  return setting.group(
    [
      entry("KAFKA_BROKERS", "list", "Bootstrap brokers", "", "required, host:port"),
      entry("KAFKA_CLIENT_ID", "string", "Client id the brokers see", clientId),
      entry("KAFKA_SSL", "boolean", "TLS to the brokers (NODE_EXTRA_CA_CERTS adds a CA)", "false"),
      entry(
        "KAFKA_COMPRESSION",
        "choice",
        "Compression of the record batches this service writes: less network and broker disk for CPU",
        "none",
        COMPRESSION_CODECS.join(", "),
      ),
      entry("KAFKA_SASL_MECHANISM", "choice", "SASL mechanism; unset: no SASL", "", SASL_MECHANISMS.join(", ")),
      entry("KAFKA_SASL_USERNAME", "string", "SASL user", "", "required with a mechanism"),
      entry("KAFKA_SASL_PASSWORD", "secret", "SASL password (from a Secret)", "", "required with a mechanism"),
    ],
    (r) => readKafkaSettings(r, clientId),
  );
}
