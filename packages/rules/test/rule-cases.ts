// For every built-in rule, events it must match and events it must not. Real records from Stratus Red
// Team where a detonation exercises the rule (fixtures/stratus-records.json); otherwise an event built
// from the rule's own pattern or detection, and a near miss that changes one thing the rule depends on.
// Sigma rules are keyed by file name, CIS rules by id.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export type Ev = Record<string, unknown>;

const stratusRecords = JSON.parse(
  readFileSync(join(import.meta.dirname, "fixtures", "stratus-records.json"), "utf8"),
) as Record<string, Ev>;

/** A real record: `technique#index` as keyed in fixtures/stratus-records.json. */
export function stratus(key: string): Ev {
  const r = stratusRecords[key];
  if (!r) throw new Error(`no Stratus fixture ${key}`);
  return r;
}

const IAM_USER = {
  type: "IAMUser",
  principalId: "AIDAEXAMPLEPRINCIPAL",
  arn: "arn:aws:iam::111122223333:user/alice",
  accountId: "111122223333",
  accessKeyId: "AKIAEXAMPLEKEYID0001",
  userName: "alice",
};
const ROOT = {
  type: "Root",
  principalId: "111122223333",
  arn: "arn:aws:iam::111122223333:root",
  accountId: "111122223333",
};
const ASSUMED = {
  type: "AssumedRole",
  principalId: "AROAEXAMPLE:session",
  arn: "arn:aws:sts::111122223333:assumed-role/deployer/session",
  accountId: "111122223333",
  sessionContext: {
    sessionIssuer: { type: "Role", arn: "arn:aws:iam::111122223333:role/deployer", userName: "deployer" },
  },
};

let counter = 0;
/** A plausible management event: an IAM user calling the API, with `over` replacing top-level fields. */
export function ev(eventSource: string, eventName: string, over: Ev = {}): Ev {
  counter++;
  return {
    eventVersion: "1.09",
    userIdentity: IAM_USER,
    eventTime: "2026-11-25T08:00:00Z",
    eventSource,
    eventName,
    awsRegion: "us-east-1",
    sourceIPAddress: "203.0.113.10",
    userAgent: "aws-cli/2.15.0 Python/3.11.6 Linux/6.1",
    requestParameters: null,
    responseElements: null,
    requestID: `req-${counter}`,
    eventID: `00000000-0000-4000-8000-${String(counter).padStart(12, "0")}`,
    readOnly: false,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: "111122223333",
    eventCategory: "Management",
    ...over,
  };
}

export interface Case {
  match: Ev[];
  noMatch: Ev[];
}

