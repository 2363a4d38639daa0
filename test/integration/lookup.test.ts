// `trailstream lookup` against the real Kafka: a generated estate of events (copies, Insights
// events, records reaching Kafka minutes after their eventTime) on an events topic; for every
// lookup attribute, and for paging, the command's answers equal a brute-force filter of the same
// events, newest first, times inclusive: with the lookup index the enricher's indexer writes, with
// none, and with one that lost blocks in the middle and at the end (read raw, the index is a hint).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { before, test } from "node:test";
import { promisify } from "node:util";
import {
  type CloudTrailRecord,
  decodeIndexBlock,
  eventIdentity,
  isInsight,
  LOOKUP_ATTRIBUTE_KEYS,
  type LookupAttributeKey,
  lookupValues,
} from "../../packages/cloudtrail/src/index.ts";
import {
  type ConsumedMessage,
  consumerGroupLag,
  createKafka,
  endOffsets,
  ensureTopics,
  type KafkaClient,
  offsetsAt,
  openProducer,
  readRanges,
} from "../../packages/kafka/src/index.ts";
import { ensureIndexTopic, startIndexer } from "../../services/enricher/src/index.ts";
import { random } from "../support/enricher.ts";
import { endpoints, requireReachable, uniqueName } from "../support/servers.ts";

const run = promisify(execFile);
const MAIN = resolve(import.meta.dirname, "../../services/cli/src/main.ts");
const HOUR = 3_600_000;
const now = Math.floor(Date.now() / 1_000) * 1_000;
const start = now - 2 * HOUR;
const end = now - HOUR / 2;
let brokers: string[];
let topic: string;
/** The index with blocks lost in the middle and the newest ones lost. */
let partialIndex: string;
/** lookup's arguments for each way the index can be. */
const modes: Record<string, string[]> = {};
const estate: CloudTrailRecord[] = [];

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, "Z");

/** Events over the last three hours, with the values the eight attributes read. */
function generate(n: number, seed: number): CloudTrailRecord[] {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const names = [
    ["s3.amazonaws.com", "DeleteBucket", false],
    ["s3.amazonaws.com", "GetObject", true],
    ["iam.amazonaws.com", "CreateAccessKey", false],
    ["ec2.amazonaws.com", "DescribeInstances", true],
    ["kms.amazonaws.com", "Decrypt", true],
    ["sts.amazonaws.com", "AssumeRole", false],
  ] as const;
  const out: CloudTrailRecord[] = [];
  for (let i = 0; i < n; i++) {
    const [source, name, readOnly] = pick(names);
    const kind = pick(["IAMUser", "AssumedRole", "Root"] as const);
    const key = `AKIA${String(Math.floor(rnd() * 12)).padStart(12, "0")}`;
    const userIdentity =
      kind === "IAMUser"
        ? { type: kind, userName: pick(["alice", "bob", "carol"]), accessKeyId: key }
        : kind === "Root"
          ? { type: kind, arn: "arn:aws:iam::111122223333:root", accessKeyId: key }
          : {
              type: kind,
              arn: `arn:aws:sts::111122223333:assumed-role/deploy/${pick(["ci", "ops"])}`,
              accessKeyId: key,
            };
    const bucket = pick(["logs", "data", "web"]);
    // Two events sit exactly on the bounds: the times are inclusive.
    const timeMs = i === 0 ? start : i === 1 ? end : now - 3 * HOUR + Math.floor(rnd() * (3 * HOUR - 60_000));
    out.push({
      eventVersion: "1.11",
      eventTime: iso(Math.floor(timeMs / 1_000) * 1_000),
      eventSource: source,
      eventName: name,
      awsRegion: pick(["us-east-1", "eu-west-1"]),
      readOnly,
      userIdentity,
      resources: [
        { type: "AWS::S3::Bucket", ARN: `arn:aws:s3:::${bucket}` },
        ...(rnd() < 0.5 ? [{ type: "AWS::IAM::Role", ARN: "arn:aws:iam::111122223333:role/deploy" }] : []),
      ],
      eventID: `e${seed}-${i}`,
      recipientAccountId: pick(["111122223333", "444455556666"]),
      eventCategory: i % 200 === 7 ? "Insight" : "Management",
      ...(i % 200 === 7 ? { eventType: "AwsCloudTrailInsight" } : { eventType: "AwsApiCall" }),
    });
  }
  return out;
}

