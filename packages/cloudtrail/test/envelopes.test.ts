import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import {
  type CloudTrailRecord,
  decodeKinesisData,
  decodeNotification,
  decodeNotificationKey,
  parseCloudTrailKey,
} from "../src/index.ts";
import { realRecords } from "./support.ts";

const records = realRecords();
const key =
  "AWSLogs/o-a1b2c3d4e5/111111111111/CloudTrail/us-east-1/2026/11/25/111111111111_CloudTrail_us-east-1_20261125T0005Z_AbC123.json.gz";
const s3Event = (k: string) => ({
  Records: [
    {
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "us-east-1",
      eventName: "ObjectCreated:Put",
      s3: { bucket: { name: "trail-bucket" }, object: { key: k, size: 1234, eTag: "0123abcd" } },
    },
  ],
});
const sns = (message: unknown) => ({
  Type: "Notification",
  MessageId: "m-1",
  TopicArn: "arn:aws:sns:us-east-1:1:t",
  Message: JSON.stringify(message),
});

describe("decodeNotification", () => {
  test("an S3 event notification, direct and wrapped by SNS", () => {
    for (const [body, kind] of [
      [s3Event(key), "s3"],
      [sns(s3Event(key)), "sns-s3"],
    ] as const) {
      const result = decodeNotification(JSON.stringify(body));
      assert.ok(result.ok);
      assert.equal(result.value.kind, kind);
      const [object] = result.value.objects;
      assert.equal(object?.bucket, "trail-bucket");
      assert.equal(object?.key, key);
      assert.equal(object?.size, 1234);
      assert.equal(object?.eTag, "0123abcd");
      assert.equal(object?.file?.kind, "log");
      assert.equal(object?.file?.organizationId, "o-a1b2c3d4e5");
    }
  });

  test("keys are URL-decoded (+ is a space)", () => {
    const result = decodeNotification(JSON.stringify(s3Event("my+prefix/a%2Bb/AWSLogs/x")));
    assert.ok(result.ok);
    assert.equal(result.value.objects[0]?.key, "my prefix/a+b/AWSLogs/x");
    assert.equal(result.value.objects[0]?.file, null, "not a CloudTrail key");
  });

  test("CloudTrail's own SNS notice with several keys, and EventBridge Object Created", () => {
    const notice = { s3Bucket: "trail-bucket", s3ObjectKey: [key, key.replace("AbC123", "XyZ789")] };
    const result = decodeNotification(JSON.stringify(sns(notice)));
    assert.ok(result.ok);
    assert.equal(result.value.kind, "cloudtrail-sns");
    assert.equal(result.value.objects.length, 2);
    const eb = {
      version: "0",
      "detail-type": "Object Created",
      source: "aws.s3",
      detail: { bucket: { name: "b" }, object: { key, size: 9, etag: "e" } },
    };
    const ebResult = decodeNotification(JSON.stringify(eb));
    assert.ok(ebResult.ok);
    assert.equal(ebResult.value.kind, "eventbridge-s3");
    assert.equal(ebResult.value.objects[0]?.size, 9);
  });

  test("s3:TestEvent is recognised with nothing to read; digest files are recognised as digests", () => {
    const t = decodeNotification(JSON.stringify({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "b" }));
    assert.ok(t.ok && t.value.kind === "s3-test" && t.value.objects.length === 0);
    const digest = decodeNotification(JSON.stringify(s3Event(key.replace("/CloudTrail/", "/CloudTrail-Digest/"))));
    assert.ok(digest.ok);
    assert.equal(digest.value.objects[0]?.file?.kind, "digest");
  });

  test("bad notifications get typed errors", () => {
    const cases: Array<[string, string]> = [
      ["not json", "json"],
      [JSON.stringify({ hello: 1 }), "unknown-envelope"],
      [JSON.stringify([1]), "unknown-envelope"],
      [JSON.stringify({ Type: "Notification", Message: "{bad" }), "json"],
      [JSON.stringify({ Records: [{ eventSource: "aws:s3", eventName: "ObjectCreated:Put", s3: {} }] }), "shape"],
      [JSON.stringify({ s3Bucket: "b", s3ObjectKey: "not-a-list" }), "shape"],
    ];
    for (const [body, code] of cases) {
      const result = decodeNotification(body);
      assert.ok(!result.ok, body);
      assert.equal(result.error.code, code, body);
    }
  });
});

