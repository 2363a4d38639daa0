// A consumer group member whose only assignment protocol no trailstream consumer speaks: the broker
// refuses any later member of the group (INCONSISTENT_GROUP_PROTOCOL, not retriable), so a service
// started after it has a consumer that stopped for good. The same happens in production when two
// applications share a group id.
import kafkajs from "kafkajs";
import { createKafka, kafkajsOf } from "../../src/client.ts";
import type { KafkaSettings } from "../../src/settings.ts";

export async function joinWithOtherProtocol(
  settings: KafkaSettings,
  groupId: string,
  topic: string,
): Promise<{ close(): Promise<void> }> {
  const roundRobin = kafkajs.PartitionAssigners.roundRobin;
  const other: kafkajs.PartitionAssigner = (config) => {
    const base = roundRobin(config);
    return { ...base, name: "OtherApplication", protocol: (s) => ({ ...base.protocol(s), name: "OtherApplication" }) };
  };
  const consumer = kafkajsOf(createKafka(settings)).consumer({ groupId, partitionAssigners: [other] });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachBatch: async () => {} });
  await joined;
  return { close: () => consumer.disconnect() };
}
