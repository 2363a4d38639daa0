// Log file integrity on the real servers: a signed digest chain over several hours of generated
// log files in moto's S3 (digests carry their signature as object metadata), notified on SQS,
// judged by the ingester with its chain state in Redis, verdicts on the integrity topic and alerts
// in Alertmanager through the alerter. A log file deleted, another edited and a digest deleted each
// give exactly one alert of their kind, across an ingester restart in the middle.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import {
  type DigestPlace,
  digestKeyFor,
  fingerprintOf,
  publicKeyListEntry,
  type Verdict,
  type WrittenDigest,
  writeDigest,
} from "@trailstream/cloudtrail";
import { type Ingester, loadSettings, start as startIngester } from "@trailstream/ingester";
import { createKafka, ensureTopics } from "@trailstream/kafka";
import { createLogger } from "@trailstream/runtime";
import { type AlerterProcess, alertmanagerAlerts, alertmanagerUrl, spawnAlerter } from "../support/alerter.ts";
import { awsClients } from "../support/aws.ts";
import { freshRecords, ingesterEnv, type Json, ROOT, stratusRecords } from "../support/ingester.ts";
import { type Endpoints, endpoints, requireReachable, uniqueName } from "../support/servers.ts";
import { TopicReader } from "../support/topic-reader.ts";
import { eventually } from "../support/wait.ts";

const HOUR = 3_600_000;
const RULE = "trailstream-log-file-integrity";

let e: Endpoints;
let aws: ReturnType<typeof awsClients>;
let kafka: ReturnType<typeof createKafka>;
let amUrl: string;
let alerter: AlerterProcess | undefined;
let ingester: Ingester | undefined;
const readers: TopicReader[] = [];

before(async () => {
  e = await endpoints();
  await requireReachable("Kafka", e.kafkaBrokers[0] ?? "", "KAFKA_BROKERS");
  await requireReachable("Redis", e.redisUrl, "REDIS_URL");
  await requireReachable("moto (AWS emulator)", e.awsEndpoint, "AWS_ENDPOINT_URL");
  amUrl = await alertmanagerUrl();
  aws = awsClients(e);
  kafka = createKafka({ brokers: e.kafkaBrokers, clientId: "integrity-test" });
});

after(async () => {
  await ingester?.stop();
  await alerter?.stop();
  await Promise.all(readers.map((r) => r.close()));
});

interface Hour {
  logs: { key: string; body: Buffer }[];
  digest: WrittenDigest;
}

