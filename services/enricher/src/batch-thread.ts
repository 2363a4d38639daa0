// The batch work on a worker thread. Decoding (JSON.parse, validation), enrichment and writing the
// events out were most of the enricher's event loop, and the loop also drives Kafka and Redis: with
// them on a second core the loop only moves bytes. A batch's values go over in one buffer and the
// records come back in one buffer, both moved rather than copied; between the two the decoded batch
// stays on the worker, and only its claims (identity, offset, event time) cross.

import { Worker } from "node:worker_threads";
import type { DedupClaim, DedupVerdict } from "@trailstream/cloudtrail";
import type { ConsumedMessage } from "@trailstream/kafka";
import {
  type BatchWork,
  type BatchWorkOptions,
  type DecodedWork,
  fromWire,
  inlineBatchWork,
  type WirePlan,
} from "./batch-work.ts";
import type { BatchRequest, BatchThreadData } from "./batch-worker.ts";
import { packValues, transferOf } from "./packed-values.ts";
import type { BatchPlan } from "./pipeline.ts";

type Reply =
  | { id: number; identities: string[]; owners: string[]; eventTimes: Float64Array }
  | { id: number; plan: WirePlan }
  | { id: number; error: string };

interface Waiter {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

/** After this many deaths in a row with no answer between them, batches are handled on the event loop. */
export const FAILURES_BEFORE_INLINE = 3;

/**
 * The worker's old generation, whatever NODE_OPTIONS sets for the process (a flag that counts per
 * heap): it holds one poll's decoded batches, tens of MB at the default fetch sizes.
 */
const WORKER_OLD_GENERATION_MB = 256;

export class BatchThread implements BatchWork {
  readonly #options: BatchWorkOptions;
  readonly #onTrouble: (message: string, error: Error) => void;
  #worker: Worker;
  /** Deaths since the last answer; at FAILURES_BEFORE_INLINE the work moves to the event loop. */
  #failures = 0;
  #inline: BatchWork | undefined;
  /** Bumped when the worker is replaced: batches decoded by an earlier one cannot be planned. */
  #generation = 0;
  readonly #waiting = new Map<number, Waiter>();
  #nextId = 0;
  #closed = false;

  /** `onTrouble` hears of each death of the thread (its batches come again), and of the move to the event loop. */
  constructor(options: BatchWorkOptions, onTrouble: (message: string, error: Error) => void = () => {}) {
    this.#options = options;
    this.#onTrouble = onTrouble;
    this.#worker = this.#start();
  }

  async decode(messages: readonly ConsumedMessage[]): Promise<DecodedWork> {
    if (this.#inline) return this.#inline.decode(messages);
    const values = packValues(messages.map((m) => m.value));
    const offsets = messages.map((m) => m.offset);
    const partitions = Int32Array.from(messages, (m) => m.partition);
    const id = this.#nextId++;
    const generation = this.#generation;
    const reply = await this.#ask({ op: "decode", id, topic: messages[0]?.topic ?? "", partitions, offsets, values }, [
      ...transferOf(values),
      partitions.buffer as ArrayBuffer,
    ]);
    if (!("identities" in reply)) throw new Error("the batch thread answered a decode with something else");
    const claims: DedupClaim[] = reply.identities.map((identity, i) => ({
      identity,
      owner: reply.owners[i] as string,
      eventTimeMs: reply.eventTimes[i] as number,
    }));
    let settled = false;
    return {
      claims,
      plan: async (verdicts: readonly DedupVerdict[] | null, nowMs: number): Promise<BatchPlan> => {
        if (generation !== this.#generation) throw new Error("the batch thread was restarted: the batch comes again");
        settled = true;
        const answer = await this.#ask({ op: "plan", id, verdicts: verdicts ? [...verdicts] : null, nowMs }, []);
        if (!("plan" in answer)) throw new Error("the batch thread answered a plan with something else");
        return fromWire(answer.plan, this.#options);
      },
      release: () => {
        if (settled || generation !== this.#generation || this.#closed) return;
        settled = true;
        this.#worker.postMessage({ op: "release", id } satisfies BatchRequest);
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#worker.terminate();
  }

  #ask(request: BatchRequest, transfer: ArrayBuffer[]): Promise<Reply> {
    if (this.#closed) return Promise.reject(new Error("the batch thread is closed"));
    return new Promise<Reply>((resolve, reject) => {
      this.#waiting.set(request.id, { resolve, reject });
      // Held open while it owes an answer; idle, it must not keep the process alive.
      if (this.#waiting.size === 1) this.#worker.ref();
      try {
        this.#worker.postMessage(request, transfer);
      } catch (error) {
        this.#waiting.delete(request.id);
        if (this.#waiting.size === 0) this.#worker.unref();
        reject(error);
      }
    }).then((reply) => {
      if ("error" in reply) throw new Error(`batch thread: ${reply.error}`);
      return reply;
    });
  }

  #start(): Worker {
    const data: BatchThreadData = {
      topicEvents: this.#options.topicEvents,
      topicDlq: this.#options.topicDlq,
      maxRecordBytes: this.#options.maxRecordBytes,
      selectors: this.#options.eventSelectors?.document ?? null,
    };
    const worker = new Worker(new URL("./batch-worker.ts", import.meta.url), {
      workerData: data,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_OLD_GENERATION_MB },
    });
    worker.unref();
    worker.on("message", (reply: Reply) => {
      this.#failures = 0;
      const waiter = this.#waiting.get(reply.id);
      if (!waiter) return;
      this.#waiting.delete(reply.id);
      if (this.#waiting.size === 0) worker.unref();
      waiter.resolve(reply);
    });
    let failed = false;
    const fail = (error: Error) => {
      // A thread that died fails the batches it held (they come again) and is replaced.
      if (failed || worker !== this.#worker) return;
      failed = true;
      for (const w of this.#waiting.values()) w.reject(error);
      this.#waiting.clear();
      if (this.#closed) return;
      this.#generation++;
      this.#onTrouble("the batch thread died: the batches it held come again", error);
      // A thread that cannot start, or dies on every batch (one too large for its heap), must not
      // stop the stream: the event loop does the work, as with DECODE_THREADS=0.
      if (++this.#failures >= FAILURES_BEFORE_INLINE) {
        this.#inline = inlineBatchWork(this.#options);
        this.#onTrouble(
          `the batch thread died ${this.#failures} times in a row: batches are handled on the event loop`,
          error,
        );
        return;
      }
      this.#worker = this.#start();
    };
    worker.on("error", fail);
    worker.on("messageerror", fail);
    worker.on("exit", (code) => fail(new Error(`the batch thread exited with code ${code}`)));
    return worker;
  }
}
