export { type IngesterConfig, loadConfig, parseDuration, type StartPosition } from "./config.ts";
export { type Ingester, startIngester } from "./ingester.ts";
export { main } from "./main.ts";
export { replayCommand, replayHelp } from "./replay-command.ts";
export { type DeadLetterInput, type RawRecord, Sink } from "./sink.ts";
export { listLogFiles, type ReplayedFile, type ReplaySummary, replay } from "./sources/files.ts";