before(async () => {
  const e = await endpoints();
  brokers = e.kafkaBrokers;
  await requireReachable("Kafka", brokers[0] ?? "", "KAFKA_BROKERS");
  const kafka = createKafka({ brokers, clientId: "lookup-test" });
  topic = `${uniqueName("lookup")}.events`;
  await ensureTopics(kafka, [{ topic, partitions: 3 }]);
  estate.push(...generate(1_200, 5));
  // Each event reaches Kafka up to 8 minutes after its eventTime (CloudTrail's delivery), in
  // arrival order; one in ten twice (a copy the dedup let through with DEDUP_ON_REDIS_DOWN=pass).
  const rnd = random(9);
  const arrivals = estate.flatMap((event, i) => {
    const at = Math.min(now, Date.parse(event.eventTime ?? "") + Math.floor(rnd() * 8 * 60_000));
    const one = {
      at,
      key: eventIdentity(event) ?? "",
      value: JSON.stringify({ v: 1, event, origin: { kind: "s3" }, enrichment: {} }),
    };
    return i % 10 === 3 ? [one, { ...one, at: Math.min(now, at + 30_000) }] : [one];
  });
  arrivals.sort((a, b) => a.at - b.at);
  const producer = await openProducer(kafka);
  try {
    for (let i = 0; i < arrivals.length; i += 500) {
      await producer.send(
        topic,
        arrivals.slice(i, i + 500).map((a) => ({ key: a.key, value: a.value, timestampMs: a.at })),
      );
    }
  } finally {
    await producer.close();
  }
  await writeIndexes(kafka);
});

