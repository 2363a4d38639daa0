import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type CloudTrailRecord,
  EventSelectorsError,
  eventSelectors,
  eventSelectorsFromSetting,
  parseEventSelectors,
  selectorCategory,
} from "../src/index.ts";
import { realRecords } from "./support.ts";

const records = realRecords();
const real = (p: (r: CloudTrailRecord) => boolean) => {
  const r = records.find(p);
  assert.ok(r, "a real record of that kind exists in the reference data");
  return r;
};

// A PutObject data event as CloudTrail writes it: the object and its bucket among the resources.
function putObject(bucket: string, key: string, extra: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return {
    eventVersion: "1.10",
    userIdentity: { type: "AssumedRole", arn: "arn:aws:sts::111122223333:assumed-role/app/i-0abc" },
    eventTime: "2026-12-01T10:00:00Z",
    eventSource: "s3.amazonaws.com",
    eventName: "PutObject",
    awsRegion: "eu-west-1",
    readOnly: false,
    resources: [
      { type: "AWS::S3::Object", ARN: `arn:aws:s3:::${bucket}/${key}` },
      { accountId: "111122223333", type: "AWS::S3::Bucket", ARN: `arn:aws:s3:::${bucket}` },
    ],
    eventType: "AwsApiCall",
    managementEvent: false,
    recipientAccountId: "111122223333",
    eventID: `e-${bucket}-${key}`,
    eventCategory: "Data",
    ...extra,
  };
}

const data = (...fields: object[]) => [
  {
    FieldSelectors: [
      { Field: "eventCategory", Equals: ["Data"] },
      { Field: "resources.type", Equals: ["AWS::S3::Object"] },
      ...fields,
    ],
  },
];
const keeps = (selectors: unknown, record: CloudTrailRecord) => eventSelectors(selectors).match(record) !== -1;

describe("advanced event selectors: operators", () => {
  const put = putObject("logs", "2026/a.gz");
  const get = putObject("logs", "2026/a.gz", { eventName: "GetObject", readOnly: true });
  test("Equals: any listed value", () => {
    const s = data({ Field: "eventName", Equals: ["DeleteObject", "PutObject"] });
    assert.equal(keeps(s, put), true);
    assert.equal(keeps(s, get), false);
  });
  test("NotEquals: none of the listed values", () => {
    const s = data({ Field: "eventName", NotEquals: ["GetObject", "HeadObject"] });
    assert.equal(keeps(s, put), true);
    assert.equal(keeps(s, get), false);
  });
  test("StartsWith and NotStartsWith", () => {
    assert.equal(keeps(data({ Field: "eventName", StartsWith: ["Put", "Delete"] }), put), true);
    assert.equal(keeps(data({ Field: "eventName", StartsWith: ["Put", "Delete"] }), get), false);
    assert.equal(keeps(data({ Field: "eventName", NotStartsWith: ["Get"] }), put), true);
    assert.equal(keeps(data({ Field: "eventName", NotStartsWith: ["Get"] }), get), false);
  });
  test("EndsWith and NotEndsWith", () => {
    assert.equal(keeps(data({ Field: "eventName", EndsWith: ["Object"] }), get), true);
    assert.equal(keeps(data({ Field: "eventName", EndsWith: ["Acl"] }), get), false);
    assert.equal(keeps(data({ Field: "eventName", NotEndsWith: ["Acl", "Tagging"] }), get), true);
    assert.equal(keeps(data({ Field: "eventName", NotEndsWith: ["Object"] }), get), false);
  });
  test("several operators in one field selector must all hold", () => {
    const s = data({ Field: "eventName", StartsWith: ["Put"], NotEquals: ["PutObjectAcl"] });
    assert.equal(keeps(s, put), true);
    assert.equal(keeps(s, { ...put, eventName: "PutObjectAcl" }), false);
    assert.equal(keeps(s, get), false);
  });
  test("values match exactly, case included", () => {
    assert.equal(keeps(data({ Field: "eventName", Equals: ["putobject"] }), put), false);
  });
  test("a field the record lacks fails Equals and passes the Not- operators", () => {
    const anonymous = putObject("logs", "x", { userIdentity: { type: "AWSAccount" } });
    assert.equal(keeps(data({ Field: "userIdentity.arn", StartsWith: ["arn:aws:sts::"] }), anonymous), false);
    assert.equal(keeps(data({ Field: "userIdentity.arn", NotStartsWith: ["arn:aws:sts::"] }), anonymous), true);
  });
  test("selectors are OR, field selectors within one are AND", () => {
    const s = [
      { Name: "writes", FieldSelectors: data({ Field: "readOnly", Equals: ["false"] })[0]?.FieldSelectors },
      { Name: "kms", FieldSelectors: [{ Field: "eventCategory", Equals: ["Management"] }] },
    ];
    const compiled = eventSelectors(s);
    assert.equal(compiled.match(put), 0);
    assert.equal(compiled.match(get), -1);
    assert.equal(compiled.match(real((r) => r.eventCategory === "Management")), 1);
  });
});

