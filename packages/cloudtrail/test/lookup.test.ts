import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type CloudTrailRecord,
  LOOKUP_ATTRIBUTE_KEYS,
  LookupError,
  LookupPage,
  lookupEvent,
  lookupRequest,
  lookupValues,
} from "../src/index.ts";
import { realRecords } from "./support.ts";

const records = realRecords();
const real = (p: (r: CloudTrailRecord) => boolean) => {
  const r = records.find(p);
  assert.ok(r, "a real record of that kind exists in the reference data");
  return r;
};

function at(i: number, extra: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return {
    eventVersion: "1.11",
    eventTime: new Date(Date.UTC(2026, 11, 1, 10, 0, 0) + i * 1_000).toISOString().replace(/\.000Z$/, "Z"),
    eventSource: "s3.amazonaws.com",
    eventName: i % 2 ? "DeleteBucket" : "CreateBucket",
    readOnly: false,
    userIdentity: { type: "IAMUser", userName: "alice", accessKeyId: "AKIAEXAMPLE" },
    resources: [{ type: "AWS::S3::Bucket", ARN: `arn:aws:s3:::bucket-${i}` }],
    recipientAccountId: "111122223333",
    eventID: `id-${String(i).padStart(4, "0")}`,
    ...extra,
  };
}

describe("lookup attributes", () => {
  test("all eight keys read from real records", () => {
    const r = real((x) => x.userIdentity?.type === "AssumedRole" && typeof x.userIdentity.accessKeyId === "string");
    assert.deepEqual(lookupValues(r, "EventId"), [r.eventID]);
    assert.deepEqual(lookupValues(r, "EventName"), [r.eventName]);
    assert.deepEqual(lookupValues(r, "EventSource"), [r.eventSource]);
    assert.deepEqual(lookupValues(r, "ReadOnly"), [String(r.readOnly)]);
    assert.deepEqual(lookupValues(r, "AccessKeyId"), [r.userIdentity?.accessKeyId]);
    const session = /assumed-role\/[^/]+\/([^/]+)$/.exec(String(r.userIdentity?.arn))?.[1];
    assert.deepEqual(lookupValues(r, "Username"), [session], "an assumed role's user is its session name");
    const withResources = real((x) => Array.isArray(x.resources) && x.resources.length > 0);
    const resources = withResources.resources as { type: string; ARN: string }[];
    assert.deepEqual(
      lookupValues(withResources, "ResourceType"),
      resources.map((x) => x.type),
    );
    assert.ok(lookupValues(withResources, "ResourceName").includes(resources[0]?.ARN ?? "?"));
    assert.equal(LOOKUP_ATTRIBUTE_KEYS.length, 8);
  });
  test("a resource is named by its ARN or its name; root and IAM users by their names", () => {
    const r = at(1);
    assert.ok(lookupValues(r, "ResourceName").includes("bucket-1"));
    assert.ok(lookupValues(r, "ResourceName").includes("arn:aws:s3:::bucket-1"));
    assert.deepEqual(lookupValues(r, "Username"), ["alice"]);
    assert.deepEqual(lookupValues(at(1, { userIdentity: { type: "Root", arn: "arn:aws:iam::1:root" } }), "Username"), [
      "root",
    ]);
    assert.deepEqual(lookupValues(at(1, { readOnly: null }), "ReadOnly"), []);
  });
  test("the Event the AWS CLI prints", () => {
    const e = lookupEvent(at(3));
    assert.deepEqual(
      { ...e, CloudTrailEvent: JSON.parse(e.CloudTrailEvent) },
      {
        EventId: "id-0003",
        EventName: "DeleteBucket",
        ReadOnly: "false",
        AccessKeyId: "AKIAEXAMPLE",
        EventTime: "2026-12-01T10:00:03+00:00",
        EventSource: "s3.amazonaws.com",
        Username: "alice",
        Resources: [{ ResourceType: "AWS::S3::Bucket", ResourceName: "arn:aws:s3:::bucket-3" }],
        CloudTrailEvent: at(3),
      },
    );
  });
});