/** The index as the enricher writes it (small blocks, so there are many), and a copy that lost some. */
async function writeIndexes(kafka: KafkaClient): Promise<void> {
  const index = `${topic}.index`;
  await ensureIndexTopic(kafka, topic, index);
  const groupId = `${topic}.indexer`;
  const indexer = await startIndexer(kafka, {
    eventsTopic: topic,
    indexTopic: index,
    groupId,
    blockRecords: 40,
    blockAgeMs: 1_000,
    blockSpanMs: HOUR,
  });
  try {
    const until = Date.now() + 60_000;
    while ((await consumerGroupLag(kafka, groupId, topic)) > 0n) {
      assert.ok(Date.now() < until, "the indexer indexed the whole topic within a minute");
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await indexer.stop();
  }
  const records: ConsumedMessage[] = [];
  const low = await offsetsAt(kafka, index);
  const high = new Map((await endOffsets(kafka, index)).map((p) => [p.partition, p.offset]));
  await readRanges(
    kafka,
    index,
    low.map((p) => ({ partition: p.partition, from: p.offset, to: high.get(p.partition) ?? p.offset })),
    { handle: (m) => void records.push(...m) },
  );
  const blocks = records.map((r) => ({ r, b: decodeIndexBlock(r.value) }));
  assert.ok(blocks.every((x) => x.b !== null));
  assert.ok(blocks.length >= 8 * 20, `${blocks.length} index records`);
  // Per events partition: every block whose first offset is in the middle fifth, and the newest three.
  const ends = new Map((await endOffsets(kafka, topic)).map((p) => [p.partition, Number(p.offset)]));
  const kept = blocks.filter(({ b }) => {
    if (!b) return false;
    const end = ends.get(b.partition) ?? 0;
    const from = Number(b.from);
    return !(from >= 0.4 * end && from < 0.6 * end) && Number(b.to) < end - 3 * 40;
  });
  assert.ok(kept.length < blocks.length && kept.length > blocks.length / 4, `kept ${kept.length} of ${blocks.length}`);
  partialIndex = `${topic}.partial-index`;
  await ensureTopics(kafka, [{ topic: partialIndex, partitions: low.length }]);
  const producer = await openProducer(kafka);
  try {
    await producer.send(
      partialIndex,
      kept.map(({ r }) => ({ key: null, value: r.value ?? "", partition: r.partition, timestampMs: r.timestampMs })),
    );
  } finally {
    await producer.close();
  }
  modes.index = [];
  modes["no index"] = ["--no-index"];
  modes["partial index"] = ["--index-topic", partialIndex];
}

/** What CloudTrail would answer, the slow way: every event, filtered and sorted. */
function bruteForce(key: LookupAttributeKey, value: string): string[] {
  return estate
    .filter((e) => {
      const t = Date.parse(e.eventTime ?? "");
      return t >= start && t <= end && !isInsight(e) && lookupValues(e, key).includes(value);
    })
    .sort((a, b) => {
      const ia = eventIdentity(a) ?? "";
      const ib = eventIdentity(b) ?? "";
      return Date.parse(b.eventTime ?? "") - Date.parse(a.eventTime ?? "") || (ia < ib ? 1 : ia > ib ? -1 : 0);
    })
    .map((e) => e.eventID ?? "");
}

interface Answer {
  Events: { EventId: string; EventTime: string }[];
  NextToken?: string;
}

async function lookup(args: string[]): Promise<Answer> {
  return (await lookupWithStats(args)).answer;
}

async function lookupWithStats(
  args: string[],
): Promise<{ answer: Answer; stats: { records: number; indexBlocks: number | null } }> {
  const { stdout, stderr } = await run(
    process.execPath,
    [MAIN, "lookup", "--topic", topic, "--max-delivery-delay", "10m", "--stats", ...args],
    {
      env: { PATH: process.env.PATH ?? "", KAFKA_BROKERS: brokers.join(",") },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return { answer: JSON.parse(stdout), stats: JSON.parse(stderr.trim().split("\n").at(-1) ?? "{}") };
}

/** Every page of an answer, following NextToken. */
async function allPages(args: string[], maxResults: number): Promise<{ ids: string[]; pages: number[] }> {
  const ids: string[] = [];
  const pages: number[] = [];
  let token: string | undefined;
  do {
    const r = await lookup([...args, "--max-results", String(maxResults), ...(token ? ["--next-token", token] : [])]);
    ids.push(...r.Events.map((e) => e.EventId));
    pages.push(r.Events.length);
    token = r.NextToken;
  } while (token && pages.length < 100);
  return { ids, pages };
}

const window = () => ["--start-time", iso(start), "--end-time", String(end / 1_000)];

for (const mode of ["index", "no index", "partial index"]) {
  test(`every lookup attribute answers what a brute-force filter of the estate does (${mode})`, async () => {
    const some = estate.find((e) => {
      const t = Date.parse(e.eventTime ?? "");
      return t > start && t < end && !isInsight(e);
    }) as CloudTrailRecord;
    const values: Record<LookupAttributeKey, string> = {
      EventId: some.eventID ?? "",
      EventName: "DeleteBucket",
      ReadOnly: "false",
      Username: "ci",
      ResourceType: "AWS::IAM::Role",
      ResourceName: "web",
      EventSource: "kms.amazonaws.com",
      AccessKeyId: "AKIA000000000007",
    };
    assert.deepEqual(Object.keys(values).sort(), [...LOOKUP_ATTRIBUTE_KEYS].sort());
    for (const key of LOOKUP_ATTRIBUTE_KEYS) {
      const value = values[key];
      const expected = bruteForce(key, value);
      assert.ok(expected.length > 0, `${key}=${value} has answers in the window`);
      const got = await allPages(
        ["--lookup-attributes", `AttributeKey=${key},AttributeValue=${value}`, ...window(), ...(modes[mode] ?? [])],
        50,
      );
      assert.deepEqual(got.ids, expected, `${key}=${value}`);
    }
    const bounds = bruteForce("EventName", estate[0]?.eventName ?? "");
    assert.ok(
      bounds.includes(estate[0]?.eventID ?? "") &&
        bruteForce("EventName", estate[1]?.eventName ?? "").includes(estate[1]?.eventID ?? ""),
    );
  });

  test(`paging: NextToken walks the answer in pages of MaxResults, each event once, newest first (${mode})`, async () => {
    const m = modes[mode] ?? [];
    const expected = bruteForce("ReadOnly", "true");
    const got = await allPages(
      ["--lookup-attributes", "AttributeKey=ReadOnly,AttributeValue=true", ...window(), ...m],
      50,
    );
    assert.deepEqual(got.ids, expected);
    assert.ok(got.pages.length >= 3, `several pages: ${got.pages}`);
    assert.ok(got.pages.slice(0, -1).every((n) => n === 50));
    const small = await allPages(
      ["--lookup-attributes", "AttributeKey=AccessKeyId,AttributeValue=AKIA000000000003", ...window(), ...m],
      7,
    );
    assert.deepEqual(small.ids, bruteForce("AccessKeyId", "AKIA000000000003"));
    assert.ok(small.pages.length >= 3, `several pages: ${small.pages}`);
    assert.ok(small.pages.slice(0, -1).every((n) => n === 7));
  });
}

test("the index is used: a rare value reads a few blocks, not the window; a missing index topic reads it all", async () => {
  const some = estate.filter((e) => {
    const t = Date.parse(e.eventTime ?? "");
    return t > start && t < end && !isInsight(e);
  })[100] as CloudTrailRecord;
  const args = ["--lookup-attributes", `AttributeKey=EventId,AttributeValue=${some.eventID}`, ...window()];
  const indexed = await lookupWithStats(args);
  const raw = await lookupWithStats([...args, "--no-index"]);
  const missing = await lookupWithStats([...args, "--index-topic", `${topic}.no-such-index`]);
  for (const x of [indexed, raw, missing])
    assert.deepEqual(
      x.answer.Events.map((e) => e.EventId),
      [some.eventID],
    );
  assert.ok((indexed.stats.indexBlocks ?? 0) > 0, JSON.stringify(indexed.stats));
  assert.equal(raw.stats.indexBlocks, null);
  assert.equal(missing.stats.indexBlocks, null);
  assert.ok(indexed.stats.records * 5 < raw.stats.records, `${indexed.stats.records} vs ${raw.stats.records} read`);
});

test("bad input gets CloudTrail's error names and the AWS CLI's exit code", async () => {
  const fails = async (args: string[], name: string) => {
    await assert.rejects(lookup(args), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 254);
      assert.match(e.stderr, new RegExp(`An error occurred \\(${name}\\) when calling the LookupEvents operation`));
      return true;
    });
  };
  await fails(["--start-time", iso(end), "--end-time", iso(start)], "InvalidTimeRangeException");
  await fails(["--max-results", "51"], "InvalidMaxResultsException");
  await fails(["--lookup-attributes", "AttributeKey=User,AttributeValue=x"], "InvalidLookupAttributesException");
  await fails(["--next-token", "bm90IGEgdG9rZW4"], "InvalidNextTokenException");
  await fails(["--event-category", "management"], "InvalidEventCategoryException");
});
