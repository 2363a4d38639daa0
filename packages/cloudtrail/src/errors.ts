// Every decoder reports bad input with one of these codes, a sentence saying what was wrong,
// and where (a JSON path, a byte offset, a record index): enough for a dead-letter record.

export const DECODE_ERROR_CODES = [
  "gzip", // truncated or corrupt gzip stream
  "too-large", // decompressed output or one record over its bound (gzip bomb, giant record)
  "too-deep", // a record nested deeper than MAX_RECORD_DEPTH: JSON.stringify and the matchers would overflow the stack
  "utf8", // bytes that are not valid UTF-8
  "json", // not JSON, or JSON cut short
  "shape", // valid JSON, but not the shape this envelope has (Records missing, not an array, ...)
  "field", // a known field with the wrong type
  "missing-event-id", // a record without eventID or recipientAccountId: it has no identity
  "unknown-envelope", // none of the envelopes trailstream reads
] as const;
export type DecodeErrorCode = (typeof DECODE_ERROR_CODES)[number];

export class DecodeError extends Error {
  override readonly name = "DecodeError";
  readonly code: DecodeErrorCode;
  /** Where in the input: a JSON path like `$.Records[12].eventID`, or `byte 1034`. */
  readonly where: string | undefined;

  constructor(code: DecodeErrorCode, message: string, where?: string) {
    super(where ? `${message} (at ${where})` : message);
    this.code = code;
    this.where = where;
  }
}

export function isDecodeError(value: unknown): value is DecodeError {
  return value instanceof DecodeError;
}
