// The trails of a realistic estate whose deliveries overlap: an organization trail that records
// every member account, a member account's own multi-region trail, and a second, single-region
// trail in that account. Global-service events land in us-east-1 in all three.

export interface TrailSpec {
  name: string;
  bucket: string;
  /** S3 key prefix before `AWSLogs/`, '' for none. */
  prefix: string;
  /** Set for an organization trail: keys carry the organization id. */
  organizationId?: string;
  /** Recipient accounts this trail records. */
  accounts: readonly string[];
  /** Regions this trail records: every region for a multi-region trail. */
  regions: readonly string[];
}

export interface Estate {
  organizationId: string;
  managementAccount: string;
  memberAccounts: readonly string[];
  regions: readonly string[];
}

export const GLOBAL_REGION = "us-east-1";

export function defaultEstate(): Estate {
  return {
    organizationId: "o-a1b2c3d4e5",
    managementAccount: "111111111111",
    memberAccounts: ["222222222222", "333333333333"],
    regions: [GLOBAL_REGION, "eu-west-1", "ap-southeast-2"],
  };
}

export function overlappingTrails(estate: Estate): TrailSpec[] {
  const member = estate.memberAccounts[0];
  if (member === undefined) throw new RangeError("the estate needs at least one member account");
  if (!estate.regions.includes(GLOBAL_REGION))
    throw new RangeError(`the estate's regions must include ${GLOBAL_REGION}`);
  return [
    {
      name: "org-trail",
      bucket: `aws-cloudtrail-logs-${estate.managementAccount}-org`,
      prefix: "",
      organizationId: estate.organizationId,
      accounts: [estate.managementAccount, ...estate.memberAccounts],
      regions: estate.regions,
    },
    {
      name: "member-trail",
      bucket: `member-${member}-audit`,
      prefix: "",
      accounts: [member],
      regions: [GLOBAL_REGION],
    },
    {
      name: "member-multi-region-trail",
      bucket: `member-${member}-trail`,
      prefix: "cloudtrail",
      accounts: [member],
      regions: estate.regions,
    },
  ];
}

/** Where a trail's files for one account and region sit, relative to the tree's root. */
export function trailDirectory(trail: TrailSpec, account: string, region: string): string {
  const parts = [trail.bucket, trail.prefix, "AWSLogs", trail.organizationId ?? "", account, "CloudTrail", region];
  return parts.filter((p) => p !== "").join("/");
}
