// Everything Kafka: the rest of trailstream sees these types only, never the client library's.
export {
  consumerGroupLag,
  deleteTopics,
  ensureTopics,
  RECORD_OVERHEAD_BYTES,
  type TopicSpec,
  topicMaxMessageBytes,
  topicRetentionMs,
  topicSizeBytes,
  topicValueBound,
} from "./admin.ts";
export { chunkBySize, MAX_REQUEST_BYTES } from "./chunk.ts";
export { createKafka, type KafkaClient, type KafkaLog } from "./client.ts";
export { type BatchConsumer, type BatchConsumerOptions, type BatchHandled, startBatchConsumer } from "./consumer.ts";
export { type ConsumedBatch, type ConsumedMessage, nextOffset, type OutgoingMessage } from "./message.ts";
export { openProducer, type Producer } from "./producer.ts";
export {
  endOffsets,
  offsetsAt,
  type PartitionOffset,
  type PartitionRange,
  type ReadRangesOptions,
  readRanges,
} from "./range.ts";
export {
  COMPRESSION_CODECS,
  type CompressionCodec,
  groupInstanceIdSetting,
  type KafkaSasl,
  type KafkaSettings,
  kafkaSetting,
  readKafkaSettings,
  SASL_MECHANISMS,
} from "./settings.ts";
export {
  type OutgoingRecord,
  type PipeBatchContext,
  type PipeEvent,
  PipeInactiveError,
  type PipeResult,
  startTransactionalPipe,
  type TransactionalPipe,
  type TransactionalPipeOptions,
} from "./transactional.ts";
