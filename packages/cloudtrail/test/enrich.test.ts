import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type CloudTrailRecord, enrich, isGlobalServiceEvent, REDACTED, redact } from "../src/index.ts";
import { realRecords } from "./support.ts";

const records = realRecords();
const find = (p: (r: CloudTrailRecord) => boolean) => {
  const r = records.find(p);
  assert.ok(r, "a real record of that kind exists in the reference data");
  return r;
};

describe("enrich", () => {
  test("an assumed role: principal, role, session, issuer", () => {
    const r = find((x) => x.userIdentity?.type === "AssumedRole" && typeof x.userIdentity.arn === "string");
    const e = enrich(r);
    assert.equal(e.principal.type, "AssumedRole");
    assert.ok(e.principal.roleName && e.principal.sessionName, JSON.stringify(e.principal));
    assert.equal(e.principal.sessionIssuerArn, r.userIdentity?.sessionContext?.sessionIssuer?.arn ?? null);
    assert.equal(e.identity, `${r.recipientAccountId}:${r.eventID}`);
  });

  test("a console sign-in without MFA", () => {
    const r = find((x) => x.eventName === "ConsoleLogin");
    const e = enrich(r);
    assert.equal(e.via, "console");
    assert.equal(e.mfa, false);
  });

  test("errors are classed; read-only and category come from the record", () => {
    const denied = find((x) => typeof x.errorCode === "string" && /Unauthorized|AccessDenied/.test(x.errorCode));
    assert.equal(enrich(denied).error?.class, "access-denied");
    const throttled = enrich({ ...denied, errorCode: "ThrottlingException" });
    assert.equal(throttled.error?.class, "throttled");
    const write = find((x) => x.readOnly === false);
    assert.equal(enrich(write).mutating, true);
    assert.equal(enrich(write).category, "management");
    assert.equal(enrich({ ...write, eventCategory: "Data", managementEvent: false }).category, "data");
  });

  test("global services, corrections and shared events", () => {
    assert.equal(isGlobalServiceEvent(find((x) => x.eventSource === "iam.amazonaws.com")), true);
    assert.equal(isGlobalServiceEvent(find((x) => x.eventSource === "ec2.amazonaws.com")), false);
    const sts = find((x) => x.eventSource === "sts.amazonaws.com");
    assert.equal(
      isGlobalServiceEvent({ ...sts, tlsDetails: { clientProvidedHostHeader: "sts.eu-west-1.amazonaws.com" } }),
      false,
    );
    const r = records[0] as CloudTrailRecord;
    const corrected = enrich({
      ...r,
      sharedEventID: "s-1",
      addendum: { reason: "UPDATED_DATA", originalEventID: "orig-1" },
    });
    assert.equal(corrected.correctionOf, "orig-1");
    assert.equal(corrected.sharedEventID, "s-1");
  });

  test("the record itself is never changed", () => {
    const r = records[3] as CloudTrailRecord;
    const before = JSON.stringify(r);
    enrich(r);
    assert.equal(JSON.stringify(r), before);
  });
});

describe("redact", () => {
  test("secrets are replaced at any depth and the input is untouched", () => {
    const record = {
      eventName: "AssumeRole",
      responseElements: { credentials: { accessKeyId: "ASIA1", secretAccessKey: "s3cr3t", sessionToken: "tok" } },
      requestParameters: { users: [{ password: "hunter2" }], newPassword: "x" },
    };
    const out = redact(record);
    assert.equal(out.responseElements.credentials.secretAccessKey, REDACTED);
    assert.equal(out.responseElements.credentials.sessionToken, REDACTED);
    assert.equal(out.responseElements.credentials.accessKeyId, "ASIA1");
    assert.equal(out.requestParameters.users[0]?.password, REDACTED);
    assert.equal(out.requestParameters.newPassword, REDACTED);
    assert.equal(record.responseElements.credentials.secretAccessKey, "s3cr3t");
    assert.doesNotMatch(JSON.stringify(redact(records)), /"secretAccessKey":"(?!\[REDACTED\])/);
  });
});