describe("advanced event selectors: fields", () => {
  test("readOnly is a boolean in records and the string true/false in selectors", () => {
    const reads = data({ Field: "readOnly", Equals: ["true"] });
    assert.equal(keeps(reads, putObject("b", "k", { readOnly: true })), true);
    assert.equal(keeps(reads, putObject("b", "k", { readOnly: false })), false);
    const writes = data({ Field: "readOnly", Equals: ["false"] });
    assert.equal(keeps(writes, putObject("b", "k", { readOnly: false })), true);
    const unknown = putObject("b", "k");
    delete unknown.readOnly;
    assert.equal(keeps(reads, unknown), false);
    assert.equal(keeps(writes, unknown), false);
  });

  test("readOnly on real management records", () => {
    const mgmtWrites = [
      {
        FieldSelectors: [
          { Field: "eventCategory", Equals: ["Management"] },
          { Field: "readOnly", Equals: ["false"] },
        ],
      },
    ];
    const write = real((r) => r.readOnly === false);
    const read = real((r) => r.readOnly === true);
    assert.equal(keeps(mgmtWrites, write), true);
    assert.equal(keeps(mgmtWrites, read), false);
  });

  test("resources.ARN is read on the resources of the selected type, several of them", () => {
    // "PutObject and DeleteObject for all but one bucket": the record also names the bucket itself,
    // whose ARN does not start with the excluded prefix; only the object resource decides.
    const allButOne = data(
      { Field: "eventName", Equals: ["PutObject", "DeleteObject"] },
      { Field: "resources.ARN", NotStartsWith: ["arn:aws:s3:::sample_bucket_name/"] },
    );
    assert.equal(keeps(allButOne, putObject("sample_bucket_name", "k")), false);
    assert.equal(keeps(allButOne, putObject("other", "k")), true);
    // Several objects in one record (DeleteObjects): one of them matching is enough.
    const many = putObject("a", "x", {
      eventName: "DeleteObjects",
      resources: [
        { type: "AWS::S3::Object", ARN: "arn:aws:s3:::a/x" },
        { type: "AWS::S3::Object", ARN: "arn:aws:s3:::b/y" },
        { type: "AWS::S3::Bucket", ARN: "arn:aws:s3:::a" },
      ],
    });
    assert.equal(keeps(data({ Field: "resources.ARN", StartsWith: ["arn:aws:s3:::b/"] }), many), true);
    assert.equal(keeps(data({ Field: "resources.ARN", Equals: ["arn:aws:s3:::a"] }), many), false);
    assert.equal(keeps(data({ Field: "resources.ARN", EndsWith: ["/y"] }), many), true);
  });

  test("resources.type must be among the record's resources", () => {
    const lambda = [
      {
        FieldSelectors: [
          { Field: "eventCategory", Equals: ["Data"] },
          { Field: "resources.type", Equals: ["AWS::Lambda::Function"] },
        ],
      },
    ];
    assert.equal(keeps(lambda, putObject("b", "k")), false);
    assert.equal(keeps(data(), putObject("b", "k")), true);
    assert.equal(keeps(data(), putObject("b", "k", { resources: null })), false);
  });

  test("eventSource, eventType, userIdentity.arn", () => {
    const r = putObject("b", "k");
    assert.equal(keeps(data({ Field: "eventSource", Equals: ["s3.amazonaws.com"] }), r), true);
    assert.equal(keeps(data({ Field: "eventSource", NotEquals: ["s3.amazonaws.com"] }), r), false);
    assert.equal(keeps(data({ Field: "eventType", Equals: ["AwsApiCall"] }), r), true);
    assert.equal(keeps(data({ Field: "eventType", Equals: ["AwsServiceEvent"] }), r), false);
    assert.equal(keeps(data({ Field: "userIdentity.arn", EndsWith: ["/i-0abc"] }), r), true);
    assert.equal(keeps(data({ Field: "userIdentity.arn", NotStartsWith: ["arn:aws:sts::111122223333:"] }), r), false);
  });

  test("sessionCredentialFromConsole: the record's string, absent meaning false", () => {
    const console = putObject("b", "k", { sessionCredentialFromConsole: "true" });
    const program = putObject("b", "k");
    const fromConsole = data({ Field: "sessionCredentialFromConsole", Equals: ["true"] });
    assert.equal(keeps(fromConsole, console), true);
    assert.equal(keeps(fromConsole, program), false);
    assert.equal(keeps(data({ Field: "sessionCredentialFromConsole", NotEquals: ["true"] }), program), true);
  });

  test("network activity: eventSource, errorCode, vpcEndpointId", () => {
    const denied: CloudTrailRecord = {
      eventVersion: "1.09",
      eventSource: "kms.amazonaws.com",
      eventName: "Decrypt",
      eventType: "AwsVpceEvent",
      eventCategory: "NetworkActivity",
      errorCode: "VpceAccessDenied",
      vpcEndpointId: "vpce-0123",
      recipientAccountId: "111122223333",
      eventID: "n1",
    };
    const selector = (...more: object[]) => [
      {
        FieldSelectors: [
          { Field: "eventCategory", Equals: ["NetworkActivity"] },
          { Field: "eventSource", Equals: ["kms.amazonaws.com"] },
          ...more,
        ],
      },
    ];
    assert.equal(keeps(selector(), denied), true);
    assert.equal(keeps(selector({ Field: "errorCode", Equals: ["VpceAccessDenied"] }), denied), true);
    assert.equal(
      keeps(selector({ Field: "errorCode", Equals: ["VpceAccessDenied"] }), { ...denied, errorCode: null }),
      false,
    );
    assert.equal(keeps(selector({ Field: "vpcEndpointId", NotEquals: ["vpce-0123"] }), denied), false);
    assert.equal(keeps(selector({ Field: "vpcEndpointId", StartsWith: ["vpce-0"] }), denied), true);
    assert.equal(keeps(selector(), { ...denied, eventSource: "ec2.amazonaws.com" }), false);
  });

  test("management events without KMS", () => {
    const s = [
      {
        FieldSelectors: [
          { Field: "eventCategory", Equals: ["Management"] },
          { Field: "eventSource", NotEquals: ["kms.amazonaws.com"] },
        ],
      },
    ];
    const mgmt = real((r) => r.eventSource !== "kms.amazonaws.com");
    assert.equal(keeps(s, mgmt), true);
    assert.equal(keeps(s, { ...mgmt, eventSource: "kms.amazonaws.com" }), false);
    assert.equal(keeps(s, putObject("b", "k")), false);
  });
});

