import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { type LocalLogFile, LocalPathError, listLogFiles } from "@trailstream/ingester/local-files";
import { UsageError } from "../exit.ts";

export interface ScanInput {
  /** As shown to the user: the path given, or `-` for standard input. */
  name: string;
  /** The path relative to the folder that was given, with `/` separators: the S3 key, as `aws s3 sync` lays it out. */
  key: string;
  /** The file's bytes: read whole when small (one read, one inflate), else streamed. */
  open(): Promise<AsyncIterable<Uint8Array> | Uint8Array>;
}

/** Files up to this size are read whole; CloudTrail's log files rarely exceed it. */
const READ_WHOLE_BYTES = 4 * 1024 ** 2;

/**
 * The log files under the given paths (the ingester's one local lister, `listLogFiles`), and `-` for
 * standard input. A folder that cannot be listed becomes an input whose `open` fails with why, so
 * it is reported like an unreadable file. A PATH that is missing, a loop, or neither a file nor a
 * folder, and a folder holding no log file, are usage errors.
 */
export async function listInputs(paths: readonly string[]): Promise<ScanInput[]> {
  const inputs: ScanInput[] = [];
  for (const path of paths) {
    if (path === "-") {
      inputs.push({ name: "-", key: "-", open: async () => process.stdin });
      continue;
    }
    const files = await listLogFiles([path]).catch((error: unknown) => {
      throw error instanceof LocalPathError ? new UsageError(error.message) : error;
    });
    for (const file of files) inputs.push(file.unreadable === undefined ? fileInput(file) : unreadable(file));
  }
  return inputs;
}

function unreadable(file: LocalLogFile): ScanInput {
  return {
    name: file.path,
    key: file.key,
    open: async () => {
      throw new Error(`cannot be read: ${file.unreadable}`);
    },
  };
}

function fileInput({ path, key }: LocalLogFile): ScanInput {
  return {
    name: path,
    key,
    open: async () => {
      const { size } = await stat(path);
      return size <= READ_WHOLE_BYTES ? readFile(path) : createReadStream(path, { highWaterMark: 256 * 1024 });
    },
  };
}
