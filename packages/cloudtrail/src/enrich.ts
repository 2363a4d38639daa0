// What trailstream adds beside a record, computed from the record alone (no lookups), so the
// same event enriches alike in the services and in `scan`.
import { correctedEventID, eventIdentity } from "./identity.ts";
import { type CloudTrailRecord, isPlainObject } from "./record.ts";

export type EventCategory = "management" | "data" | "insight" | "network";
export type CallChannel = "console" | "cli" | "sdk" | "aws-service" | "other";
export type ErrorClass = "access-denied" | "throttled" | "other";

export interface Principal {
  type: string | null;
  arn: string | null;
  accountId: string | null;
  principalId: string | null;
  /** The IAM user, the federated user, or the role's session issuer's name. */
  userName: string | null;
  /** For an assumed role: the role's name and the session name. */
  roleName: string | null;
  sessionName: string | null;
  sessionIssuerArn: string | null;
  accessKeyId: string | null;
  /** The AWS service acting for the caller (`userIdentity.invokedBy`). */
  invokedBy: string | null;
}

export interface Enrichment {
  identity: string | null;
  principal: Principal;
  /** true or false when the record says, null when it does not. */
  mfa: boolean | null;
  via: CallChannel;
  globalService: boolean;
  readOnly: boolean | null;
  mutating: boolean | null;
  category: EventCategory;
  error: { class: ErrorClass; code: string; message: string | null } | null;
  /** Links records of one action in different accounts: keep both, never collapse them. */
  sharedEventID: string | null;
  /** For an `UPDATED_DATA` addendum: the eventID this record corrects. */
  correctionOf: string | null;
  /** The addendum's reason when the record was delivered late or corrected. */
  addendum: string | null;
}

// Recorded in us-east-1 only and delivered to every trail that includes global-service events.
const GLOBAL_SOURCES = new Set([
  "iam.amazonaws.com",
  "cloudfront.amazonaws.com",
  "route53.amazonaws.com",
  "organizations.amazonaws.com",
]);

/** Global-service events land in every trail's us-east-1 folder; STS only from its global endpoint. */
export function isGlobalServiceEvent(record: CloudTrailRecord): boolean {
  const source = record.eventSource ?? "";
  if (GLOBAL_SOURCES.has(source)) return true;
  if (source !== "sts.amazonaws.com") return false;
  const tls = isPlainObject(record.tlsDetails) ? record.tlsDetails : undefined;
  const host = typeof tls?.clientProvidedHostHeader === "string" ? tls.clientProvidedHostHeader : undefined;
  return host === undefined || host === "sts.amazonaws.com";
}

export function dedupCategory(record: CloudTrailRecord): EventCategory {
  switch (record.eventCategory) {
    case "Data":
      return "data";
    case "Insight":
      return "insight";
    case "NetworkActivity":
      return "network";
    default:
      if (record.eventType === "AwsCloudTrailInsight") return "insight";
      if (record.eventType === "AwsVpceEvent") return "network";
      return record.managementEvent === false ? "data" : "management";
  }
}

const ACCESS_DENIED = /AccessDenied|UnauthorizedOperation|Unauthorized|Forbidden|NotAuthorized|AuthFailure/i;
const THROTTLED = /Throttl|TooManyRequests|RequestLimitExceeded|SlowDown|LimitExceeded|Rate ?exceeded/i;

export function errorClass(code: string, message: string | null): ErrorClass {
  if (ACCESS_DENIED.test(code)) return "access-denied";
  if (THROTTLED.test(code)) return "throttled";
  return message !== null && /not authorized|access denied/i.test(message) ? "access-denied" : "other";
}

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

