import type { ServiceDefinition } from "@trailstream/runtime";
import { type IngesterConfig, loadSettings } from "./config.ts";
import { start } from "./ingester.ts";

export { type IngesterConfig, loadSettings, parseDuration, type StartPosition } from "./config.ts";
export { type Ingester, type IngesterDeps, start } from "./ingester.ts";
export { replayCommand, replayHelp } from "./replay-command.ts";
export { type DeadLetterInput, type RawRecord, Sink } from "./sink.ts";
export { listLogFiles, type ReplayedFile, type ReplaySummary, replay } from "./sources/files.ts";

/** The ingester as the service shell runs it (`trailstream ingester`). */
export const ingester: ServiceDefinition<IngesterConfig> = { name: "ingester", loadSettings, start };
