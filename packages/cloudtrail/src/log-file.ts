// A CloudTrail log file, `{"Records":[ ... ]}`, gzipped or plain. A small file held in memory is
// parsed whole (fastest); any other is read as a stream: only one record's bytes are held at a time,
// so a 200 MB file needs no 200 MB of heap. The bytes are split into records by a small scanner that
// knows just enough JSON to find where each record ends; each record is then parsed on its own, so
// one bad record spoils only itself (an irregular small file goes this way too).
import { createHash, type Hash, webcrypto } from "node:crypto";
import { DecodeError } from "./errors.ts";
import { inflateFirstMember, inflateFirstMemberAsync, inflateFirstMemberSync, type MemberEnd } from "./gzip-member.ts";
import type { CloudTrailRecord } from "./record.ts";
import type { DecodeItem, Result } from "./result.ts";
import { validateRecord } from "./validate.ts";

export interface LogFileLimits {
  /** Stop with a `too-large` error past this many decompressed bytes (a gzip bomb). Default 4 GiB. */
  maxDecompressedBytes?: number;
  /** A record larger than this is reported as `too-large` and skipped. Default 32 MiB. */
  maxRecordBytes?: number;
  /** How each parsed record is checked; `validateRecord` (a record trailstream can carry) by default. */
  validate?: (value: unknown, where: string) => Result<CloudTrailRecord>;
}

const DEFAULT_MAX_DECOMPRESSED = 4 * 1024 ** 3;
const DEFAULT_MAX_RECORD = 32 * 1024 ** 2;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** What a log file's integrity check needs: the SHA-256 of its decompressed bytes, taken on the way. */
export interface LogFileHash {
  /** Lowercase hex SHA-256 of the first gzip member's output (of the bytes, for a plain file). */
  sha256: string;
  decompressedBytes: number;
  /** Bytes after the first gzip member: CloudTrail writes none. */
  trailingBytes: number;
}

/**
 * Pass one to `decodeLogFile` to hash the file while it is decoded, with no second read. A file held
 * in memory is hashed on libuv's thread pool while the main thread parses it (SHA-256 runs at about
 * a tenth of JSON.parse's speed per byte, so on the main thread it cost 9-16 % of the decode;
 * docs/benchmarks.md); a streamed one is hashed chunk by chunk as it inflates.
 * `result()` is undefined when the file could not be read to its end (corrupt, cut short, too large).
 */
export class LogFileHasher {
  #hash: Hash | undefined;
  #bytes = 0;
  #result: Promise<LogFileHash | undefined> = Promise.resolve(undefined);

  update(chunk: Uint8Array): void {
    this.#hash ??= createHash("sha256");
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
  }

  finish(end: MemberEnd): void {
    const sha256 = (this.#hash ?? createHash("sha256")).digest("hex");
    this.#result = Promise.resolve({ sha256, decompressedBytes: this.#bytes, trailingBytes: end.trailingBytes });
  }

  /** The whole decompressed file at once, hashed off the main thread. */
  finishWhole(pending: PendingDigest, end: MemberEnd): void {
    this.#result = pending.digest.then((sha256) => ({
      sha256,
      decompressedBytes: pending.bytes,
      trailingBytes: end.trailingBytes,
    }));
  }

  result(): Promise<LogFileHash | undefined> {
    return this.#result;
  }
}

/** A SHA-256 started on the thread pool, to be claimed by a hasher or dropped. */
interface PendingDigest {
  digest: Promise<string>;
  bytes: number;
}

function startDigest(bytes: Uint8Array): PendingDigest {
  const digest = webcrypto.subtle.digest("SHA-256", bytes).then((hash) => Buffer.from(hash).toString("hex"));
  // A file that falls back to the streaming path drops this one; its failure is then nobody's.
  digest.catch(() => {});
  return { digest, bytes: bytes.length };
}

export async function* decodeLogFile(
  source: AsyncIterable<Uint8Array> | Uint8Array | InflatedLogFile,
  limits: LogFileLimits = {},
  hasher?: LogFileHasher,
): AsyncGenerator<DecodeItem> {
  yield* decodeLogFileItems(source, limits, hasher);
}