describe("records older than eventVersion 1.07 (no eventCategory)", () => {
  const old = (r: CloudTrailRecord, version: string): CloudTrailRecord => {
    const copy = { ...r, eventVersion: version };
    delete copy.eventCategory;
    return copy;
  };
  test("1.06 data events say managementEvent: false", () => {
    const r = old(putObject("b", "k"), "1.06");
    assert.equal(selectorCategory(r), "Data");
    assert.equal(keeps(data(), r), true);
  });
  test("1.05 data events are known by their S3 object; management events by default", () => {
    const r = old(putObject("b", "k"), "1.05");
    delete r.managementEvent;
    assert.equal(selectorCategory(r), "Data");
    const mgmt = old(
      real((x) => x.eventCategory === "Management"),
      "1.05",
    );
    delete mgmt.managementEvent;
    assert.equal(selectorCategory(mgmt), "Management");
    assert.equal(keeps([{ FieldSelectors: [{ Field: "eventCategory", Equals: ["Management"] }] }], mgmt), true);
  });
  test("insight and network-activity events by their eventType", () => {
    assert.equal(selectorCategory({ eventType: "AwsCloudTrailInsight" }), "Insight");
    assert.equal(selectorCategory({ eventType: "AwsVpceEvent" }), "NetworkActivity");
  });
});

