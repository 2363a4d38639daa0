// A CloudTrail record as CloudTrail writes it. Known fields are typed loosely (any of them may be
// missing or null between event versions); everything else is kept as data, untouched.

export type UserIdentityType =
  | "Root"
  | "IAMUser"
  | "AssumedRole"
  | "Role"
  | "FederatedUser"
  | "AWSAccount"
  | "AWSService"
  | "IdentityCenterUser"
  | "Unknown"
  | (string & {});

export interface SessionIssuer {
  type?: string | null;
  principalId?: string | null;
  arn?: string | null;
  accountId?: string | null;
  userName?: string | null;
  [key: string]: unknown;
}

export interface SessionContext {
  sessionIssuer?: SessionIssuer | null;
  attributes?: {
    mfaAuthenticated?: string | boolean | null;
    creationDate?: string | null;
    [key: string]: unknown;
  } | null;
  sourceIdentity?: string | null;
  webIdFederationData?: unknown;
  [key: string]: unknown;
}

export interface UserIdentity {
  type?: UserIdentityType | null;
  principalId?: string | null;
  arn?: string | null;
  accountId?: string | null;
  accessKeyId?: string | null;
  userName?: string | null;
  invokedBy?: string | null;
  sessionContext?: SessionContext | null;
  [key: string]: unknown;
}

export interface Addendum {
  reason?: "DELIVERY_DELAY" | "UPDATED_DATA" | "SERVICE_OUTAGE" | (string & {}) | null;
  updatedFields?: string | null;
  originalRequestID?: string | null;
  originalEventID?: string | null;
  [key: string]: unknown;
}

export interface CloudTrailRecord {
  eventVersion?: string | null;
  userIdentity?: UserIdentity | null;
  eventTime?: string | null;
  eventSource?: string | null;
  eventName?: string | null;
  awsRegion?: string | null;
  sourceIPAddress?: string | null;
  userAgent?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  requestParameters?: unknown;
  responseElements?: unknown;
  additionalEventData?: unknown;
  requestID?: string | null;
  eventID?: string | null;
  eventType?: string | null;
  readOnly?: boolean | null;
  managementEvent?: boolean | null;
  eventCategory?: "Management" | "Data" | "Insight" | "NetworkActivity" | (string & {}) | null;
  recipientAccountId?: string | null;
  sharedEventID?: string | null;
  vpcEndpointId?: string | null;
  addendum?: Addendum | null;
  resources?: unknown;
  [key: string]: unknown;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
