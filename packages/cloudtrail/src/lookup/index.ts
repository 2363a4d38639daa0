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
