// Decode threads for the S3 path. Gunzip, JSON.parse and serialising the values were about half of
// the ingester's CPU on the S3 path, all on the one thread that also drives S3, SQS and Kafka: with
// them on worker threads the event loop only moves bytes, and a second core does the rest. A file
// goes to the thread with the fewest files waiting; its bytes are copied there (a few hundred KB,
// gzipped), its values come back transferred, not copied.
import { Worker } from "node:worker_threads";
import { type EncodedFile, type EncodeJob, encodeFile, TooLargeForOnePiece } from "./encode-file.ts";

interface Thread {
  worker: Worker;
  waiting: Map<number, { resolve: (file: EncodedFile) => void; reject: (error: Error) => void }>;
}

type Reply = { id: number; file: EncodedFile } | { id: number; error: string; tooLarge: boolean };

export class EncodePool {
  readonly #threads: Thread[] = [];
  #nextId = 0;
  #closed = false;

  /** `threads` worker threads; with 0 every file is encoded on the calling thread. */
  constructor(threads: number) {
    for (let i = 0; i < threads; i++) this.#threads.push(this.#start());
  }

  encode(job: EncodeJob): Promise<EncodedFile> {
    if (this.#threads.length === 0 || this.#closed) return encodeFile(job);
    let thread = this.#threads[0] as Thread;
    for (const t of this.#threads) if (t.waiting.size < thread.waiting.size) thread = t;
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      thread.waiting.set(id, { resolve, reject });
      // Held open while it owes an answer; idle, it must not keep the process alive.
      if (thread.waiting.size === 1) thread.worker.ref();
      thread.worker.postMessage({ id, job });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#threads.map((t) => t.worker.terminate()));
  }

  #start(): Thread {
    const worker = new Worker(new URL("./encode-worker.ts", import.meta.url));
    worker.unref();
    const thread: Thread = { worker, waiting: new Map() };
    worker.on("message", (reply: Reply) => {
      const waiter = thread.waiting.get(reply.id);
      if (!waiter) return;
      thread.waiting.delete(reply.id);
      if (thread.waiting.size === 0) worker.unref();
      if ("file" in reply) {
        const f = reply.file;
        // Typed arrays arrive as plain Uint8Arrays: the sink hands Buffers to Kafka.
        waiter.resolve({ ...f, values: Buffer.from(f.values.buffer, f.values.byteOffset, f.values.length) });
      } else waiter.reject(reply.tooLarge ? new TooLargeForOnePiece(reply.error) : new Error(reply.error));
    });
    const fail = (error: Error) => {
      // A thread that died fails the files it held (their messages come back) and is replaced.
      for (const w of thread.waiting.values()) w.reject(error);
      thread.waiting.clear();
      if (this.#closed) return;
      const i = this.#threads.indexOf(thread);
      if (i >= 0) this.#threads[i] = this.#start();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`decode thread exited with code ${code}`)));
    return thread;
  }
}
