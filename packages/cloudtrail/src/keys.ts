// Where CloudTrail puts its files:
//   [PREFIX/]AWSLogs/[ORG_ID/]ACCOUNT_ID/CloudTrail[-Digest|-Insight]/REGION/YYYY/MM/DD/FILE
import { DecodeError } from "./errors.ts";
import { fail, ok, type Result } from "./result.ts";

export type CloudTrailFileKind = "log" | "digest" | "insight";

export interface CloudTrailKey {
  /** What comes before `AWSLogs/` ('' for none); for a local tree this holds the bucket's folder too. */
  prefix: string;
  organizationId?: string;
  accountId: string;
  kind: CloudTrailFileKind;
  region: string;
  /** `YYYY-MM-DD` of the delivery folder. */
  date: string;
  fileName: string;
  /** The folder up to the region: one trail's delivery for one account, kind and region. */
  location: string;
}

const KIND_FOLDERS: Record<string, CloudTrailFileKind> = {
  CloudTrail: "log",
  "CloudTrail-Digest": "digest",
  "CloudTrail-Insight": "insight",
};

const ORG_ID = /^o-[a-z0-9]{10,32}$/;
const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z0-9-]+$/;

export function parseCloudTrailKey(key: string): Result<CloudTrailKey> {
  const parts = key.split("/");
  const at = parts.lastIndexOf("AWSLogs");
  const bad = (message: string) =>
    fail<CloudTrailKey>(new DecodeError("shape", `not a CloudTrail key: ${message}`, key));
  if (at < 0) return bad("no AWSLogs/ folder");
  let i = at + 1;
  let organizationId: string | undefined;
  if (ORG_ID.test(parts[i] ?? "")) organizationId = parts[i++];
  const accountId = parts[i++] ?? "";
  if (!ACCOUNT_ID.test(accountId)) return bad(`"${accountId}" is not a 12-digit account id`);
  const kindFolder = parts[i++] ?? "";
  const kind = KIND_FOLDERS[kindFolder];
  if (!kind) return bad(`"${kindFolder}" is not CloudTrail, CloudTrail-Digest or CloudTrail-Insight`);
  const region = parts[i++] ?? "";
  if (!REGION.test(region)) return bad(`"${region}" is not a region`);
  const [year, month, day, fileName, ...extra] = parts.slice(i);
  if (
    !year ||
    !month ||
    !day ||
    !fileName ||
    extra.length > 0 ||
    !/^\d{4}$/.test(year) ||
    !/^\d{2}$/.test(month) ||
    !/^\d{2}$/.test(day)
  ) {
    return bad("expected REGION/YYYY/MM/DD/FILE after the kind folder");
  }
  const prefix = parts.slice(0, at).join("/");
  return ok({
    prefix,
    ...(organizationId ? { organizationId } : {}),
    accountId,
    kind,
    region,
    date: `${year}-${month}-${day}`,
    fileName,
    location: parts.slice(0, i).join("/"),
  });
}

/** S3 notifications URL-encode object keys, with `+` for a space. */
export function decodeNotificationKey(key: string): Result<string> {
  try {
    return ok(decodeURIComponent(key.replace(/\+/g, " ")));
  } catch {
    return fail(new DecodeError("shape", "the object key is not valid URL encoding", key));
  }
}
