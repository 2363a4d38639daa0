import assert from "node:assert/strict";
import { test } from "node:test";
import { trailLocation } from "../src/sink.ts";

test("a copy's trail location is its bucket and prefix, one value per trail whatever the account or region", () => {
  const key = (rest: string) => `${rest}AWSLogs/o-a1b2c3d4e5/111111111111/CloudTrail/us-east-1/2026/11/25/f.json.gz`;
  assert.equal(trailLocation({ kind: "s3", bucket: "org-trail", key: key("") }), "org-trail");
  assert.equal(trailLocation({ kind: "s3", bucket: "member", key: key("cloudtrail/") }), "member/cloudtrail");
  assert.equal(
    trailLocation({ kind: "s3", bucket: "member", key: key("cloudtrail/").replace("111111111111", "222222222222") }),
    "member/cloudtrail",
  );
  assert.equal(trailLocation({ kind: "kinesis-logs" }), "");
});
