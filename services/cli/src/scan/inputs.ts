import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";

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

const LOG_FILE = /\.json(\.gz)?$/;

/**
 * The log files under the given paths, each folder's files in path order. The order is part of the
 * result: the first copy of an event is the one in the first file read.
 */
export async function listInputs(paths: readonly string[]): Promise<ScanInput[]> {
  const inputs: ScanInput[] = [];
  for (const path of paths) {
    if (path === "-") {
      inputs.push({ name: "-", key: "-", open: async () => process.stdin });
      continue;
    }
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`cannot read ${path}: ${error.code === "ENOENT" ? "no such file or folder" : error.message}`);
    });
    if (info.isFile()) {
      inputs.push(fileInput(path, path));
      continue;
    }
    const root = resolve(path);
    const files = (await walk(root)).filter((f) => LOG_FILE.test(f)).sort();
    for (const file of files) inputs.push(fileInput(join(path, relative(root, file)), relative(root, file)));
  }
  return inputs;
}

function fileInput(name: string, key: string): ScanInput {
  return {
    name,
    key: key.split(sep).join("/"),
    open: async () => {
      const { size } = await stat(name);
      return size <= READ_WHOLE_BYTES ? readFile(name) : createReadStream(name, { highWaterMark: 256 * 1024 });
    },
  };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}