describe("lookup requests: CloudTrail's checks and error names", () => {
  const fails = (input: Parameters<typeof lookupRequest>[0], name: string) =>
    assert.throws(
      () => lookupRequest(input),
      (e: unknown) => e instanceof LookupError && e.name === name,
    );
  test("bad input", () => {
    const a = { AttributeKey: "EventName", AttributeValue: "x" };
    fails({ LookupAttributes: [a, a] }, "InvalidLookupAttributesException");
    fails(
      { LookupAttributes: [{ AttributeKey: "eventName", AttributeValue: "x" }] },
      "InvalidLookupAttributesException",
    );
    fails(
      { LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "" }] },
      "InvalidLookupAttributesException",
    );
    fails(
      { LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "_".repeat(1001) }] },
      "InvalidLookupAttributesException",
    );
    assert.doesNotThrow(() =>
      lookupRequest({ LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "_".repeat(1000) }] }),
    );
    fails({ StartTime: 2, EndTime: 1 }, "InvalidTimeRangeException");
    fails({ MaxResults: 0 }, "InvalidMaxResultsException");
    fails({ MaxResults: 51 }, "InvalidMaxResultsException");
    fails({ EventCategory: "Insight" }, "InvalidEventCategoryException");
    fails({ NextToken: "garbage" }, "InvalidNextTokenException");
  });
});

describe("pages: newest first, inclusive times, tokens", () => {
  const all = Array.from({ length: 30 }, (_, i) => at(i));
  const answer = (input: Parameters<typeof lookupRequest>[0], from = all) => {
    const page = new LookupPage(lookupRequest(input));
    for (const r of from) page.offer(r);
    return page.response();
  };
  const t = (i: number) => Date.parse(at(i).eventTime ?? "");

  test("inclusive start and end; newest first; an attribute filters", () => {
    const r = answer({ StartTime: t(10), EndTime: t(20) });
    assert.deepEqual(
      r.Events.map((e) => e.EventId),
      Array.from({ length: 11 }, (_, i) => `id-00${20 - i}`),
    );
    assert.equal(r.NextToken, undefined);
    const deletes = answer({
      StartTime: t(10),
      EndTime: t(20),
      LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "DeleteBucket" }],
    });
    assert.deepEqual(
      deletes.Events.map((e) => e.EventId),
      ["id-0019", "id-0017", "id-0015", "id-0013", "id-0011"],
    );
  });

  test("paging with NextToken walks every event once, in any arrival order, copies collapsed", () => {
    const shuffled = [...all, ...all.slice(5, 15)]
      .sort((a, b) => ((a.eventID ?? "") < (b.eventID ?? "") ? 1 : -1))
      .reverse();
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = answer({ MaxResults: 7, ...(token ? { NextToken: token } : {}) }, shuffled);
      seen.push(...r.Events.map((e) => e.EventId));
      token = r.NextToken;
      pages++;
    } while (token);
    assert.equal(pages, 5);
    assert.deepEqual(seen, all.map((r) => r.eventID).reverse());
  });

  test("events of one second are ordered by identity, and paged across", () => {
    const same = Array.from({ length: 5 }, (_, i) => at(0, { eventID: `s-${i}` }));
    const first = answer({ MaxResults: 2 }, same);
    assert.deepEqual(
      first.Events.map((e) => e.EventId),
      ["s-4", "s-3"],
    );
    const second = answer({ MaxResults: 2, NextToken: first.NextToken ?? "" }, same);
    assert.deepEqual(
      second.Events.map((e) => e.EventId),
      ["s-2", "s-1"],
    );
  });

  test("a token is refused with other parameters", () => {
    const first = answer({ MaxResults: 2, StartTime: t(0) });
    assert.ok(first.NextToken);
    assert.throws(
      () => lookupRequest({ NextToken: first.NextToken ?? "", StartTime: t(1) }),
      /issued for other parameters/,
    );
    assert.doesNotThrow(() => lookupRequest({ NextToken: first.NextToken ?? "", StartTime: t(0), MaxResults: 5 }));
  });

  test("Insights events only with EventCategory insight", () => {
    const insight = at(5, { eventID: "insight-1", eventType: "AwsCloudTrailInsight", eventCategory: "Insight" });
    assert.ok(!answer({}, [...all, insight]).Events.some((e) => e.EventId === "insight-1"));
    assert.deepEqual(
      answer({ EventCategory: "insight" }, [...all, insight]).Events.map((e) => e.EventId),
      ["insight-1"],
    );
  });
});
