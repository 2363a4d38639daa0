// Checks a parsed value is a CloudTrail record trailstream can carry: an object, known fields of
// the types CloudTrail writes (or null), and an identity. Unknown fields are data and pass.
import { DecodeError } from "./errors.ts";
import { type CloudTrailRecord, isPlainObject } from "./record.ts";
import { fail, ok, type Result } from "./result.ts";

const STRING_FIELDS = [
  "eventVersion",
  "eventTime",
  "eventSource",
  "eventName",
  "awsRegion",
  "sourceIPAddress",
  "userAgent",
  "errorCode",
  "errorMessage",
  "requestID",
  "eventType",
  "eventCategory",
  "sharedEventID",
  "vpcEndpointId",
] as const;
const OBJECT_FIELDS = ["userIdentity", "addendum"] as const;
const BOOLEAN_FIELDS = ["readOnly", "managementEvent"] as const;

export function validateRecord(value: unknown, where: string): Result<CloudTrailRecord> {
  if (!isPlainObject(value)) {
    return fail(new DecodeError("shape", `a CloudTrail record must be a JSON object, not ${describe(value)}`, where));
  }
  for (const field of STRING_FIELDS) {
    const v = value[field];
    if (v !== undefined && v !== null && typeof v !== "string") {
      return fail(new DecodeError("field", `${field} must be a string, not ${describe(v)}`, `${where}.${field}`));
    }
  }
  for (const field of OBJECT_FIELDS) {
    const v = value[field];
    if (v !== undefined && v !== null && !isPlainObject(v)) {
      return fail(new DecodeError("field", `${field} must be an object, not ${describe(v)}`, `${where}.${field}`));
    }
  }
  for (const field of BOOLEAN_FIELDS) {
    const v = value[field];
    if (v !== undefined && v !== null && typeof v !== "boolean") {
      return fail(new DecodeError("field", `${field} must be true or false, not ${describe(v)}`, `${where}.${field}`));
    }
  }
  for (const field of ["eventID", "recipientAccountId"] as const) {
    const v = value[field];
    if (typeof v !== "string" || v === "") {
      const what = v === undefined ? "is missing" : `is ${describe(v)}`;
      return fail(
        new DecodeError("missing-event-id", `${field} ${what}: the record has no identity`, `${where}.${field}`),
      );
    }
  }
  return ok(value as CloudTrailRecord);
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return value.length > 40 ? `the string "${value.slice(0, 40)}…"` : `the string "${value}"`;
  return typeof value === "object" ? "an object" : `the ${typeof value} ${String(value)}`;
}
