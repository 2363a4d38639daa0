import type { DecodeError } from "./errors.ts";
import type { CloudTrailRecord } from "./record.ts";

export type Result<T> = { ok: true; value: T } | { ok: false; error: DecodeError };

/**
 * One record out of a container (a log file, a Kinesis payload), or why it could not be read.
 * An error with an `index` spoils one record and decoding goes on; one without spoils the rest of
 * the input and decoding stops there.
 */
export type DecodeItem =
  | {
      ok: true;
      record: CloudTrailRecord;
      index: number;
      /**
       * The record's JSON text exactly as it was in the input, when the decoder cut it out on its own
       * (a streamed log file): a writer can carry these characters instead of serialising `record`
       * again. They parse to `record`. Absent when the input was parsed whole.
       */
      text?: string;
    }
  | { ok: false; error: DecodeError; index?: number };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T>(error: DecodeError): Result<T> => ({ ok: false, error });