describe("decodeKinesisData", () => {
  const logsPayload = (messageType: string, recs: CloudTrailRecord[]) =>
    gzipSync(
      JSON.stringify({
        messageType,
        owner: "111111111111",
        logGroup: "aws-cloudtrail-logs",
        logStream: "111111111111_CloudTrail_us-east-1",
        subscriptionFilters: ["to-kinesis"],
        logEvents: recs.map((r, i) => ({ id: String(i), timestamp: 0, message: JSON.stringify(r) })),
      }),
    );

  test("a CloudWatch Logs subscription payload: one record per log event; CONTROL_MESSAGE is skipped", () => {
    const result = decodeKinesisData(logsPayload("DATA_MESSAGE", records.slice(0, 5)));
    assert.ok(result.ok && result.value.kind === "kinesis-logs");
    assert.deepEqual(
      result.value.items.map((i) => (i.ok ? i.record : null)),
      records.slice(0, 5),
    );
    assert.equal(result.value.logGroup, "aws-cloudtrail-logs");
    const control = decodeKinesisData(logsPayload("CONTROL_MESSAGE", []));
    assert.ok(control.ok && control.value.kind === "control");
  });

  test("an EventBridge event (both sign-in spellings) and a bare record", () => {
    for (const type of [
      "AWS API Call via CloudTrail",
      "AWS Console Signin via CloudTrail",
      "AWS Console Sign In via CloudTrail",
    ]) {
      const event = {
        version: "0",
        id: "fresh-uuid",
        "detail-type": type,
        source: "aws.iam",
        account: "1",
        detail: records[0],
      };
      const result = decodeKinesisData(Buffer.from(JSON.stringify(event)));
      assert.ok(result.ok && result.value.kind === "kinesis-eventbridge", type);
      assert.deepEqual(result.value.items[0]?.ok && result.value.items[0].record, records[0]);
    }
    const bare = decodeKinesisData(Buffer.from(JSON.stringify(records[1])));
    assert.ok(bare.ok && bare.value.kind === "kinesis-raw");
  });

  test("bad payloads: corrupt gzip, unknown envelope, a non-CloudTrail EventBridge event, a bad log event", () => {
    const corrupt = decodeKinesisData(logsPayload("DATA_MESSAGE", records.slice(0, 2)).subarray(0, 30));
    assert.ok(!corrupt.ok && corrupt.error.code === "gzip");
    const unknown = decodeKinesisData(Buffer.from('{"foo": 1}'));
    assert.ok(!unknown.ok && unknown.error.code === "unknown-envelope");
    const ec2 = decodeKinesisData(
      Buffer.from(JSON.stringify({ "detail-type": "EC2 Instance State-change Notification", detail: {} })),
    );
    assert.ok(!ec2.ok && ec2.error.code === "unknown-envelope");
    const payload = gzipSync(
      JSON.stringify({ messageType: "DATA_MESSAGE", logEvents: [{ id: "1", message: "{not json" }] }),
    );
    const bad = decodeKinesisData(payload);
    assert.ok(bad.ok && bad.value.kind === "kinesis-logs");
    assert.equal(bad.value.items[0]?.ok, false);
  });

  test("property: EventBridge and CloudWatch Logs round trips", () => {
    fc.assert(
      fc.property(fc.subarray(records, { minLength: 1, maxLength: 10 }), (recs) => {
        const result = decodeKinesisData(logsPayload("DATA_MESSAGE", recs));
        assert.ok(result.ok && result.value.kind === "kinesis-logs");
        assert.deepEqual(
          result.value.items.map((i) => (i.ok ? i.record : null)),
          recs,
        );
      }),
      { numRuns: 50 },
    );
  });
});

describe("parseCloudTrailKey", () => {
  test("reads prefix, organization, account, kind, region, date", () => {
    const parsed = parseCloudTrailKey(`bucket/some/prefix/${key}`);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value, {
      prefix: "bucket/some/prefix",
      organizationId: "o-a1b2c3d4e5",
      accountId: "111111111111",
      kind: "log",
      region: "us-east-1",
      date: "2026-11-25",
      fileName: "111111111111_CloudTrail_us-east-1_20261125T0005Z_AbC123.json.gz",
      location: "bucket/some/prefix/AWSLogs/o-a1b2c3d4e5/111111111111/CloudTrail/us-east-1",
    });
    for (const bad of [
      "AWSLogs/12/CloudTrail/us-east-1/2026/11/25/f",
      "x/y.json.gz",
      "AWSLogs/111111111111/Other/us-east-1/2026/11/25/f",
    ]) {
      assert.equal(parseCloudTrailKey(bad).ok, false, bad);
    }
    assert.equal(decodeNotificationKey("%E0%A4%A").ok, false);
  });

  test("property: any key CloudTrail would write parses back to its parts", () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/).filter((s) => s !== "AWSLogs");
    fc.assert(
      fc.property(
        fc.array(segment, { maxLength: 3 }),
        fc.option(fc.stringMatching(/^o-[a-z0-9]{10}$/), { nil: undefined }),
        fc.stringMatching(/^\d{12}$/),
        fc.constantFrom(["CloudTrail", "log"], ["CloudTrail-Digest", "digest"], ["CloudTrail-Insight", "insight"]),
        fc.stringMatching(/^[a-z]{2}-[a-z]{4,9}-\d$/),
        fc.date({ min: new Date("2013-01-01"), max: new Date("2099-12-31"), noInvalidDate: true }),
        (prefix, org, account, [folder, kind], region, date) => {
          const day = date.toISOString().slice(0, 10);
          const k = [
            ...prefix,
            "AWSLogs",
            ...(org ? [org] : []),
            account,
            folder,
            region,
            ...day.split("-"),
            `${account}_x.json.gz`,
          ].join("/");
          const parsed = parseCloudTrailKey(k);
          assert.ok(parsed.ok, k);
          assert.equal(parsed.value.prefix, prefix.join("/"));
          assert.equal(parsed.value.organizationId, org);
          assert.equal(parsed.value.accountId, account);
          assert.equal(parsed.value.kind, kind);
          assert.equal(parsed.value.region, region);
          assert.equal(parsed.value.date, day);
          // URL-encoding a key for a notification and decoding it gives it back.
          const encoded = encodeURIComponent(k).replace(/%2F/g, "/").replace(/%20/g, "+");
          const decoded = decodeNotificationKey(encoded);
          assert.ok(decoded.ok && decoded.value === k);
        },
      ),
      { numRuns: 200 },
    );
  });
});
