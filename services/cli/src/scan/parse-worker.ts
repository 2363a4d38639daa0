// The parse worker of `scan` (parallel.ts starts it): inflated log files in, their summaries out, in order.
import { parentPort } from "node:worker_threads";
import { summarizeLogFile, transferables } from "./summaries.ts";

if (!parentPort) throw new Error("parse-worker.ts runs as a worker thread");
const port = parentPort;
port.on("message", ({ id, bytes, trailingBytes }: { id: number; bytes: Uint8Array; trailingBytes: number }) => {
  const summary = summarizeLogFile(bytes, trailingBytes);
  if (summary) port.postMessage({ id, summary }, transferables(summary));
  else port.postMessage({ id, summary: null, bytes }, [bytes.buffer as ArrayBuffer]);
});
