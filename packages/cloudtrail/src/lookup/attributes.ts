// What CloudTrail's LookupEvents answers about an event, computed from the record alone: the eight
// lookup attributes and the Event shape the AWS CLI prints (CLOUDTRAIL-DIGESTS-SELECTORS-LOOKUP.md D).
import { principalOf } from "../enrich.ts";
import { type CloudTrailRecord, isPlainObject } from "../record.ts";

export const LOOKUP_ATTRIBUTE_KEYS = [
  "EventId",
  "EventName",
  "ReadOnly",
  "Username",
  "ResourceType",
  "ResourceName",
  "EventSource",
  "AccessKeyId",
] as const;
export type LookupAttributeKey = (typeof LOOKUP_ATTRIBUTE_KEYS)[number];

export interface LookupResource {
  ResourceType: string | null;
  ResourceName: string | null;
}

/** One entry of `Events[]`, as `aws cloudtrail lookup-events` prints it. */
export interface LookupEvent {
  EventId: string;
  EventName?: string;
  ReadOnly?: string;
  AccessKeyId?: string;
  EventTime?: string;
  EventSource?: string;
  Username?: string;
  Resources: LookupResource[];
  CloudTrailEvent: string;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * The user or role name event history shows: the IAM user's name, `root`, the federated user, or
 * for an assumed role the session name (what `aws sts assume-role --role-session-name` set).
 */
export function lookupUsername(record: CloudTrailRecord): string | undefined {
  const p = principalOf(record);
  if (p.type === "AssumedRole") return p.sessionName ?? p.roleName ?? undefined;
  return p.userName ?? undefined;
}

export function lookupResources(record: CloudTrailRecord): LookupResource[] {
  if (!Array.isArray(record.resources)) return [];
  return record.resources.filter(isPlainObject).map((r) => ({
    ResourceType: str(r.type) ?? null,
    ResourceName: str(r.ARN) ?? str(r.arn) ?? null,
  }));
}

/** A resource is named by its ARN or by the ARN's last part (`arn:aws:s3:::my-bucket` is `my-bucket`). */
function resourceNames(arn: string): string[] {
  const resource = arn.split(":").slice(5).join(":");
  const last = resource.split(/[/:]/).pop();
  return [...new Set([arn, resource, last].filter((n): n is string => !!n))];
}

/** The values a record has for one attribute; a lookup matches when one equals the asked value. */
export function lookupValues(record: CloudTrailRecord, key: LookupAttributeKey): string[] {
  const one = (v: string | undefined) => (v === undefined ? [] : [v]);
  switch (key) {
    case "EventId":
      return one(str(record.eventID));
    case "EventName":
      return one(str(record.eventName));
    case "EventSource":
      return one(str(record.eventSource));
    case "ReadOnly":
      return typeof record.readOnly === "boolean" ? [String(record.readOnly)] : [];
    case "Username":
      return one(lookupUsername(record));
    case "AccessKeyId":
      return one(isPlainObject(record.userIdentity) ? str(record.userIdentity.accessKeyId) : undefined);
    case "ResourceType":
      return lookupResources(record).flatMap((r) => (r.ResourceType ? [r.ResourceType] : []));
    case "ResourceName":
      return lookupResources(record).flatMap((r) => (r.ResourceName ? resourceNames(r.ResourceName) : []));
  }
}

/** The AWS CLI prints timestamps as ISO 8601 with an explicit `+00:00`. */
function cliTime(eventTime: string | undefined): string | undefined {
  if (eventTime === undefined) return undefined;
  const ms = Date.parse(eventTime);
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, "+00:00") : eventTime;
}

export function lookupEvent(record: CloudTrailRecord): LookupEvent {
  // In the order the AWS CLI prints them; a field the record lacks is left out.
  const fields: [string, string | undefined][] = [
    ["EventId", str(record.eventID) ?? ""],
    ["EventName", str(record.eventName)],
    ["ReadOnly", typeof record.readOnly === "boolean" ? String(record.readOnly) : undefined],
    ["AccessKeyId", lookupValues(record, "AccessKeyId")[0]],
    ["EventTime", cliTime(str(record.eventTime))],
    ["EventSource", str(record.eventSource)],
    ["Username", lookupUsername(record)],
  ];
  const event = Object.fromEntries(fields.filter(([, v]) => v !== undefined)) as unknown as LookupEvent;
  event.Resources = lookupResources(record);
  event.CloudTrailEvent = JSON.stringify(record);
  return event;
}
