// The alerts topic: the alert document, keyed by rule id and group. The producer is idempotent and
// waits for all in-sync replicas, so a resolved send is durable; packages/kafka cuts a burst of
// alerts for one rule (one partition) into requests the broker accepts.
import type { Producer } from "@trailstream/kafka";
import type { AlertDocument } from "../alert.ts";
import type { Sink } from "./sink.ts";

/** Key of the alert on the alerts topic: the rule id and its group. */
export function alertKey(doc: Pick<AlertDocument, "ruleId" | "group">): string {
  return doc.group === "" ? doc.ruleId : `${doc.ruleId}|${doc.group}`;
}

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
