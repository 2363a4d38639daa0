import type { CloudTrailRecord } from "./record.ts";

// Every copy of an event (another trail, another region's shadow trail, the Kinesis path and the
// S3 path) carries the same eventID and recipientAccountId; together they name the event.
// The account comes first so a key prefix scan by account stays possible.
export function eventIdentity(record: CloudTrailRecord): string | null {
  const account = record.recipientAccountId;
  const id = record.eventID;
  if (typeof account !== "string" || account === "" || typeof id !== "string" || id === "") return null;
  return `${account}:${id}`;
}
