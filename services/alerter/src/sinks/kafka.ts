// The alerts topic: the alert document, keyed by rule id and group. The producer is idempotent and
// waits for all in-sync replicas, so a resolved send is durable.
import type { Producer } from "@trailstream/kafka";
import { alertKey } from "../evaluate.ts";
import type { Sink } from "./sink.ts";

export function kafkaSink(producer: Producer, topic: string): Sink {
  return {
    kind: "kafka",
    target: `topic ${topic}`,
    unit: "batch",
    critical: true,
    async deliver(alerts) {
      await producer.send(
        topic,
        alerts.map((a) => ({
          key: alertKey(a),
          value: JSON.stringify(a),
          headers: { rule: a.ruleId, severity: a.severity, identity: a.identity },
        })),
      );
    },
  };
}
