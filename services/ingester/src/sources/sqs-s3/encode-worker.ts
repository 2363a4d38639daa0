// A decode thread of the S3 path (encode-pool.ts): encodes the log files it is sent and hands the
// values back without a copy.
import { parentPort } from "node:worker_threads";
import { type EncodeJob, encodeFile, TooLargeForOnePiece } from "./encode-file.ts";

const port = parentPort;
if (!port) throw new Error("encode-worker.ts runs as a worker thread");
port.on("message", (message: { id: number; job: EncodeJob }) => {
  encodeFile(message.job).then(
    (file) =>
      port.postMessage({ id: message.id, file }, [file.values.buffer as ArrayBuffer, file.ends.buffer as ArrayBuffer]),
    (error: unknown) =>
      port.postMessage({
        id: message.id,
        error: error instanceof Error ? error.message : String(error),
        tooLarge: error instanceof TooLargeForOnePiece,
      }),
  );
});
