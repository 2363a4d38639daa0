import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isSecretKey, REDACTED, redact } from "../src/index.ts";

describe("redact: secrets by the words of their key, at any depth", () => {
  test("secrets named in any service's style are replaced (finding 23)", () => {
    const names = [
      "sessionToken",
      "SecretAccessKey",
      "Password",
      "secretKey",
      "apiKey",
      "x-api-key",
      "token",
      "webIdentityToken",
      "clientAssertion",
      "authToken",
      "privateKeyPem",
      "client_secret",
      "SAMLAssertion",
      "x-amz-security-token",
      "tokenCode",
      "passwordData",
      "secretString",
      "keyMaterial",
    ];
    const record = Object.fromEntries(names.map((n, i) => [n, `value-${i}`]));
    const out = redact({ requestParameters: record });
    for (const name of names) assert.equal(out.requestParameters[name], REDACTED, name);
  });

  test("names that point at or describe a secret, and paging or idempotency tokens, are kept", () => {
    const kept = {
      secretId: "prod/db",
      SecretArn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db",
      passwordLastUsed: "2026-12-01T00:00:00Z",
      passwordResetRequired: true,
      maxPasswordAge: 90,
      tokenType: "Bearer",
      nextToken: "page-2",
      clientToken: "idempotent-1",
      clientRequestToken: "idempotent-2",
      accessKeyId: "ASIAEXAMPLE",
      allowUsersToChangePassword: true,
      eventName: "GetSecretValue",
    };
    assert.deepEqual(redact({ requestParameters: kept }).requestParameters, kept);
    for (const name of Object.keys(kept)) assert.equal(isSecretKey(name), name === "allowUsersToChangePassword", name);
  });

  test("a secret below the depth limit is not missed: the deep subtree is replaced whole", () => {
    let nested: Record<string, unknown> = { sessionToken: "deep-secret", note: "deep-note" };
    for (let i = 0; i < 70; i++) nested = { level: nested };
    const out = JSON.stringify(redact({ requestParameters: nested }));
    assert.doesNotMatch(out, /deep-secret/);
    assert.doesNotMatch(out, /deep-note/, "nothing below the limit is read");
    assert.match(out, /deeper than 64 levels/);
    let shallow: Record<string, unknown> = { sessionToken: "s", note: "shallow-note" };
    for (let i = 0; i < 10; i++) shallow = { level: shallow };
    const kept = JSON.stringify(redact(shallow));
    assert.match(kept, /shallow-note/, "shallow records keep their shape");
    assert.doesNotMatch(kept, /"s"/);
  });
});
