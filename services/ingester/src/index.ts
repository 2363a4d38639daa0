import type { ServiceDefinition } from "@trailstream/runtime";
import { start } from "./ingester.ts";
import { type IngesterConfig, loadSettings } from "./settings.ts";

export { type Ingester, type IngesterDeps, start } from "./ingester.ts";
export { replayCommand, replayHelp } from "./replay-command.ts";
export { type IngesterConfig, loadSettings, SETTINGS, type StartPosition } from "./settings.ts";
export { type DeadLetterInput, type RawRecord, Sink } from "./sink.ts";
export { type LocalLogFile, LocalPathError, listLogFiles } from "./sources/files/list.ts";
export { type ReplayedFile, type ReplaySummary, replay } from "./sources/files/replay.ts";

/** The ingester as the service shell runs it (`trailstream ingester`). */
export const ingester: ServiceDefinition<IngesterConfig> = { name: "ingester", loadSettings, start };
