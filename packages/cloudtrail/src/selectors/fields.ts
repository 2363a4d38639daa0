// How a CloudTrail record answers the fields event selectors name. Selectors compare strings;
// records carry booleans, arrays of resources, and (before eventVersion 1.07) no eventCategory.
import { type CloudTrailRecord, isPlainObject } from "../record.ts";

/** A record's resources, as selectors see them. */
export interface SelectorResource {
  type: string | undefined;
  arn: string | undefined;
}

/**
 * The record's eventCategory, or for records older than eventVersion 1.07 the one CloudTrail would
 * have written: Insight and network-activity events say so in eventType, data events have
 * `managementEvent: false` (1.06) or, older still, an S3 object among their resources.
 */
export function selectorCategory(record: CloudTrailRecord): string {
  const written = record.eventCategory;
  if (typeof written === "string" && written !== "") return written;
  if (record.eventType === "AwsCloudTrailInsight") return "Insight";
  if (record.eventType === "AwsVpceEvent") return "NetworkActivity";
  if (record.managementEvent === false) return "Data";
  if (record.managementEvent === true) return "Management";
  return resourcesOf(record).some((r) => r.type === "AWS::S3::Object") ? "Data" : "Management";
}

export function resourcesOf(record: CloudTrailRecord): SelectorResource[] {
  if (!Array.isArray(record.resources)) return [];
  const out: SelectorResource[] = [];
  for (const entry of record.resources) {
    if (!isPlainObject(entry)) continue;
    out.push({
      type: typeof entry.type === "string" ? entry.type : undefined,
      arn: typeof entry.ARN === "string" ? entry.ARN : undefined,
    });
  }
  return out;
}

/** `true`/`false` as selectors write them, from a boolean or a string in the record. */
function flag(value: unknown): string | undefined {
  if (value === true || value === "true") return "true";
  if (value === false || value === "false") return "false";
  return undefined;
}

/**
 * The value of a single-valued field, undefined when the record has none. resources.* are
 * many-valued and read through resourcesOf. A record without sessionCredentialFromConsole was not
 * made with console credentials, so it reads as "false".
 */
export function scalarField(record: CloudTrailRecord, field: string): string | undefined {
  switch (field) {
    case "eventCategory":
      return selectorCategory(record);
    case "readOnly":
      return flag(record.readOnly);
    case "sessionCredentialFromConsole":
      return flag(record.sessionCredentialFromConsole) ?? "false";
    case "userIdentity.arn": {
      const who = record.userIdentity;
      return isPlainObject(who) && typeof who.arn === "string" ? who.arn : undefined;
    }
    default: {
      const value = record[field];
      return typeof value === "string" ? value : undefined;
    }
  }
}