/**
 * `decodeLogFile`'s items, as an array when the file is parsed whole (held in memory and small),
 * else as the stream's async iterable. For a caller that reads a file's records in a loop: an async
 * iteration per record costs a promise and a microtask turn each, a tenth of what parsing the record
 * cost (`scan`, docs/benchmarks.md), where the array's items are all there already.
 */
export function decodeLogFileItems(
  source: AsyncIterable<Uint8Array> | Uint8Array | InflatedLogFile,
  limits: LogFileLimits = {},
  hasher?: LogFileHasher,
): DecodeItem[] | AsyncIterable<DecodeItem> {
  if (source instanceof InflatedLogFile) {
    const whole = decodeWhole(source.source, limits, hasher, source.inflated);
    if (whole) return whole;
    source = source.source;
  } else if (source instanceof Uint8Array) {
    const whole = decodeWhole(source, limits, hasher);
    if (whole) return whole;
  }
  return decodeStream(source, limits, hasher);
}

/**
 * A log file in memory whose gzip member was inflated ahead by `inflateLogFile`; `decodeLogFile`
 * gives exactly the items it gives for the bytes themselves.
 */
export class InflatedLogFile {
  readonly source: Uint8Array;
  /** The inflated member; null when it is not to be parsed whole (too large, or not inflatable). */
  readonly inflated: readonly [Buffer, MemberEnd] | null;

  private constructor(source: Uint8Array, inflated: readonly [Buffer, MemberEnd] | null) {
    this.source = source;
    this.inflated = inflated;
  }

  static of(source: Uint8Array, inflated: readonly [Buffer, MemberEnd] | null): InflatedLogFile {
    return new InflatedLogFile(source, inflated);
  }
}

/**
 * Inflates a gzipped log file held in memory on zlib's thread pool, so the caller can decode the
 * file before it meanwhile (`scan` keeps one file ahead). A file that `decodeLogFile` would stream,
 * or that is not gzip, comes back as it was. Never rejects: a corrupt file is left for the decoder.
 */
export async function inflateLogFile(
  source: Uint8Array,
  limits: LogFileLimits = {},
): Promise<InflatedLogFile | Uint8Array> {
  if (!isGzip(source)) return source;
  const limit = wholeParseLimit(limits);
  if (exceedsByTrailer(source, limit)) return InflatedLogFile.of(source, null);
  try {
    return InflatedLogFile.of(source, await inflateFirstMemberAsync(source, limit));
  } catch {
    return InflatedLogFile.of(source, null);
  }
}

/**
 * Decompressed files up to this size are parsed with one `JSON.parse`: V8's parser on a whole file
 * runs about twice as fast as splitting it into records first (docs/benchmarks.md), and a parsed
 * file this size holds a few tens of MB. Larger files are split and parsed record by record.
 */
export const WHOLE_PARSE_BYTES = 8 * 1024 ** 2;

/**
 * A file in memory, parsed whole when it is a well-formed log file below WHOLE_PARSE_BYTES: the
 * same items the record splitter would give, faster. Undefined when it must be streamed instead:
 * too large, not gzip-inflatable in one call, or anything irregular (bad JSON or UTF-8, no Records
 * array, a repeated Records key), which the splitter reports record by record.
 */
