// A worker thread that decodes log files for `scan` while the main thread dedups and tallies the
// files before them: the naive way (gunzip, JSON.parse, a Set) runs on one core, and the machine has
// more. What comes back is a summary per file (summaries.ts), not the records.
import { Worker } from "node:worker_threads";
import type { WorkerRules } from "./rule-marks.ts";
import type { FileSummary } from "./summaries.ts";

/**
 * The worker's young generation (both semi-spaces and the young large objects), set when it starts:
 * 16 MB holds a file being parsed; with 32 the worker's heap reached 64-72 MB and the scan 243-252 MB
 * of RSS, with 16 37-41 MB and 228-230 MB, at the same speed (load 9-11).
 */
const YOUNG_GENERATION_MB = 16;

/** The worker's answer: a summary, or the bytes back when the file is not parsed whole. */
export type Summarized = { summary: FileSummary; bytes?: undefined } | { summary: null; bytes: Uint8Array };

export class ParseWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (answer: Summarized) => void; reject: (e: Error) => void }>();
  #nextId = 0;
  #failed: Error | null = null;

  /** With `rules`, the worker also evaluates them on each record (rule-marks.ts). */
  constructor(rules?: WorkerRules) {
    this.#worker = new Worker(new URL("./parse-worker.ts", import.meta.url), {
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
      workerData: { rules: rules ?? null },
    });
    this.#worker.on("message", ({ id, ...answer }: { id: number } & Summarized) => {
      const waiting = this.#pending.get(id);
      this.#pending.delete(id);
      if (this.#pending.size === 0) this.#worker.unref();
      waiting?.resolve(answer);
    });
    const fail = (error: Error) => {
      this.#failed ??= error;
      for (const waiting of this.#pending.values()) waiting.reject(error);
      this.#pending.clear();
    };
    this.#worker.on("error", fail);
    this.#worker.on("messageerror", fail);
    this.#worker.on("exit", (code) => fail(new Error(`the parse worker stopped (exit code ${code})`)));
    // The worker keeps the process alive only while an answer is awaited: a scan that throws
    // before close() must not hang on it.
    this.#worker.unref();
  }

  /**
   * The summary of a log file inflated ahead (`inflateLogFile`), or null when it must be decoded
   * where its records are needed (irregular): then `bytes` says where its inflated bytes are now.
   * The bytes are moved to the worker, not copied, when they are the only view of their buffer (as
   * zlib's output is; a copy of each file cost the main thread a fifth of its time in collections
   * of external memory); the caller must not use `inflated` again. Rejects if the worker failed.
   */
  summarize(inflated: Uint8Array, trailingBytes: number): Promise<Summarized> {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#nextId++;
    const owned = inflated.byteOffset === 0 && inflated.buffer instanceof ArrayBuffer && inflated.byteLength > 4096;
    const bytes = owned ? inflated : new Uint8Array(inflated);
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, bytes, trailingBytes }, [bytes.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.#failed ??= new Error("the parse worker was closed");
    await this.#worker.terminate();
  }
}
