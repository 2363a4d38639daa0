// CloudTrail's public keys from ListPublicKeys, over the network with the AWS SDK, against a stub
// endpoint of the test's own (moto has no ListPublicKeys): the ingester's key source fetches with
// the digest's window and pages, keeps keys by fingerprint, fetches again for a fingerprint it does
// not know (key rotation), and turns an endpoint that refuses, is gone or never answers into a clear
// error; then the whole ingester on moto, Kafka and Redis, with the stub as its CloudTrail endpoint.
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";
import { createServer } from "node:net";
import { env } from "node:process";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import {
  type DigestPlace,
  digestKeyFor,
  fingerprintOf,
  type Verdict,
  type WrittenDigest,
  writeDigest,
} from "@trailstream/cloudtrail";
import { type Ingester, loadSettings, start as startIngester } from "@trailstream/ingester";
import { createKafka, ensureTopics } from "@trailstream/kafka";
import { createLogger } from "@trailstream/runtime";
import { cloudTrailClients, ListPublicKeysSource } from "../../services/ingester/src/integrity/public-keys.ts";
import { awsClients } from "../support/aws.ts";
import { freshRecords, ingesterEnv, type Json, stratusRecords } from "../support/ingester.ts";
import {
  LIST_PUBLIC_KEYS_TARGET,
  type ListPublicKeysStub,
  type StubKey,
  startListPublicKeysStub,
} from "../support/list-public-keys-stub.ts";
import { endpoints, requireReachable, uniqueName } from "../support/servers.ts";
import { TopicReader } from "../support/topic-reader.ts";
import { eventually } from "../support/wait.ts";

const HOUR = 3_600_000;
const DAY = 86_400_000;

env.AWS_ACCESS_KEY_ID ??= "test";
env.AWS_SECRET_ACCESS_KEY ??= "test";

interface Pair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  fingerprint: string;
}

function pair(): Pair {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKey, publicKey, fingerprint: fingerprintOf(publicKey.export({ format: "der", type: "pkcs1" })) };
}

const listed = (p: Pair, now = Date.now()): StubKey => ({
  key: p.publicKey,
  validFrom: new Date(now - 30 * DAY),
  validTo: new Date(now + DAY),
});

