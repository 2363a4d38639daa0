// The estate the end-to-end test and the system demo (pnpm demo) feed in: three overlapping trails (an
// organization trail, a member account's multi-region trail and a second single-region trail)
// with events that given CIS and Sigma rules must match, and near misses that must not.
import { randomUUID } from "node:crypto";
import { defaultEstate, overlappingTrails, type TrailSpec } from "@trailstream/bucket-tree";
import type { CloudTrailRecord } from "@trailstream/cloudtrail";

export interface Planted {
  record: CloudTrailRecord;
  /** Rule ids that must alert on it, named independently of the engine: empty for a near miss. */
  mustAlert: string[];
  why: string;
}

const SIGMA_ROOT_USAGE = "8ad1600d-e9dc-4251-b0ee-a65268f29add";
const SIGMA_CONSOLE_LOGIN_WITHOUT_MFA = "77caf516-34e5-4df9-b4db-20744fea0a60";
const SIGMA_CLOUDTRAIL_DISABLED = "4db60cc0-36fb-42b7-9b58-a5b53019fb74";

/** The default estate's trails with bucket names made unique for one run. */
export function trailsFor(run: string): TrailSpec[] {
  return overlappingTrails(defaultEstate()).map((t) => ({ ...t, bucket: `${t.bucket}-${run}`.slice(0, 63) }));
}

export function plantedEvents(at: Date): Planted[] {
  const member = "222222222222";
  const time = (offsetS: number) => new Date(at.getTime() + offsetS * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const user = {
    type: "IAMUser",
    principalId: "AIDAPLANTEDUSER00001",
    arn: `arn:aws:iam::${member}:user/alice`,
    accountId: member,
    userName: "alice",
  };
  const base = (over: CloudTrailRecord): CloudTrailRecord => ({
    eventVersion: "1.10",
    eventID: randomUUID(),
    requestID: randomUUID(),
    recipientAccountId: member,
    sourceIPAddress: "203.0.113.7",
    userAgent: "aws-cli/2.17.0",
    managementEvent: true,
    eventCategory: "Management",
    eventType: "AwsApiCall",
    ...over,
  });
  const signIn = (mfa: "Yes" | "No", offset: number) =>
    base({
      eventTime: time(offset),
      eventSource: "signin.amazonaws.com",
      eventName: "ConsoleLogin",
      eventType: "AwsConsoleSignIn",
      awsRegion: "us-east-1",
      readOnly: false,
      userIdentity: user,
      userAgent: "Mozilla/5.0",
      additionalEventData: {
        LoginTo: "https://console.aws.amazon.com/console/home",
        MobileVersion: "No",
        MFAUsed: mfa,
      },
      responseElements: { ConsoleLogin: "Success" },
      requestParameters: null,
    });
  const root = (serviceEvent: boolean, offset: number) =>
    base({
      eventTime: time(offset),
      eventSource: "iam.amazonaws.com",
      eventName: serviceEvent ? "CreateServiceLinkedRole" : "GetAccountSummary",
      eventType: serviceEvent ? "AwsServiceEvent" : "AwsApiCall",
      awsRegion: "us-east-1",
      readOnly: !serviceEvent,
      userIdentity: {
        type: "Root",
        principalId: member,
        arn: `arn:aws:iam::${member}:root`,
        accountId: member,
        ...(serviceEvent ? { invokedBy: "config.amazonaws.com" } : {}),
      },
    });
  const trail = (name: string, readOnly: boolean, offset: number) =>
    base({
      eventTime: time(offset),
      eventSource: "cloudtrail.amazonaws.com",
      eventName: name,
      awsRegion: "eu-west-1",
      readOnly,
      userIdentity: user,
      requestParameters: { name: "org-trail" },
    });
  return [
    {
      record: signIn("No", 1),
      mustAlert: ["cis-cloudwatch-3", SIGMA_CONSOLE_LOGIN_WITHOUT_MFA],
      why: "console sign-in without MFA",
    },
    { record: root(false, 2), mustAlert: ["cis-cloudwatch-1", SIGMA_ROOT_USAGE], why: "root user call" },
    {
      record: trail("StopLogging", false, 3),
      mustAlert: ["cis-cloudwatch-5", SIGMA_CLOUDTRAIL_DISABLED],
      why: "trail stopped",
    },
    { record: signIn("Yes", 4), mustAlert: [], why: "near miss: console sign-in with MFA" },
    { record: root(true, 5), mustAlert: [], why: "near miss: an AWS service acting as root" },
    { record: trail("DescribeTrails", true, 6), mustAlert: [], why: "near miss: a read of the trails" },
  ];
}
