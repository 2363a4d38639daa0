// CloudTrail records, events-topic envelopes and hand-built rules for the alerter's tests.
import type { CloudTrailRecord } from "@trailstream/cloudtrail";
import type { ConsumedMessage } from "@trailstream/kafka";
import type { Rule } from "@trailstream/rules";

let counter = 0;

export function cloudTrailRecord(overrides: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  counter++;
  return {
    eventVersion: "1.09",
    userIdentity: {
      type: "IAMUser",
      principalId: "AIDAEXAMPLE",
      arn: "arn:aws:iam::111122223333:user/alice",
      accountId: "111122223333",
      accessKeyId: "AKIAEXAMPLE",
      userName: "alice",
    },
    eventTime: new Date(Date.now() - 90_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    eventSource: "cloudtrail.amazonaws.com",
    eventName: "StopLogging",
    awsRegion: "us-east-1",
    sourceIPAddress: "198.51.100.7",
    userAgent: "aws-cli/2.15.0",
    requestParameters: { name: "main-trail" },
    responseElements: null,
    requestID: `req-${counter}`,
    eventID: `00000000-0000-4000-8000-${String(counter).padStart(12, "0")}`,
    readOnly: false,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: "111122223333",
    eventCategory: "Management",
    ...overrides,
  };
}

export function envelope(record: CloudTrailRecord, receivedAt = new Date().toISOString()) {
  return { v: 1 as const, event: record, origin: { kind: "s3" as const, receivedAt }, enrichment: {} };
}

export function message(record: CloudTrailRecord, offset: number, partition = 0): ConsumedMessage {
  return {
    topic: "events",
    partition,
    offset: String(offset),
    key: Buffer.from(`${record.recipientAccountId}:${record.eventID}`),
    value: Buffer.from(JSON.stringify(envelope(record))),
    headers: {},
    timestampMs: Date.now(),
  };
}

/** A rule by hand: matches records with the given eventName. */
export function rule(overrides: Partial<Rule> & { eventName?: string } = {}): Rule {
  const { eventName = "StopLogging", ...rest } = overrides;
  return {
    id: "test-stop-logging",
    title: "CloudTrail logging stopped",
    severity: "high",
    source: "custom",
    indexKeys: { eventName: [eventName.toLowerCase()] },
    matches: (record) =>
      typeof record === "object" && record !== null && (record as { eventName?: unknown }).eventName === eventName,
    ...rest,
  };
}
