export { type DeliveredFile, type DigestOptions, type IntegrityTruth, writeDigestChains } from "./digests.ts";
export { type LocationTruth, type TreeOptions, type TreeTruth, writeBucketTree } from "./generate.ts";
export { type Random, seededRandom } from "./random.ts";
export { loadTemplates, STRATUS_TEMPLATES } from "./templates.ts";
export {
  defaultEstate,
  type Estate,
  GLOBAL_REGION,
  overlappingTrails,
  type TrailSpec,
  trailDirectory,
} from "./trails.ts";
