// A consumer group member whose only assignment protocol no trailstream consumer speaks: the broker
// refuses any later member of the group (INCONSISTENT_GROUP_PROTOCOL, not retriable), so a service
// started after it has a consumer that stopped for good. The same happens in production when two
// applications share a group id.
import { Consumer } from "@platformatic/kafka";
import { createKafka } from "../../src/client.ts";
import { baseOptions } from "../../src/platformatic/options.ts";
import type { KafkaSettings } from "../../src/settings.ts";

export async function joinWithOtherProtocol(
  settings: KafkaSettings,
  groupId: string,
  topic: string,
): Promise<{ close(): Promise<void> }> {
  const consumer = new Consumer({
    ...baseOptions(createKafka(settings)),
    groupId,
    autocommit: false,
    protocols: [{ name: "OtherApplication", version: 1 }],
  });
  consumer.topics.track(topic);
  await consumer.joinGroup({});
  return { close: () => consumer.close(true) };
}
