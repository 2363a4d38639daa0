export { isMonotone, meets } from "./condition.ts";
export {
  type CorrelationAlert,
  CorrelationEngine,
  type CorrelationEvent,
  type CorrelationFailure,
  describeCorrelation,
  type EngineOptions,
  resolveCorrelations,
} from "./engine.ts";
export { compileCorrelation, parseTimespan } from "./parse.ts";
export { type CorrelationStore, MemoryCorrelationStore } from "./store.ts";
export type { CorrelationCondition, CorrelationRule, CorrelationType } from "./types.ts";
export { type Entry, entryMember, measure, metWindows, parseMember } from "./window.ts";