export function principalOf(record: CloudTrailRecord): Principal {
  const who = isPlainObject(record.userIdentity) ? record.userIdentity : {};
  const context = isPlainObject(who.sessionContext) ? who.sessionContext : {};
  const issuer = isPlainObject(context.sessionIssuer) ? context.sessionIssuer : {};
  const arn = str(who.arn);
  const type = str(who.type);
  let roleName: string | null = null;
  let sessionName: string | null = null;
  if (type === "AssumedRole" && arn) {
    // arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
    const match = /:assumed-role\/(.+)\/([^/]+)$/.exec(arn);
    if (match) {
      roleName = match[1]?.split("/").pop() ?? null;
      sessionName = match[2] ?? null;
    }
  }
  let userName = str(who.userName) ?? str(issuer.userName);
  if (!userName && type === "FederatedUser" && arn) userName = /:federated-user\/(.+)$/.exec(arn)?.[1] ?? null;
  if (!userName && type === "Root") userName = "root";
  return {
    type,
    arn,
    accountId: str(who.accountId),
    principalId: str(who.principalId),
    userName,
    roleName: roleName ?? (str(issuer.type) === "Role" ? str(issuer.userName) : null),
    sessionName,
    sessionIssuerArn: str(issuer.arn),
    accessKeyId: str(who.accessKeyId),
    invokedBy: str(who.invokedBy),
  };
}

export function mfaOf(record: CloudTrailRecord): boolean | null {
  const who = isPlainObject(record.userIdentity) ? record.userIdentity : {};
  const context = isPlainObject(who.sessionContext) ? who.sessionContext : {};
  const attributes = isPlainObject(context.attributes) ? context.attributes : {};
  const flag = attributes.mfaAuthenticated;
  if (flag === true || flag === "true") return true;
  if (flag === false || flag === "false") return false;
  // A console sign-in says it in additionalEventData.MFAUsed.
  const extra = isPlainObject(record.additionalEventData) ? record.additionalEventData : {};
  if (extra.MFAUsed === "Yes") return true;
  if (extra.MFAUsed === "No") return false;
  return null;
}

export function channelOf(record: CloudTrailRecord): CallChannel {
  const who = isPlainObject(record.userIdentity) ? record.userIdentity : {};
  const agent = record.userAgent ?? "";
  if (
    who.type === "AWSService" ||
    str(who.invokedBy) ||
    /^[a-z0-9-]+\.amazonaws\.com$/.test(agent) ||
    agent === "AWS Internal"
  ) {
    return "aws-service";
  }
  if (record.sessionCredentialFromConsole === "true" || record.sessionCredentialFromConsole === true) return "console";
  if (record.eventType === "AwsConsoleSignIn" || record.eventType === "AwsConsoleAction") return "console";
  if (/^(signin|console)\.amazonaws\.com$/.test(agent) || /^Mozilla\//.test(agent)) return "console";
  if (/^aws-cli\//.test(agent)) return "cli";
  if (/^(aws-sdk-|Boto3\/|botocore\/|aws-internal|APN\/|Terraform\/|HashiCorp|stratus-red-team)/i.test(agent))
    return "sdk";
  return "other";
}

/** The record's error, classed; null when it carries no errorCode. */
export function errorOf(record: CloudTrailRecord): Enrichment["error"] {
  const code = str(record.errorCode);
  const message = str(record.errorMessage);
  return code ? { class: errorClass(code, message), code, message } : null;
}

export function enrich(record: CloudTrailRecord): Enrichment {
  const readOnly = typeof record.readOnly === "boolean" ? record.readOnly : null;
  const addendum = isPlainObject(record.addendum) ? record.addendum : null;
  const reason = str(addendum?.reason);
  return {
    identity: eventIdentity(record),
    principal: principalOf(record),
    mfa: mfaOf(record),
    via: channelOf(record),
    globalService: isGlobalServiceEvent(record),
    readOnly,
    mutating: readOnly === null ? null : !readOnly,
    category: dedupCategory(record),
    error: errorOf(record),
    sharedEventID: str(record.sharedEventID),
    correctionOf: correctedEventID(record),
    addendum: reason,
  };
}
