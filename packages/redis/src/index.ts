export {
  defineScript,
  keysOf,
  openRedis,
  type RedisCommand,
  RedisCrossSlotError,
  type RedisEvents,
  type RedisKey,
  type RedisReply,
  RedisReplyError,
  type RedisScript,
  type RedisStore,
  RedisTimeoutError,
  RedisUnavailableError,
} from "./client.ts";
export { replyList, replyMap, replyNumber, replyText } from "./reply.ts";
export {
  describeRedisSettings,
  REDIS_DEFAULTS,
  REDIS_SETTING_DOCS,
  type RedisSettings,
  readRedisSettings,
  redisSetting,
  redisSettings,
  type SettingsReader,
} from "./settings.ts";
export { hashTag, hashTagOf, keySlot } from "./slot.ts";
export {
  describeTarget,
  parseRedisUrl,
  REDIS_URL_FORMS,
  type RedisCredentials,
  type RedisNode,
  type RedisTarget,
  RedisUrlError,
} from "./target.ts";