function decodeWhole(
  source: Uint8Array,
  limits: LogFileLimits,
  hasher?: LogFileHasher,
  /** The gzip member inflated ahead (null: not to be parsed whole); undefined to inflate it here. */
  inflated?: readonly [Buffer, MemberEnd] | null,
): DecodeItem[] | undefined {
  const limit = wholeParseLimit(limits);
  let bytes: Uint8Array;
  let end: MemberEnd;
  if (inflated === null) return undefined;
  if (inflated !== undefined) {
    [bytes, end] = inflated;
  } else if (isGzip(source)) {
    if (exceedsByTrailer(source, limit)) return undefined;
    try {
      [bytes, end] = inflateFirstMemberSync(source, limit);
    } catch {
      return undefined;
    }
  } else {
    if (source.length > limit) return undefined;
    bytes = source;
    end = { trailingBytes: 0 };
  }
  if (bytes.length > (limits.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED)) return undefined;
  // Started before the parse, so the two run at once.
  const pending = hasher ? startDigest(bytes) : undefined;
  let text: string;
  let parsed: unknown;
  try {
    text = utf8.decode(bytes);
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  let records: unknown;
  let bare = false;
  if (Array.isArray(parsed)) {
    records = parsed;
    bare = true;
  } else if (typeof parsed === "object" && parsed !== null && Object.hasOwn(parsed, "Records")) {
    // JSON.parse keeps the last of repeated keys, where the splitter reads every Records array.
    if (quotedRecordsCount(bytes) !== 1) return undefined;
    records = (parsed as { Records: unknown }).Records;
  }
  if (!Array.isArray(records)) return undefined;
  const validate = limits.validate ?? validateRecord;
  const items: DecodeItem[] = new Array(records.length);
  for (let index = 0; index < records.length; index++) {
    const checked = validate(records[index], bare ? `$[${index}]` : `$.Records[${index}]`);
    items[index] = checked.ok ? { ok: true, record: checked.value, index } : { ok: false, error: checked.error, index };
  }
  if (hasher && pending) hasher.finishWhole(pending, end);
  if (end.trailingBytes > 0) items.push(trailingDataItem(end.trailingBytes, bytes.length));
  return items;
}

function wholeParseLimit(limits: LogFileLimits): number {
  return Math.min(WHOLE_PARSE_BYTES, limits.maxRecordBytes ?? DEFAULT_MAX_RECORD);
}

/** A gzip member ends with its size (mod 2^32): a file too large to parse whole is not inflated twice. */
function exceedsByTrailer(source: Uint8Array, limit: number): boolean {
  const view = Buffer.from(source.buffer, source.byteOffset, source.length);
  return source.length >= 18 && view.readUInt32LE(source.length - 4) > limit;
}

const RECORDS = Buffer.from("Records");

/**
 * How many times `"Records"` appears in the file's bytes, counting to 2. The same count as a search
 * of the decoded text (valid UTF-8 has no ASCII byte inside a longer character), three times as
 * fast: the search skips on `Records`, which is rare, where a quote is in every few bytes of JSON.
 */
function quotedRecordsCount(bytes: Uint8Array): number {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let count = 0;
  for (let at = view.indexOf(RECORDS, 1); at >= 0; at = view.indexOf(RECORDS, at + RECORDS.length)) {
    if (view[at - 1] === 0x22 && view[at + RECORDS.length] === 0x22 && ++count === 2) break;
  }
  return count;
}

function trailingDataItem(trailingBytes: number, at: number): DecodeItem {
  return {
    ok: false,
    error: new DecodeError(
      "gzip",
      `${trailingBytes} bytes follow the end of the gzip stream (CloudTrail writes one gzip member)`,
      `compressed byte ${at}`,
    ),
  };
}

async function* decodeStream(
  source: AsyncIterable<Uint8Array> | Uint8Array,
  limits: LogFileLimits,
  hasher?: LogFileHasher,
): AsyncGenerator<DecodeItem> {
  const maxBytes = limits.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED;
  const splitter = new RecordSplitter(limits.maxRecordBytes ?? DEFAULT_MAX_RECORD, limits.validate ?? validateRecord);
  let total = 0;
  let end: MemberEnd | undefined;
  try {
    for await (const chunk of decompressed(source, (e) => {
      end = e;
    })) {
      total += chunk.length;
      if (total > maxBytes) {
        yield {
          ok: false,
          error: new DecodeError(
            "too-large",
            `the file decompresses to more than ${maxBytes} bytes`,
            `byte ${maxBytes}`,
          ),
        };
        return;
      }
      hasher?.update(chunk);
      if (splitter.stopped) continue; // read on only to finish the hash
      splitter.push(chunk);
      yield* splitter.drain();
      if (splitter.stopped && !hasher) return;
    }
  } catch (error) {
    if (!isZlibError(error)) throw error;
    yield* splitter.drain();
    yield {
      ok: false,
      error: new DecodeError(
        "gzip",
        `the gzip stream is corrupt or cut short: ${error.message}`,
        `decompressed byte ${total}`,
      ),
    };
    return;
  }
  splitter.end();
  yield* splitter.drain();
  if (end && hasher) hasher.finish(end);
  if (end && end.trailingBytes > 0) yield trailingDataItem(end.trailingBytes, total);
}

/**
 * A file's bytes, inflated when gzipped (by content), with the same bound as `decodeLogFile`: for
 * readers of other shapes (NDJSON) that must not inflate a bomb whole.
 */
export async function* inflateBounded(
  source: AsyncIterable<Uint8Array> | Uint8Array,
  maxDecompressedBytes = DEFAULT_MAX_DECOMPRESSED,
): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of decompressed(source, () => {})) {
    total += chunk.length;
    if (total > maxDecompressedBytes)
      throw new DecodeError("too-large", `the file decompresses to more than ${maxDecompressedBytes} bytes`);
    yield chunk;
  }
}

