// The first gzip member of a file, and nothing else. CloudTrail writes one member per file, and
// AWS's `validate-logs` calls a log file with any byte after that member invalid; Node's gunzip
// would quietly inflate a second member (or skip zero padding), so the gzip framing is read here
// and only the deflate stream goes through zlib. The trailer's CRC-32 and size are checked too.
import { crc32, createInflateRaw, inflateRaw, inflateRawSync } from "node:zlib";

/** How the first member ended: the bytes that followed it (0 for a clean file). */
export interface MemberEnd {
  trailingBytes: number;
}

/** A zlib-style error, so callers that already tell zlib errors apart treat framing errors alike. */
export class GzipFramingError extends Error {
  readonly code = "Z_DATA_ERROR";
}

const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

/** The length of the gzip header at the start of `bytes`, or -1 when more bytes are needed. */
export function gzipHeaderLength(bytes: Uint8Array): number {
  if (bytes.length < 10) return -1;
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) throw new GzipFramingError("not a gzip stream");
  if (bytes[2] !== 8) throw new GzipFramingError(`unknown gzip compression method ${bytes[2]}`);
  const flags = bytes[3] as number;
  let at = 10;
  if (flags & FEXTRA) {
    if (bytes.length < at + 2) return -1;
    at += 2 + ((bytes[at] as number) | ((bytes[at + 1] as number) << 8));
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (flags & flag) {
      while (at < bytes.length && bytes[at] !== 0) at++;
      if (at >= bytes.length) return -1;
      at++;
    }
  }
  if (flags & FHCRC) at += 2;
  return at <= bytes.length ? at : -1;
}

function checkTrailer(trailer: Uint8Array, crc: number, size: number): void {
  if (trailer.length < 8) throw new GzipFramingError("the gzip stream is cut short before its trailer");
  const view = new DataView(trailer.buffer, trailer.byteOffset, 8);
  if (view.getUint32(0, true) !== crc >>> 0) throw new GzipFramingError("the gzip CRC-32 does not match");
  if (view.getUint32(4, true) !== size % 2 ** 32) throw new GzipFramingError("the gzip size does not match");
}

/**
 * Inflates the first member of a gzip file held in memory. Throws a RangeError when the output
 * would pass `maxOutputLength` (the caller falls back to streaming) and a zlib-coded error when
 * the stream is corrupt.
 */
export function inflateFirstMemberSync(bytes: Uint8Array, maxOutputLength: number): [Buffer, MemberEnd] {
  const header = gzipHeaderLength(bytes);
  if (header < 0) throw new GzipFramingError("the gzip header is cut short");
  const deflated = bytes.subarray(header);
  const { buffer, engine } = inflateRawSync(deflated, { info: true, maxOutputLength }) as unknown as {
    buffer: Buffer;
    engine: { bytesWritten: number };
  };
  const consumed = engine.bytesWritten;
  checkTrailer(deflated.subarray(consumed, consumed + 8), crc32(buffer), buffer.length);
  return [buffer, { trailingBytes: deflated.length - consumed - 8 }];
}

/**
 * `inflateFirstMemberSync` on zlib's thread pool, so a file can be inflated while the main thread
 * parses the one before it. The same answers and errors; the CRC-32 is taken on the main thread.
 */
export function inflateFirstMemberAsync(bytes: Uint8Array, maxOutputLength: number): Promise<[Buffer, MemberEnd]> {
  return new Promise((resolve, reject) => {
    const header = gzipHeaderLength(bytes);
    if (header < 0) throw new GzipFramingError("the gzip header is cut short");
    const deflated = bytes.subarray(header);
    // One output chunk as large as the trailer says the member inflates to: with zlib's default of
    // 16 KiB a file of several MB made hundreds of round trips to the thread pool, each with its
    // callback on the main thread (10 % of a `scan`'s main thread), and a copy to join the chunks.
    // The size is only a hint (a wrong one costs more chunks, never a wrong answer).
    inflateRaw(
      deflated,
      { info: true, maxOutputLength, chunkSize: outputChunkSize(bytes, maxOutputLength) },
      (error, result) => {
        if (error) return reject(error);
        const { buffer, engine } = result as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
        try {
          const consumed = engine.bytesWritten;
          checkTrailer(deflated.subarray(consumed, consumed + 8), crc32(buffer), buffer.length);
          resolve([buffer, { trailingBytes: deflated.length - consumed - 8 }]);
        } catch (framing) {
          reject(framing);
        }
      },
    );
  });
}

