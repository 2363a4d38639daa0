import { type CloudTrailRecord, isPlainObject } from "./record.ts";

// Every copy of an event (another trail, another region's shadow trail, the Kinesis path and the
// S3 path) carries the same eventID and recipientAccountId; together they name the event.
// The account comes first so a key prefix scan by account stays possible.
//
// An `UPDATED_DATA` correction that reuses the original's eventID is not a copy: it carries fields
// the original got wrong. It gets an identity of its own (`:updated` appended), so dedup keeps it
// (and collapses copies of the correction), while `alertIdentity` names the original so one change
// never alerts twice.
export function eventIdentity(record: CloudTrailRecord): string | null {
  const account = record.recipientAccountId;
  const id = record.eventID;
  if (typeof account !== "string" || account === "" || typeof id !== "string" || id === "") return null;
  const original = correctedEventID(record);
  return original === id ? `${account}:${id}:updated` : `${account}:${id}`;
}

/**
 * The identity an alert is claimed under: the corrected event's for an `UPDATED_DATA` correction,
 * else the event's own. A rule that matched the original does not fire again on its correction; a
 * rule that only the corrected fields match does.
 */
export function alertIdentity(record: CloudTrailRecord): string | null {
  const account = record.recipientAccountId;
  const id = correctedEventID(record) ?? record.eventID;
  if (typeof account !== "string" || account === "" || typeof id !== "string" || id === "") return null;
  return `${account}:${id}`;
}

/** For an `UPDATED_DATA` addendum, the eventID of the record it corrects. */
export function correctedEventID(record: CloudTrailRecord): string | null {
  const addendum = record.addendum;
  if (!isPlainObject(addendum) || addendum.reason !== "UPDATED_DATA") return null;
  const original = addendum.originalEventID;
  return typeof original === "string" && original !== "" ? original : null;
}
