import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, ConfigReader } from "@trailstream/runtime";
import { readKafkaSettings } from "../src/settings.ts";

test("every service reads Kafka's brokers, TLS and SASL alike", () => {
  const r = new ConfigReader({
    KAFKA_BROKERS: "b-1:9096, b-2:9096",
    KAFKA_SSL: "true",
    KAFKA_SASL_MECHANISM: "scram-sha-512",
    KAFKA_SASL_USERNAME: "trailstream",
    KAFKA_SASL_PASSWORD: "secret",
  });
  assert.deepEqual(readKafkaSettings(r, "trailstream-x"), {
    brokers: ["b-1:9096", "b-2:9096"],
    clientId: "trailstream-x",
    ssl: true,
    sasl: { mechanism: "scram-sha-512", username: "trailstream", password: "secret" },
  });
  r.done();
  const bad = new ConfigReader({ KAFKA_BROKERS: "nohost", KAFKA_SASL_MECHANISM: "md5" });
  readKafkaSettings(bad, "x");
  assert.throws(
    () => bad.done(),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.problems.some((p) => p.includes('"nohost" is not host:port')) &&
      e.problems.some((p) => p.startsWith("KAFKA_SASL_MECHANISM must be one of")) &&
      e.problems.some((p) => p.startsWith("KAFKA_SASL_USERNAME is required")),
  );
});