test("a signed chain over hours: every file valid; a deleted and an edited log file and a deleted digest are one alert each, across a restart", async () => {
  const bucket = uniqueName("integrity");
  const trail = uniqueName("trail");
  const account = "444455556666";
  const place: DigestPlace = { prefix: "", account, region: "us-east-1", trail, homeRegion: "us-east-1" };
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const fingerprint = fingerprintOf(publicKey.export({ format: "der", type: "pkcs1" }));
  const keysDir = await mkdtemp(join(tmpdir(), "integrity-keys-"));
  const keysFile = join(keysDir, "public-keys.json");
  const now = Date.now();
  await writeFile(
    keysFile,
    JSON.stringify({
      PublicKeyList: [publicKeyListEntry(publicKey, new Date(now - 30 * 86_400_000), new Date(now + 86_400_000))],
    }),
  );

  // Four hourly digests ending two minutes ago, three log files each, as CloudTrail writes them.
  const templates = await stratusRecords();
  const hours: Hour[] = [];
  let previous: WrittenDigest | null = null;
  const first = now - 4 * HOUR - 2 * 60_000;
  for (let h = 0; h < 4; h++) {
    const start = first + h * HOUR;
    const logs = [10, 25, 40].map((minute, i) => {
      const at = new Date(start + minute * 60_000);
      const stamp = at.toISOString().slice(0, 16).replace(/[-:]/g, "");
      const day = at.toISOString().slice(0, 10).replace(/-/g, "/");
      const records = freshRecords(templates, 5).map((r) => ({ ...r, recipientAccountId: account }));
      return {
        key: `AWSLogs/${account}/CloudTrail/us-east-1/${day}/${account}_CloudTrail_us-east-1_${stamp}Z_h${h}f${i}.json.gz`,
        json: JSON.stringify({ Records: records }),
      };
    });
    const digest = writeDigest({
      bucket,
      key: digestKeyFor(place, new Date(start + HOUR)),
      account,
      start: new Date(start),
      end: new Date(start + HOUR),
      previous: previous ? { bucket, key: previous.key, sha256: previous.sha256, signature: previous.signature } : null,
      logFiles: logs.map((l) => ({
        s3Bucket: bucket,
        s3Object: l.key,
        hashValue: createHash("sha256").update(l.json).digest("hex"),
        hashAlgorithm: "SHA-256",
      })),
      fingerprint,
      privateKey,
    });
    hours.push({ logs: logs.map((l) => ({ key: l.key, body: gzipSync(l.json) })), digest });
    previous = digest;
  }
  // The intruder's work: one log file deleted, one edited (an event taken out), one digest deleted.
  const deletedLog = hours[1]?.logs[0];
  const editedLog = hours[3]?.logs[1];
  const deletedDigest = hours[2]?.digest;
  assert.ok(deletedLog && editedLog && deletedDigest);
  const edited = JSON.parse(gunzipSync(editedLog.body).toString("utf8")) as { Records: Json[] };
  editedLog.body = gzipSync(JSON.stringify({ Records: edited.Records.slice(1) }));

  const queue = await aws.sqs.send(new CreateQueueCommand({ QueueName: uniqueName("integrity-notices") }));
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
  const events = uniqueName("events");
  const alerts = uniqueName("alerts");
  await ensureTopics(kafka, [
    { topic: topics.raw, partitions: 3 },
    { topic: topics.dlq, partitions: 1 },
    { topic: topics.integrity, partitions: 3 },
    { topic: events, partitions: 1 },
    { topic: alerts, partitions: 1 },
  ]);
  const verdictReader = await TopicReader.open(kafka, topics.integrity);
  const alertReader = await TopicReader.open(kafka, alerts);
  readers.push(verdictReader, alertReader);
  const verdicts = () => verdictReader.values as Verdict[];

  alerter = await spawnAlerter({
    KAFKA_BROKERS: e.kafkaBrokers.join(","),
    REDIS_URL: e.redisUrl,
    TOPIC_EVENTS: events,
    TOPIC_ALERTS: alerts,
    TOPIC_DLQ: topics.dlq,
    TOPIC_INTEGRITY: topics.integrity,
    ALERTER_GROUP_ID: uniqueName("integrity-alerter"),
    ALERTER_KEY_PREFIX: `${uniqueName("integrity-alerter")}:`,
    ALERTMANAGER_URL: amUrl,
  });
  await alerter.ready();

  const env = ingesterEnv(e, {
    TOPIC_RAW: topics.raw,
    TOPIC_DLQ: topics.dlq,
    TOPIC_INTEGRITY: topics.integrity,
    SQS_QUEUE_URLS: queueUrl,
    INTEGRITY: "true",
    INTEGRITY_PUBLIC_KEYS_FILE: keysFile,
    INTEGRITY_MISSING_GRACE: "20s",
    INTEGRITY_TICK: "1s",
    LOG_LEVEL: "error",
  });
  const put = async (key: string, body: Buffer, metadata?: Record<string, string>) =>
    aws.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...(metadata ? { Metadata: metadata } : {}) }),
    );
  const deliver = async (hour: Hour) => {
    for (const log of hour.logs) if (log !== deletedLog) await put(log.key, log.body);
    if (hour.digest !== deletedDigest) {
      await put(hour.digest.key, hour.digest.body, {
        signature: hour.digest.signature,
        "signature-algorithm": "SHA256withRSA",
      });
    }
  };

  // Hours 0 and 1, then a restart, then hours 2 and 3: the chain state is in Redis.
  ingester = await startIngester(loadSettings(env), { log: createLogger("ingester", "error") });
  await deliver(hours[0] as Hour);
  await deliver(hours[1] as Hour);
  await eventually(async () => assert.equal(verdicts().filter((v) => v.subject === "digest").length, 2), 60_000, 250);
  await ingester?.stop();
  ingester = await startIngester(loadSettings(env), { log: createLogger("ingester", "error") });
  await deliver(hours[2] as Hour);
  await deliver(hours[3] as Hour);

  const problems = () => verdicts().filter((v) => v.kind !== "valid");
  await eventually(async () => assert.equal(problems().length, 3, JSON.stringify(problems(), null, 1)), 90_000, 500);
  const byKind = Object.fromEntries(problems().map((v) => [v.kind, v.key]));
  assert.deepEqual(byKind, {
    "missing-log-file": deletedLog.key,
    "hash-mismatch": editedLog.key,
    "digest-missing": deletedDigest.key,
  });
  // Every other log file and digest is valid: hours 0, 1 and 3 list nine files, one deleted, one edited.
  const valid = verdicts().filter((v) => v.kind === "valid");
  assert.equal(valid.filter((v) => v.subject === "log-file").length, 7);
  assert.equal(valid.filter((v) => v.subject === "digest").length, 3);
  assert.equal(new Set(verdicts().map((v) => v.id)).size, verdicts().length, "no verdict twice");

  // One alert of each kind in Alertmanager, for this trail.
  await eventually(
    async () => {
      const mine = (await alertmanagerAlerts(amUrl, RULE)).filter((a) => a.labels.trail === trail);
      assert.deepEqual(mine.map((a) => a.labels.integrity_kind).sort(), [
        "digest-missing",
        "hash-mismatch",
        "missing-log-file",
      ]);
    },
    60_000,
    500,
  );
  // And on the alerts topic: one alert document per problem, nothing for the valid files.
  const integrityAlerts = () =>
    (alertReader.values as { ruleId?: string; labels?: Record<string, string> }[]).filter(
      (a) => a.ruleId === RULE && a.labels?.trail === trail,
    );
  await eventually(async () => assert.equal(integrityAlerts().length, 3), 30_000, 250);
  // Time passes (a few ticks): nothing more is said.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  assert.equal(problems().length, 3);
  assert.deepEqual(
    integrityAlerts()
      .map((a) => a.labels?.integrity_kind)
      .sort(),
    ["digest-missing", "hash-mismatch", "missing-log-file"],
  );
  const metrics = await (ingester as Ingester).metrics.registry.getSingleMetricAsString(
    "trailstream_ingester_integrity_verdicts_total",
  );
  assert.match(metrics, new RegExp(`kind="hash-mismatch",trail="${trail}"`));
  // The series the digests-stopped alert reads exists at 0 from the chain's first verdict on.
  assert.match(metrics, new RegExp(`\\{kind="digests-stopped",trail="${trail}",region="us-east-1"[^}]*\\} 0$`, "m"));
  const unverified = await (ingester as Ingester).metrics.registry.getSingleMetricAsString(
    "trailstream_ingester_integrity_unverified_files",
  );
  assert.match(
    unverified,
    /trailstream_ingester_integrity_unverified_files(\{[^}]*\})? 0$/m,
    "nothing past its window",
  );

  // `scan --validate` on a local copy of the same bucket (as `aws s3 sync` and head-object would
  // leave it) gives the same problems, each of the same kind on the same object.
  const copy = await mkdtemp(join(tmpdir(), "integrity-copy-"));
  try {
    const write = async (key: string, body: Buffer | string) => {
      await mkdir(dirname(join(copy, bucket, key)), { recursive: true });
      await writeFile(join(copy, bucket, key), body);
    };
    for (const hour of hours) {
      for (const log of hour.logs) if (log !== deletedLog) await write(log.key, log.body);
      if (hour.digest !== deletedDigest) {
        await write(hour.digest.key, hour.digest.body);
        await write(
          `${hour.digest.key}.metadata`,
          JSON.stringify({ signature: hour.digest.signature, "signature-algorithm": "SHA256withRSA" }),
        );
      }
    }
    await writeFile(join(copy, "public-keys.json"), await readFile(keysFile));
    const scan = spawnSync(
      process.execPath,
      [join(ROOT, "services/cli/src/main.ts"), "scan", "--validate", "--no-rules", "--no-progress", "--json", copy],
      { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
    );
    assert.equal(scan.status, 4, scan.stderr);
    const scanned = (JSON.parse(scan.stdout) as { integrity: { problems: Verdict[]; logFilesValid: number } })
      .integrity;
    const pairs = (vs: Verdict[]) => vs.map((v) => `${v.kind} ${v.bucket}/${v.key}`).sort();
    assert.deepEqual(pairs(scanned.problems), pairs(problems()));
    assert.equal(scanned.logFilesValid, 7);
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
});