/** ListPublicKeys calls (first pages); later pages carry a NextToken. */
const calls = (stub: ListPublicKeysStub) => stub.requests.filter((r) => r.body.NextToken === undefined).length;

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("ListPublicKeysSource against a CloudTrail endpoint", () => {
  const a = pair();
  const b = pair();
  const rotated = pair();
  const digestEnd = Date.parse("2026-12-06T05:04:31Z");
  let stub: ListPublicKeysStub;
  before(async () => {
    stub = await startListPublicKeysStub([listed(a, digestEnd), listed(b, digestEnd)]);
  });
  after(async () => {
    await stub?.close();
  });

  test("one signed call per page with the digest's window; every key it returned is then known by fingerprint", async () => {
    const source = new ListPublicKeysSource(cloudTrailClients(stub.url));
    try {
      const found = await source.find(a.fingerprint, "us-east-1", digestEnd);
      assert.ok(found, "the key is found");
      assert.equal(found.fingerprint, a.fingerprint);
      assert.ok(found.key.equals(a.publicKey), "the very key, decoded from the wire");
      // Two keys, one per page: the SDK's NextToken is followed.
      assert.equal(stub.requests.length, 2);
      assert.deepEqual(
        stub.requests.map((r) => r.body.NextToken),
        [undefined, "1"],
      );
      for (const r of stub.requests) {
        assert.equal(r.target, LIST_PUBLIC_KEYS_TARGET);
        assert.match(r.authorization, /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/us-east-1\/cloudtrail\/aws4_request/);
        // From the hour before the digest's hour to two hours past it, as validate-logs asks.
        assert.equal(r.body.StartTime, Date.parse("2026-12-06T04:00:00Z") / 1000);
        assert.equal(r.body.EndTime, Date.parse("2026-12-06T07:00:00Z") / 1000);
      }
      // Both keys are kept: asking again for either calls nothing.
      assert.equal((await source.find(a.fingerprint, "us-east-1", digestEnd))?.fingerprint, a.fingerprint);
      assert.equal((await source.find(b.fingerprint, "us-east-1", digestEnd + HOUR))?.fingerprint, b.fingerprint);
      assert.equal(stub.requests.length, 2);
    } finally {
      source.close();
      stub.requests.length = 0;
    }
  });

  test("key rotation: a fingerprint not known yet fetches again and finds the new key; known ones do not fetch", async () => {
    const source = new ListPublicKeysSource(cloudTrailClients(stub.url));
    try {
      assert.ok(await source.find(a.fingerprint, "us-east-1", digestEnd));
      assert.equal(calls(stub), 1);
      stub.keys.push(listed(rotated, digestEnd));
      const next = await source.find(rotated.fingerprint, "us-east-1", digestEnd + HOUR);
      assert.equal(next?.fingerprint, rotated.fingerprint, "the rotated key, fetched again");
      assert.equal(calls(stub), 2);
      assert.ok(await source.find(a.fingerprint, "us-east-1", digestEnd + HOUR));
      assert.equal(calls(stub), 2, "the old key is still known");

      // A fingerprint the Region does not list: undefined (the digest's verdict is unknown-key).
      // Ten digests asking at once share one call.
      const unknown = pair().fingerprint;
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => source.find(unknown, "us-east-1", digestEnd + HOUR)),
      );
      assert.deepEqual(answers, Array(10).fill(undefined));
      assert.equal(calls(stub), 3);

      // A key valid only from 90 minutes past the digest's end (a rotation near its end) is in the
      // window asked for; one valid only from three hours past it is not.
      const soon = pair();
      const later = pair();
      stub.keys.push(
        { key: soon.publicKey, validFrom: new Date(digestEnd + 90 * 60_000), validTo: new Date(digestEnd + 30 * DAY) },
        { key: later.publicKey, validFrom: new Date(digestEnd + 3 * HOUR), validTo: new Date(digestEnd + 30 * DAY) },
      );
      assert.equal((await source.find(soon.fingerprint, "us-east-1", digestEnd))?.fingerprint, soon.fingerprint);
      assert.equal(await source.find(later.fingerprint, "us-east-1", digestEnd), undefined);
      stub.keys.splice(-2);

      // Another Region: its own client, signed for that Region.
      assert.equal(await source.find(unknown, "eu-west-1", digestEnd), undefined);
      assert.match(stub.requests.at(-1)?.authorization ?? "", /\/eu-west-1\/cloudtrail\/aws4_request/);
    } finally {
      source.close();
      stub.keys.pop();
      stub.requests.length = 0;
    }
  });

  test("an endpoint that refuses, is not there or never answers: a clear error naming ListPublicKeys, then recovery", {
    timeout: 120_000,
  }, async () => {
    const source = new ListPublicKeysSource(cloudTrailClients(stub.url, { requestMs: 300 }));
    try {
      stub.mode = "denied";
      await assert.rejects(
        source.find(a.fingerprint, "us-east-1", digestEnd),
        /ListPublicKeys in us-east-1 failed: AccessDeniedException: User is not authorized to perform: cloudtrail:ListPublicKeys/,
      );
      stub.mode = "hang";
      await assert.rejects(source.find(a.fingerprint, "us-east-1", digestEnd), (error: Error) => {
        assert.match(error.message, /^ListPublicKeys in us-east-1 failed: /);
        assert.match(error.message, /timeout|timed out/i);
        return true;
      });
      // The failed fetch is forgotten: the next digest asks again and is answered.
      stub.mode = "ok";
      assert.equal((await source.find(a.fingerprint, "us-east-1", digestEnd))?.fingerprint, a.fingerprint);
    } finally {
      source.close();
      stub.mode = "ok";
    }
    const gone = new ListPublicKeysSource(cloudTrailClients(`http://127.0.0.1:${await closedPort()}`));
    try {
      await assert.rejects(
        gone.find(a.fingerprint, "us-east-1", digestEnd),
        /^Error: ListPublicKeys in us-east-1 failed: .*ECONNREFUSED/,
      );
    } finally {
      gone.close();
    }
  });
});