async function* chunksOf(source: AsyncIterable<Uint8Array> | Uint8Array): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) yield source;
  else yield* source;
}

/** A whole gzipped file in memory is inflated in one call when it inflates to at most this much. */
const SYNC_INFLATE_LIMIT = 32 * 1024 ** 2;

async function* decompressed(
  source: AsyncIterable<Uint8Array> | Uint8Array,
  onEnd: (end: MemberEnd) => void,
): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array && isGzip(source)) {
    // CloudTrail's files are mostly small: one synchronous inflate saves the thread-pool round trips
    // of a stream. A bomb, a corrupt or a large file falls through to the bounded stream below.
    let inflated: [Uint8Array, MemberEnd] | undefined;
    try {
      inflated = inflateFirstMemberSync(source, SYNC_INFLATE_LIMIT);
    } catch {
      inflated = undefined;
    }
    if (inflated) {
      yield inflated[0];
      onEnd(inflated[1]);
      return;
    }
  }
  const iterator = chunksOf(source);
  // Two bytes tell gzip from plain JSON; a first chunk may be shorter than that.
  let head: Uint8Array = new Uint8Array(0);
  while (head.length < 2) {
    const next = await iterator.next();
    if (next.done) break;
    head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
  }
  if (head.length === 0) {
    onEnd({ trailingBytes: 0 });
    return;
  }
  if (!isGzip(head)) {
    yield head;
    yield* iterator;
    onEnd({ trailingBytes: 0 });
    return;
  }
  yield* inflateFirstMember(head, iterator, onEnd);
}

function isZlibError(error: unknown): error is Error {
  return (
    error instanceof Error &&
    typeof (error as NodeJS.ErrnoException).code === "string" &&
    /^Z_/.test(String((error as NodeJS.ErrnoException).code))
  );
}

const S = {
  start: 0,
  rootKeyOrEnd: 1,
  key: 2,
  colon: 3,
  recordsOpen: 4,
  array: 5,
  value: 6,
  done: 7,
  stopped: 8,
} as const;
type State = (typeof S)[keyof typeof S];

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Splits the bytes of `{"Records":[...]}` into records, holding at most one record's bytes. */
class RecordSplitter {
  readonly #maxRecordBytes: number;
  #state: State = S.start;
  #offset = 0;
  #out: DecodeItem[] = [];
  // The root object's current key, and whether a value was just read (a comma may follow).
  #key: number[] = [];
  #afterMember = false;
  #sawRecords = false;
  #afterElement = false;
  /** The file is a bare JSON array of records rather than {"Records": [...]}. */
  #bare = false;
  // The value being scanned: kept (a record) or skipped (another root member).
  #keep = false;
  #depth = 0;
  #inString = false;
  #escape = false;
  #scalar = false;
  #started = false;
  #fresh = false;
  #parts: Uint8Array[] = [];
  #size = 0;
  #tooLarge = false;
  #index = 0;

  readonly #validate: (value: unknown, where: string) => Result<CloudTrailRecord>;

  constructor(maxRecordBytes: number, validate: (value: unknown, where: string) => Result<CloudTrailRecord>) {
    this.#maxRecordBytes = maxRecordBytes;
    this.#validate = validate;
  }

  get stopped(): boolean {
    return this.#state === S.stopped;
  }

  *drain(): Generator<DecodeItem> {
    const out = this.#out;
    this.#out = [];
    yield* out;
  }