test("bad digests: not gzip, not JSON, missing fields, a bomb, an absurd size, a bad name; each a dead letter with its reason (and a verdict when it names a chain), and the stream goes on", {
  timeout: 300_000,
}, async () => {
  const bucket = uniqueName("integrity-bad");
  const account = "777788889999";
  const trail = uniqueName("trail");
  const place: DigestPlace = { prefix: "", account, region: "us-east-1", trail, homeRegion: "us-east-1" };
  const at = (minutesAgo: number) => digestKeyFor(place, new Date(Date.now() - minutesAgo * 60_000));
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, "/");
  const bad: { name: string; key: string; body: Buffer; reason: string; verdict: boolean }[] = [
    { name: "not gzip", key: at(50), body: Buffer.from('{"awsAccountId":"1"}'), reason: "digest-gzip", verdict: true },
    { name: "not JSON", key: at(40), body: gzipSync("not json at all"), reason: "digest-json", verdict: true },
    {
      name: "missing fields",
      key: at(30),
      body: gzipSync(JSON.stringify({ awsAccountId: account })),
      reason: "digest-field",
      verdict: true,
    },
    {
      name: "a bomb",
      key: at(20),
      body: gzipSync(Buffer.alloc(80 * 1024 * 1024, 0x20)),
      reason: "digest-too-large",
      verdict: true,
    },
    {
      name: "an absurd size",
      key: at(10),
      body: Buffer.alloc(17 * 1024 * 1024, 0x1f),
      reason: "digest-too-large",
      verdict: false,
    },
    {
      name: "a bad name",
      key: `AWSLogs/${account}/CloudTrail-Digest/us-east-1/${day}/not-a-digest-name.json.gz`,
      body: gzipSync("{}"),
      reason: "digest-shape",
      verdict: false,
    },
  ];
  const queue = await aws.sqs.send(new CreateQueueCommand({ QueueName: uniqueName("integrity-bad") }));
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
  const [verdictReader, dlqReader, rawReader] = await Promise.all(
    [topics.integrity, topics.dlq, topics.raw].map((t) => TopicReader.open(kafka, t)),
  );
  assert.ok(verdictReader && dlqReader && rawReader);
  readers.push(verdictReader, dlqReader, rawReader);
  const keysDir = await mkdtemp(join(tmpdir(), "integrity-keys-"));
  const keysFile = join(keysDir, "public-keys.json");
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  await writeFile(
    keysFile,
    JSON.stringify({ PublicKeyList: [publicKeyListEntry(publicKey, new Date(0), new Date(Date.now() + 86_400_000))] }),
  );
  const env = ingesterEnv(e, {
    TOPIC_RAW: topics.raw,
    TOPIC_DLQ: topics.dlq,
    TOPIC_INTEGRITY: topics.integrity,
    SQS_QUEUE_URLS: queueUrl,
    INTEGRITY: "true",
    INTEGRITY_PUBLIC_KEYS_FILE: keysFile,
    INTEGRITY_TICK: "1s",
    LOG_LEVEL: "fatal",
  });
  const own = await startIngester(loadSettings(env), { log: createLogger("ingester", "fatal") });
  try {
    for (const b of bad) await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: b.key, Body: b.body }));
    // A log file after them: its events flow.
    const records = freshRecords(await stratusRecords(), 4).map((r) => ({ ...r, recipientAccountId: account }));
    const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, "");
    const logKey = `AWSLogs/${account}/CloudTrail/us-east-1/${day}/${account}_CloudTrail_us-east-1_${stamp}Z_after.json.gz`;
    await aws.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: logKey, Body: gzipSync(JSON.stringify({ Records: records })) }),
    );

    const letters = () => dlqReader.values as Json[];
    await eventually(
      async () => {
        for (const b of bad) {
          const letter = letters().find((l) => l.key === b.key);
          assert.ok(letter, `${b.name}: dead-lettered`);
          assert.equal(letter.reason, b.reason, `${b.name}: ${String(letter.message)}`);
          assert.equal(letter.bucket, bucket);
          assert.ok(String(letter.message).length > 10, `${b.name}: says why`);
        }
      },
      120_000,
      500,
    );
    const verdicts = () => verdictReader.values as Verdict[];
    await eventually(
      async () => {
        for (const b of bad.filter((x) => x.verdict)) {
          const v = verdicts().filter((x) => x.key === b.key);
          assert.deepEqual(
            v.map((x) => [x.kind, x.trail]),
            [["digest-invalid", trail]],
            `${b.name}: one digest-invalid verdict for its chain`,
          );
        }
      },
      60_000,
      500,
    );
    assert.equal(verdicts().length, bad.filter((x) => x.verdict).length, "nothing else is said");
    await eventually(
      async () =>
        assert.equal(
          (rawReader.values as { origin?: { key?: string } }[]).filter((r) => r.origin?.key === logKey).length,
          4,
        ),
      60_000,
      250,
    );
  } finally {
    await own.stop();
  }
});
