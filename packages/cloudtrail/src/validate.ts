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

/**
 * CloudTrail nests a few tens of levels at most. JSON.parse takes far deeper input than
 * JSON.stringify or a recursive matcher can walk (about 5,000 levels overflow the stack), so a record
 * past this bound would fail every later stage; it is refused here, once, with its reason.
 */
export const MAX_RECORD_DEPTH = 256;

export function validateRecord(value: unknown, where: string): Result<CloudTrailRecord> {
  if (isCarriableRecord(value)) return ok(value);
  return explainRecord(value, where);
}

/**
 * Whether validateRecord accepts `value`, as a yes or no: the same checks in one pass that allocates
 * nothing (the decoders' hot path). It never says yes where explainRecord would refuse; on a no,
 * explainRecord runs for the reason and the sentence, so every refusal reads exactly as before.
 */
export function isCarriableRecord(value: unknown): value is CloudTrailRecord {
  if (!isPlainObject(value)) return false;
  // Named reads, not a loop over the field names: a keyed read with a different name each turn is
  // megamorphic, and these fields are most of what is checked. Same list as STRING_FIELDS & co.
  const v = value;
  if (!nullableString(v.eventVersion) || !nullableString(v.eventTime) || !nullableString(v.eventSource)) return false;
  if (!nullableString(v.eventName) || !nullableString(v.awsRegion) || !nullableString(v.sourceIPAddress)) return false;
  if (!nullableString(v.userAgent) || !nullableString(v.errorCode) || !nullableString(v.errorMessage)) return false;
  if (!nullableString(v.requestID) || !nullableString(v.eventType) || !nullableString(v.eventCategory)) return false;
  if (!nullableString(v.sharedEventID) || !nullableString(v.vpcEndpointId)) return false;
  if (!nullableObject(v.userIdentity) || !nullableObject(v.addendum)) return false;
  if (!nullableBoolean(v.readOnly) || !nullableBoolean(v.managementEvent)) return false;
  const id = v.eventID;
  const account = v.recipientAccountId;
  if (typeof id !== "string" || id === "" || typeof account !== "string" || account === "") return false;
  return !containersDeeperThan(v, MAX_RECORD_DEPTH - 1);
}

const nullableString = (v: unknown): boolean => v === undefined || v === null || typeof v === "string";
const nullableBoolean = (v: unknown): boolean => v === undefined || v === null || typeof v === "boolean";
const nullableObject = (v: unknown): boolean => v === undefined || v === null || isPlainObject(v);

/**
 * Whether a container inside `container` sits more than `levels` levels below it: deeperThan(container,
 * levels + 1) without a stack entry per value. Recursive, but never more than `levels` + 1 frames deep
 * whatever the input (it stops descending past the bound), so with MAX_RECORD_DEPTH it cannot overflow.
 */
function containersDeeperThan(container: object, levels: number): boolean {
  if (Array.isArray(container)) {
    for (let i = 0; i < container.length; i++) {
      const child: unknown = container[i];
      if (typeof child === "object" && child !== null && (levels === 0 || containersDeeperThan(child, levels - 1)))
        return true;
    }
    return false;
  }
  for (const key in container) {
    const child = (container as Record<string, unknown>)[key];
    if (typeof child === "object" && child !== null && (levels === 0 || containersDeeperThan(child, levels - 1)))
      return true;
  }
  return false;
}

/** validateRecord's checks in their order, one by one, for the reason and the sentence of a refusal. */
function explainRecord(value: unknown, where: string): Result<CloudTrailRecord> {
  if (!isPlainObject(value)) {
    return fail(new DecodeError("shape", `a CloudTrail record must be a JSON object, not ${describe(value)}`, where));
  }
  if (deeperThan(value, MAX_RECORD_DEPTH)) {
    return fail(new DecodeError("too-deep", `the record is nested deeper than ${MAX_RECORD_DEPTH} levels`, where));
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

/** Whether any value inside `root` sits more than `limit` containers down; iterative, so never overflows. */
export function deeperThan(root: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value: root, depth: 1 }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if (top.depth > limit) return true;
    const v = top.value;
    if (Array.isArray(v)) {
      for (const child of v)
        if (typeof child === "object" && child !== null) stack.push({ value: child, depth: top.depth + 1 });
    } else if (typeof v === "object" && v !== null) {
      for (const key in v) {
        const child = (v as Record<string, unknown>)[key];
        if (typeof child === "object" && child !== null) stack.push({ value: child, depth: top.depth + 1 });
      }
    }
  }
  return false;
}
