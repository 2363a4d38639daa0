export { consumerGroupLag, ensureTopics, type TopicSpec } from "./admin.ts";
export { createKafka, type KafkaLogLevel, type KafkaLogSink } from "./client.ts";
export { type BatchConsumer, type BatchConsumerOptions, startBatchConsumer } from "./consumer.ts";
export { type ConsumedBatch, type ConsumedMessage, nextOffset, type OutgoingMessage } from "./message.ts";
export { openProducer, type Producer } from "./producer.ts";
export { type KafkaSasl, type KafkaSettings, parseBrokers } from "./settings.ts";
export {
  chunkRecords,
  type OutgoingRecord,
  type PipeBatchContext,
  type PipeEvent,
  PipeInactiveError,
  type PipeResult,
  startTransactionalPipe,
  type TransactionalPipe,
  type TransactionalPipeOptions,
} from "./transactional.ts";