describe("basic event selectors", () => {
  const mgmtWrite = real((r) => r.readOnly === false && r.eventSource !== "kms.amazonaws.com");
  const mgmtRead = real((r) => r.readOnly === true && r.eventSource !== "kms.amazonaws.com");
  test("defaults: every management event, no data event", () => {
    const s = { EventSelectors: [{}] };
    assert.equal(keeps(s, mgmtWrite), true);
    assert.equal(keeps(s, mgmtRead), true);
    assert.equal(keeps(s, putObject("b", "k")), false);
  });
  test("ReadWriteType", () => {
    assert.equal(keeps({ EventSelectors: [{ ReadWriteType: "WriteOnly" }] }, mgmtWrite), true);
    assert.equal(keeps({ EventSelectors: [{ ReadWriteType: "WriteOnly" }] }, mgmtRead), false);
    assert.equal(keeps({ EventSelectors: [{ ReadWriteType: "ReadOnly" }] }, mgmtRead), true);
  });
  test("IncludeManagementEvents false and ExcludeManagementEventSources", () => {
    assert.equal(keeps({ EventSelectors: [{ IncludeManagementEvents: false }] }, mgmtWrite), false);
    const noKms = { EventSelectors: [{ ExcludeManagementEventSources: ["kms.amazonaws.com"] }] };
    assert.equal(keeps(noKms, mgmtWrite), true);
    assert.equal(keeps(noKms, { ...mgmtWrite, eventSource: "kms.amazonaws.com" }), false);
  });
  test("S3 data resources are prefixes: all buckets, one bucket, a prefix", () => {
    const s3 = (Values: string[]) => ({
      EventSelectors: [{ IncludeManagementEvents: false, DataResources: [{ Type: "AWS::S3::Object", Values }] }],
    });
    assert.equal(keeps(s3(["arn:aws:s3"]), putObject("any", "k")), true);
    assert.equal(keeps(s3(["arn:aws:s3:::logs/"]), putObject("logs", "k")), true);
    assert.equal(keeps(s3(["arn:aws:s3:::logs/"]), putObject("logs2", "k")), false);
    assert.equal(keeps(s3(["arn:aws:s3:::logs/2026/"]), putObject("logs", "2026/k")), true);
    assert.equal(keeps(s3(["arn:aws:s3:::logs/2026/"]), putObject("logs", "2025/k")), false);
  });
  test("Lambda functions match whole ARNs (helloworld is not helloworld2); DynamoDB all tables", () => {
    const invoke = (name: string): CloudTrailRecord => ({
      eventSource: "lambda.amazonaws.com",
      eventName: "Invoke",
      eventCategory: "Data",
      managementEvent: false,
      readOnly: false,
      resources: [{ type: "AWS::Lambda::Function", ARN: `arn:aws:lambda:eu-west-1:111122223333:function:${name}` }],
      recipientAccountId: "111122223333",
      eventID: name,
    });
    const fn = {
      EventSelectors: [
        {
          DataResources: [
            { Type: "AWS::Lambda::Function", Values: ["arn:aws:lambda:eu-west-1:111122223333:function:helloworld"] },
          ],
        },
      ],
    };
    assert.equal(keeps(fn, invoke("helloworld")), true);
    assert.equal(keeps(fn, invoke("helloworld2")), false);
    const tables = {
      EventSelectors: [{ DataResources: [{ Type: "AWS::DynamoDB::Table", Values: ["arn:aws:dynamodb"] }] }],
    };
    const getItem: CloudTrailRecord = {
      eventSource: "dynamodb.amazonaws.com",
      eventCategory: "Data",
      resources: [{ type: "AWS::DynamoDB::Table", ARN: "arn:aws:dynamodb:eu-west-1:111122223333:table/t" }],
    };
    assert.equal(keeps(tables, getItem), true);
    assert.equal(keeps(tables, invoke("helloworld")), false);
  });
  test("network-activity and insight events match no basic selector", () => {
    assert.equal(keeps({ EventSelectors: [{}] }, { eventCategory: "NetworkActivity" }), false);
    assert.equal(keeps({ EventSelectors: [{}] }, { eventCategory: "Insight" }), false);
  });
});

