// The files source: local CloudTrail log files (gzipped or plain) into the raw topic, for
// backfills. Folders are walked by list.ts, the lister `scan` uses too; digest and insight files
// are recognised by their path and skipped.
import { createReadStream } from "node:fs";
import { decodeLogFile, type Origin, parseCloudTrailKey } from "@trailstream/cloudtrail";
import type { IngesterMetrics } from "../../metrics.ts";
import { toOutcome } from "../../records.ts";
import type { RawRecord, Sink } from "../../sink.ts";
import { Acks } from "../../util.ts";
import type { Source } from "../source.ts";
import { type LocalLogFile, listLogFiles } from "./list.ts";

export interface ReplayOptions {
  sink: Sink;
  batchRecords?: number;
  maxDecompressedBytes?: number;
  maxRecordBytes?: number;
  metrics?: IngesterMetrics;
  /** Files read at once (default 4). */
  concurrency?: number;
  /** Told about each file as it is done. */
  onFile?: (file: ReplayedFile) => void;
}

export interface ReplayedFile {
  path: string;
  key: string;
  records: number;
  deadLetters: number;
  /** The whole file could not be read past some point (gzip, JSON or size). */
  corrupt: boolean;
  skipped?: "digest" | "insight";
}

export interface ReplaySummary {
  files: number;
  records: number;
  deadLetters: number;
  corruptFiles: number;
  skippedFiles: number;
}

/**
 * Local files as a source: `start` reads them (a few at once, so reading one overlaps waiting for
 * Kafka's acknowledgements of another), `done` resolves with the summary once Kafka has them all.
 * `stop` takes no new file; the files being read are finished, since a file is the unit acknowledged.
 */
export class FilesSource implements Source {
  readonly name = "files";
  readonly done: Promise<ReplaySummary>;
  readonly #paths: readonly string[];
  readonly #options: ReplayOptions;
  #begin: (() => void) | undefined;
  #stopping = false;
  #failure: string | undefined;

  constructor(paths: readonly string[], options: ReplayOptions) {
    this.#paths = paths;
    this.#options = options;
    const begun = new Promise<void>((resolve) => {
      this.#begin = resolve;
    });
    this.done = begun.then(() => this.#run());
    this.done.catch((error: unknown) => {
      this.#failure = error instanceof Error ? error.message : String(error);
    });
  }

  start(): void {
    this.#begin?.();
  }

  async stop(_drainMs?: number): Promise<void> {
    this.#stopping = true;
    await this.done.catch(() => undefined);
  }

  ready(): string[] {
    return this.#failure === undefined ? [] : [`${this.name}: ${this.#failure}`];
  }

  async #run(): Promise<ReplaySummary> {
    const options = this.#options;
    const summary: ReplaySummary = { files: 0, records: 0, deadLetters: 0, corruptFiles: 0, skippedFiles: 0 };
    const queue = await listLogFiles(this.#paths);
    // A file is the unit acknowledged: a backfill that cannot read part of its tree says so up front.
    const unreadable = queue.find((f) => f.unreadable !== undefined);
    if (unreadable) throw new Error(`${unreadable.path}: cannot be read: ${unreadable.unreadable}`);
    let next = 0;
    const worker = async () => {
      for (let file = queue[next++]; file !== undefined && !this.#stopping; file = queue[next++]) {
        const done = await replayFile(file, options);
        summary.files++;
        summary.records += done.records;
        summary.deadLetters += done.deadLetters;
        if (done.corrupt) summary.corruptFiles++;
        if (done.skipped) summary.skippedFiles++;
        options.onFile?.(done);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
    await options.sink.flush();
    return summary;
  }
}

/** Sends every record of the files under `paths` to the raw topic; resolves when Kafka has them all. */
export async function replay(paths: readonly string[], options: ReplayOptions): Promise<ReplaySummary> {
  const source = new FilesSource(paths, options);
  source.start();
  return source.done;
}

export async function replayFile(file: LocalLogFile, options: ReplayOptions): Promise<ReplayedFile> {
  const { sink, metrics } = options;
  const result: ReplayedFile = { path: file.path, key: file.key, records: 0, deadLetters: 0, corrupt: false };
  const parsed = parseCloudTrailKey(file.key);
  if (parsed.ok && parsed.value.kind !== "log") {
    metrics?.files.inc({ kind: parsed.value.kind, outcome: "ignored" });
    return { ...result, skipped: parsed.value.kind };
  }
  const origin: Origin = { kind: "file", key: file.key, receivedAt: new Date().toISOString() };
  const batchRecords = options.batchRecords ?? 500;
  const acks = new Acks();
  let batch: RawRecord[] = [];
  const stream = createReadStream(file.path, { highWaterMark: 256 * 1024 });
  stream.on("data", (chunk) => metrics?.bytes.inc({ source: "file" }, chunk.length));
  const limits = {
    ...(options.maxDecompressedBytes ? { maxDecompressedBytes: options.maxDecompressedBytes } : {}),
    ...(options.maxRecordBytes ? { maxRecordBytes: options.maxRecordBytes } : {}),
  };
  try {
    for await (const item of decodeLogFile(stream as AsyncIterable<Uint8Array>, limits)) {
      const outcome = toOutcome(item, origin, file.key);
      if (outcome.ok) {
        batch.push(outcome.record);
        result.records++;
        if (batch.length >= batchRecords) {
          acks.add(sink.write(batch));
          batch = [];
          // Bound what waits for Kafka; the first failure stops the replay.
          if (acks.size >= 8) await acks.oldest();
        }
        continue;
      }
      if (!item.ok && item.index === undefined) result.corrupt = true;
      result.deadLetters++;
      acks.add(sink.deadLetter({ ...outcome.letter, key: file.key }, outcome.key));
    }
  } finally {
    stream.destroy();
  }
  acks.add(sink.write(batch));
  await acks.all();
  metrics?.files.inc({ kind: "log", outcome: result.corrupt ? "corrupt" : "read" });
  return result;
}