export const CIS_CASES: Record<string, Case> = {
  "cis-cloudwatch-1": {
    match: [ev("s3.amazonaws.com", "ListBuckets", { userIdentity: ROOT })],
    noMatch: [
      ev("s3.amazonaws.com", "ListBuckets", { userIdentity: { ...ROOT, invokedBy: "support.amazonaws.com" } }),
      ev("s3.amazonaws.com", "ListBuckets", { userIdentity: ROOT, eventType: "AwsServiceEvent" }),
      ev("s3.amazonaws.com", "ListBuckets"),
    ],
  },
  "cis-cloudwatch-2": {
    match: [
      stratus("aws.credential-access.ec2-get-password-data#0"),
      ev("s3.amazonaws.com", "GetObject", { errorCode: "AccessDenied" }),
    ],
    noMatch: [ev("s3.amazonaws.com", "GetObject", { errorCode: "NoSuchKey" }), ev("s3.amazonaws.com", "GetObject")],
  },
  "cis-cloudwatch-3": {
    match: [stratus("aws.initial-access.console-login-without-mfa#0")],
    noMatch: [
      { ...stratus("aws.initial-access.console-login-without-mfa#0"), additionalEventData: { MFAUsed: "Yes" } },
      // A comparison on a missing field is false, even for !=.
      { ...stratus("aws.initial-access.console-login-without-mfa#0"), additionalEventData: {} },
    ],
  },
  "cis-cloudwatch-4": {
    match: [stratus("aws.persistence.iam-create-admin-user#0"), stratus("aws.persistence.iam-create-backdoor-role#0")],
    noMatch: [ev("iam.amazonaws.com", "ListPolicies")],
  },
  "cis-cloudwatch-5": {
    match: [stratus("aws.defense-evasion.cloudtrail-delete#0"), stratus("aws.defense-evasion.cloudtrail-stop#0")],
    noMatch: [ev("cloudtrail.amazonaws.com", "DescribeTrails")],
  },
  "cis-cloudwatch-6": {
    match: [
      ev("signin.amazonaws.com", "ConsoleLogin", {
        errorMessage: "Failed authentication",
        responseElements: { ConsoleLogin: "Failure" },
      }),
    ],
    noMatch: [stratus("aws.initial-access.console-login-without-mfa#0")],
  },
  "cis-cloudwatch-7": {
    match: [ev("kms.amazonaws.com", "ScheduleKeyDeletion"), ev("kms.amazonaws.com", "DisableKey")],
    noMatch: [ev("kms.amazonaws.com", "EnableKey"), ev("ec2.amazonaws.com", "DisableKey")],
  },
  "cis-cloudwatch-8": {
    match: [ev("s3.amazonaws.com", "PutBucketPolicy")],
    noMatch: [ev("s3.amazonaws.com", "GetBucketPolicy")],
  },
  "cis-cloudwatch-9": {
    match: [ev("config.amazonaws.com", "StopConfigurationRecorder")],
    noMatch: [ev("config.amazonaws.com", "DescribeConfigurationRecorders")],
  },
  "cis-cloudwatch-10": {
    match: [stratus("aws.exfiltration.ec2-security-group-open-port-22-ingress#0")],
    noMatch: [ev("ec2.amazonaws.com", "DescribeSecurityGroups")],
  },
  "cis-cloudwatch-11": {
    match: [ev("ec2.amazonaws.com", "CreateNetworkAclEntry")],
    noMatch: [ev("ec2.amazonaws.com", "DescribeNetworkAcls")],
  },
  "cis-cloudwatch-12": {
    match: [ev("ec2.amazonaws.com", "AttachInternetGateway")],
    noMatch: [ev("ec2.amazonaws.com", "DescribeInternetGateways")],
  },
  "cis-cloudwatch-13": {
    match: [ev("ec2.amazonaws.com", "CreateRoute")],
    noMatch: [ev("ec2.amazonaws.com", "DescribeRouteTables")],
  },
  "cis-cloudwatch-14": {
    match: [ev("ec2.amazonaws.com", "CreateVpc")],
    noMatch: [ev("ec2.amazonaws.com", "DescribeVpcs")],
  },
  "cis-4.15": {
    match: [stratus("aws.defense-evasion.organizations-leave#1")],
    noMatch: [ev("organizations.amazonaws.com", "DescribeOrganization"), ev("iam.amazonaws.com", "LeaveOrganization")],
  },
};

