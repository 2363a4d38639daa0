// The one way local CloudTrail log files are found, for the files source (`trailstream replay`)
// and for `scan`, `lookup` and `rules test`: each PATH a file, or a folder (an `aws s3 sync` copy of
// a bucket) walked for `.json.gz` and `.json` files in path order. It imports nothing but node:fs,
// so the CLI's embedded commands load it (`@trailstream/ingester/local-files`) without the AWS and
// Kafka clients the rest of the ingester needs.
import { readdir, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";

/** CloudTrail writes `.json.gz`; a synced or hand-made copy may be `.json`, in any case. */
export const LOG_FILE_NAME = /\.json(\.gz)?$/i;

export interface LocalLogFile {
  /** As shown to the user: the path given, or the folder given joined with the file's place below it. */
  path: string;
  /** Relative to the folder given, `/`-separated: the S3 key, as `aws s3 sync` lays it out. */
  key: string;
  /** Set for a folder or link below a PATH that could not be read: why (the walk goes on without it). */
  unreadable?: string;
}

/** A PATH that is missing, a loop, neither a file nor a folder, or a folder holding no log file. */
export class LocalPathError extends Error {
  override readonly name = "LocalPathError";
}

/**
 * The log files under the given paths, each folder's files in path order, then its unreadable
 * folders. The order is part of the result: the first copy of an event is the one in the first
 * file read. Symbolic links are followed (a synced tree may hold them), each folder once.
 * `public-keys.json` at a folder's root is `scan --validate`'s list of keys, not a log file.
 */
export async function listLogFiles(paths: readonly string[]): Promise<LocalLogFile[]> {
  const out: LocalLogFile[] = [];
  for (const path of paths) {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw new LocalPathError(`cannot read ${path}: ${describeFsError(error)}`);
    });
    if (info.isFile()) {
      out.push({ path, key: path.split(sep).join("/") });
      continue;
    }
    if (!info.isDirectory()) throw new LocalPathError(`${path} is neither a file nor a folder`);
    const root = resolve(path);
    const found: Walked = { files: [], unreadable: [], skippedByName: 0 };
    await walk(root, found, new Set([`${info.dev}:${info.ino}`]));
    const keys = join(root, "public-keys.json");
    const files = found.files.filter((f) => f !== keys).sort();
    if (files.length === 0 && found.unreadable.length === 0) {
      const skipped = found.skippedByName > 0 ? ` (${found.skippedByName} files skipped by name)` : "";
      throw new LocalPathError(`no CloudTrail log files (.json.gz or .json) under ${path}${skipped}`);
    }
    const place = (full: string) => ({
      path: join(path, relative(root, full)),
      key: relative(root, full).split(sep).join("/"),
    });
    for (const file of files) out.push(place(file));
    for (const { dir, reason } of found.unreadable) out.push({ ...place(dir), unreadable: reason });
  }
  return out;
}

export function describeFsError(error: NodeJS.ErrnoException): string {
  if (error.code === "ENOENT") return "no such file or folder";
  if (error.code === "ELOOP") return "a symbolic link loop";
  if (error.code === "EACCES") return "permission denied";
  return error.message;
}

interface Walked {
  files: string[];
  unreadable: Array<{ dir: string; reason: string }>;
  skippedByName: number;
}

/** Follows symbolic links, once per folder: `visited` holds dev:inode. */
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
      if (LOG_FILE_NAME.test(entry.name)) out.files.push(full);
      else out.skippedByName++;
    }
  }
}
