import { once } from "node:events";
import type { Writable } from "node:stream";

/** Writes a line and waits when the pipe is full, so `scan --ndjson | head` never buffers without bound. */
export async function writeLine(stream: Writable, line: string): Promise<void> {
  if (!stream.write(`${line}\n`)) await once(stream, "drain");
}
