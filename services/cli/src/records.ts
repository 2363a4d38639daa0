// The records `rules test` reads from one file: a CloudTrail log file, a bare JSON array of
// records, a single record, or NDJSON; gzipped or not. Log files and arrays go through the same
// bounded, streaming decoder as `scan` (one record's bytes held at a time, the same inflate bound);
// NDJSON is streamed line by line. Records are checked only for shape and depth, not for an
// identity: a pattern can be tried on hand-made records.
import {
  type CloudTrailRecord,
  DecodeError,
  decodeLogFile,
  deeperThan,
  fail,
  inflateBounded,
  isPlainObject,
  MAX_RECORD_DEPTH,
  ok,
  type Result,
} from "@trailstream/cloudtrail";
import type { ScanInput } from "./scan/inputs.ts";

export type RecordItem = { ok: true; record: unknown; index: number } | { ok: false; reason: string; index?: number };

/** A whole-file single record (pretty-printed JSON) is parsed at once up to this size. */
const MAX_SINGLE_RECORD = 32 * 1024 ** 2;

function lenient(value: unknown, where: string): Result<CloudTrailRecord> {
  if (!isPlainObject(value)) return fail(new DecodeError("shape", "a record must be a JSON object", where));
  if (deeperThan(value, MAX_RECORD_DEPTH))
    return fail(new DecodeError("too-deep", `the record is nested deeper than ${MAX_RECORD_DEPTH} levels`, where));
  return ok(value as CloudTrailRecord);
}

export async function* readRecords(input: ScanInput): AsyncGenerator<RecordItem> {
  const held: RecordItem[] = [];
  let sawRecord = false;
  let other: "ndjson" | "single" | null = null;
  for await (const item of decodeLogFile(await input.open(), { validate: lenient })) {
    if (item.ok) {
      if (!sawRecord) yield* held.splice(0);
      sawRecord = true;
      yield { ok: true, record: item.record, index: item.index };
      continue;
    }
    const failure: RecordItem = {
      ok: false,
      reason: item.error.message,
      ...(item.index === undefined ? {} : { index: item.index }),
    };
    if (!sawRecord && item.index === undefined && /looks like NDJSON/.test(item.error.message)) other = "ndjson";
    else if (!sawRecord && item.index === undefined && /no Records array/.test(item.error.message)) other = "single";
    if (sawRecord) yield failure;
    else held.push(failure);
  }
  if (sawRecord || other === null) {
    yield* held;
    return;
  }
  if (other === "single") {
    yield* singleRecord(input);
    return;
  }
  yield* ndjson(input);
}

async function* singleRecord(input: ScanInput): AsyncGenerator<RecordItem> {
  const parts: Uint8Array[] = [];
  for await (const chunk of inflateBounded(await input.open(), MAX_SINGLE_RECORD)) parts.push(chunk);
  const value: unknown = JSON.parse(Buffer.concat(parts).toString("utf8"));
  const checked = lenient(value, "$");
  yield checked.ok
    ? { ok: true, record: checked.value, index: 0 }
    : { ok: false, reason: checked.error.message, index: 0 };
}

async function* ndjson(input: ScanInput): AsyncGenerator<RecordItem> {
  let rest = "";
  let line = 0;
  let index = 0;
  const decoder = new TextDecoder("utf-8");
  function* lines(text: string): Generator<RecordItem> {
    for (const raw of text.split("\n")) {
      line++;
      const trimmed = raw.trim();
      if (trimmed === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(trimmed);
      } catch {
        yield {
          ok: false,
          index: index++,
          reason: `line ${line} is not JSON (expected a log file, a JSON array or NDJSON)`,
        };
        continue;
      }
      const checked = lenient(value, `line ${line}`);
      yield checked.ok
        ? { ok: true, record: checked.value, index: index++ }
        : { ok: false, reason: checked.error.message, index: index++ };
    }
  }
  for await (const chunk of inflateBounded(await input.open())) {
    const text = rest + decoder.decode(chunk, { stream: true });
    const cut = text.lastIndexOf("\n");
    if (cut < 0) {
      rest = text;
      if (rest.length > MAX_SINGLE_RECORD)
        throw new Error(`line ${line + 1} is longer than ${MAX_SINGLE_RECORD} bytes`);
      continue;
    }
    rest = text.slice(cut + 1);
    yield* lines(text.slice(0, cut));
  }
  rest += decoder.decode();
  if (rest.trim() !== "") yield* lines(rest);
}
