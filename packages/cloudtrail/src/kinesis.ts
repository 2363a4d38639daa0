// What a Kinesis record's data can hold: a CloudWatch Logs subscription payload (gzip; one
// CloudTrail record per log event), an EventBridge event whose detail is a CloudTrail record, or
// a bare record (or a log file body) written by some other producer.
import { gunzipSync } from "node:zlib";
import { DecodeError } from "./errors.ts";
import { isGzip } from "./log-file.ts";
import { isPlainObject } from "./record.ts";
import { type DecodeItem, fail, ok, type Result } from "./result.ts";
import { describe, validateRecord } from "./validate.ts";

export type KinesisPayload =
  | { kind: "kinesis-logs"; logGroup: string; logStream: string; owner: string; items: DecodeItem[] }
  | { kind: "control" }
  | { kind: "kinesis-eventbridge"; items: DecodeItem[] }
  | { kind: "kinesis-raw"; items: DecodeItem[] };

/** EventBridge's detail-types for CloudTrail events (its guide spells the sign-in one two ways). */
export const CLOUDTRAIL_DETAIL_TYPES = new Set([
  "AWS API Call via CloudTrail",
  "AWS Console Sign In via CloudTrail",
  "AWS Console Signin via CloudTrail",
  "AWS Console Action via CloudTrail",
  "AWS Service Event via CloudTrail",
  "AWS Insight via CloudTrail",
  "AWS Network Activity Event via CloudTrail",
]);

/** A Kinesis record is at most 1 MiB; what it inflates to is bounded too. */
const MAX_INFLATED = 64 * 1024 ** 2;
const utf8 = new TextDecoder("utf-8", { fatal: true });

export function decodeKinesisData(data: Uint8Array): Result<KinesisPayload> {
  let bytes = data;
  if (isGzip(data)) {
    try {
      bytes = gunzipSync(data, { maxOutputLength: MAX_INFLATED });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ERR_BUFFER_TOO_LARGE") {
        return fail(new DecodeError("too-large", `the payload inflates to more than ${MAX_INFLATED} bytes`, "data"));
      }
      return fail(
        new DecodeError("gzip", `the payload's gzip is corrupt or cut short: ${(error as Error).message}`, "data"),
      );
    }
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return fail(new DecodeError("utf8", "the payload is not valid UTF-8", "data"));
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail(new DecodeError("json", `the payload is not JSON: ${(error as Error).message}`, "data"));
  }
  if (!isPlainObject(value)) return fail(new DecodeError("unknown-envelope", `the payload is ${describe(value)}`, "$"));
  if (typeof value.messageType === "string") return logsPayload(value);
  if ("detail-type" in value) {
    const event = decodeEventBridgeEvent(value);
    return event.ok ? ok({ kind: "kinesis-eventbridge", items: [event.value] }) : event;
  }
  if (Array.isArray(value.Records)) {
    return ok({
      kind: "kinesis-raw",
      items: value.Records.map((r, i) => item(validateRecord(r, `$.Records[${i}]`), i)),
    });
  }
  if ("eventID" in value || "eventVersion" in value)
    return ok({ kind: "kinesis-raw", items: [item(validateRecord(value, "$"), 0)] });
  return fail(
    new DecodeError(
      "unknown-envelope",
      `neither a CloudWatch Logs payload, an EventBridge event nor a CloudTrail record (keys ${Object.keys(value).slice(0, 6).join(", ")})`,
      "$",
    ),
  );
}

function item(result: ReturnType<typeof validateRecord>, index: number): DecodeItem {
  return result.ok ? { ok: true, record: result.value, index } : { ok: false, error: result.error, index };
}

function logsPayload(value: Record<string, unknown>): Result<KinesisPayload> {
  if (value.messageType === "CONTROL_MESSAGE") return ok({ kind: "control" });
  if (value.messageType !== "DATA_MESSAGE") {
    return fail(new DecodeError("shape", `unknown messageType ${describe(value.messageType)}`, "$.messageType"));
  }
  if (!Array.isArray(value.logEvents))
    return fail(new DecodeError("shape", "logEvents is not an array", "$.logEvents"));
  const items = value.logEvents.map((logEvent, i): DecodeItem => {
    const where = `$.logEvents[${i}].message`;
    if (!isPlainObject(logEvent) || typeof logEvent.message !== "string") {
      return { ok: false, index: i, error: new DecodeError("shape", "a log event needs a message string", where) };
    }
    let record: unknown;
    try {
      record = JSON.parse(logEvent.message);
    } catch (error) {
      return {
        ok: false,
        index: i,
        error: new DecodeError("json", `the log event's message is not JSON: ${(error as Error).message}`, where),
      };
    }
    return item(validateRecord(record, where), i);
  });
  return ok({
    kind: "kinesis-logs",
    logGroup: String(value.logGroup ?? ""),
    logStream: String(value.logStream ?? ""),
    owner: String(value.owner ?? ""),
    items,
  });
}

/** An EventBridge event carrying a CloudTrail record in `detail`. */
export function decodeEventBridgeEvent(value: unknown): Result<DecodeItem> {
  if (!isPlainObject(value))
    return fail(new DecodeError("shape", `an EventBridge event must be an object, not ${describe(value)}`, "$"));
  const type = value["detail-type"];
  if (typeof type !== "string" || !CLOUDTRAIL_DETAIL_TYPES.has(type)) {
    return fail(
      new DecodeError(
        "unknown-envelope",
        `the EventBridge detail-type ${describe(type)} does not carry a CloudTrail event`,
        "$.detail-type",
      ),
    );
  }
  return ok(item(validateRecord(value.detail, "$.detail"), 0));
}