  #fatal(code: "json" | "shape", message: string): void {
    this.#out.push({ ok: false, error: new DecodeError(code, message, `byte ${this.#offset}`) });
    this.#state = S.stopped;
  }

  end(): void {
    if (this.#state === S.stopped) return;
    if (this.#state === S.start) this.#fatal("json", "the file is empty");
    else if (this.#state !== S.done) this.#fatal("json", "the file ends before its JSON does (cut short)");
    else if (!this.#sawRecords) {
      this.#out.push({ ok: false, error: new DecodeError("shape", "the log file has no Records array", "$.Records") });
    }
  }

  push(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    let segmentStart = -1;
    while (i < n && this.#state !== S.stopped) {
      const b = chunk[i] as number;
      switch (this.#state) {
        case S.start:
          if (isSpace(b) || (this.#offset < 3 && (b === 0xef || b === 0xbb || b === 0xbf))) break;
          if (b === OPEN_BRACE) this.#state = S.rootKeyOrEnd;
          else if (b === OPEN_BRACKET) {
            // A bare array of records (what `jq .Records` and many exports write): read it the same.
            this.#bare = true;
            this.#sawRecords = true;
            this.#afterElement = false;
            this.#state = S.array;
          } else this.#fatal("json", `expected "{" or "[" to open the log file, found ${show(b)}`);
          break;
        case S.rootKeyOrEnd:
          if (isSpace(b)) break;
          if (b === COMMA && this.#afterMember) this.#afterMember = false;
          else if (b === QUOTE && !this.#afterMember) {
            this.#key = [];
            this.#escape = false;
            this.#state = S.key;
          } else if (b === CLOSE_BRACE) this.#state = S.done;
          else this.#fatal("json", `expected a key or "}" in the log file's object, found ${show(b)}`);
          break;
        case S.key:
          if (this.#escape) this.#escape = false;
          else if (b === BACKSLASH) this.#escape = true;
          else if (b === QUOTE) {
            this.#state = S.colon;
            break;
          }
          if (this.#key.length < 64) this.#key.push(b);
          break;
        case S.colon:
          if (isSpace(b)) break;
          if (b !== COLON) this.#fatal("json", `expected ":" after a key, found ${show(b)}`);
          else if (keyText(this.#key) === "Records") this.#state = S.recordsOpen;
          else this.#startValue(false);
          break;
        case S.recordsOpen:
          if (isSpace(b)) break;
          if (b !== OPEN_BRACKET) {
            this.#fatal("shape", "Records is not an array");
            break;
          }
          this.#sawRecords = true;
          this.#afterElement = false;
          this.#state = S.array;
          break;
        case S.array:
          if (isSpace(b)) break;
          if (b === CLOSE_BRACKET) {
            this.#state = this.#bare ? S.done : S.rootKeyOrEnd;
            this.#afterMember = true;
          } else if (b === COMMA && this.#afterElement) this.#afterElement = false;
          else if (!this.#afterElement && b !== COMMA) {
            this.#startValue(true);
            continue; // the value state reads this byte
          } else this.#fatal("json", `expected a record, "," or "]" in Records, found ${show(b)}`);
          break;
        case S.value: {
          if (!this.#started) {
            if (isSpace(b)) break;
            this.#started = true;
          }
          if (segmentStart < 0) segmentStart = i;
          const end = this.#scan(chunk, i);
          if (end < 0) {
            this.#offset += n - i;
            i = n;
            continue;
          }
          // end: the index just past the value's last byte in this chunk.
          this.#collect(chunk.subarray(segmentStart, end));
          segmentStart = -1;
          this.#offset += end - i;
          i = end;
          this.#finishValue();
          continue;
        }
        case S.done:
          if (isSpace(b)) break;
          if (b === OPEN_BRACE || b === OPEN_BRACKET)
            this.#fatal(
              "json",
              "a second JSON document follows the first: the file looks like NDJSON (one record per line), which is not a CloudTrail log file",
            );
          else this.#fatal("json", `unexpected ${show(b)} after the log file's object`);
          break;
      }
      i++;
      this.#offset++;
    }
    if (this.#state === S.value && segmentStart >= 0) this.#collect(chunk.subarray(segmentStart, n));
  }

  #startValue(keep: boolean): void {
    this.#keep = keep;
    this.#depth = 0;
    this.#inString = false;
    this.#escape = false;
    this.#scalar = false;
    this.#started = false;
    this.#fresh = true;
    this.#parts = [];
    this.#size = 0;
    this.#tooLarge = false;
    this.#state = S.value;
  }

  /** Scans from `i`; returns the index just past the value's end, or -1 if it goes on past this chunk. */
  #scan(chunk: Uint8Array, from: number): number {
    const n = chunk.length;
    let i = from;
    if (this.#fresh) {
      // The value's first byte.
      this.#fresh = false;
      const b = chunk[i] as number;
      if (b === OPEN_BRACE || b === OPEN_BRACKET) this.#depth = 1;
      else if (b === QUOTE) this.#inString = true;
      else this.#scalar = true;
      i++;
      if (this.#scalar) return this.#scanScalar(chunk, i);
    }
    if (this.#scalar) return this.#scanScalar(chunk, i);
    let depth = this.#depth;
    let inString = this.#inString;
    let escaped = this.#escape;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    for (; i < n; i++) {
      if (inString) {
        // Most of a record's bytes are inside strings: the closing quote is found by indexOf (memchr)
        // rather than byte by byte; it is escaped when an odd run of backslashes stands before it.
        if (escaped) {
          escaped = false;
          continue;
        }
        let quote = bytes.indexOf(QUOTE, i);
        while (quote >= 0 && backslashesBefore(bytes, quote, i) % 2 === 1) quote = bytes.indexOf(QUOTE, quote + 1);
        if (quote < 0) {
          // The string goes on into the next chunk, escaping its first byte after an odd run.
          escaped = backslashesBefore(bytes, n, i) % 2 === 1;
          i = n;
          break;
        }
        i = quote;
        inString = false;
        if (depth === 0) {
          this.#inString = false;
          return i + 1;
        }
        continue;
      }
      const b = chunk[i] as number;
      if (b === QUOTE) inString = true;
      else if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
      else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) {
          this.#depth = 0;
          this.#inString = false;
          return i + 1;
        }
      }
    }
    this.#depth = depth;
    this.#inString = inString;
    this.#escape = escaped;
    return -1;
  }

  #scanScalar(chunk: Uint8Array, from: number): number {
    for (let i = from; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (isSpace(b) || b === COMMA || b === CLOSE_BRACKET || b === CLOSE_BRACE) {
        this.#scalar = false;
        return i;
      }
    }
    return -1;
  }

  #collect(part: Uint8Array): void {
    if (!this.#keep || this.#tooLarge) return;
    this.#size += part.length;
    if (this.#size > this.#maxRecordBytes) {
      this.#tooLarge = true;
      this.#parts = [];
      return;
    }
    this.#parts.push(part);
  }

  #finishValue(): void {
    if (!this.#keep) {
      this.#state = S.rootKeyOrEnd;
      this.#afterMember = true;
      return;
    }
    const index = this.#index++;
    const where = this.#bare ? `$[${index}]` : `$.Records[${index}]`;
    this.#state = S.array;
    this.#afterElement = true;
    if (this.#tooLarge) {
      this.#out.push({
        ok: false,
        index,
        error: new DecodeError("too-large", `the record is larger than ${this.#maxRecordBytes} bytes`, where),
      });
      return;
    }
    const bytes = this.#parts.length === 1 ? (this.#parts[0] as Uint8Array) : Buffer.concat(this.#parts);
    this.#parts = [];
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      this.#out.push({ ok: false, index, error: new DecodeError("utf8", "the record is not valid UTF-8", where) });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#out.push({
        ok: false,
        index,
        error: new DecodeError("json", `the record is not valid JSON: ${reason}`, where),
      });
      return;
    }
    const checked = this.#validate(value, where);
    this.#out.push(
      checked.ok ? { ok: true, record: checked.value, index, text } : { ok: false, error: checked.error, index },
    );
  }
}

/** How many backslashes stand right before `at`, counting back no further than `from`. */
function backslashesBefore(bytes: Uint8Array, at: number, from: number): number {
  let k = at;
  while (k > from && bytes[k - 1] === BACKSLASH) k--;
  return at - k;
}

/** A root key as JSON reads it, escapes and all (`"Rec\\u006frds"` is `Records`). */
function keyText(bytes: readonly number[]): string {
  const raw = String.fromCharCode(...bytes);
  if (!bytes.includes(BACKSLASH)) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

function show(b: number): string {
  return b >= 0x20 && b < 0x7f ? `"${String.fromCharCode(b)}"` : `byte 0x${b.toString(16).padStart(2, "0")}`;
}
