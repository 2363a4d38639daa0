// The CIS AWS Foundations Benchmark monitoring controls, as AWS Security Hub publishes them
// (controls CloudWatch.1 to CloudWatch.14), plus CIS 4.15 (AWS Organizations changes), which Security
// Hub has no control for. The pattern strings are copied verbatim, spacing and quoting included:
// users paste them from these pages and compare; Security Hub itself fails a control whose pattern
// differs by a character.
//
// Sources: awsdocs/aws-security-hub-user-guide, doc_source/cloudwatch-controls.md (commit bda5bf7,
// 2023-03-19, the last before the repository was archived), published at
// https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html; CIS 4.15 from the
// CIS AWS Foundations Benchmark v1.5.0+ section 4.15 remediation. Security Hub rates every one of these
// controls Low; CIS 4.15 gets the same.
import { compileFilterPattern, patternIndexKeys } from "../filter-pattern/index.ts";
import type { Rule, Severity } from "../types.ts";

interface CisControl {
  id: string;
  securityHubControl?: string;
  cisSection: string;
  title: string;
  severity: Severity;
  pattern: string;
  references: string[];
}

const SH = "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html";
const CIS = "https://www.cisecurity.org/benchmark/amazon_web_services";

const control = (n: number, cisSection: string, title: string, pattern: string): CisControl => ({
  id: `cis-cloudwatch-${n}`,
  securityHubControl: `CloudWatch.${n}`,
  cisSection,
  title,
  severity: "low",
  pattern,
  references: [`${SH}#cloudwatch-${n}`, CIS],
});

export const CIS_CONTROLS: readonly CisControl[] = [
  control(
    1,
    "4.3",
    'A log metric filter and alarm should exist for usage of the "root" user',
    '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',
  ),
  control(
    2,
    "4.1",
    "Ensure a log metric filter and alarm exist for unauthorized API calls",
    '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
  ),
  control(
    3,
    "4.2",
    "Ensure a log metric filter and alarm exist for Management Console sign-in without MFA",
    '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
  ),
  control(
    4,
    "4.4",
    "Ensure a log metric filter and alarm exist for IAM policy changes",
    "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}",
  ),
  control(
    5,
    "4.5",
    "Ensure a log metric filter and alarm exist for CloudTrail AWS Configuration changes",
    "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}",
  ),
  control(
    6,
    "4.6",
    "Ensure a log metric filter and alarm exist for AWS Management Console authentication failures",
    '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
  ),
  control(
    7,
    "4.7",
    "Ensure a log metric filter and alarm exist for disabling or scheduled deletion of customer managed keys",
    "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}",
  ),
  control(
    8,
    "4.8",
    "Ensure a log metric filter and alarm exist for S3 bucket policy changes",
    "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}",
  ),
  control(
    9,
    "4.9",
    "Ensure a log metric filter and alarm exist for AWS Config configuration changes",
    "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}",
  ),
  control(
    10,
    "4.10",
    "Ensure a log metric filter and alarm exist for security group changes",
    "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}",
  ),
  control(
    11,
    "4.11",
    "Ensure a log metric filter and alarm exist for changes to Network Access Control Lists (NACL)",
    "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}",
  ),
  control(
    12,
    "4.12",
    "Ensure a log metric filter and alarm exist for changes to network gateways",
    "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}",
  ),
  control(
    13,
    "4.13",
    "Ensure a log metric filter and alarm exist for route table changes",
    "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}",
  ),
  control(
    14,
    "4.14",
    "Ensure a log metric filter and alarm exist for VPC changes",
    "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}",
  ),
  {
    id: "cis-4.15",
    cisSection: "4.15",
    title: "Ensure AWS Organizations changes are monitored",
    severity: "low",
    pattern:
      '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }',
    references: [CIS],
  },
];

/** The 15 CIS monitoring rules, compiled. A fresh array (and closures) on every call. */
export function cisCatalog(): Rule[] {
  return CIS_CONTROLS.map((c) => {
    const rule: Rule = {
      id: c.id,
      title: c.title,
      severity: c.severity,
      source: "cis",
      pattern: c.pattern,
      cisSection: c.cisSection,
      references: [...c.references],
      indexKeys: patternIndexKeys(c.pattern),
      matches: compileFilterPattern(c.pattern),
    };
    if (c.securityHubControl) rule.securityHubControl = c.securityHubControl;
    return rule;
  });
}
