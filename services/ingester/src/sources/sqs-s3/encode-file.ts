// A log file held in memory, from its bytes to the raw topic's values: gunzip, parse, check, key and
// serialise every record (records.ts), so that what is left for the event loop is to hand the bytes
// to Kafka. Runs on a decode thread (decode-pool.ts) as well as inline; either way it gives the
// same values, keys and dead letters the record-by-record path of the source gives.
import { decodeLogFile, type LogFileHash, LogFileHasher, type Origin } from "@trailstream/cloudtrail";
import { rawValue, toOutcome } from "../../records.ts";
import type { DeadLetterInput } from "../../sink.ts";

export interface EncodeJob {
  /** The file as read from S3, gzipped or plain. */
  bytes: Uint8Array;
  maxDecompressedBytes: number;
  maxRecordBytes: number;
  /** `s3://bucket/key`, for the dead letters' messages and keys. */
  where: string;
  origin: Origin;
  /** Hash the decompressed file for the integrity check. */
  hash: boolean;
}

export interface EncodedFile {
  /** Every record's value, UTF-8, back to back: record i is `values[ends[i - 1] ?? 0, ends[i])`. */
  values: Uint8Array;
  ends: Uint32Array;
  identities: string[];
  eventTimes: unknown[];
  /** The file's dead letters (bucket and key still to be added), in the order they were found. */
  letters: { letter: DeadLetterInput; key: string | null }[];
  /** An error spoiled the rest of the file (gzip, JSON, too large). */
  corrupt: boolean;
  hash: LogFileHash | undefined;
}

/**
 * Files whose decompressed size (by the gzip trailer, or their own size when plain) is at most this
 * are encoded in one piece; each holds its values in memory until Kafka has them, so a larger file
 * goes record by record with a bounded number of batches in flight instead.
 */
export const ONE_PIECE_BYTES = 8 * 1024 ** 2;

/** The values of one file never pass this, whatever its trailer said (a trailer can lie). */
const MAX_VALUE_BYTES = 2 * ONE_PIECE_BYTES;

/** Thrown when a file's values pass MAX_VALUE_BYTES: the caller reads it record by record instead. */
export class TooLargeForOnePiece extends Error {
  override name = "TooLargeForOnePiece";
}

/** Whether the file's decompressed size, as its gzip trailer (or its own length) gives it, is small enough. */
export function fitsOnePiece(bytes: Uint8Array): boolean {
  if (bytes.length < 18 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes.length <= ONE_PIECE_BYTES;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return view.getUint32(bytes.length - 4, true) <= ONE_PIECE_BYTES;
}

export async function encodeFile(job: EncodeJob): Promise<EncodedFile> {
  const hasher = job.hash ? new LogFileHasher() : undefined;
  const originJson = JSON.stringify(job.origin);
  const texts: string[] = [];
  const identities: string[] = [];
  const eventTimes: unknown[] = [];
  const letters: EncodedFile["letters"] = [];
  let corrupt = false;
  let chars = 0;
  const limits = { maxDecompressedBytes: job.maxDecompressedBytes, maxRecordBytes: job.maxRecordBytes };
  for await (const item of decodeLogFile(job.bytes, limits, hasher)) {
    const outcome = toOutcome(item, job.origin, job.where);
    if (outcome.ok) {
      const text = rawValue(outcome.record, originJson);
      chars += text.length;
      if (chars > MAX_VALUE_BYTES)
        throw new TooLargeForOnePiece(`${job.where}: over ${MAX_VALUE_BYTES} bytes of values`);
      texts.push(text);
      identities.push(outcome.record.identity);
      eventTimes.push(outcome.record.envelope.event.eventTime);
      continue;
    }
    if (!item.ok && item.index === undefined) corrupt = true;
    letters.push({ letter: outcome.letter, key: outcome.key });
  }
  // One buffer of its own (not from Node's pool), so a decode thread can hand it over without a copy.
  const ends = new Uint32Array(texts.length);
  let total = 0;
  for (let i = 0; i < texts.length; i++) {
    total += Buffer.byteLength(texts[i] as string);
    ends[i] = total;
  }
  const values = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const text of texts) at += values.write(text, at);
  return { values, ends, identities, eventTimes, letters, corrupt, hash: await hasher?.result() };
}
