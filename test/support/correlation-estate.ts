// CloudTrail events that exercise each type of packages/rules/correlations/cloudtrail.yml: for every
// correlation a group that should raise an alert and one that comes close but should not. Shared by
// the scan test and the alerter's integration test, which compares the two.
import { randomUUID } from "node:crypto";

export const CORRELATION_FILE = new URL("../../packages/rules/correlations/cloudtrail.yml", import.meta.url).pathname;

export const ACCOUNT = "111122223333";
const MIN = 60_000;

export interface Scenario {
  /** The correlation rule it is about. */
  ruleId: string;
  /** The group that should raise the alert (JSON of the group-by values), and the near miss. */
  fires: string;
  missed: string;
}

export interface Estate {
  records: Record<string, unknown>[];
  scenarios: Scenario[];
}

function record(at: number, fields: Record<string, unknown>): Record<string, unknown> {
  return {
    eventVersion: "1.09",
    eventTime: new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z"),
    awsRegion: "us-east-1",
    sourceIPAddress: "192.0.2.1",
    userAgent: "aws-cli/2.15.0",
    eventID: randomUUID(),
    eventType: "AwsApiCall",
    recipientAccountId: ACCOUNT,
    managementEvent: true,
    eventCategory: "Management",
    readOnly: false,
    ...fields,
  };
}

const user = (name: string) => ({
  type: "IAMUser",
  principalId: `AIDA${name.toUpperCase()}`,
  arn: `arn:aws:iam::${ACCOUNT}:user/${name}`,
  accountId: ACCOUNT,
  userName: name,
});

const roleSession = (role: string) => ({
  type: "AssumedRole",
  principalId: `AROA${role.toUpperCase()}:session`,
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/session`,
  accountId: ACCOUNT,
  sessionContext: {
    sessionIssuer: { type: "Role", arn: `arn:aws:iam::${ACCOUNT}:role/${role}`, accountId: ACCOUNT, userName: role },
  },
});

function consoleLogin(at: number, ip: string, name: string, ok: boolean) {
  return record(at, {
    eventSource: "signin.amazonaws.com",
    eventName: "ConsoleLogin",
    eventType: "AwsConsoleSignIn",
    sourceIPAddress: ip,
    userIdentity: user(name),
    responseElements: { ConsoleLogin: ok ? "Success" : "Failure" },
    ...(ok ? {} : { errorMessage: "Failed authentication" }),
  });
}

/** The events, in time order from `startMs`; callers shuffle them as they like. */
export function correlationEstate(startMs: number): Estate {
  const t = (minutes: number) => startMs + minutes * MIN;
  const records: Record<string, unknown>[] = [];
  const scenarios: Scenario[] = [];

  // event_count: 25 denials of one principal in 5 minutes; another's 25 spread over 2 hours.
  for (let i = 0; i < 25; i++) {
    for (const [name, step] of [
      ["prober", 12_000],
      ["slow", 5 * MIN],
    ] as const) {
      records.push(
        record(startMs + i * step, {
          eventSource: "ec2.amazonaws.com",
          eventName: "DescribeInstances",
          readOnly: true,
          userIdentity: user(name),
          errorCode: "Client.UnauthorizedOperation",
          errorMessage: "You are not authorized to perform this operation.",
        }),
      );
    }
  }
  scenarios.push({
    ruleId: "trailstream-corr-access-denied-burst",
    fires: JSON.stringify([`arn:aws:iam::${ACCOUNT}:user/prober`]),
    missed: JSON.stringify([`arn:aws:iam::${ACCOUNT}:user/slow`]),
  });

  // value_count: six user names from one address in 5 minutes; twelve tries at two names from another.
  for (let i = 0; i < 6; i++) records.push(consoleLogin(t(i), "198.51.100.10", `user${i}`, false));
  for (let i = 0; i < 12; i++) records.push(consoleLogin(t(i / 4), "198.51.100.11", i % 2 ? "ann" : "ben", false));
  scenarios.push({
    ruleId: "trailstream-corr-console-spraying",
    fires: JSON.stringify(["198.51.100.10"]),
    missed: JSON.stringify(["198.51.100.11"]),
  });

  // A chain (event_count inside temporal_ordered): a brute force, then a success from the same
  // address; the near miss has its success before the failures.
  for (let i = 0; i < 12; i++) records.push(consoleLogin(t(20 + i / 6), "203.0.113.50", "admin", false));
  records.push(consoleLogin(t(30), "203.0.113.50", "admin", true));
  records.push(consoleLogin(t(19), "203.0.113.51", "admin", true));
  for (let i = 0; i < 12; i++) records.push(consoleLogin(t(20 + i / 6), "203.0.113.51", "admin", false));
  scenarios.push({
    ruleId: "trailstream-corr-console-bruteforce-success",
    fires: JSON.stringify(["203.0.113.50"]),
    missed: JSON.stringify(["203.0.113.51"]),
  });

  // temporal_ordered with aliases: a role assumed, then its session creates a key; the other role's
  // key comes before it is assumed.
  const assume = (at: number, role: string) =>
    record(at, {
      eventSource: "sts.amazonaws.com",
      eventName: "AssumeRole",
      readOnly: true,
      userIdentity: user("ci"),
      requestParameters: { roleArn: `arn:aws:iam::${ACCOUNT}:role/${role}`, roleSessionName: "session" },
    });
  const createKey = (at: number, role: string) =>
    record(at, {
      eventSource: "iam.amazonaws.com",
      eventName: "CreateAccessKey",
      userIdentity: roleSession(role),
      requestParameters: { userName: "backdoor" },
    });
  records.push(assume(t(40), "deploy"), createKey(t(43), "deploy"));
  records.push(createKey(t(40), "audit"), assume(t(43), "audit"));
  scenarios.push({
    ruleId: "trailstream-corr-assumed-role-creates-keys",
    fires: JSON.stringify([`arn:aws:iam::${ACCOUNT}:role/deploy`]),
    missed: JSON.stringify([`arn:aws:iam::${ACCOUNT}:role/audit`]),
  });

  // temporal: a trail stopped and a detector deleted by one principal, 20 minutes apart, in either
  // order; the other principal's two come 40 minutes apart.
  const stop = (at: number, name: string) =>
    record(at, {
      eventSource: "cloudtrail.amazonaws.com",
      eventName: "StopLogging",
      userIdentity: user(name),
      requestParameters: { name: "management" },
    });
  const deleteDetector = (at: number, name: string) =>
    record(at, {
      eventSource: "guardduty.amazonaws.com",
      eventName: "DeleteDetector",
      userIdentity: user(name),
      requestParameters: { detectorId: "12abc34d567e8fa901bc2d34eexample" },
    });
  records.push(deleteDetector(t(50), "mallory"), stop(t(70), "mallory"));
  records.push(stop(t(50), "trudy"), deleteDetector(t(90), "trudy"));
  scenarios.push({
    ruleId: "trailstream-corr-logging-and-detection-disabled",
    fires: JSON.stringify([`arn:aws:iam::${ACCOUNT}:user/mallory`]),
    missed: JSON.stringify([`arn:aws:iam::${ACCOUNT}:user/trudy`]),
  });

  records.sort((a, b) => String(a.eventTime).localeCompare(String(b.eventTime)));
  return { records, scenarios };
}

/** A deterministic shuffle (mulberry32), so a failing order can be reproduced from its seed. */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