describe("what a dropped record failed, per selector", () => {
  test("each selector names the condition that turned the record away", () => {
    const compiled = eventSelectors([
      { Name: "s3 writes", FieldSelectors: data({ Field: "readOnly", Equals: ["false"] })[0]?.FieldSelectors },
      { Name: "deletes", FieldSelectors: data({ Field: "eventName", StartsWith: ["Delete"] })[0]?.FieldSelectors },
      {
        FieldSelectors: [
          { Field: "eventCategory", Equals: ["NetworkActivity"] },
          { Field: "eventSource", Equals: ["ec2.amazonaws.com"] },
        ],
      },
    ]);
    assert.deepEqual(compiled.names, ["s3 writes", "deletes", "#3"]);
    const got: string[] = [];
    const verdict = compiled.match(putObject("b", "k", { readOnly: true, eventName: "GetObject" }), (s, c) =>
      got.push(`${compiled.names[s]}:${compiled.conditions[s]?.[c]}`),
    );
    assert.equal(verdict, -1);
    assert.deepEqual(got, ["s3 writes:readOnly", "deletes:eventName", "#3:eventCategory"]);
  });
  test("duplicate names get the selector's position", () => {
    const one = { Name: "x", FieldSelectors: [{ Field: "eventCategory", Equals: ["Management"] }] };
    assert.deepEqual(eventSelectors([one, one]).names, ["x", "x#2"]);
  });
});

describe("validation, as PutEventSelectors does it", () => {
  const problems = (value: unknown): readonly string[] => {
    try {
      parseEventSelectors(value);
    } catch (error) {
      assert.ok(error instanceof EventSelectorsError);
      assert.equal(error.name, "InvalidEventSelectorsException");
      return error.problems;
    }
    assert.fail("the selectors were accepted");
  };
  const has = (list: readonly string[], text: string) =>
    assert.ok(
      list.some((p) => p.includes(text)),
      `expected a problem with "${text}" in ${JSON.stringify(list)}`,
    );

  test("AWS's own example is accepted, as the request or as the bare list", () => {
    const example = {
      TrailName: "T",
      AdvancedEventSelectors: [
        {
          Name: "…",
          FieldSelectors: [
            { Field: "eventCategory", Equals: ["Data"] },
            { Field: "resources.type", Equals: ["AWS::S3::Object"] },
            { Field: "eventName", Equals: ["PutObject", "DeleteObject"] },
            { Field: "resources.ARN", NotEquals: ["arn:aws:s3:::sample_bucket_name/"] },
          ],
        },
      ],
    };
    assert.equal(parseEventSelectors(example).kind, "advanced");
    assert.equal(parseEventSelectors(example.AdvancedEventSelectors).kind, "advanced");
    assert.equal(parseEventSelectors([{ ReadWriteType: "All" }]).kind, "basic");
  });

  test("both kinds at once", () => {
    assert.throws(
      () => parseEventSelectors({ EventSelectors: [{}], AdvancedEventSelectors: [] }),
      (e: unknown) => e instanceof EventSelectorsError && e.name === "InvalidParameterCombinationException",
    );
  });

  test("every problem at once, each with where it is", () => {
    const list = problems({
      AdvancedEventSelectors: [
        {
          FieldSelectors: [
            { Field: "eventCategory", Equals: ["Management"] },
            { Field: "readOnly", StartsWith: ["t"] },
            { Field: "eventName", Equals: ["ConsoleLogin"] },
          ],
        },
        {
          FieldSelectors: [
            { Field: "eventCategory", Equals: ["Data"] },
            { Field: "nope", Equals: ["x"] },
          ],
        },
      ],
    });
    has(list, "AdvancedEventSelectors[0].FieldSelectors[1]: readOnly takes only Equals");
    has(list, "AdvancedEventSelectors[0]: Management events cannot be selected by eventName");
    has(list, "AdvancedEventSelectors[1].FieldSelectors[1]: nope is not a field");
    has(list, "AdvancedEventSelectors[1]: Data events need resources.type Equals");
  });

  test("field and operator rules", () => {
    has(problems(data({ Field: "readOnly", Equals: ["yes"] })), 'readOnly takes "true" or "false"');
    has(problems(data({ Field: "resources.ARN", Equals: ["sample_bucket"] })), "resources.ARN takes a whole ARN");
    has(problems(data({ Field: "eventName", Equals: [] })), "at least 1 value");
    has(problems(data({ Field: "eventName", Equals: ["x".repeat(2049)] })), "1 to 2048 characters");
    has(problems(data({ Field: "eventName" })), "needs an operator");
    has(problems(data({ Field: "eventName", Equal: ["x"] })), "unknown operator Equal");
    has(problems(data({ Field: "eventName", Equals: ["a"] }, { Field: "eventName", Equals: ["b"] })), "appears twice");
    has(problems(data({ Field: "sessionCredentialFromConsole", StartsWith: ["t"] })), "takes only Equals or NotEquals");
    has(problems([{ FieldSelectors: [{ Field: "eventName", Equals: ["x"] }] }]), "eventCategory Equals is required");
    has(problems([{ FieldSelectors: [{ Field: "eventCategory", Equals: ["Insight"] }] }]), "for event data stores");
    has(
      problems([{ FieldSelectors: [{ Field: "eventCategory", Equals: ["Data", "Management"] }] }]),
      "takes one category",
    );
    has(
      problems([
        {
          FieldSelectors: [
            { Field: "eventCategory", Equals: ["Management"] },
            { Field: "eventSource", NotEquals: ["s3.amazonaws.com"] },
          ],
        },
      ]),
      "only NotEquals kms.amazonaws.com or rdsdata.amazonaws.com",
    );
    has(
      problems([
        {
          FieldSelectors: [
            { Field: "eventCategory", Equals: ["NetworkActivity"] },
            { Field: "eventSource", StartsWith: ["ec2"] },
          ],
        },
      ]),
      "need eventSource Equals with one event source",
    );
    has(
      problems([
        {
          FieldSelectors: [
            { Field: "eventCategory", Equals: ["NetworkActivity"] },
            { Field: "eventSource", Equals: ["kms.amazonaws.com"] },
            { Field: "errorCode", Equals: ["AccessDenied"] },
          ],
        },
      ]),
      'errorCode takes only "VpceAccessDenied"',
    );
  });

  test("limits: 500 values in all, 5 basic selectors, 250 data resources", () => {
    const names = Array.from({ length: 250 }, (_, i) => `Op${i}`);
    has(
      problems([...data({ Field: "eventName", Equals: names }), ...data({ Field: "eventName", Equals: names })]),
      "at most 500",
    );
    assert.doesNotThrow(() => parseEventSelectors(data({ Field: "eventName", Equals: names.slice(0, 240) })));
    has(problems({ EventSelectors: Array.from({ length: 6 }, () => ({})) }), "at most 5");
    const values = Array.from({ length: 251 }, (_, i) => `arn:aws:s3:::b${i}/`);
    has(
      problems({ EventSelectors: [{ DataResources: [{ Type: "AWS::S3::Object", Values: values }] }] }),
      "at most 250",
    );
  });

  test("basic selector rules", () => {
    has(problems({ EventSelectors: [{ ReadWriteType: "Read" }] }), "ReadWriteType must be one of");
    has(
      problems({ EventSelectors: [{ IncludeManagementEvents: "yes" }] }),
      "IncludeManagementEvents must be true or false",
    );
    has(problems({ EventSelectors: [{ ExcludeManagementEventSources: ["s3.amazonaws.com"] }] }), "cannot be excluded");
    has(
      problems({ EventSelectors: [{ DataResources: [{ Type: "AWS::S3::Bucket", Values: [] }] }] }),
      "Type must be one of",
    );
    has(
      problems({ EventSelectors: [{ DataResources: [{ Type: "AWS::S3::Object", Values: ["arn:aws:lambda"] }] }] }),
      "not an ARN or ARN prefix of AWS::S3::Object",
    );
    has(problems({ TrailName: "t" }), "EventSelectors or AdvancedEventSelectors is required");
    has(problems({ EventSelectors: [{}], Trail: "t" }), "unknown parameter Trail");
    has(problems("[]"), "JSON object or a JSON array");
  });
});