test("the ingester with ListPublicKeys: fetched, rotated, an unlisted key is unknown-key, and an unreachable endpoint dead-letters the digest while the stream goes on", {
  timeout: 300_000,
}, async () => {
  const e = await endpoints();
  await requireReachable("Kafka", e.kafkaBrokers[0] ?? "", "KAFKA_BROKERS");
  await requireReachable("Redis", e.redisUrl, "REDIS_URL");
  await requireReachable("moto (AWS emulator)", e.awsEndpoint, "AWS_ENDPOINT_URL");
  const aws = awsClients(e);
  const kafka = createKafka({ brokers: e.kafkaBrokers, clientId: "integrity-keys-test" });

  const bucket = uniqueName("integrity-keys");
  const trail = uniqueName("trail");
  const account = "555566667777";
  const place: DigestPlace = { prefix: "", account, region: "us-east-1", trail, homeRegion: "us-east-1" };
  const now = Date.now();
  // Hour 0 signed with k1; k2 replaces it (rotation) for hour 1; hour 2 with a key the Region does
  // not list; hour 3 with k1 again (known: no call); hour 4 with a new key while the endpoint is gone.
  const k1 = pair();
  const k2 = pair();
  const unlisted = pair();
  const k4 = pair();
  const signers = [k1, k2, unlisted, k1, k4];
  const templates = await stratusRecords();
  const hours: { log: { key: string; body: Buffer }; digest: WrittenDigest }[] = [];
  let previous: WrittenDigest | null = null;
  const first = now - signers.length * HOUR - 2 * 60_000;
  for (const [h, signer] of signers.entries()) {
    const start = first + h * HOUR;
    const at = new Date(start + 20 * 60_000);
    const stamp = at.toISOString().slice(0, 16).replace(/[-:]/g, "");
    const day = at.toISOString().slice(0, 10).replace(/-/g, "/");
    const json = JSON.stringify({
      Records: freshRecords(templates, 3).map((r) => ({ ...r, recipientAccountId: account })),
    });
    const key = `AWSLogs/${account}/CloudTrail/us-east-1/${day}/${account}_CloudTrail_us-east-1_${stamp}Z_k${h}.json.gz`;
    const digest = writeDigest({
      bucket,
      key: digestKeyFor(place, new Date(start + HOUR)),
      account,
      start: new Date(start),
      end: new Date(start + HOUR),
      previous: previous ? { bucket, key: previous.key, sha256: previous.sha256, signature: previous.signature } : null,
      logFiles: [
        {
          s3Bucket: bucket,
          s3Object: key,
          hashValue: createHash("sha256").update(json).digest("hex"),
          hashAlgorithm: "SHA-256",
        },
      ],
      fingerprint: signer.fingerprint,
      privateKey: signer.privateKey,
    });
    hours.push({ log: { key, body: gzipSync(json) }, digest });
    previous = digest;
  }

  const stub = await startListPublicKeysStub([listed(k1, now)]);
  const queue = await aws.sqs.send(new CreateQueueCommand({ QueueName: uniqueName("integrity-keys") }));
  const queueUrl = queue.QueueUrl ?? "";
  const attrs = await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
  await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await aws.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [{ QueueArn: attrs.Attributes?.QueueArn, Events: ["s3:ObjectCreated:*"] }],
      },
    }),
  );
  const topics = { raw: uniqueName("raw"), dlq: uniqueName("dlq"), integrity: uniqueName("integrity") };
  await ensureTopics(kafka, [
    { topic: topics.raw, partitions: 1 },
    { topic: topics.dlq, partitions: 1 },
    { topic: topics.integrity, partitions: 1 },
  ]);
  const readers = await Promise.all([topics.integrity, topics.dlq, topics.raw].map((t) => TopicReader.open(kafka, t)));
  const [verdictReader, dlqReader, rawReader] = readers as [TopicReader, TopicReader, TopicReader];
  const verdicts = () => verdictReader.values as Verdict[];
  const digestVerdict = (h: number) => verdicts().find((v) => v.subject === "digest" && v.key === hours[h]?.digest.key);

  let ingester: Ingester | undefined;
  try {
    const settings = loadSettings(
      ingesterEnv(e, {
        TOPIC_RAW: topics.raw,
        TOPIC_DLQ: topics.dlq,
        TOPIC_INTEGRITY: topics.integrity,
        SQS_QUEUE_URLS: queueUrl,
        SQS_MAX_RECEIVES: "2",
        INTEGRITY: "true",
        AWS_ENDPOINT_URL_CLOUDTRAIL: stub.url,
        INTEGRITY_MISSING_GRACE: "20s",
        INTEGRITY_TICK: "1s",
        LOG_LEVEL: "fatal",
      }),
    );
    ingester = await startIngester(settings, { log: createLogger("ingester", "fatal") });
    const deliver = async (h: number) => {
      const hour = hours[h];
      assert.ok(hour);
      await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: hour.log.key, Body: hour.log.body }));
      await aws.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: hour.digest.key,
          Body: hour.digest.body,
          Metadata: { signature: hour.digest.signature, "signature-algorithm": "SHA256withRSA" },
        }),
      );
    };

    await deliver(0);
    await eventually(async () => assert.equal(digestVerdict(0)?.kind, "valid"), 60_000, 250);
    assert.equal(calls(stub), 1, "k1 fetched once");

    stub.keys.push(listed(k2, now));
    await deliver(1);
    await eventually(async () => assert.equal(digestVerdict(1)?.kind, "valid"), 60_000, 250);
    assert.equal(calls(stub), 2, "k2 fetched: a fingerprint not known yet");

    await deliver(2);
    await eventually(async () => assert.equal(digestVerdict(2)?.kind, "unknown-key"), 60_000, 250);
    assert.equal(calls(stub), 3);
    assert.match(digestVerdict(2)?.message ?? "", new RegExp(unlisted.fingerprint));

    await stub.close();
    await deliver(3);
    await eventually(async () => assert.equal(digestVerdict(3)?.kind, "valid"), 60_000, 250);

    await deliver(4);
    const deadLetter = await eventually(
      async () => {
        const found = (dlqReader.values as Json[]).find((d) => d.key === hours[4]?.digest.key);
        assert.ok(found, "the digest whose key cannot be fetched is dead-lettered");
        return found;
      },
      120_000,
      500,
    );
    assert.equal(deadLetter.reason, "processing-failed");
    assert.match(String(deadLetter.message), /ListPublicKeys in us-east-1 failed: .*ECONNREFUSED/);
    // The stream went on: hour 4's log file reached the raw topic, and the ingester still runs.
    const hour4 = hours[4]?.log.key;
    await eventually(
      async () =>
        assert.equal(
          (rawReader.values as { origin?: { key?: string } }[]).filter((r) => r.origin?.key === hour4).length,
          3,
        ),
      60_000,
      250,
    );
    await eventually(async () => assert.equal(verdicts().filter((v) => v.subject === "log-file").length, 3), 30_000);
    assert.deepEqual(
      verdicts()
        .filter((v) => v.kind !== "valid")
        .map((v) => [v.kind, v.key]),
      [["unknown-key", hours[2]?.digest.key]],
    );
  } finally {
    await ingester?.stop();
    await stub.close();
    await Promise.all(readers.map((r) => r.close()));
  }
});
