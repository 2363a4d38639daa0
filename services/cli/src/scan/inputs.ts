import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
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

/** CloudTrail writes `.json.gz`; a synced or hand-made copy may be `.json`, in any case. */
const LOG_FILE = /\.json(\.gz)?$/i;

/**
 * The log files under the given paths, each folder's files in path order. The order is part of the
 * result: the first copy of an event is the one in the first file read. A folder that cannot be
 * listed becomes an input whose `open` fails with why, so it is reported like an unreadable file.
 * A PATH that is missing, a loop, or neither a file nor a folder, and a folder holding no log file,
 * are usage errors.
 */
export async function listInputs(paths: readonly string[]): Promise<ScanInput[]> {
  const inputs: ScanInput[] = [];
  for (const path of paths) {
    if (path === "-") {
      inputs.push({ name: "-", key: "-", open: async () => process.stdin });
      continue;
    }
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${path}: ${describeFsError(error)}`);
    });
    if (info.isFile()) {
      inputs.push(fileInput(path, path));
      continue;
    }
    if (!info.isDirectory()) throw new UsageError(`${path} is neither a file nor a folder`);
    const root = resolve(path);
    const found: Walked = { files: [], unreadable: [], skippedByName: 0 };
    await walk(root, found, new Set([`${info.dev}:${info.ino}`]));
    // public-keys.json at the root is `scan --validate`'s, not a log file.
    const keys = join(root, "public-keys.json");
    const files = found.files.filter((f) => f !== keys).sort();
    if (files.length === 0 && found.unreadable.length === 0) {
      const skipped = found.skippedByName > 0 ? ` (${found.skippedByName} files skipped by name)` : "";
      throw new UsageError(`no CloudTrail log files (.json.gz or .json) under ${path}${skipped}`);
    }
    for (const file of files) inputs.push(fileInput(join(path, relative(root, file)), relative(root, file)));
    for (const { dir, reason } of found.unreadable) {
      const name = join(path, relative(root, dir));
      inputs.push({
        name,
        key: relative(root, dir).split(sep).join("/"),
        open: async () => {
          throw new Error(`cannot be read: ${reason}`);
        },
      });
    }
  }
  return inputs;
}

function describeFsError(error: NodeJS.ErrnoException): string {
  if (error.code === "ENOENT") return "no such file or folder";
  if (error.code === "ELOOP") return "a symbolic link loop";
  if (error.code === "EACCES") return "permission denied";
  return error.message;
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

interface Walked {
  files: string[];
  unreadable: Array<{ dir: string; reason: string }>;
  skippedByName: number;
}

/** Follows symbolic links (a synced tree may hold them), once per folder: `visited` holds dev:inode. */
async function walk(dir: string, out: Walked, visited: Set<string>): Promise<void> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    out.unreadable.push({ dir, reason: describeFsError(error as NodeJS.ErrnoException) });
    return;
  }
  for (const entry of entries) {
    const full = join(dir, entry.name);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    let id: string | undefined;
    if (entry.isSymbolicLink() || isDir) {
      const info = await stat(full).catch((error: NodeJS.ErrnoException) => {
        out.unreadable.push({ dir: full, reason: `a symbolic link that leads nowhere: ${describeFsError(error)}` });
        return undefined;
      });
      if (!info) continue;
      isDir = info.isDirectory();
      isFile = info.isFile();
      id = `${info.dev}:${info.ino}`;
    }
    if (isDir && id !== undefined) {
      if (visited.has(id)) continue;
      visited.add(id);
      await walk(full, out, visited);
    } else if (isFile) {
      if (LOG_FILE.test(entry.name)) out.files.push(full);
      else out.skippedByName++;
    }
  }
}
