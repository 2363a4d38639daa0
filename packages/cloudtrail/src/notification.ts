// The messages that announce a new log file on SQS: an S3 event notification (direct or wrapped by
// SNS), CloudTrail's own SNS notice, EventBridge's "Object Created", and the test event S3 sends
// when notifications are set up. Each becomes the list of objects to read.
import { DecodeError } from "./errors.ts";
import { type CloudTrailKey, decodeNotificationKey, parseCloudTrailKey } from "./keys.ts";
import { isPlainObject } from "./record.ts";
import { fail, ok, type Result } from "./result.ts";
import { describe } from "./validate.ts";

export type NotificationKind = "s3" | "sns-s3" | "cloudtrail-sns" | "eventbridge-s3" | "s3-test";

export interface S3ObjectRef {
  bucket: string;
  /** The object key, URL-decoded. */
  key: string;
  size?: number;
  eTag?: string;
  /** The key read as CloudTrail's layout, or null when the object is not a CloudTrail file. */
  file: CloudTrailKey | null;
}

export interface Notification {
  kind: NotificationKind;
  objects: S3ObjectRef[];
}

export function decodeNotification(body: string): Result<Notification> {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return fail(
      new DecodeError(
        "json",
        `the message is not JSON: ${error instanceof Error ? error.message : String(error)}`,
        "$",
      ),
    );
  }
  return fromValue(value, false);
}

function fromValue(value: unknown, viaSns: boolean): Result<Notification> {
  if (!isPlainObject(value)) return unknown(`the message is ${describe(value)}`);
  if (value.Type === "Notification" && typeof value.Message === "string" && !viaSns) {
    let inner: unknown;
    try {
      inner = JSON.parse(value.Message);
    } catch (error) {
      return fail(
        new DecodeError(
          "json",
          `the SNS Message is not JSON: ${error instanceof Error ? error.message : String(error)}`,
          "$.Message",
        ),
      );
    }
    return fromValue(inner, true);
  }
  if (value.Event === "s3:TestEvent") return ok({ kind: "s3-test", objects: [] });
  if (Array.isArray(value.Records)) return s3Event(value.Records, viaSns);
  if ("s3ObjectKey" in value || "s3Bucket" in value) return cloudTrailNotice(value);
  if (value["detail-type"] === "Object Created" && value.source === "aws.s3") return eventBridge(value.detail);
  return unknown(`keys ${Object.keys(value).slice(0, 6).join(", ")}`);
}

function unknown(what: string): Result<Notification> {
  return fail(
    new DecodeError(
      "unknown-envelope",
      `not an S3 event notification, an SNS notification, a CloudTrail notice or an EventBridge Object Created event (${what})`,
      "$",
    ),
  );
}

function s3Event(records: unknown[], viaSns: boolean): Result<Notification> {
  const objects: S3ObjectRef[] = [];
  for (const [i, record] of records.entries()) {
    const where = `$.Records[${i}]`;
    if (!isPlainObject(record) || record.eventSource !== "aws:s3") {
      return fail(new DecodeError("shape", "an S3 event notification record must have eventSource aws:s3", where));
    }
    if (typeof record.eventName !== "string" || !record.eventName.startsWith("ObjectCreated:")) continue;
    const s3 = record.s3;
    const bucket = isPlainObject(s3) && isPlainObject(s3.bucket) ? s3.bucket.name : undefined;
    const object = isPlainObject(s3) ? s3.object : undefined;
    if (typeof bucket !== "string" || !isPlainObject(object) || typeof object.key !== "string") {
      return fail(new DecodeError("shape", "the record has no s3.bucket.name or s3.object.key", `${where}.s3`));
    }
    const key = decodeNotificationKey(object.key);
    if (!key.ok) return key;
    objects.push(ref(bucket, key.value, object.size, object.eTag ?? object.etag));
  }
  return ok({ kind: viaSns ? "sns-s3" : "s3", objects });
}

function cloudTrailNotice(value: Record<string, unknown>): Result<Notification> {
  const bucket = value.s3Bucket;
  const keys = value.s3ObjectKey;
  if (typeof bucket !== "string" || !Array.isArray(keys) || !keys.every((k) => typeof k === "string")) {
    return fail(
      new DecodeError("shape", "a CloudTrail notice needs s3Bucket (a string) and s3ObjectKey (a list of keys)", "$"),
    );
  }
  // CloudTrail's notice carries keys as they are, not URL-encoded.
  return ok({
    kind: "cloudtrail-sns",
    objects: (keys as string[]).map((key) => ref(bucket, key, undefined, undefined)),
  });
}

function eventBridge(detail: unknown): Result<Notification> {
  const bucket = isPlainObject(detail) && isPlainObject(detail.bucket) ? detail.bucket.name : undefined;
  const object = isPlainObject(detail) ? detail.object : undefined;
  if (typeof bucket !== "string" || !isPlainObject(object) || typeof object.key !== "string") {
    return fail(
      new DecodeError("shape", "the Object Created event has no detail.bucket.name or detail.object.key", "$.detail"),
    );
  }
  const key = decodeNotificationKey(object.key);
  if (!key.ok) return key;
  return ok({ kind: "eventbridge-s3", objects: [ref(bucket, key.value, object.size, object.etag ?? object.eTag)] });
}

function ref(bucket: string, key: string, size: unknown, eTag: unknown): S3ObjectRef {
  const parsed = parseCloudTrailKey(key);
  return {
    bucket,
    key,
    ...(typeof size === "number" ? { size } : {}),
    ...(typeof eTag === "string" ? { eTag: eTag.replace(/"/g, "") } : {}),
    file: parsed.ok ? parsed.value : null,
  };
}