/** The gzip trailer's size (mod 2^32) plus a little, so the inflate ends with room to spare; 16 KiB to maxOutputLength. */
function outputChunkSize(bytes: Uint8Array, maxOutputLength: number): number {
  const n = bytes.length;
  if (n < 18) return 16 * 1024;
  const size =
    ((bytes[n - 4] as number) |
      ((bytes[n - 3] as number) << 8) |
      ((bytes[n - 2] as number) << 16) |
      ((bytes[n - 1] as number) << 24)) >>>
    0;
  return Math.max(16 * 1024, Math.min(size + 64, maxOutputLength + 64));
}

/**
 * Inflates the first member of a streamed gzip file, chunk by chunk; `onEnd` hears how many bytes
 * followed it once the whole input was read. `head` is the input's first bytes, already taken.
 */
export async function* inflateFirstMember(
  head: Uint8Array,
  rest: AsyncIterator<Uint8Array>,
  onEnd: (end: MemberEnd) => void,
): AsyncGenerator<Uint8Array> {
  let buffered = head;
  let header = gzipHeaderLength(buffered);
  while (header < 0) {
    const next = await rest.next();
    if (next.done) throw new GzipFramingError("the gzip header is cut short");
    buffered = Buffer.concat([buffered, next.value]);
    header = gzipHeaderLength(buffered);
  }
  const inflater = createInflateRaw({ chunkSize: 64 * 1024 });
  // What was fed but may lie past the deflate stream's end: the trailer and anything after it.
  const retained: { at: number; bytes: Uint8Array }[] = [];
  let fed = 0;
  let inflated = false;
  let sourceDone = false;
  const ended = new Promise<void>((resolve) => inflater.once("end", resolve));
  ended.then(() => {
    inflated = true;
  });
  const write = async (bytes: Uint8Array) => {
    retained.push({ at: fed, bytes });
    fed += bytes.length;
    const consumed = inflater.bytesWritten;
    let drop = 0;
    while (
      drop < retained.length - 1 &&
      (retained[drop] as { at: number }).at + (retained[drop]?.bytes.length ?? 0) <= consumed
    )
      drop++;
    if (drop > 0) retained.splice(0, drop);
    if (!inflater.write(bytes)) {
      await Promise.race([new Promise((resolve) => inflater.once("drain", resolve)), ended]);
    }
  };
  // Tiny chunks are joined first: a write per byte would cost far more than the inflate.
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const joined = pending.length === 1 ? (pending[0] as Uint8Array) : Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    await write(joined);
  };
  const feeding = (async () => {
    try {
      pending.push(buffered.subarray(header));
      pendingBytes = buffered.length - header;
      while (!inflated) {
        const next = await rest.next();
        if (next.done) {
          sourceDone = true;
          break;
        }
        pending.push(next.value);
        pendingBytes += next.value.length;
        if (pendingBytes >= 16 * 1024) await flush();
      }
      await flush();
    } catch (error) {
      inflater.destroy(error as Error);
      return;
    }
    inflater.end();
  })();
  let crc = 0;
  let size = 0;
  for await (const chunk of inflater as AsyncIterable<Buffer>) {
    crc = crc32(chunk, crc);
    size += chunk.length;
    yield chunk;
  }
  await feeding;
  // The deflate stream ended: read what is left, keeping only the 8 trailer bytes.
  const consumed = inflater.bytesWritten;
  const tail: Uint8Array[] = retained.map((r) => r.bytes.subarray(Math.max(0, consumed - r.at)));
  let after = fed - consumed;
  while (!sourceDone) {
    const next = await rest.next();
    if (next.done) break;
    after += next.value.length;
    if (tail.reduce((n, t) => n + t.length, 0) < 8) tail.push(next.value);
  }
  checkTrailer(Buffer.concat(tail).subarray(0, 8), crc, size);
  onEnd({ trailingBytes: after - 8 });
}
