export {
  LOOKUP_ATTRIBUTE_KEYS,
  type LookupAttributeKey,
  type LookupEvent,
  type LookupResource,
  lookupEvent,
  lookupResources,
  lookupUsername,
  lookupValues,
} from "./attributes.ts";
export { BloomFilter, murmur3 } from "./bloom.ts";
export {
  decodeIndexBlock,
  encodeIndexBlock,
  type IndexBlock,
  IndexBlockBuilder,
  indexEntry,
  indexPartitionOf,
  lookupRecordOf,
} from "./index-block.ts";
export {
  blockMayAnswer,
  newestUnread,
  nextRound,
  type OffsetWindow,
  planIndexedRead,
  type ReadSegment,
  segmentOffsets,
} from "./index-plan.ts";
export { isInsight, LookupPage, type LookupResponse, lookupMatches } from "./page.ts";
export {
  LookupError,
  type LookupErrorName,
  type LookupRequest,
  type LookupRequestInput,
  lookupRequest,
  nextToken,
  type PagePosition,
} from "./request.ts";
