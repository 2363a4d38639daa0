// What a service needs to reach Kafka. Secrets (SASL passwords) travel here and nowhere else:
// never log a KafkaSettings value.

export interface KafkaSasl {
  mechanism: "plain" | "scram-sha-256" | "scram-sha-512";
  username: string;
  password: string;
}

export interface KafkaSettings {
  brokers: readonly string[];
  clientId: string;
  ssl?: boolean;
  sasl?: KafkaSasl;
}

export function parseBrokers(value: string): string[] {
  const brokers = value
    .split(",")
    .map((b) => b.trim())
    .filter((b) => b !== "");
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) throw new Error(`Kafka broker "${broker}" is not host:port`);
  }
  if (brokers.length === 0) throw new Error("no Kafka brokers given");
  return brokers;
}