describe("EVENT_SELECTORS and scan --selectors: inline JSON or a file", () => {
  const json = JSON.stringify(data({ Field: "eventName", Equals: ["PutObject"] }));
  test("inline JSON is read as is, a path through the reader", () => {
    const unread = () => assert.fail("an inline value is not a path");
    assert.equal(eventSelectorsFromSetting(` ${json}`, unread).kind, "advanced");
    const paths: string[] = [];
    const fromFile = eventSelectorsFromSetting("/etc/selectors.json", (p) => {
      paths.push(p);
      return json;
    });
    assert.deepEqual(paths, ["/etc/selectors.json"]);
    assert.equal(fromFile.match(putObject("b", "k")), 0);
  });
  test("an unreadable file or bad JSON is an InvalidEventSelectorsException saying which", () => {
    assert.throws(
      () =>
        eventSelectorsFromSetting("missing.json", () => {
          throw new Error("ENOENT");
        }),
      /InvalidEventSelectorsException: cannot read the selectors file missing.json: ENOENT/,
    );
    assert.throws(() => eventSelectorsFromSetting("[{", assert.fail), /the inline selectors is not JSON/);
    assert.throws(() => eventSelectorsFromSetting("f.json", () => "nope"), /the selectors file f.json is not JSON/);
  });
});