const S3_BROWSER = "S3 Browser 11.5.7 https://s3browser.com";
const TEMPLATE_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::<YOUR-BUCKET-NAME>/*" }],
});

export const SIGMA_CASES: Record<string, Case> = {
  "aws_cloudtrail_bedrock_guardrail_deleted.yml": {
    match: [ev("bedrock.amazonaws.com", "DeleteGuardrail")],
    noMatch: [ev("bedrock.amazonaws.com", "GetGuardrail")],
  },
  "aws_cloudtrail_bedrock_guardrail_updated.yml": {
    match: [ev("bedrock.amazonaws.com", "UpdateGuardrail")],
    noMatch: [ev("bedrock.amazonaws.com", "CreateGuardrail")],
  },
  "aws_cloudtrail_bucket_deleted.yml": {
    match: [ev("s3.amazonaws.com", "DeleteBucket"), ev("s3.amazonaws.com", "DeleteBucket", { errorCode: "Success" })],
    noMatch: [ev("s3.amazonaws.com", "DeleteBucket", { errorCode: "AccessDenied" })],
  },
  "aws_cloudtrail_console_login_failed_authentication.yml": {
    match: [ev("signin.amazonaws.com", "ConsoleLogin", { errorMessage: "Failed authentication" })],
    noMatch: [ev("signin.amazonaws.com", "ConsoleLogin", { errorMessage: "Failed authentication (throttled)" })],
  },
  "aws_cloudtrail_console_login_success_without_mfa.yml": {
    match: [stratus("aws.initial-access.console-login-without-mfa#0")],
    noMatch: [
      { ...stratus("aws.initial-access.console-login-without-mfa#0"), additionalEventData: { MFAUsed: "Yes" } },
    ],
  },
  "aws_cloudtrail_disable_logging.yml": {
    match: [stratus("aws.defense-evasion.cloudtrail-stop#0"), stratus("aws.defense-evasion.cloudtrail-delete#0")],
    noMatch: [ev("cloudtrail.amazonaws.com", "StartLogging")],
  },
  "aws_cloudtrail_guardduty_detector_deleted_or_updated.yml": {
    match: [
      ev("guardduty.amazonaws.com", "DeleteDetector"),
      // 'false' in the rule matches a JSON false.
      ev("guardduty.amazonaws.com", "UpdateDetector", { requestParameters: { detectorId: "d1", enable: false } }),
    ],
    noMatch: [
      ev("guardduty.amazonaws.com", "UpdateDetector", { requestParameters: { detectorId: "d1", enable: true } }),
      ev("guardduty.amazonaws.com", "DeleteDetector", { errorCode: "AccessDenied" }),
    ],
  },
  "aws_cloudtrail_imds_malicious_usage.yml": {
    match: [
      ev("s3.amazonaws.com", "ListBuckets", {
        userIdentity: {
          ...ASSUMED,
          arn: "arn:aws:sts::111122223333:assumed-role/aws:ec2-instance/i-0123456789abcdef0",
        },
        sourceIPAddress: "198.51.100.7",
      }),
    ],
    noMatch: [
      ev("s3.amazonaws.com", "ListBuckets", {
        userIdentity: {
          ...ASSUMED,
          arn: "arn:aws:sts::111122223333:assumed-role/aws:ec2-instance/i-0123456789abcdef0",
        },
        sourceIPAddress: "AWS Internal",
      }),
      ev("s3.amazonaws.com", "ListBuckets", { userIdentity: ASSUMED }),
    ],
  },
  "aws_cloudtrail_new_acl_entries.yml": {
    match: [ev("ec2.amazonaws.com", "CreateNetworkAclEntry")],
    noMatch: [ev("ec2.amazonaws.com", "DeleteNetworkAclEntry")],
  },
  "aws_cloudtrail_new_route_added.yml": {
    match: [ev("ec2.amazonaws.com", "CreateRoute")],
    noMatch: [ev("ec2.amazonaws.com", "DeleteRoute")],
  },
  "aws_cloudtrail_pua_trufflehog.yml": {
    // Plain values compare whole and case-insensitively.
    match: [ev("sts.amazonaws.com", "GetCallerIdentity", { userAgent: "trufflehog" })],
    noMatch: [ev("sts.amazonaws.com", "GetCallerIdentity", { userAgent: "TruffleHog/3.63.0" })],
  },
  "aws_cloudtrail_region_enabled.yml": {
    match: [ev("account.amazonaws.com", "EnableRegion")],
    noMatch: [ev("account.amazonaws.com", "DisableRegion")],
  },
  "aws_cloudtrail_security_group_change_ingress_egress.yml": {
    match: [stratus("aws.exfiltration.ec2-security-group-open-port-22-ingress#0")],
    noMatch: [ev("ec2.amazonaws.com", "DescribeSecurityGroups")],
  },
  "aws_cloudtrail_security_group_change_loadbalancer.yml": {
    match: [ev("elasticloadbalancing.amazonaws.com", "SetSecurityGroups")],
    noMatch: [ev("elasticloadbalancing.amazonaws.com", "DescribeLoadBalancers")],
  },
  "aws_cloudtrail_security_group_change_rds.yml": {
    match: [ev("rds.amazonaws.com", "CreateDBSecurityGroup")],
    noMatch: [ev("rds.amazonaws.com", "DescribeDBSecurityGroups")],
  },
  "aws_cloudtrail_ssm_malicious_usage.yml": {
    match: [stratus("aws.execution.ssm-send-command#26")],
    noMatch: [{ ...stratus("aws.execution.ssm-send-command#26"), errorCode: "AccessDenied" }],
  },
  "aws_cloudtrail_vpc_flow_logs_deleted.yml": {
    match: [stratus("aws.defense-evasion.vpc-remove-flow-logs#0")],
    noMatch: [{ ...stratus("aws.defense-evasion.vpc-remove-flow-logs#0"), errorCode: "Client.UnauthorizedOperation" }],
  },
  "aws_config_disable_recording.yml": {
    match: [ev("config.amazonaws.com", "StopConfigurationRecorder")],
    noMatch: [ev("config.amazonaws.com", "PutConfigurationRecorder")],
  },
  "aws_console_getsignintoken.yml": {
    match: [ev("signin.amazonaws.com", "GetSigninToken", { userAgent: "Mozilla/5.0 (X11; Linux x86_64)" })],
    noMatch: [
      ev("signin.amazonaws.com", "GetSigninToken", {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the console's literal user agent, which the rule filters out
        userAgent: "Jersey/${project.version} (HttpUrlConnection 1.8.0_352)",
      }),
    ],
  },
  "aws_delete_identity.yml": {
    match: [ev("ses.amazonaws.com", "DeleteIdentity")],
    noMatch: [ev("ses.amazonaws.com", "VerifyEmailIdentity")],
  },
  "aws_delete_saml_provider.yml": {
    // The rule asks for a top-level `status: success`, which CloudTrail records do not carry.
    match: [ev("iam.amazonaws.com", "DeleteSAMLProvider", { status: "success" })],
    noMatch: [ev("iam.amazonaws.com", "DeleteSAMLProvider")],
  },
  "aws_disable_bucket_versioning.yml": {
    match: [
      ev("s3.amazonaws.com", "PutBucketVersioning", {
        requestParameters: { bucketName: "b", VersioningConfiguration: { Status: "Suspended" } },
      }),
    ],
    noMatch: [
      ev("s3.amazonaws.com", "PutBucketVersioning", {
        requestParameters: { bucketName: "b", VersioningConfiguration: { Status: "Enabled" } },
      }),
    ],
  },
  "aws_ec2_disable_encryption.yml": {
    match: [ev("ec2.amazonaws.com", "DisableEbsEncryptionByDefault")],
    noMatch: [ev("ec2.amazonaws.com", "EnableEbsEncryptionByDefault")],
  },
  "aws_ec2_import_key_pair_activity.yml": {
    match: [ev("ec2.amazonaws.com", "ImportKeyPair")],
    noMatch: [ev("ec2.amazonaws.com", "CreateKeyPair")],
  },
  "aws_ec2_startup_script_change.yml": {
    match: [
      ev("ec2.amazonaws.com", "ModifyInstanceAttribute", {
        requestParameters: { instanceId: "i-1", attribute: "userData" },
      }),
    ],
    // Stratus' own user-data change: the record carries requestParameters.userData, not
    // requestParameters.attribute, so this SigmaHQ rule does not fire on it.
    noMatch: [stratus("aws.execution.ec2-user-data#5")],
  },
  "aws_ec2_vm_export_failure.yml": {
    match: [
      ev("ec2.amazonaws.com", "CreateInstanceExportTask", { responseElements: { exportTask: { state: "active" } } }),
    ],
    noMatch: [
      ev("ec2.amazonaws.com", "CreateInstanceExportTask", { errorCode: "InvalidParameter", errorMessage: "bad" }),
      ev("ec2.amazonaws.com", "CreateInstanceExportTask", { responseElements: { exportTask: { state: "Failure" } } }),
    ],
  },
  "aws_ecs_task_definition_cred_endpoint_query.yml": {
    match: [
      ev("ecs.amazonaws.com", "RegisterTaskDefinition", {
        requestParameters: {
          family: "f",
          containerDefinitions: [
            { name: "c", command: ["sh", "-c", "curl 169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] },
          ],
        },
      }),
    ],
    noMatch: [
      ev("ecs.amazonaws.com", "RegisterTaskDefinition", {
        requestParameters: {
          family: "f",
          containerDefinitions: [{ name: "c", command: ["nginx", "-g", "daemon off;"] }],
        },
      }),
    ],
  },
  "aws_efs_fileshare_modified_or_deleted.yml": {
    match: [ev("elasticfilesystem.amazonaws.com", "DeleteFileSystem")],
    noMatch: [ev("elasticfilesystem.amazonaws.com", "CreateFileSystem")],
  },
  "aws_efs_fileshare_mount_modified_or_deleted.yml": {
    match: [ev("elasticfilesystem.amazonaws.com", "DeleteMountTarget")],
    noMatch: [ev("elasticfilesystem.amazonaws.com", "CreateMountTarget")],
  },
  "aws_eks_cluster_created_or_deleted.yml": {
    match: [ev("eks.amazonaws.com", "CreateCluster"), ev("eks.amazonaws.com", "DeleteCluster")],
    noMatch: [ev("eks.amazonaws.com", "DescribeCluster")],
  },
  "aws_elasticache_security_group_created.yml": {
    match: [ev("elasticache.amazonaws.com", "CreateCacheSecurityGroup")],
    noMatch: [ev("elasticache.amazonaws.com", "DescribeCacheSecurityGroups")],
  },
  "aws_elasticache_security_group_modified_or_deleted.yml": {
    match: [ev("elasticache.amazonaws.com", "DeleteCacheSecurityGroup")],
    noMatch: [ev("elasticache.amazonaws.com", "CreateCacheSecurityGroup")],
  },
  "aws_enum_buckets.yml": {
    match: [ev("s3.amazonaws.com", "ListBuckets")],
    noMatch: [ev("s3.amazonaws.com", "ListBuckets", { userIdentity: ASSUMED })],
  },
  "aws_guardduty_disruption.yml": {
    match: [ev("guardduty.amazonaws.com", "CreateIPSet")],
    noMatch: [ev("guardduty.amazonaws.com", "ListIPSets")],
  },
  "aws_iam_backdoor_users_keys.yml": {
    match: [stratus("aws.persistence.iam-backdoor-user#0")],
    noMatch: [ev("iam.amazonaws.com", "ListAccessKeys")],
  },
  "aws_iam_s3browser_loginprofile_creation.yml": {
    match: [ev("iam.amazonaws.com", "CreateLoginProfile", { userAgent: S3_BROWSER })],
    noMatch: [ev("iam.amazonaws.com", "CreateLoginProfile")],
  },
  "aws_iam_s3browser_templated_s3_bucket_policy_creation.yml": {
    match: [
      ev("iam.amazonaws.com", "PutUserPolicy", {
        userAgent: S3_BROWSER,
        requestParameters: { userName: "bob", policyName: "s3browser", policyDocument: TEMPLATE_POLICY },
      }),
    ],
    noMatch: [
      ev("iam.amazonaws.com", "PutUserPolicy", {
        userAgent: S3_BROWSER,
        requestParameters: {
          userName: "bob",
          policyName: "p",
          policyDocument: TEMPLATE_POLICY.replace("<YOUR-BUCKET-NAME>", "data"),
        },
      }),
    ],
  },
  "aws_iam_s3browser_user_or_accesskey_creation.yml": {
    match: [ev("iam.amazonaws.com", "CreateUser", { userAgent: S3_BROWSER })],
    noMatch: [ev("iam.amazonaws.com", "CreateUser")],
  },
  "aws_kms_import_key_material.yml": {
    match: [ev("kms.amazonaws.com", "ImportKeyMaterial")],
    noMatch: [ev("kms.amazonaws.com", "GetParametersForImport")],
  },
  "aws_lambda_function_url.yml": {
    match: [ev("lambda.amazonaws.com", "CreateFunctionUrlConfig")],
    noMatch: [ev("lambda.amazonaws.com", "GetFunctionUrlConfig")],
  },
  "aws_new_lambda_layer_attached.yml": {
    match: [stratus("aws.persistence.lambda-layer-extension#0")],
    noMatch: [
      ev("lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", {
        requestParameters: { functionName: "f", timeout: 30 },
      }),
    ],
  },
  "aws_passed_role_to_glue_development_endpoint.yml": {
    match: [ev("glue.amazonaws.com", "CreateDevEndpoint")],
    noMatch: [ev("glue.amazonaws.com", "GetDevEndpoint")],
  },
  "aws_rds_change_master_password.yml": {
    match: [
      ev("rds.amazonaws.com", "ModifyDBInstance", {
        responseElements: { pendingModifiedValues: { masterUserPassword: "****" } },
      }),
    ],
    noMatch: [ev("rds.amazonaws.com", "ModifyDBInstance", { responseElements: { pendingModifiedValues: {} } })],
  },
  "aws_rds_dbcluster_actions.yml": {
    match: [ev("rds.amazonaws.com", "DeleteDBCluster")],
    noMatch: [ev("rds.amazonaws.com", "DescribeDBClusters")],
  },
  "aws_rds_public_db_restore.yml": {
    match: [
      ev("rds.amazonaws.com", "RestoreDBInstanceFromDBSnapshot", { responseElements: { publiclyAccessible: true } }),
    ],
    noMatch: [
      ev("rds.amazonaws.com", "RestoreDBInstanceFromDBSnapshot", { responseElements: { publiclyAccessible: false } }),
    ],
  },
  "aws_root_account_usage.yml": {
    match: [ev("s3.amazonaws.com", "ListBuckets", { userIdentity: ROOT })],
    noMatch: [ev("s3.amazonaws.com", "ListBuckets", { userIdentity: ROOT, eventType: "AwsServiceEvent" })],
  },
  "aws_route_53_domain_transferred_lock_disabled.yml": {
    match: [ev("route53.amazonaws.com", "DisableDomainTransferLock")],
    noMatch: [ev("route53.amazonaws.com", "EnableDomainTransferLock")],
  },
  "aws_route_53_domain_transferred_to_another_account.yml": {
    match: [ev("route53.amazonaws.com", "TransferDomainToAnotherAwsAccount")],
    noMatch: [ev("route53.amazonaws.com", "ListDomains")],
  },
  "aws_s3_data_management_tampering.yml": {
    match: [ev("s3.amazonaws.com", "PutBucketLogging")],
    noMatch: [ev("s3.amazonaws.com", "GetBucketLogging")],
  },
  "aws_securityhub_finding_evasion.yml": {
    match: [ev("securityhub.amazonaws.com", "BatchUpdateFindings")],
    noMatch: [ev("securityhub.amazonaws.com", "GetFindings")],
  },
  "aws_snapshot_backup_exfiltration.yml": {
    match: [stratus("aws.exfiltration.ec2-share-ebs-snapshot#0")],
    noMatch: [ev("ec2.amazonaws.com", "DescribeSnapshotAttribute")],
  },
  "aws_sso_idp_change.yml": {
    match: [ev("sso-directory.amazonaws.com", "DisableExternalIdPConfigurationForDirectory")],
    noMatch: [ev("sso.amazonaws.com", "ListInstances")],
  },
  "aws_sts_assumerole_misuse.yml": {
    match: [stratus("aws.credential-access.ec2-get-password-data#0")],
    noMatch: [
      stratus("aws.credential-access.secretsmanager-retrieve-secrets#0"),
      ev("sts.amazonaws.com", "AssumeRole"),
    ],
  },
  "aws_sts_getcalleridentity_trufflehog.yml": {
    match: [ev("sts.amazonaws.com", "GetCallerIdentity", { userAgent: "TruffleHog/3.63.0 go-http" })],
    noMatch: [ev("sts.amazonaws.com", "GetCallerIdentity")],
  },
  "aws_sts_getsessiontoken_misuse.yml": {
    match: [ev("sts.amazonaws.com", "GetSessionToken")],
    noMatch: [ev("sts.amazonaws.com", "GetSessionToken", { userIdentity: ASSUMED })],
  },
  "aws_susp_saml_activity.yml": {
    match: [ev("sts.amazonaws.com", "AssumeRoleWithSAML"), ev("iam.amazonaws.com", "UpdateSAMLProvider")],
    noMatch: [ev("sts.amazonaws.com", "AssumeRole"), ev("sts.amazonaws.com", "UpdateSAMLProvider")],
  },
  "aws_update_login_profile.yml": {
    match: [stratus("aws.privilege-escalation.iam-update-user-login-profile#0")],
    // fieldref: a user changing their own login profile (arn field equal to the userName field) is filtered out.
    noMatch: [
      ev("iam.amazonaws.com", "UpdateLoginProfile", {
        userIdentity: { ...IAM_USER, arn: "alice" },
        requestParameters: { userName: "ALICE" },
      }),
    ],
  },
};
