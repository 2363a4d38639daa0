export {
  type DeadLetter,
  DLQ_REASONS,
  type DlqReason,
  ENVELOPE_REJECT_REASONS,
  type EnrichedEnvelope,
  type EnvelopeRejectReason,
  ORIGIN_KINDS,
  type Origin,
  type OriginKind,
  originLabel,
  type RawEnvelope,
  type ReceivedOrigin,
  SINK_KINDS,
  type SinkKind,
  STAGES,
  type Stage,
} from "./contract.ts";
export {
  type DedupClaim,
  type DedupStore,
  type DedupVerdict,
  decide,
  dedupBatch,
  eventFingerprint,
  type MemoryDedupOptions,
  MemoryDedupStore,
  SeenIdentities,
} from "./dedup.ts";
export {
  checkDigest,
  type DigestCheck,
  type DigestMetadata,
  type DigestProblem,
  digestMetadata,
  keyLookupMs,
  logFileDeliveryMs,
} from "./digest/check.ts";
export {
  type DigestBody,
  type DigestKey,
  type DigestLimits,
  type DigestLogFile,
  type ParsedDigest,
  parseDigest,
  parseDigestKey,
  siteOf,
} from "./digest/digest-file.ts";
export { MemoryIntegrityStore } from "./digest/memory-store.ts";
export {
  fingerprintOf,
  Keyring,
  loadPublicKey,
  type PublicKey,
  parsePublicKeyList,
  publicKeyListEntry,
  signString,
  stringToSign,
  verifySignature,
} from "./digest/signing.ts";
export {
  type ChainState,
  ChainTracker,
  type ExpectedFile,
  type IntegrityStore,
  type PendingFile,
  type SeenDigest,
  type TrackerOptions,
} from "./digest/tracker.ts";
export {
  isValidVerdict,
  VERDICT_KINDS,
  type Verdict,
  type VerdictKind,
  type VerdictSubject,
} from "./digest/verdict.ts";
export {
  type DigestInput,
  type DigestPlace,
  digestKeyFor,
  type PreviousDigest,
  type WrittenDigest,
  writeDigest,
} from "./digest/write.ts";
export {
  type CallChannel,
  channelOf,
  dedupCategory,
  type Enrichment,
  type ErrorClass,
  type EventCategory,
  enrich,
  errorClass,
  errorOf,
  isGlobalServiceEvent,
  mfaOf,
  type Principal,
  principalOf,
} from "./enrich.ts";
export {
  type DecodeEnvelopeOptions,
  decodeEnvelope,
  type EnvelopeOutcome,
  enrichedEnvelopeText,
  MAX_DEAD_PAYLOAD_BYTES,
  type ReceivedEnvelope,
  rejectedRecordLetter,
} from "./envelope.ts";
export { DECODE_ERROR_CODES, DecodeError, type DecodeErrorCode, isDecodeError } from "./errors.ts";
export { alertIdentity, correctedEventID, eventIdentity } from "./identity.ts";
export {
  IdentityTable,
  KEY_WORDS,
  MAX_IDENTITY_TAG,
  packIdentity,
  packTaggedIdentity,
} from "./identity-table.ts";
export { type CloudTrailFileKind, type CloudTrailKey, decodeNotificationKey, parseCloudTrailKey } from "./keys.ts";
export { CLOUDTRAIL_DETAIL_TYPES, decodeEventBridgeEvent, decodeKinesisData, type KinesisPayload } from "./kinesis.ts";
export {
  decodeLogFile,
  decodeLogFileItems,
  InflatedLogFile,
  inflateBounded,
  inflateLogFile,
  isGzip,
  type LogFileHash,
  LogFileHasher,
  type LogFileLimits,
} from "./log-file.ts";
export {
  BloomFilter,
  blockMayAnswer,
  decodeIndexBlock,
  encodeIndexBlock,
  type IndexBlock,
  IndexBlockBuilder,
  indexEntry,
  indexPartitionOf,
  isInsight,
  LOOKUP_ATTRIBUTE_KEYS,
  type LookupAttributeKey,
  LookupError,
  type LookupErrorName,
  type LookupEvent,
  LookupPage,
  type LookupRequest,
  type LookupRequestInput,
  type LookupResponse,
  lookupEvent,
  lookupMatches,
  lookupRecordOf,
  lookupRequest,
  lookupValues,
  murmur3,
  newestUnread,
  nextRound,
  type OffsetWindow,
  planIndexedRead,
  type ReadSegment,
  segmentOffsets,
} from "./lookup/index.ts";
export { decodeNotification, type Notification, type NotificationKind, type S3ObjectRef } from "./notification.ts";
export {
  type Addendum,
  type CloudTrailRecord,
  isPlainObject,
  type SessionContext,
  type SessionIssuer,
  type UserIdentity,
  type UserIdentityType,
} from "./record.ts";
export { isSecretKey, REDACTED, redact } from "./redact.ts";
export { type DecodeItem, fail, ok, type Result } from "./result.ts";
export {
  type AdvancedEventSelector,
  type AdvancedFieldSelector,
  type BasicEventSelector,
  compileEventSelectors,
  type EventSelectors,
  type EventSelectorsDocument,
  EventSelectorsError,
  eventSelectors,
  eventSelectorsFromSetting,
  parseEventSelectors,
  selectorCategory,
} from "./selectors/index.ts";
export { deeperThan, MAX_RECORD_DEPTH, validateRecord } from "./validate.ts";
